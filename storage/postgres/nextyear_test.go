package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// A forum follows last year's forum of its town: never itself, never round
// a cycle, never an unknown code or another town's forum; "" unlinks it.
// Every refusal changes nothing; every link is audited.
func TestPreviousForumRules(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	y2024, y2025, y2026 := newForum(t, st), newForum(t, st), newForum(t, st)
	prague, err := pgtest.CreateForum(ctx, st, "7.B", "ZŠ Komenského", "Praha")
	if err != nil {
		t.Fatal(err)
	}
	// The same town written differently is the same town.
	sameTown, err := pgtest.CreateForum(ctx, st, "8.A", "ZŠ Komenského", " brno ")
	if err != nil {
		t.Fatal(err)
	}

	for _, link := range [][2]flows.Forum{{y2025, y2024}, {y2026, y2025}, {sameTown, y2026}} {
		if err := st.SetPreviousForum(ctx, link[0].Code, link[1].Code, "staff"); err != nil {
			t.Fatalf("%s follows %s: %v", link[0].Code, link[1].Code, err)
		}
	}
	for name, tc := range map[string]struct {
		code, previous string
		want           error
	}{
		"itself":           {y2025.Code, y2025.Code, postgres.ErrPreviousSelf},
		"a direct cycle":   {y2024.Code, y2025.Code, postgres.ErrPreviousCycle},
		"a longer cycle":   {y2024.Code, sameTown.Code, postgres.ErrPreviousCycle},
		"another town":     {prague.Code, y2026.Code, postgres.ErrPreviousOtherTown},
		"an unknown code":  {y2024.Code, "NoSuchForum12345", postgres.ErrPreviousNotFound},
		"a malformed code": {y2024.Code, "no such forum", postgres.ErrPreviousNotFound},
		"an unknown forum": {"NoSuchForum12345", y2024.Code, postgres.ErrForumNotFound},
	} {
		if err := st.SetPreviousForum(ctx, tc.code, tc.previous, "staff"); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	for code, want := range map[string]int64{y2024.Code: 0, y2025.Code: y2024.ID, y2026.Code: y2025.ID, sameTown.Code: y2026.ID, prague.Code: 0} {
		got, _, err := st.ForumByCode(ctx, code)
		if err != nil || got.PreviousID != want {
			t.Errorf("%s follows %d (%v), want %d", code, got.PreviousID, err, want)
		}
	}
	if n := auditRows(t, dbURL, "forum.previous"); n != 3 {
		t.Errorf("%d links audited, want 3", n)
	}

	// A new forum may follow one at once: of its town, and known.
	spec := flows.ForumSpec{Name: "7.B 2027", Town: "Brno", Previous: y2026.Code}
	if f, err := st.CreateForum(ctx, spec, "", time.Time{}); err != nil || f.PreviousID != y2026.ID {
		t.Errorf("created following %d (%v), want %d", f.PreviousID, err, y2026.ID)
	}
	for previous, want := range map[string]error{prague.Code: postgres.ErrPreviousOtherTown, "NoSuchForum12345": postgres.ErrPreviousNotFound} {
		spec.Previous = previous
		if _, err := st.CreateForum(ctx, spec, "", time.Time{}); !errors.Is(err, want) {
			t.Errorf("created following %s: %v, want %v", previous, err, want)
		}
	}

	// Unlinked, the forum may be followed the other way round.
	if err := st.SetPreviousForum(ctx, y2025.Code, "", "staff"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPreviousForum(ctx, y2024.Code, y2025.Code, "staff"); err != nil {
		t.Errorf("after unlinking: %v", err)
	}
}

// The answer to a shortlist item: a status of the item vocabulary, words
// by language (≤ 500 characters), kept when only the status changes;
// allowed after voting; refused for another forum's item. Audited.
func TestAnswerShortlistItem(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	f, other := newForum(t, st), newForum(t, st)
	item, err := st.AddToShortlist(ctx, f.ID, []string{idea(t, st, f.ID, "d1")}, "", nil, "teacher")
	if err != nil {
		t.Fatal(err)
	}
	inPhase(t, st, f, flows.PhaseResults)

	steps := []struct{ status, lang, answer string }{
		{flows.StatusInProgress, "cs", "Lavičky jsou objednané."},
		{flows.StatusInProgress, "en", "The benches are ordered."},
		{flows.StatusDone, "", ""}, // the status alone: both answers stay
	}
	for _, s := range steps {
		if err := st.AnswerShortlistItem(ctx, f.ID, item.ID, s.status, s.lang, s.answer, "staff"); err != nil {
			t.Fatalf("answer %+v: %v", s, err)
		}
	}
	items, err := st.Shortlist(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := items[0]
	if got.AnswerStatus != flows.StatusDone || got.Answer("cs") != "Lavičky jsou objednané." || got.Answer("en") != "The benches are ordered." || got.Answer("uk") != "Lavičky jsou objednané." {
		t.Errorf("answer %q %v", got.AnswerStatus, got.Answers)
	}

	long := make([]rune, flows.MaxItemAnswer+1)
	for i := range long {
		long[i] = 'a'
	}
	for name, err := range map[string]error{
		"new is no answer":     st.AnswerShortlistItem(ctx, f.ID, item.ID, flows.StatusNew, "", "", "staff"),
		"duplicate":            st.AnswerShortlistItem(ctx, f.ID, item.ID, flows.StatusDuplicate, "", "", "staff"),
		"too long":             st.AnswerShortlistItem(ctx, f.ID, item.ID, flows.StatusDone, "cs", string(long), "staff"),
		"words in no language": st.AnswerShortlistItem(ctx, f.ID, item.ID, flows.StatusDone, "", "Hotovo.", "staff"),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var refusal *flows.ShortlistError
	if err := st.AnswerShortlistItem(ctx, other.ID, item.ID, flows.StatusDone, "", "", "staff"); !errors.As(err, &refusal) || refusal.Reason != flows.ShortlistUnknown {
		t.Errorf("another forum's item: %v", err)
	}
	if n := auditRows(t, dbURL, "shortlist.answer"); n != len(steps) {
		t.Errorf("%d answers audited, want %d", n, len(steps))
	}
}
