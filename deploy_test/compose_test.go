// Package deploy_test checks the deployment files (docker-compose.yml,
// Dockerfile, .dockerignore, .env.example) without a Docker engine: it reads
// them and asserts what `docker compose up` and `docker build` rely on.
package deploy_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// documentedEnv are the environment variables the napad binary is specified to read.
var documentedEnv = []string{
	"TELEGRAM_BOT_TOKEN",
	"TELEGRAM_API_URL",
	"DATABASE_URL",
	"REDIS_URL",
	"WEBHOOK_URL",
	"WEBHOOK_SECRET",
	"LISTEN_ADDR",
	"PARTICIPANT_KEY",
	"LOG_LEVEL",
}

// envRead matches a variable read in cmd/napad: getenv("X"), os.LookupEnv("X"),
// or the config reader's get("X", …), required("X", …) and file("X").
var envRead = regexp.MustCompile(`(?:[gG]etenv|LookupEnv|\.get|\.required|\.file|\.addr|\.rate|\.onOff)\("([A-Z][A-Z0-9_]*)"`)

// botEnv is documentedEnv plus every variable the non-test sources of
// cmd/napad read, so that a newly added setting must be added here too.
func botEnv(t *testing.T) []string {
	t.Helper()
	vars := slices.Clone(documentedEnv)
	files, err := filepath.Glob(filepath.Join("..", "cmd", "napad", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range envRead.FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(vars, m[1]) {
				vars = append(vars, m[1])
			}
		}
	}
	return vars
}

// ---- Compose model: only the parts checked, accepting both short and long syntax.

type composeFile struct {
	Version  *string            `yaml:"version"`
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string       `yaml:"image"`
	Build       any          `yaml:"build"`
	Entrypoint  stringList   `yaml:"entrypoint"`
	Command     stringList   `yaml:"command"`
	Restart     string       `yaml:"restart"`
	Environment envMap       `yaml:"environment"`
	DependsOn   dependsOn    `yaml:"depends_on"`
	Healthcheck *healthcheck `yaml:"healthcheck"`
	Volumes     []mount      `yaml:"volumes"`
	Ports       []portSpec   `yaml:"ports"`
}

type healthcheck struct {
	Test    stringList `yaml:"test"`
	Disable bool       `yaml:"disable"`
}

// stringList is a command: either a list or a single string (split on spaces).
type stringList []string

func (s *stringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = strings.Fields(n.Value)
		return nil
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		*s = l
		return nil
	}
	return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

// envMap is `environment:` as a map or as a list of KEY=VALUE.
type envMap map[string]string

func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	m := envMap{}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = n.Content[i+1].Value
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			k, v, _ := strings.Cut(item.Value, "=")
			m[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a map or a list", n.Line)
	}
	*e = m
	return nil
}

// dependsOn maps a service to its condition; the list form means service_started.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	m := dependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			m[item.Value] = "service_started"
		}
	case yaml.MappingNode:
		var long map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		for k, v := range long {
			if v.Condition == "" {
				v.Condition = "service_started"
			}
			m[k] = v.Condition
		}
	default:
		return fmt.Errorf("line %d: depends_on must be a list or a map", n.Line)
	}
	*d = m
	return nil
}

// mount is a service volume, "source:target[:mode]" or the long form.
type mount struct {
	Type, Source, Target string
	ReadOnly             bool
}

func (m *mount) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		parts := strings.Split(n.Value, ":")
		if len(parts) == 1 {
			*m = mount{Type: "volume", Target: parts[0]} // anonymous volume
			return nil
		}
		m.Source, m.Target = parts[0], parts[1]
		m.ReadOnly = len(parts) > 2 && slices.Contains(strings.Split(parts[2], ","), "ro")
		m.Type = "volume"
		if strings.HasPrefix(m.Source, ".") || strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, "~") || strings.HasPrefix(m.Source, "$") {
			m.Type = "bind"
		}
		return nil
	}
	var long struct {
		Type     string `yaml:"type"`
		Source   string `yaml:"source"`
		Target   string `yaml:"target"`
		ReadOnly bool   `yaml:"read_only"`
	}
	if err := n.Decode(&long); err != nil {
		return err
	}
	*m = mount(long)
	return nil
}

// portSpec is a published port: "[ip:]published:target" or the long form.
type portSpec struct {
	HostIP, Published, Target string
}

