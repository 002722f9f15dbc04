package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
	redisstore "github.com/healthycities/napad/storage/redis"
	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// clockTicks is USER_HZ, the unit of CPU times in /proc (100 on Linux).
const clockTicks = 100

// procSample is a process's CPU time and memory, from /proc.
type procSample struct {
	cpu   time.Duration // user + system, all threads
	rssKB int64         // VmRSS
	hwmKB int64         // VmHWM: peak RSS since the process started
}

func readProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("read bot process stats: %w", err)
	}
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("/proc/%d/stat: unexpected CPU times", pid)
	}
	s.cpu = time.Duration(utime+stime) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("read bot process status: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		for _, f := range []struct {
			name string
			dst  *int64
		}{{"VmRSS:", &s.rssKB}, {"VmHWM:", &s.hwmKB}} {
			if v, ok := strings.CutPrefix(line, f.name); ok {
				kb := strings.TrimSuffix(strings.TrimSpace(v), " kB")
				*f.dst, _ = strconv.ParseInt(strings.TrimSpace(kb), 10, 64)
			}
		}
	}
	return s, nil
}

// selfCPU is the bench's own CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU is the time all CPUs were busy and the total, from /proc/stat.
func machineCPU() (busy, total time.Duration) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, 0
	}
	var sum, idle int64
	for i, f := range fields[1:9] { // user nice system idle iowait irq softirq steal
		v, _ := strconv.ParseInt(f, 10, 64)
		sum += v
		if i == 3 || i == 4 {
			idle += v
		}
	}
	tick := time.Second / clockTicks
	return time.Duration(sum-idle) * tick, time.Duration(sum) * tick
}

// rssSampler follows the bot's memory while the run lasts.
type rssSampler struct {
	pid    int
	mu     sync.Mutex
	maxKB  int64
	stop   chan struct{}
	closed chan struct{}
}

func startRSSSampler(pid int, every time.Duration) *rssSampler {
	r := &rssSampler{pid: pid, stop: make(chan struct{}), closed: make(chan struct{})}
	go func() {
		defer close(r.closed)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if s, err := readProc(pid); err == nil {
				r.mu.Lock()
				r.maxKB = max(r.maxKB, s.rssKB)
				r.mu.Unlock()
			}
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
		}
	}()
	return r
}

func (r *rssSampler) finish() int64 {
	close(r.stop)
	<-r.closed
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxKB
}

// redisSnap is what INFO says about the whole Redis server.
type redisSnap struct {
	total int64            // total_commands_processed
	cmds  map[string]int64 // calls per command (commandstats)
	cpu   float64          // used_cpu_user + used_cpu_sys, seconds
}

// redisInfo adds up what INFO says on every primary of a cluster.
func redisInfo(ctx context.Context, rdb goredis.UniversalClient) (redisSnap, error) {
	s := redisSnap{cmds: map[string]int64{}}
	var mu sync.Mutex
	err := redisstore.ForEachPrimary(ctx, rdb, func(ctx context.Context, node *goredis.Client) error {
		info, err := node.Info(ctx, "stats", "commandstats", "cpu").Result()
		if err != nil {
			return fmt.Errorf("redis INFO: %w", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for line := range strings.Lines(info) {
			line = strings.TrimSpace(line)
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch {
			case k == "total_commands_processed":
				n, _ := strconv.ParseInt(v, 10, 64)
				s.total += n
			case k == "used_cpu_user" || k == "used_cpu_sys":
				f, _ := strconv.ParseFloat(v, 64)
				s.cpu += f
			case strings.HasPrefix(k, "cmdstat_"):
				calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
				n, _ := strconv.ParseInt(calls, 10, 64)
				s.cmds[strings.TrimPrefix(k, "cmdstat_")] += n
			}
		}
		return nil
	})
	return s, err
}

// pgSnap is pg_stat_database for the bot's database.
type pgSnap struct {
	XactCommit   int64 `json:"xact_commit"`
	XactRollback int64 `json:"xact_rollback"`
	TupInserted  int64 `json:"tup_inserted"`
	TupUpdated   int64 `json:"tup_updated"`
	TupDeleted   int64 `json:"tup_deleted"`
	TupReturned  int64 `json:"tup_returned"`
	TupFetched   int64 `json:"tup_fetched"`
}

func (a pgSnap) minus(b pgSnap) pgSnap {
	return pgSnap{a.XactCommit - b.XactCommit, a.XactRollback - b.XactRollback, a.TupInserted - b.TupInserted,
		a.TupUpdated - b.TupUpdated, a.TupDeleted - b.TupDeleted, a.TupReturned - b.TupReturned, a.TupFetched - b.TupFetched}
}

// pgWatch reads the statistics of the bot's database over a connection to
// another database (postgres), so that reading them adds nothing to them.
type pgWatch struct {
	conn   *pgx.Conn
	dbName string
	sameDB bool // could only connect to the bot's own database
}

func openPGWatch(ctx context.Context, databaseURL string) (*pgWatch, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse -database-url: %w", err)
	}
	w := &pgWatch{dbName: strings.TrimPrefix(u.Path, "/")}
	if w.dbName == "" {
		return nil, fmt.Errorf("-database-url names no database")
	}
	other := *u
	other.Path = "/postgres"
	if w.conn, err = pgx.Connect(ctx, other.String()); err != nil {
		w.sameDB = true
		if w.conn, err = pgx.Connect(ctx, databaseURL); err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL for statistics: %w", err)
		}
	}
	return w, nil
}

