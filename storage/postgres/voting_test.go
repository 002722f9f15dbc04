package postgres_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// idea stores an idea in forum f and returns its reference.
func idea(t *testing.T, st *postgres.Store, forumID int64, draft string) string {
	t.Helper()
	ref, err := st.Submit(t.Context(), submission(forumID, draft))
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return ref
}

// inPhase moves f on, one phase at a time, to phase.
func inPhase(t *testing.T, st *postgres.Store, f flows.Forum, phase string) {
	t.Helper()
	from := flows.PhaseCollecting
	for from != phase {
		next := flows.NextPhase(from)
		if _, err := st.MovePhase(t.Context(), f.Code, from, next, "test", false); err != nil {
			t.Fatalf("move %s → %s: %v", from, next, err)
		}
		from = next
	}
}

func auditRows(t *testing.T, dbURL, action string) int {
	t.Helper()
	var n int
	if err := connect(t, dbURL).QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPhaseMovesFollowTheRules(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)

	if _, err := st.MovePhase(ctx, f.Code, flows.PhaseCollecting, flows.PhaseVoting, "t", false); !errors.Is(err, flows.ErrPhaseMove) {
		t.Errorf("skipping a phase: %v", err)
	}
	if moved, err := st.MovePhase(ctx, f.Code, flows.PhaseCollecting, flows.PhaseShortlisting, "t", false); err != nil || !moved {
		t.Fatalf("collecting → shortlisting: %v %v", moved, err)
	}
	// The same move again (a second tap, another replica): done, not again.
	if moved, err := st.MovePhase(ctx, f.Code, flows.PhaseCollecting, flows.PhaseShortlisting, "t", false); err != nil || moved {
		t.Errorf("the same move again: %v %v", moved, err)
	}
	// A move from where the forum no longer is.
	if _, err := st.MovePhase(ctx, f.Code, flows.PhaseCollecting, flows.PhaseClosed, "t", false); !errors.Is(err, flows.ErrPhaseChanged) {
		t.Errorf("stale move: %v", err)
	}
	if _, err := st.MovePhase(ctx, f.Code, flows.PhaseShortlisting, flows.PhaseVoting, "t", false); !errors.Is(err, flows.ErrShortlistEmpty) {
		t.Errorf("voting on an empty shortlist: %v", err)
	}
	if _, err := st.AddToShortlist(ctx, f.ID, []string{idea(t, st, f.ID, "d1")}, "", nil, "t"); err != nil {
		t.Fatalf("shortlisting: %v", err)
	}
	for _, to := range []string{flows.PhaseVoting, flows.PhaseResults} {
		from := map[string]string{flows.PhaseVoting: flows.PhaseShortlisting, flows.PhaseResults: flows.PhaseVoting}[to]
		if _, err := st.MovePhase(ctx, f.Code, from, to, "t", false); err != nil {
			t.Fatalf("%s → %s: %v", from, to, err)
		}
	}
	if _, err := st.MovePhase(ctx, f.Code, flows.PhaseResults, flows.PhaseVoting, "t", false); !errors.Is(err, flows.ErrNeedsConfirmation) {
		t.Errorf("back without confirmation: %v", err)
	}
	if _, err := st.MovePhase(ctx, f.Code, flows.PhaseResults, flows.PhaseVoting, "t", true); err != nil {
		t.Errorf("back, confirmed: %v", err)
	}
	// Closing and reopening return to the phase it was in.
	if err := st.SetForumOpen(ctx, f.Code, false); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := st.ForumByCode(ctx, f.Code); got.Phase != flows.PhaseClosed || got.ReopensTo != flows.PhaseVoting {
		t.Errorf("closed: %s, reopens to %s", got.Phase, got.ReopensTo)
	}
	if _, err := st.MovePhase(ctx, f.Code, flows.PhaseClosed, flows.PhaseCollecting, "t", true); !errors.Is(err, flows.ErrPhaseMove) {
		t.Errorf("a move out of closed: %v", err)
	}
	if err := st.SetForumOpen(ctx, f.Code, true); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := st.ForumByCode(ctx, f.Code); got.Phase != flows.PhaseVoting {
		t.Errorf("reopened into %s", got.Phase)
	}
	// Four moves; closing and reopening are audited where they are asked for.
	if n := auditRows(t, dbURL, "forums.phase"); n != 4 {
		t.Errorf("%d phase moves audited, want 4", n)
	}
}

