# Tollgate. `make run` starts every endpoint locally; `make test` runs every test.
# `sam build` runs the build-<LogicalId> targets below (BuildMethod: makefile).

GO            ?= go
ARTIFACTS_DIR ?= $(CURDIR)/.build/$(FN)
PORT          ?= 3000
FUZZTIME      ?= 20s

# A static linux/arm64 binary named bootstrap, for the provided.al2023 runtime.
LAMBDA_ENV    := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS  := -tags lambda.norpc -trimpath -ldflags '-s -w -buildid='
# build-<LogicalId>: the function <Name>Function lives in functions/<product>/<name>/
# (<name> is <Name> lower-cased; template_test keeps template, this rule and
# functions.go in agreement).
lower        = $(shell echo '$(1)' | tr '[:upper:]' '[:lower:]')
function_dir = $(patsubst %/main.go,%,$(filter functions/%/$(call lower,$(1))/main.go,$(wildcard functions/*/*/main.go)))
FUNCTION_IDS = $(shell awk '/^  [A-Za-z0-9]+:$$/ { id = substr($$1, 1, length($$1) - 1) } /^    Type: AWS::Serverless::Function$$/ { print id }' template.yaml)

.PHONY: run invoke sign docs test vet fmt-check staticcheck lint tidy-check tools lint-template lint-openapi bench coldstart load fuzz build clean

build-%Function:
	@test -n "$(call function_dir,$*)" || { echo "no functions/<product>/$(call lower,$*)/main.go for $*Function"; exit 2; }
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./$(call function_dir,$*)

# Every function of the template into .build/<LogicalId>/bootstrap.
build:
	@for fn in $(FUNCTION_IDS); do \
		$(MAKE) --no-print-directory build-$$fn ARTIFACTS_DIR=$(CURDIR)/.build/$$fn || exit 1; \
		echo "built .build/$$fn/bootstrap"; \
	done

run:
	PORT=$(PORT) $(GO) run ./cmd/local

# The route → function → package → table map of docs/architecture.md, from
# template.yaml and the functions' imports (a test fails when it is stale).
docs:
	$(GO) run ./internal/dev/archmap -w

# make invoke FN=AuthorizeFunction EVENT=events/authorize.json
# BINARY=1 runs the function's real bootstrap instead, built for this machine
# into .build/host/<Function> (the deployed arm64 binary cannot run here),
# through the Lambda Runtime API emulator (internal/dev/lambdaemu).
HOST_BUILD := $(CURDIR)/.build/host
invoke:
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=events/<file>.json [BINARY=1]"; exit 2; }
ifeq ($(BINARY),)
	@$(GO) run ./cmd/invoke -fn '$(FN)' -event '$(EVENT)'
else
	@id=$$(echo $(FUNCTION_IDS) | tr ' ' '\n' | grep -ixE '$(FN)|$(FN)function' | head -n 1); \
	test -n "$$id" || { echo "no function $(FN) in template.yaml"; exit 2; }; \
	$(MAKE) --no-print-directory build-$$id ARTIFACTS_DIR=$(HOST_BUILD)/$$id LAMBDA_ENV=CGO_ENABLED=0 >/dev/null && \
	$(GO) run ./cmd/invoke -fn $$id -event '$(EVENT)' -binary $(HOST_BUILD)/$$id/bootstrap
endif

# Every package under the race detector: the tests of the catalog cache,
# secrets, store, httpx and functions run goroutines, and the other packages
# add little time (-race needs cgo, hence gcc).
# The deploy rehearsal (internal/dev/deployrehearsal) builds all 32 arm64
# bootstraps first: minutes on a cold build cache, hence -timeout 30m (go
# test's default, 10m per package, is too close).
# The browser tests (internal/dev/browser) drive Debian's chromium headless;
# without it they are skipped (and fail under CI=true).
test: fmt-check vet staticcheck lint tidy-check lint-template lint-openapi
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { [ -n "$$CHROMIUM" ] && command -v "$$CHROMIUM" >/dev/null 2>&1; }; then \
		echo "chromium found: the browser tests run (screenshots in .build/artifacts/browser)"; \
	elif [ "$$CI" = true ]; then echo "chromium is required when CI=true (apt-get install -y chromium)"; exit 1; \
	else echo "chromium not installed: SKIPPING the browser tests (apt-get install -y chromium to run them)"; fi
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m ./...

# The deploy rehearsal alone (make test runs it too): the template created
# as the samconfig.toml stacks in moto_server (docs/deploy.md, "Deploy rehearsal").
.PHONY: rehearse
rehearse:
	$(GO) test -count=1 -run '^TestRehearsal$$' -v ./internal/dev/deployrehearsal

# staticcheck, pinned, installed by `make tools` into .build/tools (a path
# per version, so a bump reinstalls) rather than taken from PATH.
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := $(CURDIR)/.build/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

# stripe-mock (Stripe's API mock) for the Stripe adapter's tests, which
# start it themselves (internal/dev/stripemock; installed there too when
# missing; required when CI=true). Keep in step with stripemock.Version.
STRIPE_MOCK_VERSION := v0.203.0
STRIPE_MOCK         := $(CURDIR)/.build/tools/stripe-mock-$(STRIPE_MOCK_VERSION)/stripe-mock

# golangci-lint, pinned the same way (v2; configuration in .golangci.yml).
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT         := $(CURDIR)/.build/tools/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint

tools: $(STATICCHECK) $(GOLANGCI_LINT) $(STRIPE_MOCK)

$(STATICCHECK):
	GOBIN=$(dir $@) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(GOLANGCI_LINT):
	GOBIN=$(dir $@) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

