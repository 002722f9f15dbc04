package bot

import (
	"encoding/json"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// maxBytesPerConversation is the Redis memory one conversation in progress
// may take on average: 10,000 students writing at once then need ~20 MB.
const maxBytesPerConversation = 2048

// prodKeyPrefix is REDIS_KEY_PREFIX's default; the test's own prefix is
// longer, which MEMORY USAGE counts.
const prodKeyPrefix = "napad:"

// TestRedisMemoryPerConversation stores 1,000 students halfway through an
// idea, encoded as converse encodes them, and asks Redis how much memory
// each key takes (MEMORY USAGE: key, value and Redis's own overhead). The
// students come from midFlowEnvelope in bench_test.go.
func TestRedisMemoryPerConversation(t *testing.T) {
	const students = 1000
	store, redisURL, prefix := redistest.NewWithPrefix(t)
	raw, err := redis.NewClient(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	ctx := t.Context()

	keys := make([]string, students)
	var jsonBytes int
	for i := range students {
		pid, env := midFlowEnvelope(t, i)
		data, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		jsonBytes += len(data)
		saveConversation(t, store, pid, data)
		keys[i] = prefix + "{" + pid + "}" // the state key (storage/redis)
	}

	pipe := raw.Pipeline()
	usage := make([]*goredis.IntCmd, students)
	for i, k := range keys {
		usage[i] = pipe.MemoryUsage(ctx, k)
	}
	encoding := pipe.ObjectEncoding(ctx, keys[0])
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("MEMORY USAGE: %v", err)
	}
	var total int64
	for i, u := range usage {
		n, err := u.Result()
		if err != nil || n <= 0 {
			t.Fatalf("MEMORY USAGE %s: %d, %v", keys[i], n, err)
		}
		total += n
	}
	avg := float64(total) / students
	// The production key is shorter by this much (one byte per character).
	prodAvg := avg - float64(len(prefix)-len(prodKeyPrefix))
	t.Logf("Redis memory per conversation in progress: %.0f bytes on average over %d keys "+
		"(≈ %.0f with the production key prefix %q); JSON envelope %.0f bytes; key %d bytes; hash encoding %s",
		avg, students, prodAvg, prodKeyPrefix, float64(jsonBytes)/students, len(keys[0]), encoding.Val())
	if avg > maxBytesPerConversation {
		t.Errorf("a conversation in progress takes %.0f bytes of Redis memory on average, want ≤ %d", avg, maxBytesPerConversation)
	}
}
