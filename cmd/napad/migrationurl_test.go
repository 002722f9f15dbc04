package main

import (
	"context"
	"strings"
	"testing"

	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// Migrations hold a session advisory lock, which PostgreSQL behind a
// transaction-pooling PgBouncer cannot keep: MIGRATION_DATABASE_URL, when
// set, is where `migrate` (and `serve` at start-up) migrate, while the bot
// itself uses DATABASE_URL.
func TestMigrationDatabaseURL(t *testing.T) {
	_, dbURL := pgtest.NewStore(t)
	env := map[string]string{"DATABASE_URL": dbURL, "MIGRATION_DATABASE_URL": "postgres://napad@" + freeAddr(t) + "/napad?connect_timeout=2"}
	getenv := func(k string) string { return env[k] }
	var out strings.Builder
	err := run(context.Background(), []string{"migrate"}, getenv, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "migrate database") {
		t.Errorf("migrate with MIGRATION_DATABASE_URL unreachable: %v", err)
	}
	delete(env, "MIGRATION_DATABASE_URL")
	if err := run(context.Background(), []string{"migrate"}, getenv, &out, &out); err != nil {
		t.Errorf("migrate with DATABASE_URL alone: %v", err)
	}
}
