package redis_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// This package's tests again, on a three-node Redis Cluster started for the
// purpose: a script whose keys are in different hash slots fails there with
// CROSSSLOT, as every turn and outbox script did before the keys had hash
// tags. Then conversations must spread over the primaries, not share one
// slot.
func TestOnACluster(t *testing.T) {
	c := redistest.StartCluster(t, 3, 0)
	// Not again: the tests that start servers of their own, and the upgrade
	// from keys that only a single server could have.
	skip := "^(TestOnACluster|TestFailoverOfAPrimary|TestOnSentinel|TestOpenMovesTheKeysOfAnOlderVersion)$"
	cmd := exec.Command(os.Args[0], "-test.run=^Test", "-test.skip="+skip, "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), redistest.EnvURL+"="+c.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests on the cluster failed: %v\n%s", err, out)
	}
	passed := strings.Count(string(out), "--- PASS")
	if passed < 20 {
		t.Fatalf("only %d tests passed on the cluster:\n%s", passed, out)
	}
	t.Logf("%d tests passed on the cluster", passed)

	t.Run("conversations spread over the primaries", func(t *testing.T) {
		s, _, prefix := redistest.NewAt(t, c.URL)
		for i := range 30 {
			put(t, s, fmt.Sprintf("%032x", i), []byte("x"))
		}
		client := rawClient(t, c.URL).(*goredis.ClusterClient)
		var nodes atomic.Int32 // ForEachMaster calls at once
		err := client.ForEachMaster(ctx(t), func(ctx context.Context, node *goredis.Client) error {
			ks, err := node.Keys(ctx, prefix+"*").Result()
			if len(ks) > 0 {
				nodes.Add(1)
			}
			return err
		})
		if err != nil || nodes.Load() != 3 {
			t.Errorf("30 conversations are on %d of 3 primaries (%v)", nodes.Load(), err)
		}
	})
}

// TestOpenURLForms: one server, a cluster and Sentinel each have a URL form,
// and a URL Open cannot use is refused with an error that never shows the
// password.
func TestOpenURLForms(t *testing.T) {
	good := []string{
		"redis://127.0.0.1:6379/0",
		"rediss://user:pw@redis.example.org:6380/2",
		"redis+cluster://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002",
		"rediss+cluster://:pw@10.0.0.1:7000/0?addr=10.0.0.2:7000",
		"redis+sentinel://:pw@127.0.0.1:26379/0?master_name=napad&addr=127.0.0.1:26380&password=pw",
	}
	for _, u := range good {
		if err := redis.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v", u, err)
		}
	}
	bad := map[string]string{
		"redis://:secret@127.0.0.1:6379/x":                          "database number",
		"http://:secret@127.0.0.1:6379":                             "must start with",
		"redis+pubsub://:secret@127.0.0.1:6379":                     "must start with",
		"redis+cluster://:secret@127.0.0.1:7000/3":                  "only database 0",
		"redis+cluster://:secret@127.0.0.1:7000?addr=nope":          "addr",
		"redis+sentinel://:secret@127.0.0.1:26379/0":                "master_name",
		"redis+sentinel://:secret@127.0.0.1:26379/0?master=x":       "unexpected option",
		"redis://:secret@127.0.0.1:6379/0?dial_timeout=soon":        "dial_timeout",
		"redis://:secret@[::1:6379":                                 "not a valid URL",
		"not-a-url":                                                 "not a valid URL",
		"redis+cluster://:secret@127.0.0.1:7000?pool_size=lots&x=1": "pool_size",
	}
	for u, want := range bad {
		err := redis.CheckURL(u)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckURL(%q) = %v, want an error about %s without the password", u, err, want)
		}
	}
	c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := redis.Open(c, redistest.URL(), "napad:{x}:"); err == nil || !strings.Contains(err.Error(), "must not contain {") {
		t.Errorf("Open with braces in the prefix: %v", err)
	}
}
