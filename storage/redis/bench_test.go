package redis_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// A conversation's turn, with the state as the bot stores it (redis_test.go
// has turns of a 600-byte filler blob, and their parallel variant). They
// need the real Redis, like the tests. Run with
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

// BenchmarkTurnState is what every update costs in Redis: take the
// conversation's turn (reading the state), then commit the new state.
func BenchmarkTurnState(b *testing.B) {
	s := redistest.New(b)
	c := context.Background()
	blob := benchState(b)
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	update := int64(0)
	for b.Loop() {
		update++
		turn, err := s.Begin(c, "bench", update)
		if err != nil || (update > 1 && len(turn.State()) != len(blob)) {
			b.Fatalf("Begin: %d bytes, %v", len(turn.State()), err)
		}
		if saved, err := turn.Commit(c, blob, 30*24*time.Hour); err != nil || !saved {
			b.Fatalf("Commit: %v, %v", saved, err)
		}
	}
	b.ReportMetric(float64(len(blob)), "bytes/state")
}

// BenchmarkTurnReadOnly is a turn that changes nothing (a duplicate update):
// take the turn, reading the state, and end it.
func BenchmarkTurnReadOnly(b *testing.B) {
	s := redistest.New(b)
	c := context.Background()
	blob := benchState(b)
	redistest.Put(b, s, "bench", blob, time.Minute)
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	update := int64(0)
	for b.Loop() {
		update++
		turn, err := s.Begin(c, "bench", update)
		if err != nil || len(turn.State()) != len(blob) {
			b.Fatalf("Begin: %d bytes, %v", len(turn.State()), err)
		}
		if err := turn.End(c); err != nil {
			b.Fatal(err)
		}
	}
}
