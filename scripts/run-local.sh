#!/usr/bin/env bash
# `make run`: the bot against the PostgreSQL and Redis on this machine, with
# nothing configured. Settings in .env win; what is missing gets a local
# default: the database napad_dev (created if need be), Redis database 1, a
# participant key generated once into .napad-dev/ (keep it: pseudonyms
# depend on it). Without TELEGRAM_BOT_TOKEN only the web channel runs, with
# a demo forum whose link is printed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -f .env ]]; then
	set -a
	# shellcheck disable=SC1091 # the user's own settings
	. ./.env
	set +a
fi

pg="${LOCAL_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
export DATABASE_URL="${DATABASE_URL:-$pg/napad_dev?sslmode=disable}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/1}"

if [[ -z "${PARTICIPANT_KEY:-}${PARTICIPANT_KEY_FILE:-}" ]]; then
	mkdir -p .napad-dev
	if [[ ! -s .napad-dev/participant_key ]]; then
		(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >.napad-dev/participant_key)
	fi
	export PARTICIPANT_KEY_FILE="$PWD/.napad-dev/participant_key"
fi

# The local database: created when missing (needs psql; else create it yourself).
if [[ "$DATABASE_URL" == *"/napad_dev?"* ]] && command -v psql >/dev/null 2>&1; then
	if ! psql "$pg/postgres?sslmode=disable" -tAc "SELECT 1 FROM pg_database WHERE datname = 'napad_dev'" | grep -q 1; then
		echo "Creating the database napad_dev..."
		psql "$pg/postgres?sslmode=disable" -qc "CREATE DATABASE napad_dev"
	fi
fi

exec "${GO:-go}" run ./cmd/napad serve