func (p *portSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v := strings.TrimSuffix(strings.TrimSuffix(n.Value, "/tcp"), "/udp")
		i := strings.LastIndex(v, ":")
		if i < 0 {
			p.Target = v
			return nil
		}
		p.Target = v[i+1:]
		rest := v[:i]
		if j := strings.LastIndex(rest, ":"); j >= 0 {
			p.HostIP, p.Published = strings.Trim(rest[:j], "[]"), rest[j+1:]
		} else {
			p.Published = rest
		}
		return nil
	}
	var long struct {
		HostIP    string `yaml:"host_ip"`
		Published string `yaml:"published"`
		Target    string `yaml:"target"`
	}
	if err := n.Decode(&long); err != nil {
		return err
	}
	*p = portSpec(long)
	return nil
}

// ---- helpers

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", name))
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return string(b)
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "docker-compose.yml")), &c); err != nil {
		t.Fatalf("docker-compose.yml is not valid for this test's model: %v", err)
	}
	return c
}

func mustService(t *testing.T, c composeFile, name string) service {
	t.Helper()
	s, ok := c.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml: service %q is missing (services: %v)", name, serviceNames(c))
	}
	return s
}

func serviceNames(c composeFile) []string {
	var names []string
	for n := range c.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// imageTag splits "repo:tag" (ignoring a registry host with a port and any digest).
func imageTag(image string) (repo, tag string) {
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, "latest"
	}
	return image[:i], image[i+1:]
}

// hasFlag reports whether args contain flag followed by value.
func hasFlag(args []string, flag, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return true
		}
	}
	return false
}

// ---- docker-compose.yml

func TestComposeHasNoObsoleteVersionKey(t *testing.T) {
	if c := loadCompose(t); c.Version != nil {
		t.Errorf("docker-compose.yml has a top-level `version: %s`; the Compose spec ignores it and compose warns: remove it", *c.Version)
	}
}

func TestComposeServicesExist(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"secrets", "postgres", "redis", "bot"} {
		mustService(t, c, name)
	}
}

func TestComposeImagesArePinned(t *testing.T) {
	c := loadCompose(t)
	cases := []struct {
		service, repo string
		tag           *regexp.Regexp
		want          string
	}{
		{"postgres", "postgres", regexp.MustCompile(`^15($|[.-])`), "PostgreSQL 15, e.g. postgres:15-alpine"},
		// A release line Redis still supports (7.0 ended in July 2024); the code
		// uses nothing newer than 7.0, which CI runs.
		{"redis", "redis", regexp.MustCompile(`^8\.(1[0-9]|[2-9])($|[.-])`), "a supported Redis, e.g. redis:8.10-alpine"},
	}
	for _, tc := range cases {
		s := mustService(t, c, tc.service)
		repo, tag := imageTag(s.Image)
		repo = strings.TrimPrefix(strings.TrimPrefix(repo, "docker.io/"), "library/")
		if repo != tc.repo || !tc.tag.MatchString(tag) {
			t.Errorf("service %s: image %q is not pinned to %s", tc.service, s.Image, tc.want)
		}
	}
}

func TestComposeRedisPersistsWithAOF(t *testing.T) {
	s := mustService(t, loadCompose(t), "redis")
	if !hasFlag(s.Command, "--appendonly", "yes") {
		t.Errorf("service redis: command %q lacks `--appendonly yes`; without it writes since the last RDB snapshot are lost on a crash or restart", s.Command)
	}
	if !slices.ContainsFunc(s.Volumes, func(m mount) bool { return m.Target == "/data" && m.Type == "volume" && m.Source != "" }) {
		t.Errorf("service redis: no named volume mounted at /data, so the append-only file does not survive the container (volumes: %+v)", s.Volumes)
	}
}

func TestComposePostgresKeepsData(t *testing.T) {
	s := mustService(t, loadCompose(t), "postgres")
	if !slices.ContainsFunc(s.Volumes, func(m mount) bool {
		return m.Target == "/var/lib/postgresql/data" && m.Type == "volume" && m.Source != ""
	}) {
		t.Errorf("service postgres: no named volume mounted at /var/lib/postgresql/data (volumes: %+v)", s.Volumes)
	}
	for _, k := range []string{"POSTGRES_USER", "POSTGRES_PASSWORD_FILE", "POSTGRES_DB"} {
		if s.Environment[k] == "" {
			t.Errorf("service postgres: environment %s is not set", k)
		}
	}
	if _, ok := s.Environment["POSTGRES_PASSWORD"]; ok {
		t.Error("service postgres: POSTGRES_PASSWORD is in the environment; the password comes from POSTGRES_PASSWORD_FILE")
	}
}

