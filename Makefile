# Nápad — common tasks. `make` alone runs the tests.

GO ?= go
# staticcheck 2026.2.2 (module version v0.8.2) supports Go 1.26.
STATICCHECK_VERSION ?= v0.8.2
GOTESTFLAGS ?= -race -count=1

# Exports the variables in .env, if there is one, to the command that follows.
LOAD_ENV = if [ -f .env ]; then set -a; . ./.env; set +a; fi;

.DEFAULT_GOAL := test
.PHONY: test services run build migrate lint up down

## test: make sure PostgreSQL and Redis are reachable, then run every test
test: services
	$(GO) test $(GOTESTFLAGS) ./...

## services: check (or start with docker compose) the PostgreSQL and Redis the tests use
services:
	bash scripts/ensure-services.sh

## run: run the bot against the local PostgreSQL and Redis; .env settings win, the rest has local defaults
run:
	GO=$(GO) bash scripts/run-local.sh

## build: build the ./napad binary
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o napad ./cmd/napad

## migrate: apply database migrations to DATABASE_URL (from .env)
migrate:
	$(LOAD_ENV) $(GO) run ./cmd/napad migrate

## lint: gofmt, go vet and staticcheck
lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## up: build and start everything with docker compose (serve migrates the database itself)
up:
	docker compose up -d --build

## down: stop the compose services (data volumes are kept)
# Compose wants the bot's required variables even to stop; placeholders suffice.
down:
	TELEGRAM_BOT_TOKEN=$${TELEGRAM_BOT_TOKEN:-unused} PARTICIPANT_KEY=$${PARTICIPANT_KEY:-unused} docker compose down
