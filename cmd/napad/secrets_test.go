package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// writeSecret puts value into a file of its own, as the compose `secrets`
// service does, and returns the path.
func writeSecret(t *testing.T, name, value string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSecretsComeFromFiles(t *testing.T) {
	key := strings.Repeat("p", 40)
	env := map[string]string{
		"DATABASE_URL":           "postgres://napad@db:5432/napad?sslmode=disable",
		"DATABASE_PASSWORD_FILE": writeSecret(t, "pg", "pg s3cret/with:odd@chars"),
		"REDIS_URL":              "redis://redis:6379/0",
		"REDIS_PASSWORD_FILE":    writeSecret(t, "redis", "r3dis"),
		"PARTICIPANT_KEY_FILE":   writeSecret(t, "key", key),
	}
	cfg, err := loadConfig(func(k string) string { return env[k] }, needs{database: true, redis: true, participantKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.ParticipantKey) != key {
		t.Errorf("participant key %q, want the file's content without the line break", cfg.ParticipantKey)
	}
	db, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	if pass, _ := db.User.Password(); pass != "pg s3cret/with:odd@chars" || db.User.Username() != "napad" || db.Host != "db:5432" || db.RawQuery != "sslmode=disable" {
		t.Errorf("DATABASE_URL with the password from its file is %s", db.Redacted())
	}
	rd, err := url.Parse(cfg.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	if pass, _ := rd.User.Password(); pass != "r3dis" || rd.Host != "redis:6379" {
		t.Errorf("REDIS_URL with the password from its file is %s", rd.Redacted())
	}

	// A setting in the environment wins over its file.
	env["PARTICIPANT_KEY"] = strings.Repeat("e", 40)
	if cfg, err = loadConfig(func(k string) string { return env[k] }, needs{participantKey: true}); err != nil || string(cfg.ParticipantKey) != env["PARTICIPANT_KEY"] {
		t.Errorf("PARTICIPANT_KEY beside PARTICIPANT_KEY_FILE: key %q, err %v", cfg.ParticipantKey, err)
	}

	for name, path := range map[string]string{
		"REDIS_PASSWORD_FILE":    filepath.Join(t.TempDir(), "missing"),
		"DATABASE_PASSWORD_FILE": writeSecret(t, "empty", ""),
	} {
		bad := map[string]string{"DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": env["REDIS_URL"], name: path}
		_, err := loadConfig(func(k string) string { return bad[k] }, needs{database: true, redis: true})
		if err == nil || !strings.HasPrefix(err.Error(), name+" ") {
			t.Errorf("%s naming %s: error %v, want one naming the setting", name, path, err)
		}
	}
}

// TestServeStartsWithNothingButStores is what `docker compose up` with an
// empty .env does: no Telegram token, and passwords only in files (Redis
// here really requires its password).
func TestServeStartsWithNothingButStores(t *testing.T) {
	redisAddr, redisPassword := startRedisWithPassword(t)
	_, dbURL := pgtest.NewStore(t)
	env := map[string]string{
		"DATABASE_URL":         dbURL,
		"REDIS_URL":            "redis://" + redisAddr + "/0",
		"REDIS_PASSWORD_FILE":  writeSecret(t, "redis_password", redisPassword),
		"PARTICIPANT_KEY_FILE": writeSecret(t, "participant_key", strings.Repeat("k", 64)),
		"LISTEN_ADDR":          freeAddr(t),
		"METRICS_ADDR":         freeAddr(t),
	}
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, logs, logs) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve ended with %v", err)
			}
		case <-time.After(waitLong):
			t.Errorf("serve did not stop within %s", waitLong)
		}
	}()

	status := func(addr, path string) int {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(waitLong)
	for status(env["METRICS_ADDR"], "/readyz") != http.StatusOK {
		select {
		case err := <-done:
			t.Fatalf("serve ended with %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer 200 within %s (PostgreSQL and Redis with its password)\n%s", waitLong, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := status(env["LISTEN_ADDR"], "/healthz"); got != http.StatusOK {
		t.Errorf("/healthz on LISTEN_ADDR: %d", got)
	}
	if !strings.Contains(logs.String(), "TELEGRAM_BOT_TOKEN is not set") {
		t.Errorf("the log does not say that Telegram is off:\n%s", logs)
	}
	if strings.Contains(logs.String(), redisPassword) {
		t.Error("the Redis password is in the log")
	}
}

// startRedisWithPassword runs a redis-server of its own that refuses
// clients without the password.
func startRedisWithPassword(t *testing.T) (addr, password string) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: this test runs one with a password")
	}
	addr, password = freeAddr(t), "t3st-redis-password"
	_, port, _ := strings.Cut(addr, ":")
	conf := writeSecret(t, "redis.conf", "requirepass "+password)
	cmd := exec.Command("redis-server", conf, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return addr, password
}
