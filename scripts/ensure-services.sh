#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis that the tests use are reachable.
#
# Reads TEST_DATABASE_URL and TEST_REDIS_URL (same defaults as the tests).
# If a service is not reachable and a Docker engine is available, starts it
# as the compose project napad-test (compose.test.yml: its own volumes, ports
# on loopback, the credentials the tests expect); otherwise says what to start
# and exits 1.
# Needs only bash (it checks TCP with /dev/tcp, not psql or redis-cli).
# shellcheck disable=SC2016 # single quotes on purpose: literal backticks, and $0/$1 for bash -c
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DB_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
REDIS_URL_="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

# host_port URL DEFAULT_PORT prints "host port" from scheme://[user[:pass]@]host[:port][/path][?query]
# or from a keyword/value DSN ("host=... port=...").
host_port() {
	local rest="${1#*://}" default_port="$2" host="" port=""
	if [[ "$1" != *://* ]]; then
		[[ " $1 " =~ [[:space:]]host=([^[:space:]]+) ]] && host="${BASH_REMATCH[1]}"
		[[ " $1 " =~ [[:space:]]port=([0-9]+) ]] && port="${BASH_REMATCH[1]}"
		echo "${host:-localhost} ${port:-$default_port}"
		return
	fi
	rest="${rest%%/*}"
	rest="${rest%%\?*}"
	rest="${rest##*@}"
	if [[ "$rest" == \[* ]]; then # [IPv6]:port
		host="${rest%%]*}"
		host="${host#[}"
		port="${rest#*]}"
		port="${port#:}"
	elif [[ "$rest" == *:* ]]; then
		host="${rest%%:*}"
		port="${rest##*:}"
	else
		host="$rest"
	fi
	echo "${host:-localhost} ${port:-$default_port}"
}

# reachable HOST PORT succeeds when a TCP connection can be opened.
reachable() {
	local script='exec 3<>"/dev/tcp/$0/$1"'
	if command -v timeout >/dev/null 2>&1; then
		timeout 3 bash -c "$script" "$1" "$2" 2>/dev/null
	else
		bash -c "$script" "$1" "$2" 2>/dev/null
	fi
}

read -r pg_host pg_port <<<"$(host_port "$DB_URL" 5432)"
read -r redis_host redis_port <<<"$(host_port "$REDIS_URL_" 6379)"

check() {
	missing=()
	reachable "$pg_host" "$pg_port" || missing+=(postgres)
	reachable "$redis_host" "$redis_port" || missing+=(redis)
}

compose_tried=false
check
if [[ ${#missing[@]} -gt 0 ]] && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
	echo "Starting ${missing[*]} with docker compose (project napad-test)..."
	docker compose -p napad-test -f docker-compose.yml -f compose.test.yml up -d --wait "${missing[@]}"
	compose_tried=true
	check
fi

for svc in ${missing[@]+"${missing[@]}"}; do
	case "$svc:$compose_tried" in
	postgres:false)
		printf 'PostgreSQL is not reachable at %s:%s: start a local PostgreSQL 15, or start Docker and re-run `make test` (it starts the test PostgreSQL from compose.test.yml), or set TEST_DATABASE_URL to a reachable one.\n' \
			"$pg_host" "$pg_port" >&2
		;;
	postgres:true)
		printf 'PostgreSQL is still not reachable at %s:%s after starting it with compose.test.yml (published on 127.0.0.1:5432): check TEST_DATABASE_URL.\n' \
			"$pg_host" "$pg_port" >&2
		;;
	redis:false)
		printf 'Redis is not reachable at %s:%s: start a local Redis 7.0, or start Docker and re-run `make test` (it starts the test Redis from compose.test.yml), or set TEST_REDIS_URL to a reachable one.\n' \
			"$redis_host" "$redis_port" >&2
		;;
	redis:true)
		printf 'Redis is still not reachable at %s:%s after starting it with compose.test.yml (published on 127.0.0.1:6379): check TEST_REDIS_URL.\n' \
			"$redis_host" "$redis_port" >&2
		;;
	esac
done
if [[ ${#missing[@]} -gt 0 ]]; then
	exit 1
fi
echo "PostgreSQL ($pg_host:$pg_port) and Redis ($redis_host:$redis_port) are reachable."
