package redis_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// Load and Save on their own, and their round trip, with a conversation as
// the bot stores it (redis_test.go has the round trip with a 600-byte
// filler blob, and its parallel variant). They need the real Redis, like
// the tests. Run with
//
//	go test ./storage/redis -run '^$' -bench . -benchmem

// benchState is a student halfway through an idea, encoded like the bot's
// stored envelope ({"s": state, "u": the last update ids}): about 620 bytes.
func benchState(b *testing.B) []byte {
	b.Helper()
	st := flows.State{
		Lang: "en", ForumID: 7, ForumCode: "Zk3xQ9mP2aLw8RtY", ForumName: "8.B – ZŠ Komenského",
		Step: flows.StepCategory, Draft: "734513040", PrivacyOK: true,
		Answers: map[flows.StepID]flows.Answer{
			flows.StepLanguage:    {Text: "en"},
			flows.StepPrivacy:     {Text: "ok"},
			flows.StepScope:       {Text: "both"},
			flows.StepWorksWell:   {Text: "The new library and the teachers who listen to us."},
			flows.StepImprove:     {Text: "There is nowhere to sit outside during breaks, so everyone stands in the corridor."},
			flows.StepTitle:       {Text: "Benches in the school yard"},
			flows.StepDescription: {Text: "Put five benches and a little shade under the big linden tree, so we can sit outside between lessons and eat our snacks there."},
		},
	}
	data, err := json.Marshal(struct {
		State flows.State `json:"s"`
		Seen  []int64     `json:"u"`
	}{st, []int64{734513040, 734514049, 734515058, 734516067, 734517076, 734518085, 734519094, 734520103}})
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkLoadState is one Load (HMGET) of a stored conversation.
func BenchmarkLoadState(b *testing.B) {
	s := redistest.New(b)
	c := context.Background()
	blob := benchState(b)
	if ok, err := s.Save(c, "bench", 0, blob, time.Minute); err != nil || !ok {
		b.Fatalf("Save: %v, %v", ok, err)
	}
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		data, _, err := s.Load(c, "bench")
		if err != nil || len(data) != len(blob) {
			b.Fatalf("Load: %d bytes, %v", len(data), err)
		}
	}
}

// BenchmarkSaveState is one Save (EVALSHA of the compare-and-set script).
func BenchmarkSaveState(b *testing.B) {
	s := redistest.New(b)
	c := context.Background()
	blob := benchState(b)
	version := int64(0)
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		ok, err := s.Save(c, "bench", version, blob, 30*24*time.Hour)
		if err != nil || !ok {
			b.Fatalf("Save: %v, %v", ok, err)
		}
		version++
	}
}

// BenchmarkLoadSaveState is what every update costs in Redis: Load, then
// Save with the version loaded.
func BenchmarkLoadSaveState(b *testing.B) {
	s := redistest.New(b)
	c := context.Background()
	blob := benchState(b)
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		_, v, err := s.Load(c, "bench")
		if err != nil {
			b.Fatal(err)
		}
		ok, err := s.Save(c, "bench", v, blob, 30*24*time.Hour)
		if err != nil || !ok {
			b.Fatalf("Save: %v, %v", ok, err)
		}
	}
	b.ReportMetric(float64(len(blob)), "bytes/state")
}
