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

.PHONY: run invoke sign test vet fmt-check lint-template bench fuzz build clean \
	build-AuthorizeFunction build-InventoryFunction build-RegisterFunction \
	build-ConfirmFunction build-CancelFunction build-SweeperFunction build-WebhookFunction \
	build-CatalogFunction build-OfferFunction build-PlayerFunction build-PlayerProfileFunction

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

# Every function of the template into .build/<LogicalId>/bootstrap.
build:
	@for fn in $$(sed -n 's/^build-\([A-Za-z0-9]*\):.*/\1/p' Makefile); do \
		$(MAKE) --no-print-directory build-$$fn ARTIFACTS_DIR=$(CURDIR)/.build/$$fn || exit 1; \
		echo "built .build/$$fn/bootstrap"; \
	done

run:
	PORT=$(PORT) $(GO) run ./cmd/local

# make invoke FN=AuthorizeFunction EVENT=events/authorize.json
invoke:
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=events/<file>.json"; exit 2; }
	@$(GO) run ./cmd/invoke -fn '$(FN)' -event '$(EVENT)'

test: fmt-check vet lint-template
	$(GO) test -count=1 ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint-template:
	@if command -v cfn-lint >/dev/null 2>&1; then \
		echo "cfn-lint template.yaml"; cfn-lint template.yaml; \
	else echo "cfn-lint not installed: template.yaml not linted"; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Run each fuzz target for FUZZTIME (the seed corpora also run in `make test`).
FUZZ_TARGETS := ./functions/authorize/handler:FuzzDecodeRequest \
	./shared/stashapi:FuzzDecodeRegister ./shared/stashapi:FuzzDecodeConfirm ./shared/stashapi:FuzzDecodeCancel \
	./shared/stashapi:FuzzDecodeWebhook ./shared/auth:FuzzStashSignatureHeader \
	./shared/players:FuzzDecodeProfile
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