func TestComposeHealthchecks(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"postgres", "redis", "bot"} {
		s := mustService(t, c, name)
		hc := s.Healthcheck
		if hc == nil || hc.Disable || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
			t.Errorf("service %s: no healthcheck with a test command; depends_on condition service_healthy can never be met", name)
			continue
		}
		if hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL" {
			t.Errorf("service %s: healthcheck test %q must start with CMD or CMD-SHELL", name, hc.Test)
		}
		if len(hc.Test) < 2 {
			t.Errorf("service %s: healthcheck test %q has no command", name, hc.Test)
		}
	}
	if t.Failed() {
		return
	}

	pg := strings.Join(mustService(t, c, "postgres").Healthcheck.Test, " ")
	user := mustService(t, c, "postgres").Environment["POSTGRES_USER"]
	db := mustService(t, c, "postgres").Environment["POSTGRES_DB"]
	if !strings.Contains(pg, "pg_isready") || !strings.Contains(pg, "-U "+user) || !strings.Contains(pg, "-d "+db) {
		t.Errorf("service postgres: healthcheck %q should be `pg_isready -U %s -d %s`", pg, user, db)
	}
	// redis-cli exits 0 on NOAUTH too: the check must look for the PONG.
	if rd := strings.Join(mustService(t, c, "redis").Healthcheck.Test, " "); !strings.Contains(rd, "REDISCLI_AUTH") || !strings.Contains(rd, "ping") || !strings.Contains(rd, "grep -q PONG") {
		t.Errorf("service redis: healthcheck %q should run `redis-cli ping` with REDISCLI_AUTH and look for PONG", rd)
	}
	// The runtime image is distroless: no shell, so CMD-SHELL cannot work there.
	if got, want := mustService(t, c, "bot").Healthcheck.Test, (stringList{"CMD", "/napad", "healthcheck"}); !slices.Equal(got, want) {
		t.Errorf("service bot: healthcheck test is %q, want %q (exec form: the distroless image has no shell)", got, want)
	}
}

func TestComposeBotService(t *testing.T) {
	s := mustService(t, loadCompose(t), "bot")
	if s.Build == nil {
		t.Error("service bot: no `build:`; it must be built from the Dockerfile")
	}
	if !slices.Equal(s.Command, []string{"serve"}) {
		t.Errorf("service bot: command is %q, want [serve]", s.Command)
	}
	if s.Restart != "unless-stopped" {
		t.Errorf("service bot: restart is %q, want unless-stopped", s.Restart)
	}
	for _, dep := range []string{"postgres", "redis"} {
		cond, ok := s.DependsOn[dep]
		switch {
		case !ok:
			t.Errorf("service bot: does not depend_on %s", dep)
		case cond != "service_healthy":
			t.Errorf("service bot: depends_on %s with condition %q, want service_healthy (else the bot starts before %s accepts connections)", dep, cond, dep)
		}
	}
}