$(STRIPE_MOCK):
	GOBIN=$(dir $@) $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

# Zero findings: a finding fails the build.
staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

# golangci-lint over every package, tests included (.golangci.yml); zero
# findings, as for staticcheck. A finding is fixed, or justified on its line
# (//nolint:<linter> // <reason>) or by a commented exclusion in .golangci.yml.
lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

# go.mod and go.sum as `go mod tidy` leaves them (-diff prints what it would
# change and fails, changing nothing).
tidy-check:
	$(GO) mod tidy -diff

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The API contract, linted by Redocly CLI (pinned; fetched by npx from npm on
# first use, then cached), on top of the Go tests' checks of the document
# (internal/dev/contract). Needs Node.js; required when CI is set.
REDOCLY_VERSION := 2.77.0
lint-openapi:
	@if command -v npx >/dev/null 2>&1; then \
		echo "redocly lint shared/platform/openapi/openapi.yaml"; \
		REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --yes @redocly/cli@$(REDOCLY_VERSION) lint --config shared/platform/openapi/redocly.yaml shared/platform/openapi/openapi.yaml || exit 1; \
	elif [ -n "$$CI" ]; then echo "npx (Node.js) is required to lint the contract in CI"; exit 1; \
	else echo "npx not installed: shared/platform/openapi/openapi.yaml linted by the Go tests only"; fi

lint-template:
	@if command -v cfn-lint >/dev/null 2>&1; then \
		echo "cfn-lint template.yaml"; cfn-lint template.yaml; \
	else echo "cfn-lint not installed: template.yaml not linted"; fi

# Go benchmarks (no tests: -run '^$$'), then the DynamoDB round trips per
# request (the tests TestDynamoDBRoundTrips and TestCheckoutPagesRoundTrips,
# which make test also runs).
# BENCH=HandlerCPU BENCH_COUNT=5 narrows and repeats; BENCH=EmbeddedScale
# measures authorizations and inventory reads with 0 to 100k records stored.
BENCH       ?= .
BENCH_COUNT ?= 1
# The license-key pool at launch-day scale (internal/dev/poolscale):
# POOL_KEYS keys of one SKU, POOL_ORDERS orders from 4 containers, on the
# embedded engine, then a smaller run on moto_server.
POOL_KEYS   ?= 1000000
POOL_ORDERS ?= 200000
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCH_COUNT) ./...
	$(GO) run ./internal/dev/poolscale -keys $(POOL_KEYS) -orders $(POOL_ORDERS)
	$(GO) run ./internal/dev/poolscale -dynamodb moto -keys 20000 -orders 5000
	@out=$$($(GO) test -count=1 -run '^TestDynamoDBRoundTrips$$' -v ./functions) || { echo "$$out"; exit 1; }; \
	echo "$$out" | sed -n '/DynamoDB round trips per request/,/^ *promised:/p' | sed 's/^        //'
	@out=$$($(GO) test -count=1 -run '^TestCheckoutPagesRoundTrips$$/^minidyn$$' -v ./functions) || { echo "$$out"; exit 1; }; \
	echo; echo "$$out" | sed -n '/DynamoDB calls per checkout page request/,/^ *$$/p' | sed 's/^ *//'

# Cold starts: every function's real bootstrap, built with the deploy flags
# for this machine into .build/host/<Function> (and as the deployed
# linux/arm64 binary into .build/<Function>, for its size), run RUNS times
# through the Lambda Runtime API emulator (cmd/lambdaemu) against embedded
# minidyn; prints init, first answer, peak RSS and sizes.
RUNS ?= 5
coldstart: build
	@for fn in $(FUNCTION_IDS); do \
		$(MAKE) --no-print-directory build-$$fn ARTIFACTS_DIR=$(HOST_BUILD)/$$fn LAMBDA_ENV=CGO_ENABLED=0 || exit 1; \
	done
	$(GO) run ./cmd/lambdaemu -coldstart -runs $(RUNS) -host-dir $(HOST_BUILD) -arm64-dir $(CURDIR)/.build

# Load on loopback: cmd/load builds and starts `make run`'s server on a free
# port with its own catalog, runs a fixed-rate mix of Stash calls (with
# duplicates and drops of a scarce product), authorizations and reads for
# LOAD_DURATION, prints throughput, latency and DynamoDB calls per endpoint
# and where the server's CPU went (its CPU profile), and checks the
# invariants through the public endpoints (exit 1 if one fails). Once per
# backend in LOAD_DYNAMODB: the embedded DynamoDB (minidyn), and moto_server
# (started by cmd/load; skipped when moto is not installed).
# LOAD_FLAGS='-clients 8 [-preload 100000]': the saturation measurement.
LOAD_DYNAMODB ?= minidyn moto
LOAD_DURATION ?= 15s
LOAD_FLAGS    ?=
load:
	@for db in $(LOAD_DYNAMODB); do \
		$(GO) run ./cmd/load -dynamodb $$db -duration $(LOAD_DURATION) $(LOAD_FLAGS) || exit 1; echo; \
	done

# Run each fuzz target for FUZZTIME (the seed corpora also run in `make test`):
# every Fuzz function of the module, found by go test -list.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

# Re-sign Stash fixtures with the development egress key at the current time
# (v1 signatures go stale after 5 minutes): make sign EVENTS="events/register.json events/confirm.json"
EVENTS ?= events/register.json events/register-malformed.json events/confirm.json events/cancel.json \
	events/catalog.json events/catalog-malformed.json events/offer.json events/offer-unknown.json events/player.json
sign:
	$(GO) run ./cmd/sign $(EVENTS)

clean:
	rm -rf .build .aws-sam