func TestShortlistRules(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	f, other := newForum(t, st), newForum(t, st)
	a, b, c := idea(t, st, f.ID, "a"), idea(t, st, f.ID, "b"), idea(t, st, f.ID, "c")
	dup, hidden, theirs := idea(t, st, f.ID, "dup"), idea(t, st, f.ID, "hidden"), idea(t, st, other.ID, "theirs")
	if _, err := st.Review(ctx, flows.ReviewDecision{Ref: dup, Decision: flows.DecisionDuplicate, DuplicateOf: a, Answer: "Stejný nápad jako " + a}, "staff"); err != nil {
		t.Fatal(err)
	}
	if err := st.Hide(ctx, hidden, flows.HideAbusive, "staff"); err != nil {
		t.Fatal(err)
	}
	refused := func(err error, reason string) {
		t.Helper()
		var se *flows.ShortlistError
		if !errors.As(err, &se) || se.Reason != reason {
			t.Errorf("got %v, want refusal %q", err, reason)
		}
	}

	one, err := st.AddToShortlist(ctx, f.ID, []string{a}, "", nil, "teacher")
	if err != nil || one.Position != 1 || one.Language != "cs" || one.Text("en").Title != "Benches in the yard" {
		t.Fatalf("one idea: %+v %v", one, err)
	}
	_, err = st.AddToShortlist(ctx, f.ID, []string{b, c}, "en", nil, "teacher")
	refused(err, flows.ShortlistNeedsTitle)
	merged, err := st.AddToShortlist(ctx, f.ID, []string{b, c}, "en", &flows.ItemText{Title: "Shade", Description: "Two ideas, one tree."}, "teacher")
	if err != nil || merged.Position != 2 || len(merged.Ideas) != 2 {
		t.Fatalf("merge: %+v %v", merged, err)
	}
	_, err = st.AddToShortlist(ctx, f.ID, []string{a}, "", nil, "t")
	refused(err, flows.ShortlistTaken)
	_, err = st.AddToShortlist(ctx, f.ID, []string{theirs}, "", nil, "t")
	refused(err, flows.ShortlistOtherForum)
	_, err = st.AddToShortlist(ctx, f.ID, []string{dup, theirs}, "cs", &flows.ItemText{Title: "Mix"}, "t")
	refused(err, flows.ShortlistOtherForum) // merging ideas of two forums
	_, err = st.AddToShortlist(ctx, f.ID, []string{hidden}, "", nil, "t")
	refused(err, flows.ShortlistHidden)
	_, err = st.AddToShortlist(ctx, f.ID, []string{"N-ZZZZ"}, "", nil, "t")
	refused(err, flows.ShortlistUnknown)

	candidates, err := st.ShortlistCandidates(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]flows.ShortlistCandidate{}
	for _, c := range candidates {
		seen[c.Ref] = c
	}
	if len(candidates) != 4 || seen[a].Similar != 1 || seen[a].ItemID != one.ID || seen[dup].ItemID != 0 || seen[hidden].Ref != "" {
		t.Errorf("candidates %+v", candidates)
	}
	if err := st.SetItemText(ctx, f.ID, one.ID, "en", flows.ItemText{Title: "Benches"}, "t"); err != nil {
		t.Fatal(err)
	}
	// The shortlist's size is a limit.
	size := 2
	err = st.SetForumSettings(ctx, f.Code, postgres.ForumSettings{ShortlistSize: &size}, "t")
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.AddToShortlist(ctx, f.ID, []string{dup}, "", nil, "t")
	refused(err, flows.ShortlistFull)
	if err := st.RemoveFromShortlist(ctx, f.ID, one.ID, "t"); err != nil {
		t.Fatal(err)
	}
	items, err := st.Shortlist(ctx, f.ID)
	if err != nil || len(items) != 1 || items[0].Position != 1 || items[0].ID != merged.ID {
		t.Fatalf("after removing: %+v %v", items, err)
	}
	// Once voting begins, the ballot does not change.
	inPhase(t, st, f, flows.PhaseVoting)
	_, err = st.AddToShortlist(ctx, f.ID, []string{a}, "", nil, "t")
	refused(err, flows.ShortlistFrozen)
	refused(st.RemoveFromShortlist(ctx, f.ID, merged.ID, "t"), flows.ShortlistFrozen)
	refused(st.SetItemText(ctx, f.ID, merged.ID, "cs", flows.ItemText{Title: "Stín"}, "t"), flows.ShortlistFrozen)
	if n := auditRows(t, dbURL, "shortlist.add"); n != 2 {
		t.Errorf("%d additions audited, want 2", n)
	}
}