func TestComposeBotEnvironment(t *testing.T) {
	c := loadCompose(t)
	bot := mustService(t, c, "bot")
	pg := mustService(t, c, "postgres")
	env := bot.Environment

	for _, k := range botEnv(t) {
		_, direct := env[k]
		_, fromFile := env[k+"_FILE"]
		if !direct && !fromFile {
			t.Errorf("service bot: environment lacks %s (the binary reads it; pass it, as ${%s:-} if optional, or %s_FILE for a secret)", k, k, k)
		}
	}

	// Every password is a file in the secrets volume that the `secrets`
	// service writes; none is written into the compose file.
	secretFiles := map[string]string{
		"DATABASE_PASSWORD_FILE": pg.Environment["POSTGRES_PASSWORD_FILE"],
		"REDIS_PASSWORD_FILE":    secretsDir + "/redis_password",
		"PARTICIPANT_KEY_FILE":   secretsDir + "/participant_key",
	}
	for k, want := range secretFiles {
		if env[k] != want || !strings.HasPrefix(want, secretsDir+"/") {
			t.Errorf("service bot: %s is %q, want %q (a file the secrets service writes)", k, env[k], want)
		}
	}
	for _, name := range []string{"bot", "postgres", "redis"} {
		if !mountsSecrets(mustService(t, c, name)) {
			t.Errorf("service %s: the secrets volume is not mounted at %s", name, secretsDir)
		}
	}

	if u, err := url.Parse(env["DATABASE_URL"]); err != nil {
		t.Errorf("service bot: DATABASE_URL %q does not parse: %v", env["DATABASE_URL"], err)
	} else {
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			t.Errorf("service bot: DATABASE_URL scheme is %q, want postgres", u.Scheme)
		}
		if u.Hostname() != "postgres" {
			t.Errorf("service bot: DATABASE_URL host is %q, want the compose service `postgres`", u.Hostname())
		}
		if p := u.Port(); p != "" && p != "5432" {
			t.Errorf("service bot: DATABASE_URL port is %s, want 5432 (the container port)", p)
		}
		if _, has := u.User.Password(); has {
			t.Errorf("service bot: DATABASE_URL has a password in it; it comes from DATABASE_PASSWORD_FILE")
		}
		if u.User.Username() != pg.Environment["POSTGRES_USER"] {
			t.Errorf("service bot: DATABASE_URL user %s does not match postgres's POSTGRES_USER %s", u.User.Username(), pg.Environment["POSTGRES_USER"])
		}
		if db := strings.TrimPrefix(u.Path, "/"); db != pg.Environment["POSTGRES_DB"] {
			t.Errorf("service bot: DATABASE_URL database %q does not match postgres's POSTGRES_DB %q", db, pg.Environment["POSTGRES_DB"])
		}
	}

	if u, err := url.Parse(env["REDIS_URL"]); err != nil {
		t.Errorf("service bot: REDIS_URL %q does not parse: %v", env["REDIS_URL"], err)
	} else {
		if u.Scheme != "redis" {
			t.Errorf("service bot: REDIS_URL scheme is %q, want redis", u.Scheme)
		}
		if u.Hostname() != "redis" {
			t.Errorf("service bot: REDIS_URL host is %q, want the compose service `redis`", u.Hostname())
		}
		if p := u.Port(); p != "" && p != "6379" {
			t.Errorf("service bot: REDIS_URL port is %s, want 6379 (the container port)", p)
		}
		if _, has := u.User.Password(); has {
			t.Errorf("service bot: REDIS_URL has a password in it; it comes from REDIS_PASSWORD_FILE")
		}
	}
	if rd := mustService(t, c, "redis"); !slices.Contains(rd.Command, secretsDir+"/redis.conf") {
		t.Errorf("service redis: command %q does not load %s/redis.conf, where its password is", rd.Command, secretsDir)
	}

	// The bot starts without a token (the Telegram channel is then off).
	if got := env["TELEGRAM_BOT_TOKEN"]; got != "${TELEGRAM_BOT_TOKEN:-}" {
		t.Errorf("service bot: TELEGRAM_BOT_TOKEN is %q, want ${TELEGRAM_BOT_TOKEN:-} so that an empty .env starts", got)
	}

	// LISTEN_ADDR's port must be the one published and EXPOSEd.
	port := env["LISTEN_ADDR"][strings.LastIndex(env["LISTEN_ADDR"], ":")+1:]
	if port != "8080" {
		t.Errorf("service bot: LISTEN_ADDR is %q, want :8080 (the port the Dockerfile EXPOSEs)", env["LISTEN_ADDR"])
	}
	for _, p := range bot.Ports {
		if p.Target != port {
			t.Errorf("service bot: publishes container port %s but LISTEN_ADDR listens on %s", p.Target, port)
		}
	}
}

// secretsDir is where the secrets volume is mounted.
const secretsDir = "/run/napad"

func mountsSecrets(s service) bool {
	return slices.ContainsFunc(s.Volumes, func(m mount) bool { return m.Source == "secrets" && m.Target == secretsDir })
}

func TestComposeNeedsNothingInEnv(t *testing.T) {
	// ${X:?message} makes compose refuse to start when X is empty.
	if src := readRepoFile(t, "docker-compose.yml"); regexp.MustCompile(`\$\{[A-Z0-9_]+:?\?`).MatchString(src) {
		t.Error("docker-compose.yml requires a variable (${X:?…}); an empty .env must start")
	}
	for _, k := range []string{"POSTGRES_PASSWORD", "REDIS_PASSWORD", "PARTICIPANT_KEY"} {
		if got := mustService(t, loadCompose(t), "secrets").Environment[k]; got != "${"+k+":-}" {
			t.Errorf("service secrets: %s is %q, want ${%s:-} (from .env when set, else generated)", k, got, k)
		}
	}
}

