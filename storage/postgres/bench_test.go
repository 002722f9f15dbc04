package postgres_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// BenchmarkSubmit stores one finished idea in the real PostgreSQL (a fresh
// database from pgtest, as the tests use): a new participant, the
// suggestion row with a fresh reference, and the forum participation, in
// one transaction. Like the tests it fails without PostgreSQL. Run with
//
//	go test ./storage/postgres -run '^$' -bench Submit -benchmem
func BenchmarkSubmit(b *testing.B) {
	st, _ := pgtest.NewStore(b)
	ctx := context.Background()
	f, err := pgtest.CreateForum(ctx, st, "8.B – ZŠ Komenského", "ZŠ Komenského", "Kolín")
	if err != nil {
		b.Fatalf("CreateForum: %v", err)
	}
	lat, lon := 50.0281, 15.2003
	sub := flows.Idea{
		ForumID:     f.ID,
		Language:    "cs",
		Scope:       "both",
		WorksWell:   "Nová knihovna a učitelé, kteří nás poslouchají.",
		Improve:     "O přestávkách si venku nemáme kam sednout, takže všichni stojí na chodbě.",
		Title:       "Lavičky na školním dvoře",
		Description: "Dát pět laviček a trochu stínu pod velkou lípu, abychom mohli o přestávkách sedět venku a svačit tam.",
		Category:    "public_space",
		PlaceText:   "",
		Latitude:    &lat,
		Longitude:   &lon,
		PhotoFileID: "AgACAgQAAxkBAAIBY2Zk1q3Xb7pL9mN0cR4sT6uV8wX0yZ1aB2cD3eF4gH5iJ6kL7mN8oP9qR",
		WantsToHelp: "yes",
		SubmittedAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		sub.DraftID = "734513040-" + strconv.Itoa(n)
		sub.ParticipantID = "p" + strconv.Itoa(n) + "-3f9a0c1d2e4b5a6978"
		if _, err := st.Submit(ctx, sub); err != nil {
			b.Fatalf("Submit %d: %v", n, err)
		}
	}
}

// BenchmarkSubmitAgain is the same draft submitted again (a redelivered
// update, a retried tap): nothing is stored, the existing reference is
// returned.
func BenchmarkSubmitAgain(b *testing.B) {
	st, _ := pgtest.NewStore(b)
	ctx := context.Background()
	f, err := pgtest.CreateForum(ctx, st, "8.B – ZŠ Komenského", "ZŠ Komenského", "Kolín")
	if err != nil {
		b.Fatalf("CreateForum: %v", err)
	}
	sub := flows.Idea{
		DraftID: "734513040", ParticipantID: "3f9a0c1d2e4b5a6978", ForumID: f.ID, Language: "en", Scope: "school",
		Improve: "There is nowhere to sit.", Title: "Benches in the school yard", Category: "public_space",
		WantsToHelp: "maybe", SubmittedAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
	}
	first, err := st.Submit(ctx, sub)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ref, err := st.Submit(ctx, sub)
		if err != nil || ref != first {
			b.Fatalf("Submit again: %q, %v; want %q", ref, err, first)
		}
	}
}

// BenchmarkVote is one vote in the real PostgreSQL: the forum locked for
// share, the participant's row locked, their votes counted, the vote
// stored, and the ballot read back. Each participant gives their two votes
// in turn, on a shortlist of three. In parallel (-cpu) it is many students
// voting at once. Run with
//
//	go test ./storage/postgres -run '^$' -bench Vote -benchmem -cpu 1,4
func BenchmarkVote(b *testing.B) {
	st, _ := pgtest.NewStore(b)
	ctx := context.Background()
	f, err := pgtest.CreateForum(ctx, st, "8.B – ZŠ Komenského", "ZŠ Komenského", "Kolín")
	if err != nil {
		b.Fatalf("CreateForum: %v", err)
	}
	var items []int64
	for i := range 3 {
		ref, err := st.Submit(ctx, flows.Idea{DraftID: "bench-" + strconv.Itoa(i), ParticipantID: "author-" + strconv.Itoa(i), ForumID: f.ID,
			Language: "cs", Scope: "school", Improve: "Lavičky", Title: "Nápad " + strconv.Itoa(i), Description: "Víc laviček",
			Category: "public_space", WantsToHelp: "no"})
		if err != nil {
			b.Fatalf("Submit: %v", err)
		}
		it, err := st.AddToShortlist(ctx, f.ID, []string{ref}, "", nil, "bench")
		if err != nil {
			b.Fatalf("AddToShortlist: %v", err)
		}
		items = append(items, it.ID)
	}
	for _, to := range []string{flows.PhaseShortlisting, flows.PhaseVoting} {
		if _, err := st.MovePhase(ctx, f.Code, mustForum(b, st, f.Code).Phase, to, "bench", false); err != nil {
			b.Fatalf("MovePhase %s: %v", to, err)
		}
	}
	var next atomic.Int64
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			voter := "voter-" + strconv.FormatInt(n/2, 10)
			outcome, _, err := st.Vote(ctx, f.ID, items[n%3], voter, "cs", true, now)
			if err != nil || outcome != flows.VoteRecorded {
				b.Errorf("vote %d: %q, %v", n, outcome, err)
				return
			}
		}
	})
}

func mustForum(b *testing.B, st *postgres.Store, code string) flows.Forum {
	b.Helper()
	f, found, err := st.ForumByCode(context.Background(), code)
	if err != nil || !found {
		b.Fatalf("forum %s: found=%v %v", code, found, err)
	}
	return f
}