func (w *pgWatch) close(ctx context.Context) { _ = w.conn.Close(ctx) }

func (w *pgWatch) snap(ctx context.Context) (pgSnap, error) {
	var s pgSnap
	err := w.conn.QueryRow(ctx, `SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted,
		tup_returned, tup_fetched FROM pg_stat_database WHERE datname = $1`, w.dbName).
		Scan(&s.XactCommit, &s.XactRollback, &s.TupInserted, &s.TupUpdated, &s.TupDeleted, &s.TupReturned, &s.TupFetched)
	if err != nil {
		return s, fmt.Errorf("read pg_stat_database: %w", err)
	}
	return s, nil
}

// sessions counts the connections to the bot's database (ours excluded).
func (w *pgWatch) sessions(ctx context.Context) (int, error) {
	var n int
	err := w.conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, w.dbName).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read pg_stat_activity: %w", err)
	}
	return n, nil
}

// settledSnap reads the statistics once they include everything: a
// PostgreSQL backend reports its counts when it ends, and otherwise at most
// once a second while busy and about 10 s after it went idle. After the bot
// stopped, waiting for its connections to end is enough; with a bot that
// keeps running, wait settle.
func (w *pgWatch) settledSnap(ctx context.Context, botStopped bool, settle time.Duration) (pgSnap, string, error) {
	how := ""
	if botStopped {
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			n, err := w.sessions(ctx)
			if err != nil {
				return pgSnap{}, "", err
			}
			if n == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		how = "after the bot's connections ended"
	} else if settle > 0 {
		select {
		case <-ctx.Done():
			return pgSnap{}, "", ctx.Err()
		case <-time.After(settle):
		}
		how = fmt.Sprintf("%s after the run (PostgreSQL reports idle connections' counts late)", settle)
	}
	s, err := w.snap(ctx)
	return s, how, err
}

// countIdeas counts the ideas stored for the forum, and the students they
// came from.
func countIdeas(ctx context.Context, databaseURL, forumCode string) (ideas, authors int64, err error) {
	db, err := postgres.Open(ctx, databaseURL)
	if err != nil {
		return 0, 0, fmt.Errorf("count ideas: %w", err)
	}
	defer db.Close()
	// The staff export sees every idea (hidden ones too) with its author's
	// pseudonym: the count the city would get.
	from := map[string]bool{}
	err = db.ExportIdeas(ctx, postgres.ExportFilter{ForumCode: forumCode, IncludeHidden: true}, func(r export.Row) error {
		ideas++
		from[r.Participant] = true
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("count ideas: %w", err)
	}
	return ideas, int64(len(from)), nil
}

// latency summarises samples in µs, in milliseconds.
type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarize(samples []uint32) latency {
	if len(samples) == 0 {
		return latency{}
	}
	slices.Sort(samples)
	at := func(q float64) float64 {
		i := int(q*float64(len(samples))+0.5) - 1
		i = min(max(i, 0), len(samples)-1)
		return float64(samples[i]) / 1000
	}
	return latency{N: len(samples), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: float64(samples[len(samples)-1]) / 1000}
}

// storesBefore are Redis and PostgreSQL as a run found them, with the
// connections that watch them (nil where not watched), for the report's
// differences.
type storesBefore struct {
	rdb   goredis.UniversalClient
	redis redisSnap
	pgw   *pgWatch
	pg    pgSnap
}

// watchStores connects to the stores given ("" : not watched) and takes
// their snapshots before a run.
func watchStores(ctx context.Context, redisURL, databaseURL string) (*storesBefore, error) {
	var b storesBefore
	var err error
	if redisURL != "" {
		if b.rdb, err = redisClient(redisURL); err != nil {
			return nil, err
		}
		if b.redis, err = redisInfo(ctx, b.rdb); err != nil {
			b.close(ctx)
			return nil, err
		}
	}
	if databaseURL != "" {
		if b.pgw, err = openPGWatch(ctx, databaseURL); err != nil {
			b.close(ctx)
			return nil, err
		}
		if b.pg, err = b.pgw.snap(ctx); err != nil {
			b.close(ctx)
			return nil, err
		}
	}
	return &b, nil
}

func (b *storesBefore) close(ctx context.Context) {
	if b.rdb != nil {
		_ = b.rdb.Close()
	}
	if b.pgw != nil {
		b.pgw.close(ctx)
	}
}