// Only the bot's port is published, and on the host's loopback only; the
// databases are on the compose network alone.
func TestComposePublishesOnlyTheBot(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if name != "bot" && len(s.Ports) > 0 {
			t.Errorf("service %s: publishes %+v; only the bot is reachable from the host (tests use compose.test.yml)", name, s.Ports)
		}
	}
	for _, p := range mustService(t, c, "bot").Ports {
		if p.HostIP != "127.0.0.1" && p.HostIP != "::1" {
			t.Errorf("service bot: port %s is published on %q; bind it to 127.0.0.1 and put a TLS proxy in front", p.Target, p.HostIP)
		}
	}
}

// compose.test.yml gives `make test` databases of its own on loopback.
func TestComposeTestFilePublishesDatabasesOnLoopback(t *testing.T) {
	var c composeFile
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "compose.test.yml")), &c); err != nil {
		t.Fatalf("compose.test.yml: %v", err)
	}
	for name, want := range map[string]string{"postgres": "5432", "redis": "6379"} {
		s := c.Services[name]
		if !slices.ContainsFunc(s.Ports, func(p portSpec) bool { return p.Target == want && p.Published == want }) {
			t.Errorf("compose.test.yml: service %s does not publish %s, so `make test` cannot reach it", name, want)
		}
		for _, p := range s.Ports {
			if p.HostIP != "127.0.0.1" && p.HostIP != "::1" {
				t.Errorf("compose.test.yml: service %s publishes %s on %q; bind it to 127.0.0.1", name, p.Target, p.HostIP)
			}
		}
	}
	// The credentials pgtest.ComposeAdminURL uses.
	if got := c.Services["secrets"].Environment["POSTGRES_PASSWORD"]; got != "napad" {
		t.Errorf("compose.test.yml: the test PostgreSQL password is %q, want napad (pgtest.ComposeAdminURL)", got)
	}
	script := readRepoFile(t, "scripts/ensure-services.sh")
	if !strings.Contains(script, "-p napad-test -f docker-compose.yml -f compose.test.yml") {
		t.Error("scripts/ensure-services.sh does not start the test databases as their own project with compose.test.yml")
	}
}

// TestComposeSecretsScript runs the secrets service's script with the local
// shell in a temporary directory standing in for the volume.
func TestComposeSecretsScript(t *testing.T) {
	s := mustService(t, loadCompose(t), "secrets")
	if len(s.Command) != 1 || len(s.Entrypoint) < 2 || s.Entrypoint[0] != "/bin/sh" {
		t.Fatalf("service secrets: entrypoint %q command %q, want /bin/sh -c and one script", s.Entrypoint, s.Command)
	}
	if !mountsSecretsWritable(s) {
		t.Errorf("service secrets: the secrets volume is not mounted writable at %s", secretsDir)
	}
	dir := t.TempDir()
	// Compose turns $$ into $ before the shell sees the script.
	script := strings.ReplaceAll(strings.ReplaceAll(s.Command[0], "$$", "$"), secretsDir, dir)
	runScript := func(env ...string) {
		t.Helper()
		cmd := exec.Command("/bin/sh", append(s.Entrypoint[1:], script)...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("secrets script: %v\n%s", err, out)
		}
	}
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	runScript("POSTGRES_PASSWORD=", "REDIS_PASSWORD=", "PARTICIPANT_KEY=") // an empty .env
	random := regexp.MustCompile(`^[0-9a-f]{64}$`)
	first := map[string]string{}
	for _, name := range []string{"postgres_password", "redis_password", "participant_key"} {
		if first[name] = read(name); !random.MatchString(first[name]) {
			t.Errorf("%s is %q, want 64 random hex digits", name, first[name])
		}
	}
	if first["postgres_password"] == first["redis_password"] {
		t.Error("the generated passwords are the same")
	}
	if got, want := read("redis.conf"), "requirepass "+first["redis_password"]+"\n"; got != want {
		t.Errorf("redis.conf is %q, want %q", got, want)
	}

	runScript("REDIS_PASSWORD=from-env")
	if read("postgres_password") != first["postgres_password"] || read("participant_key") != first["participant_key"] {
		t.Error("a second start changed a generated secret (the database keeps the first password)")
	}
	if read("redis_password") != "from-env" || read("redis.conf") != "requirepass from-env\n" {
		t.Errorf("REDIS_PASSWORD from .env did not win: %q / %q", read("redis_password"), read("redis.conf"))
	}
}

func mountsSecretsWritable(s service) bool {
	return slices.ContainsFunc(s.Volumes, func(m mount) bool { return m.Source == "secrets" && m.Target == secretsDir && !m.ReadOnly })
}