// votingForum is a forum in voting with a shortlist of n items, and V = 2.
func votingForum(t *testing.T, st *postgres.Store, n int) (flows.Forum, []flows.ShortlistItem) {
	t.Helper()
	f := newForum(t, st)
	var items []flows.ShortlistItem
	for i := range n {
		it, err := st.AddToShortlist(t.Context(), f.ID, []string{idea(t, st, f.ID, fmt.Sprintf("%d-%d", f.ID, i))}, "", nil, "t")
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	inPhase(t, st, f, flows.PhaseVoting)
	f, _, _ = st.ForumByCode(t.Context(), f.Code)
	return f, items
}

func TestVotesNeverExceedTheLimitUnderConcurrency(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	f, items := votingForum(t, st, 5)
	now := time.Now()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every item, by one participant, at once: two replicas, double taps.
			if _, _, err := st.Vote(t.Context(), f.ID, items[i%5].ID, "voter", "en", true, now); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var rows int
	if err := connect(t, dbURL).QueryRow(t.Context(), `SELECT count(*) FROM votes WHERE participant_id = 'voter'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != f.VotesPerParticipant {
		t.Errorf("%d votes stored, want exactly %d", rows, f.VotesPerParticipant)
	}
}

func TestVotingRules(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	f, items := votingForum(t, st, 3)
	other, otherItems := votingForum(t, st, 1)
	now := time.Now()
	vote := func(forumID, itemID int64, who string, v bool, want string) flows.Ballot {
		t.Helper()
		got, ballot, err := st.Vote(ctx, forumID, itemID, who, "cs", v, now)
		if err != nil || got != want {
			t.Errorf("vote %d/%d by %s (%v) = %q, %v; want %q", forumID, itemID, who, v, got, err, want)
		}
		return ballot
	}
	vote(f.ID, items[0].ID, "p1", true, flows.VoteRecorded)
	vote(f.ID, items[0].ID, "p1", true, flows.VoteRecorded) // again: still one vote
	vote(f.ID, items[1].ID, "p1", true, flows.VoteRecorded)
	vote(f.ID, items[2].ID, "p1", true, flows.VoteNoneLeft)
	vote(f.ID, otherItems[0].ID, "p1", true, flows.VoteUnknownItem) // an item of another forum
	vote(f.ID, items[0].ID, "p1", false, flows.VoteTakenBack)
	b := vote(f.ID, items[0].ID, "p1", false, flows.VoteTakenBack) // again: nothing to take back
	vote(f.ID, items[2].ID, "p1", true, flows.VoteRecorded)
	if b = vote(f.ID, items[2].ID, "p1", true, flows.VoteRecorded); len(b.Mine) != 2 || b.VotesLeft() != 0 {
		t.Errorf("ballot %+v", b)
	}
	vote(f.ID, items[2].ID, "p2", true, flows.VoteRecorded)
	vote(f.ID, items[1].ID, "p3", true, flows.VoteRecorded)
	vote(other.ID, otherItems[0].ID, "p1", true, flows.VoteRecorded) // votes are per forum

	// After voting closes (by date, before the schedule has moved it on;
	// then by the move), no vote changes.
	later := now.Add(time.Hour)
	if err := st.SetForumSettings(ctx, f.Code, postgres.ForumSettings{VoteClosesAt: &later}, "t"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := st.Vote(ctx, f.ID, items[0].ID, "p4", "cs", true, later); got != flows.VoteClosed {
		t.Errorf("vote after the closing time: %q", got)
	}
	if _, err := st.MovePhase(ctx, f.Code, flows.PhaseVoting, flows.PhaseResults, "t", false); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := st.Vote(ctx, f.ID, items[1].ID, "p1", "cs", false, now); got != flows.VoteClosed {
		t.Errorf("taking a vote back in results: %q", got)
	}
	results, err := st.Results(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range results {
		got = append(got, fmt.Sprintf("%d:%d:%d", r.Rank, r.Item.Position, r.Votes))
	}
	if fmt.Sprint(got) != "[1:2:2 1:3:2 3:1:0]" {
		t.Errorf("results %v", got)
	}
	stats, err := st.ForumStats(ctx, f.ID)
	if err != nil || stats.Voted != 3 {
		t.Errorf("turnout %+v %v", stats, err)
	}
}

func TestDueMovesHappenOnceWithTwoReplicas(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	st2 := postgresStore(t, dbURL)
	now := time.Now()
	f := newForum(t, st)
	if err := st.SetForumClosesAt(ctx, f.Code, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	moves := make([][]flows.PhaseMoved, 2)
	for i, s := range []*postgres.Store{st, st2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if moves[i], err = s.AdvanceDuePhases(ctx, now); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var mine []flows.PhaseMoved
	for _, m := range append(moves[0], moves[1]...) {
		if m.ForumID == f.ID {
			mine = append(mine, m)
		}
	}
	if len(mine) != 1 || mine[0].To != flows.PhaseShortlisting {
		t.Errorf("moves %+v", mine)
	}
	// Voting opens at its date only on a shortlist that is not empty.
	opens := now.Add(-time.Second)
	if err := st.SetForumSettings(ctx, f.Code, postgres.ForumSettings{VoteOpensAt: &opens}, "t"); err != nil {
		t.Fatal(err)
	}
	if m, _ := st.AdvanceDuePhases(ctx, now); len(m) != 0 {
		t.Errorf("voting opened on an empty shortlist: %+v", m)
	}
	if n := auditRows(t, dbURL, "forums.phase"); n != 1 {
		t.Errorf("%d moves audited, want 1", n)
	}
}

func postgresStore(t *testing.T, dbURL string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// Forums from before phases keep what they were: open ones collect, closed
// ones are closed (and reopen into collecting); down restores the flag.
func TestMigratePhasesFromTheOpenFlag(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewEmptyDatabase(t)
	ctx := t.Context()
	if err := postgres.MigrateUpTo(ctx, dbURL, 7); err != nil {
		t.Fatalf("migrate to 7: %v", err)
	}
	conn := connect(t, dbURL)
	if _, err := conn.Exec(ctx, `INSERT INTO forums (join_code, name, is_open) VALUES ('openopenopenopen', 'O', true), ('shutshutshutshut', 'S', false)`); err != nil {
		t.Fatal(err)
	}
	// Up to the newest: the store reads the columns of later migrations too.
	if err := postgres.MigrateUpTo(ctx, dbURL, latestVersion); err != nil {
		t.Fatalf("migrate to %d: %v", latestVersion, err)
	}
	st := postgresStore(t, dbURL)
	open, _, _ := st.ForumByCode(ctx, "openopenopenopen")
	shut, _, _ := st.ForumByCode(ctx, "shutshutshutshut")
	if open.Phase != flows.PhaseCollecting || shut.Phase != flows.PhaseClosed || shut.ReopensTo != flows.PhaseCollecting ||
		open.ShortlistSize != 10 || open.VotesPerParticipant != 2 {
		t.Errorf("after migration: %+v / %+v", open, shut)
	}
	if err := postgres.MigrateDownTo(ctx, dbURL, 7); err != nil {
		t.Fatalf("down to 7: %v", err)
	}
	var openFlags string
	if err := conn.QueryRow(ctx, `SELECT string_agg(is_open::text, ',' ORDER BY name) FROM forums`).Scan(&openFlags); err != nil || openFlags != "true,false" {
		t.Errorf("after down: %q %v", openFlags, err)
	}
}
