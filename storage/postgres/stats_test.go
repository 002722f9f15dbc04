package postgres_test

import (
	"errors"
	"maps"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// The overview counts students once per forum and once in all, leaves
// hidden ideas out of the breakdowns, and lists the busiest forum first.
func TestStats(t *testing.T) {
	ctx := t.Context()
	st, _ := newStore(t)
	kolin, err := pgtest.CreateForum(ctx, st, "8.B – ZŠ Komenského", "ZŠ Komenského", "Kolín")
	if err != nil {
		t.Fatal(err)
	}
	brno, err := pgtest.CreateForum(ctx, st, "7.A – Gymnázium", "Gymnázium", "Brno")
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := pgtest.CreateForum(ctx, st, "6.C – ZŠ Tichá", "ZŠ Tichá", "Brno")
	if err != nil {
		t.Fatal(err)
	}

	// Kolín: anna (2 ideas, one hidden), ben (1), cyril joined only.
	// Brno: anna again (1), dana (1, a category the bot no longer offers).
	// The quiet forum: eva joined and sent nothing.
	submit := func(forum flows.Forum, draft, who, category, scope string) string {
		t.Helper()
		idea := submission(forum.ID, draft)
		idea.ParticipantID, idea.Category, idea.Scope = who, category, scope
		ref, err := st.Submit(ctx, idea)
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	submit(kolin, "k1", "anna", "environment", flows.ScopeTown)
	hidden := submit(kolin, "k2", "anna", "environment", flows.ScopeTown)
	chosen := submit(kolin, "k3", "ben", "transport", flows.ScopeSchool)
	submit(brno, "b1", "anna", "environment", flows.ScopeBoth)
	submit(brno, "b2", "dana", "school_yard", flows.ScopeSchool)
	for _, j := range []struct {
		forum int64
		who   string
	}{{kolin.ID, "cyril"}, {quiet.ID, "eva"}, {kolin.ID, "anna"}} { // anna's second join changes nothing
		if err := st.RecordJoin(ctx, j.forum, j.who, "cs", 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Hide(ctx, hidden, flows.HideOffTopic, postgres.CLIActor); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SetStatus(ctx, chosen, flows.StatusSelected, "", postgres.CLIActor); err != nil {
		t.Fatal(err)
	}

	got, err := st.Stats(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantTotal := flows.StatsBlock{
		Joined: 5, Submitters: 3, Ideas: 4, Hidden: 1,
		ByCategory: map[string]int{"environment": 2, "transport": 1, flows.CategoryOther: 1},
		ByScope:    map[string]int{flows.ScopeTown: 1, flows.ScopeSchool: 2, flows.ScopeBoth: 1},
		ByStatus:   map[string]int{flows.StatusNew: 3, flows.StatusSelected: 1},
	}
	if got.Forum != nil {
		t.Errorf("the overview of all forums names forum %+v", got.Forum)
	}
	sameBlock(t, "total", got.Total, wantTotal)
	wantForums := []struct {
		id    int64
		block flows.StatsBlock
	}{
		// Two ideas and two students each: by name, 7.A before 8.B.
		{brno.ID, flows.StatsBlock{Joined: 2, Submitters: 2, Ideas: 2,
			ByCategory: map[string]int{"environment": 1, flows.CategoryOther: 1},
			ByScope:    map[string]int{flows.ScopeBoth: 1, flows.ScopeSchool: 1},
			ByStatus:   map[string]int{flows.StatusNew: 2}}},
		{kolin.ID, flows.StatsBlock{Joined: 3, Submitters: 2, Ideas: 2, Hidden: 1,
			ByCategory: map[string]int{"environment": 1, "transport": 1},
			ByScope:    map[string]int{flows.ScopeTown: 1, flows.ScopeSchool: 1},
			ByStatus:   map[string]int{flows.StatusNew: 1, flows.StatusSelected: 1}}},
		{quiet.ID, flows.StatsBlock{Joined: 1, ByCategory: map[string]int{}, ByScope: map[string]int{}, ByStatus: map[string]int{}}},
	}
	if len(got.Forums) != len(wantForums) {
		t.Fatalf("%d forums, want %d: %+v", len(got.Forums), len(wantForums), got.Forums)
	}
	for i, w := range wantForums {
		f := got.Forums[i]
		if f.Forum.ID != w.id {
			t.Errorf("forum %d is %q (%d), want id %d", i, f.Forum.Name, f.Forum.ID, w.id)
			continue
		}
		sameBlock(t, f.Forum.Name, f.StatsBlock, w.block)
	}

	one, err := st.Stats(ctx, kolin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if one.Forum == nil || one.Forum.ID != kolin.ID || one.Forum.Name != kolin.Name || one.Forums != nil {
		t.Errorf("one forum's overview: forum %+v, forums %+v", one.Forum, one.Forums)
	}
	sameBlock(t, "Kolín alone", one.Total, wantForums[1].block)

	if _, err := st.Stats(ctx, quiet.ID+100); !errors.Is(err, postgres.ErrForumNotFound) {
		t.Errorf("an unknown forum: %v, want ErrForumNotFound", err)
	}
}

// A database without forums has an overview of nothing, not an error.
func TestStatsOfNothing(t *testing.T) {
	st, _ := newStore(t)
	got, err := st.Stats(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Forums) != 0 || got.Total.Joined != 0 || got.Total.Ideas != 0 || got.Total.ByCategory == nil {
		t.Errorf("stats of an empty database: %+v", got)
	}
}

func sameBlock(t *testing.T, name string, got, want flows.StatsBlock) {
	t.Helper()
	if got.Joined != want.Joined || got.Submitters != want.Submitters || got.Ideas != want.Ideas || got.Hidden != want.Hidden {
		t.Errorf("%s: joined %d, sent %d, ideas %d, hidden %d; want %d, %d, %d, %d", name,
			got.Joined, got.Submitters, got.Ideas, got.Hidden, want.Joined, want.Submitters, want.Ideas, want.Hidden)
	}
	for what, m := range map[string][2]map[string]int{
		"categories": {got.ByCategory, want.ByCategory},
		"scopes":     {got.ByScope, want.ByScope},
		"statuses":   {got.ByStatus, want.ByStatus},
	} {
		if !maps.Equal(m[0], m[1]) {
			t.Errorf("%s: %s %v, want %v", name, what, m[0], m[1])
		}
	}
}