func TestComposeNamedVolumesDeclared(t *testing.T) {
	c := loadCompose(t)
	used := map[string]bool{}
	for name, s := range c.Services {
		for _, m := range s.Volumes {
			if m.Type != "volume" || m.Source == "" {
				continue
			}
			used[m.Source] = true
			if _, ok := c.Volumes[m.Source]; !ok {
				t.Errorf("service %s: named volume %q is not declared under the top-level `volumes:`", name, m.Source)
			}
		}
	}
	for v := range c.Volumes {
		if !used[v] {
			t.Errorf("volume %q is declared but no service uses it", v)
		}
	}
}

// ---- .env.example

func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	f, err := os.Open(filepath.Join("..", ".env.example"))
	if err != nil {
		t.Fatalf("reading .env.example: %v", err)
	}
	defer f.Close()

	assign := regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=`)
	documented := map[string]bool{} // variable -> has a comment line right above
	prevComment := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := assign.FindStringSubmatch(line); m != nil {
			documented[m[1]] = prevComment
		}
		prevComment = strings.HasPrefix(line, "#")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range botEnv(t) {
		has, ok := documented[k]
		switch {
		case !ok:
			t.Errorf(".env.example: %s is missing (want a `%s=` line)", k, k)
		case !has:
			t.Errorf(".env.example: %s has no comment line right above it saying what it is", k)
		}
	}
}

// ---- Dockerfile and .dockerignore

type instruction struct {
	cmd, args string
}

// dockerfileInstructions joins continuation lines and drops comments.
func dockerfileInstructions(t *testing.T) []instruction {
	t.Helper()
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(readRepoFile(t, "Dockerfile"), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

func TestDockerfile(t *testing.T) {
	ins := dockerfileInstructions(t)

	type stage struct {
		image, name string
		body        []instruction
	}
	var stages []stage
	for _, in := range ins {
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--") })
			st := stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			continue
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s); want a multi-stage build (Go builder, then a small runtime image)", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	if repo, tag := imageTag(build.image); repo != "golang" || !strings.HasPrefix(tag, "1.26") {
		t.Errorf("Dockerfile: builder image is %q, want golang:1.26-…", build.image)
	}
	var buildCmd string
	for _, in := range build.body {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			buildCmd = in.args
		}
	}
	switch {
	case buildCmd == "":
		t.Error("Dockerfile: builder stage has no `RUN … go build`")
	default:
		if !strings.Contains(buildCmd, "CGO_ENABLED=0") {
			t.Errorf("Dockerfile: go build runs without CGO_ENABLED=0; a cgo binary does not run on distroless/static: %q", buildCmd)
		}
		if !strings.Contains(buildCmd, "-o /napad") || !strings.Contains(buildCmd, "./cmd/napad") {
			t.Errorf("Dockerfile: go build should build ./cmd/napad into /napad: %q", buildCmd)
		}
	}

	if !strings.HasPrefix(final.image, "gcr.io/distroless/static") {
		t.Errorf("Dockerfile: final image is %q, want gcr.io/distroless/static-…", final.image)
	}
	var entrypoint, user string
	copied := false
	for _, in := range final.body {
		switch in.cmd {
		case "ENTRYPOINT":
			entrypoint = in.args
		case "USER":
			user = in.args
		case "COPY":
			if strings.Contains(in.args, "--from=") && strings.HasSuffix(in.args, " /napad") {
				copied = true
			}
		}
	}
	var ep []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil || !slices.Equal(ep, []string{"/napad"}) {
		t.Errorf("Dockerfile: final ENTRYPOINT is %q, want exec form [\"/napad\"] (no shell in distroless)", entrypoint)
	}
	if !copied {
		t.Error("Dockerfile: final stage does not COPY --from the builder to /napad")
	}
	if u, _, _ := strings.Cut(user, ":"); u != "nonroot" && u != "65532" {
		t.Errorf("Dockerfile: final stage USER is %q, want nonroot", user)
	}
}

func TestDockerignoreKeepsSecretsOut(t *testing.T) {
	lines := strings.Split(readRepoFile(t, ".dockerignore"), "\n")
	for i := range lines {
		lines[i] = strings.TrimPrefix(strings.TrimSpace(lines[i]), "/")
	}
	for _, want := range []string{".env", ".git"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore does not list %s; it would be sent to the builder and could end up in the image", want)
		}
	}
}
