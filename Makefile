# Tollgate. `make run` starts every endpoint locally; `make test` runs every test.
# `sam build` runs the build-<LogicalId> targets below (BuildMethod: makefile).

GO            ?= go
ARTIFACTS_DIR ?= $(CURDIR)/.build/$(FN)
PORT          ?= 3000
FUZZTIME      ?= 20s

# A static linux/arm64 binary named bootstrap, for the provided.al2023 runtime.
LAMBDA_ENV    := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS  := -tags lambda.norpc -trimpath -ldflags '-s -w -buildid='
define build_lambda
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)
endef

.PHONY: run invoke sign test vet fmt-check staticcheck tools lint-template lint-openapi bench coldstart load fuzz build clean \
	build-AuthorizeFunction build-InventoryFunction build-RegisterFunction \
	build-ConfirmFunction build-CancelFunction build-SweeperFunction build-DispatchFunction build-WebhookFunction \
	build-CatalogFunction build-OfferFunction build-PlayerFunction build-PlayerProfileFunction \
	build-OpenAPIFunction build-AliasCreateFunction build-AliasExchangeFunction build-AliasDeleteFunction build-PreauthorizationFunction build-PaymentAuthorizationFunction build-CaptureFunction build-ReverseFunction build-RefundFunction build-PaymentTransactionFunction \
	build-FulfilFunction build-StoreOrderFunction build-GeoSubdivisionsFunction build-TaxRatesFunction build-StripeWebhookFunction \
	build-CheckoutCartFunction build-CheckoutPayFunction build-CheckoutOrderFunction build-MarketFunction \
	build-CheckoutSessionFunction

build-AuthorizeFunction:
	$(call build_lambda,authorize)

build-InventoryFunction:
	$(call build_lambda,inventory)

build-RegisterFunction:
	$(call build_lambda,register)

build-ConfirmFunction:
	$(call build_lambda,confirm)

build-CancelFunction:
	$(call build_lambda,cancel)

build-SweeperFunction:
	$(call build_lambda,sweeper)

build-DispatchFunction:
	$(call build_lambda,dispatch)

build-WebhookFunction:
	$(call build_lambda,webhook)

build-CatalogFunction:
	$(call build_lambda,catalog)

build-OfferFunction:
	$(call build_lambda,offer)

build-PlayerFunction:
	$(call build_lambda,player)

build-PlayerProfileFunction:
	$(call build_lambda,playerprofile)

build-OpenAPIFunction:
	$(call build_lambda,openapi)

build-AliasCreateFunction:
	$(call build_lambda,aliascreate)

build-AliasExchangeFunction:
	$(call build_lambda,aliasexchange)

build-AliasDeleteFunction:
	$(call build_lambda,aliasdelete)

build-PreauthorizationFunction:
	$(call build_lambda,preauthorization)

build-PaymentAuthorizationFunction:
	$(call build_lambda,paymentauthorization)

build-CaptureFunction:
	$(call build_lambda,capture)

build-ReverseFunction:
	$(call build_lambda,reverse)

build-RefundFunction:
	$(call build_lambda,refund)

build-PaymentTransactionFunction:
	$(call build_lambda,paymenttransaction)

build-StripeWebhookFunction:
	$(call build_lambda,stripewebhook)
build-CheckoutCartFunction:
	$(call build_lambda,checkoutcart)
build-CheckoutPayFunction:
	$(call build_lambda,checkoutpay)
build-CheckoutOrderFunction:
	$(call build_lambda,checkoutorder)
build-MarketFunction:
	$(call build_lambda,market)
build-FulfilFunction:
	$(call build_lambda,fulfil)

build-CheckoutSessionFunction:
	$(call build_lambda,checkoutsession)

build-StoreOrderFunction:
	$(call build_lambda,storeorder)

build-GeoSubdivisionsFunction:
	$(call build_lambda,geo)

build-TaxRatesFunction:
	$(call build_lambda,taxrates)

# Every function of the template into .build/<LogicalId>/bootstrap.
build:
	@for fn in $$(sed -n 's/^build-\([A-Za-z0-9]*\):.*/\1/p' Makefile); do \
		$(MAKE) --no-print-directory build-$$fn ARTIFACTS_DIR=$(CURDIR)/.build/$$fn || exit 1; \
		echo "built .build/$$fn/bootstrap"; \
	done

run:
	PORT=$(PORT) $(GO) run ./cmd/local

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
	@id=$$(sed -n 's/^build-\([A-Za-z0-9]*\):.*/\1/p' Makefile | grep -ixE '$(FN)|$(FN)function' | head -n 1); \
	test -n "$$id" || { echo "no function $(FN) among the build-<Function> targets"; exit 2; }; \
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
test: fmt-check vet staticcheck lint-template lint-openapi
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { [ -n "$$CHROMIUM" ] && command -v "$$CHROMIUM" >/dev/null 2>&1; }; then \
		echo "chromium found: the browser tests run (screenshots in .build/artifacts/browser)"; \
	elif [ "$$CI" = true ]; then echo "chromium is required when CI=true (apt-get install -y chromium)"; exit 1; \
	else echo "chromium not installed: SKIPPING the browser tests (apt-get install -y chromium to run them)"; fi
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m ./...

# The deploy rehearsal alone (make test runs it too): the template created
# as the samconfig.toml stacks in moto_server (README "Deploy rehearsal").
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

tools: $(STATICCHECK) $(STRIPE_MOCK)

$(STATICCHECK):
	GOBIN=$(dir $@) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(STRIPE_MOCK):
	GOBIN=$(dir $@) $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

# Zero findings: a finding fails the build.
staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

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
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCH_COUNT) ./...
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
	@for fn in $$(sed -n 's/^build-\([A-Za-z0-9]*\):.*/\1/p' Makefile); do \
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

# Run each fuzz target for FUZZTIME (the seed corpora also run in `make test`).
FUZZ_TARGETS := ./shared/platform/dynamo:FuzzTuple ./shared/platform/validate:FuzzWholeNumber ./functions/authorize/handler:FuzzDecodeRequest \
	./shared/stash/stashapi:FuzzDecodeRegister ./shared/stash/stashapi:FuzzDecodeConfirm ./shared/stash/stashapi:FuzzDecodeCancel \
	./shared/stash/stashapi:FuzzDecodeWebhook ./shared/platform/auth:FuzzStashSignatureHeader \
	./functions/playerprofile/handler:FuzzDecodeProfile ./shared/payments/paymentsapi:FuzzDecode ./shared/platform/psp/stripe:FuzzParseWebhook ./functions/fulfil/handler:FuzzDecodeFulfil \
	./shared/storefront/checkoutweb:FuzzParseAdd ./shared/storefront/checkoutweb:FuzzCartCookie \
	./functions/checkoutsession/handler:FuzzDecodeSession
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($(FUZZTIME))"; \
		$(GO) test $${t%%:*} -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

# Re-sign Stash fixtures with the development egress key at the current time
# (v1 signatures go stale after 5 minutes): make sign EVENTS="events/register.json events/confirm.json"
EVENTS ?= events/register.json events/register-malformed.json events/confirm.json events/cancel.json \
	events/catalog.json events/catalog-malformed.json events/offer.json events/offer-unknown.json events/player.json
sign:
	$(GO) run ./cmd/sign $(EVENTS)

clean:
	rm -rf .build .aws-sam
