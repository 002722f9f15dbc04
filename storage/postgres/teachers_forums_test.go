package postgres_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

func TestCreateForumStoresEveryField(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()

	closes := time.Date(2025, 6, 30, 23, 59, 59, 123456789, time.FixedZone("CEST", 2*3600))
	f, err := st.CreateForum(ctx, flows.ForumSpec{
		Name: "8.B", School: "ZŠ Komenského", Town: "Kolín", Scope: "school",
		Languages: []string{"uk", "cs", "uk"},
	}, "teacher-1", closes)
	if err != nil {
		t.Fatalf("CreateForum: %v", err)
	}
	want := flows.Forum{ID: f.ID, Code: f.Code, ShortCode: f.ShortCode, Name: "8.B", School: "ZŠ Komenského", Town: "Kolín",
		Phase: flows.PhaseCollecting, ShortlistSize: 10, VotesPerParticipant: 2, Scope: "school", Languages: []string{"cs", "uk"},
		ClosesAt: closes.Truncate(time.Microsecond), OwnerID: "teacher-1"}
	if f.ID <= 0 || !joinCodeRE.MatchString(f.Code) || !sameForum(f, want) {
		t.Fatalf("CreateForum = %+v, want %+v", f, want)
	}
	byCode, found, err := st.ForumByCode(ctx, f.Code)
	if err != nil || !found || !sameForum(byCode, want) {
		t.Errorf("ForumByCode = %+v, %v, %v; want %+v", byCode, found, err, want)
	}
	byID, found, err := st.ForumByID(ctx, f.ID)
	if err != nil || !found || !sameForum(byID, want) {
		t.Errorf("ForumByID = %+v, %v, %v; want %+v", byID, found, err, want)
	}

	// Defaults: every language, both scopes, no closing date, no owner.
	d, err := st.CreateForum(ctx, flows.ForumSpec{Name: "Město"}, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	wantD := flows.Forum{ID: d.ID, Code: d.Code, ShortCode: d.ShortCode, Name: "Město", Phase: flows.PhaseCollecting, ShortlistSize: 10, VotesPerParticipant: 2, Scope: "both", Languages: flows.Languages}
	if !sameForum(d, wantD) {
		t.Errorf("defaults: %+v, want %+v", d, wantD)
	}
	if got, _, _ := st.ForumByID(ctx, d.ID); !sameForum(got, wantD) {
		t.Errorf("ForumByID(defaults) = %+v", got)
	}
	// Absent values are NULL, not '' or year 1.
	var nulls bool
	if err := connect(t, dbURL).QueryRow(ctx,
		`SELECT owner_id IS NULL AND closes_at IS NULL FROM forums WHERE id = $1`, d.ID).Scan(&nulls); err != nil {
		t.Fatal(err)
	}
	if !nulls {
		t.Error("no owner / no closing date not stored as NULL")
	}
	// pgtest.CreateForum is the same with defaults.
	c := newForum(t, st)
	if c.Scope != "both" || !reflect.DeepEqual(c.Languages, flows.Languages) || c.OwnerID != "" || !c.ClosesAt.IsZero() {
		t.Errorf("pgtest.CreateForum = %+v", c)
	}
}

func TestCanonicalLanguageOrder(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	cases := []struct{ in, want []string }{
		{nil, flows.Languages},
		{[]string{}, flows.Languages},
		{[]string{"uk", "nb", "en", "cs"}, []string{"cs", "en", "nb", "uk"}},
		{[]string{"en", "cs"}, []string{"cs", "en"}},
		{[]string{"nb", "nb", "nb"}, []string{"nb"}},
		{[]string{"uk", "en", "uk", "en"}, []string{"en", "uk"}},
	}
	for _, c := range cases {
		f, err := st.CreateForum(t.Context(), flows.ForumSpec{Name: "f", Languages: c.in}, "", time.Time{})
		if err != nil {
			t.Fatalf("CreateForum(%q): %v", c.in, err)
		}
		got, _, err := st.ForumByID(t.Context(), f.ID)
		if err != nil || !reflect.DeepEqual(f.Languages, c.want) || !reflect.DeepEqual(got.Languages, c.want) {
			t.Errorf("languages %q: created %q, read %q (%v); want %q", c.in, f.Languages, got.Languages, err, c.want)
		}
	}
}

func TestCreateForumValidation(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	cases := map[string]flows.ForumSpec{
		"no name":          {},
		"blank name":       {Name: " \t"},
		"name too long":    {Name: strings.Repeat("ž", 201)},
		"bad scope":        {Name: "f", Scope: "city"},
		"unknown language": {Name: "f", Languages: []string{"cs", "de"}},
		"empty language":   {Name: "f", Languages: []string{""}},
		"upper case":       {Name: "f", Languages: []string{"CS"}},
	}
	for name, spec := range cases {
		if f, err := st.CreateForum(ctx, spec, "", time.Time{}); err == nil {
			t.Errorf("%s: CreateForum = %+v, want error", name, f)
		}
	}
	if all, err := st.AllForums(ctx); err != nil || len(all) != 0 {
		t.Errorf("invalid specs stored %d forums (err %v)", len(all), err)
	}
	// 200 characters (not bytes) is still fine.
	if _, err := st.CreateForum(ctx, flows.ForumSpec{Name: strings.Repeat("ž", 200)}, "", time.Time{}); err != nil {
		t.Errorf("200-character name: %v", err)
	}
}

// "t_" starts teacher invite links in the same deep-link parameter, so a join
// code with it would be read as an invite.
func TestJoinCodeNeverStartsWithInvitePrefix(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()

	postgres.SetCodeGenerator(st, codeSequence("t_AAAAAAAAAAAAAA", "t_BBBBBBBBBBBBBB", "CCCCCCCCCCCCCCCC"))
	f, err := pgtest.CreateForum(ctx, st, "f", "", "")
	if err != nil || f.Code != "CCCCCCCCCCCCCCCC" {
		t.Fatalf("CreateForum = %+v, %v; want code CCCCCCCCCCCCCCCC", f, err)
	}
	// Collisions and the prefix are both retried.
	postgres.SetCodeGenerator(st, codeSequence("CCCCCCCCCCCCCCCC", "t_DDDDDDDDDDDDDD", "EEEEEEEEEEEEEEEE"))
	if g, err := pgtest.CreateForum(ctx, st, "g", "", ""); err != nil || g.Code != "EEEEEEEEEEEEEEEE" {
		t.Fatalf("CreateForum = %+v, %v; want code EEEEEEEEEEEEEEEE", g, err)
	}
	// Only the prefix, ever: give up instead of storing it or looping.
	postgres.SetCodeGenerator(st, codeSequence("t_AAAAAAAAAAAAAA"))
	if h, err := pgtest.CreateForum(ctx, st, "h", "", ""); err == nil {
		t.Errorf("CreateForum with only t_ codes = %+v, want error", h)
	}
	if all, err := st.AllForums(ctx); err != nil || len(all) != 2 {
		t.Errorf("AllForums = %d forums, %v; want 2", len(all), err)
	}
	// Anything starting with "t" but not "t_" is a fine join code.
	postgres.SetCodeGenerator(st, codeSequence("t-AAAAAAAAAAAAAA"))
	if f, err := pgtest.CreateForum(ctx, st, "i", "", ""); err != nil || f.Code != "t-AAAAAAAAAAAAAA" {
		t.Errorf("CreateForum = %+v, %v; want code t-AAAAAAAAAAAAAA", f, err)
	}
}

func TestForumByIDNotFound(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	f := newForum(t, st)
	for _, id := range []int64{0, -1, f.ID + 1000} {
		got, found, err := st.ForumByID(t.Context(), id)
		if err != nil || found {
			t.Errorf("ForumByID(%d) = %+v, %v, %v; want not found, nil", id, got, found, err)
		}
	}
}

func TestForumsByOwnerAndAllForums(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	create := func(name, owner string) flows.Forum {
		t.Helper()
		f, err := st.CreateForum(ctx, flows.ForumSpec{Name: name}, owner, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	ids := func(fs []flows.Forum) []int64 {
		out := []int64{}
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}

	none, err := st.AllForums(ctx)
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("AllForums on empty store = %v, %v; want empty, nil", none, err)
	}
	a1 := create("a1", "teacher-a")
	b1 := create("b1", "teacher-b")
	cli := create("cli", "")
	a2 := create("a2", "teacher-a")

	got, err := st.ForumsByOwner(ctx, "teacher-a")
	if err != nil || !reflect.DeepEqual(ids(got), []int64{a2.ID, a1.ID}) {
		t.Errorf("ForumsByOwner(a) = %v, %v; want %v", ids(got), err, []int64{a2.ID, a1.ID})
	}
	if len(got) == 2 && !sameForum(got[0], a2) {
		t.Errorf("ForumsByOwner returned %+v, want %+v", got[0], a2)
	}
	if got, err := st.ForumsByOwner(ctx, "teacher-b"); err != nil || !reflect.DeepEqual(ids(got), []int64{b1.ID}) {
		t.Errorf("ForumsByOwner(b) = %v, %v", ids(got), err)
	}
	if got, err := st.ForumsByOwner(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("ForumsByOwner(nobody) = %v, %v", ids(got), err)
	}
	if got, err := st.ForumsByOwner(ctx, ""); err == nil {
		t.Errorf("ForumsByOwner(\"\") = %v, want error", ids(got))
	}

	all, err := st.AllForums(ctx)
	if want := []int64{a2.ID, cli.ID, b1.ID, a1.ID}; err != nil || !reflect.DeepEqual(ids(all), want) {
		t.Errorf("AllForums = %v, %v; want %v", ids(all), err, want)
	}
	if len(all) == 4 && !sameForum(all[1], cli) {
		t.Errorf("AllForums returned %+v, want %+v", all[1], cli)
	}
}

func TestSetForumClosesAt(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	other := newForum(t, st)

	for _, at := range []time.Time{
		time.Date(2025, 6, 30, 18, 0, 0, 0, time.UTC),
		time.Date(2025, 7, 1, 12, 30, 0, 999, time.FixedZone("CEST", 2*3600)),
	} {
		if err := st.SetForumClosesAt(ctx, f.Code, at); err != nil {
			t.Fatalf("SetForumClosesAt(%v): %v", at, err)
		}
		got, _, err := st.ForumByCode(ctx, f.Code)
		if err != nil || !got.ClosesAt.Equal(at.Truncate(time.Microsecond)) {
			t.Errorf("ClosesAt = %v, %v; want %v", got.ClosesAt, err, at)
		}
		if got.Phase != flows.PhaseCollecting {
			t.Error("setting a closing date closed the forum")
		}
	}
	if o, _, _ := st.ForumByCode(ctx, other.Code); !o.ClosesAt.IsZero() {
		t.Errorf("other forum got closing date %v", o.ClosesAt)
	}

	if err := st.SetForumClosesAt(ctx, f.Code, time.Time{}); err != nil {
		t.Fatalf("remove closing date: %v", err)
	}
	if got, _, _ := st.ForumByCode(ctx, f.Code); !got.ClosesAt.IsZero() {
		t.Errorf("ClosesAt after removal = %v", got.ClosesAt)
	}
	var isNull bool
	if err := connect(t, dbURL).QueryRow(ctx, `SELECT closes_at IS NULL FROM forums WHERE id = $1`, f.ID).
		Scan(&isNull); err != nil || !isNull {
		t.Errorf("closes_at IS NULL = %v, %v", isNull, err)
	}

	for _, code := range []string{"AAAAAAAAAAAAAAAA", "", "bad code"} {
		err := st.SetForumClosesAt(ctx, code, time.Now())
		if !errors.Is(err, postgres.ErrForumNotFound) {
			t.Errorf("SetForumClosesAt(%q) = %v, want ErrForumNotFound", code, err)
		}
	}
}

func stats(t *testing.T, st *postgres.Store, forumID int64) flows.ForumStats {
	t.Helper()
	s, err := st.ForumStats(t.Context(), forumID)
	if err != nil {
		t.Fatalf("ForumStats(%d): %v", forumID, err)
	}
	return s
}

func TestRecordJoin(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	other := newForum(t, st)
	conn := connect(t, dbURL)

	if err := st.RecordJoin(ctx, f.ID, "p1", "cs", 0); err != nil {
		t.Fatalf("RecordJoin: %v", err)
	}
	var firstJoin time.Time
	if err := conn.QueryRow(ctx, `SELECT joined_at FROM forum_participants WHERE forum_id = $1 AND participant_id = 'p1'`,
		f.ID).Scan(&firstJoin); err != nil {
		t.Fatal(err)
	}
	// Joining again counts once, keeps the first join time and updates the language.
	if err := st.RecordJoin(ctx, f.ID, "p1", "uk", 0); err != nil {
		t.Fatalf("second RecordJoin: %v", err)
	}
	if s := stats(t, st, f.ID); s != (flows.ForumStats{Joined: 1, InProgress: 1}) {
		t.Errorf("stats after joining twice = %+v", s)
	}
	var rows int
	var joinedAt time.Time
	var lang string
	if err := conn.QueryRow(ctx, `
		SELECT count(*), min(joined_at), (SELECT language FROM participants WHERE id = 'p1')
		FROM forum_participants WHERE participant_id = 'p1'`).Scan(&rows, &joinedAt, &lang); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || !joinedAt.Equal(firstJoin) || lang != "uk" {
		t.Errorf("after two joins: %d rows, joined %v (first %v), language %q", rows, joinedAt, firstJoin, lang)
	}

	// The same student in another forum counts there, not twice here.
	if err := st.RecordJoin(ctx, other.ID, "p1", "uk", 0); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, st, f.ID); s.Joined != 1 {
		t.Errorf("Joined = %d after joining another forum", s.Joined)
	}
	if s := stats(t, st, other.ID); s.Joined != 1 {
		t.Errorf("other forum Joined = %d", s.Joined)
	}

	err := st.RecordJoin(ctx, f.ID+1000, "p1", "cs", 0)
	if !errors.Is(err, postgres.ErrForumNotFound) {
		t.Errorf("RecordJoin(unknown forum) = %v, want ErrForumNotFound", err)
	}
	for name, call := range map[string]func() error{
		"zero forum":     func() error { return st.RecordJoin(ctx, 0, "p", "cs", 0) },
		"no participant": func() error { return st.RecordJoin(ctx, f.ID, "", "cs", 0) },
		"no language":    func() error { return st.RecordJoin(ctx, f.ID, "p", "", 0) },
		"bad language":   func() error { return st.RecordJoin(ctx, f.ID, "p", "de", 0) },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: RecordJoin succeeded", name)
		}
	}
	if s := stats(t, st, f.ID); s.Joined != 1 {
		t.Errorf("invalid joins counted: Joined = %d", s.Joined)
	}
}

func TestForumStats(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	other := newForum(t, st)

	if s := stats(t, st, f.ID); s != (flows.ForumStats{}) {
		t.Errorf("empty forum: %+v", s)
	}
	for _, p := range []string{"p1", "p2", "p3"} {
		if err := st.RecordJoin(ctx, f.ID, p, "cs", 0); err != nil {
			t.Fatal(err)
		}
	}
	// p1 sends two ideas: one submitter, not two.
	for _, draft := range []string{"d1", "d2"} {
		sub := submission(f.ID, draft)
		sub.ParticipantID = "p1"
		if _, err := st.Submit(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	// Activity elsewhere does not count here.
	if err := st.RecordJoin(ctx, other.ID, "p4", "en", 0); err != nil {
		t.Fatal(err)
	}
	elsewhere := submission(other.ID, "d3")
	elsewhere.ParticipantID = "p4"
	if _, err := st.Submit(ctx, elsewhere); err != nil {
		t.Fatal(err)
	}

	sugs, err := pgtest.IdeasByForum(ctx, st, f.ID)
	if err != nil || len(sugs) != 2 {
		t.Fatalf("IdeasByForum = %d, %v", len(sugs), err)
	}
	last := sugs[1].CreatedAt
	if sugs[0].CreatedAt.After(last) {
		last = sugs[0].CreatedAt
	}
	s := stats(t, st, f.ID)
	if s.Joined != 3 || s.Submitted != 1 || s.InProgress != 2 || !s.LastIdea.Equal(last) {
		t.Errorf("stats = %+v; want 3 joined, 1 submitted, 2 in progress, last %v", s, last)
	}
	if s := stats(t, st, other.ID); s.Joined != 1 || s.Submitted != 1 || s.InProgress != 0 {
		t.Errorf("other forum stats = %+v", s)
	}

	if _, err := st.ForumStats(ctx, f.ID+1000); !errors.Is(err, postgres.ErrForumNotFound) {
		t.Errorf("ForumStats(unknown) = %v, want ErrForumNotFound", err)
	}
}

// A student whose join was never recorded (e.g. joined before joins were
// recorded) still counts as joined once they submit.
func TestSubmitWithoutJoinCountsAsJoined(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	sub := submission(f.ID, "d1")
	if _, err := st.Submit(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, st, f.ID); s.Joined != 1 || s.Submitted != 1 || s.InProgress != 0 {
		t.Errorf("stats = %+v; want 1 joined, 1 submitted", s)
	}
	// Joining afterwards, or submitting the same draft again, changes nothing.
	if err := st.RecordJoin(ctx, f.ID, sub.ParticipantID, "cs", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Submit(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, st, f.ID); s.Joined != 1 || s.Submitted != 1 {
		t.Errorf("stats = %+v; want 1 joined, 1 submitted", s)
	}
	// A failed submit records no join.
	bad := submission(f.ID+1000, "d2")
	if _, err := st.Submit(ctx, bad); !errors.Is(err, postgres.ErrForumNotFound) {
		t.Fatalf("Submit(unknown forum) = %v", err)
	}
	var n int
	if err := connect(t, dbURL).QueryRow(ctx, `SELECT count(*) FROM forum_participants`).Scan(&n); err != nil || n != 1 {
		t.Errorf("forum_participants rows = %d, %v; want 1", n, err)
	}
}

// Erasing a participant erases their joins too.
func TestDeletingParticipantDeletesJoins(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	for _, p := range []string{"keep", "gone"} {
		if err := st.RecordJoin(ctx, f.ID, p, "cs", 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := connect(t, dbURL).Exec(ctx, `DELETE FROM participants WHERE id = 'gone'`); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, st, f.ID); s.Joined != 1 {
		t.Errorf("Joined = %d after erasing one of two", s.Joined)
	}
}

// The schema itself rejects bad forum settings and roles.
func TestTeacherSchemaConstraints(t *testing.T) {
	t.Parallel()
	_, dbURL := newStore(t)
	conn := connect(t, dbURL)
	ctx := t.Context()
	for name, c := range map[string]struct {
		sql string
		ok  bool
	}{
		"default languages":  {`INSERT INTO forums (join_code, name) VALUES ('a', 'f')`, true},
		"some languages":     {`INSERT INTO forums (join_code, name, languages) VALUES ('b', 'f', '{uk,cs}')`, true},
		"no languages":       {`INSERT INTO forums (join_code, name, languages) VALUES ('c', 'f', '{}')`, false},
		"unknown language":   {`INSERT INTO forums (join_code, name, languages) VALUES ('d', 'f', '{cs,de}')`, true}, // the store checks them (00006)
		"NULL language":      {`INSERT INTO forums (join_code, name, languages) VALUES ('e', 'f', '{cs,NULL}')`, false},
		"bad scope":          {`INSERT INTO forums (join_code, name, scope) VALUES ('f', 'f', 'city')`, false},
		"bad role":           {`INSERT INTO roles (participant_id, role) VALUES ('p', 'admin')`, false},
		"empty participant":  {`INSERT INTO roles (participant_id, role) VALUES ('', 'teacher')`, false},
		"used without time":  {`INSERT INTO teacher_invites (code, town, created_by, expires_at, used_by) VALUES ('x', 't', '', now(), 'p')`, false},
		"join unknown forum": {`INSERT INTO participants (id, language) VALUES ('q', 'cs'); INSERT INTO forum_participants VALUES (999999, 'q')`, false},
	} {
		_, err := conn.Exec(ctx, c.sql)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", name, err, c.ok)
		}
	}
}

// A teacher's "create" handled twice (a redelivered update, a retry after a
// failed save) makes one forum.
func TestCreateForumWithKeyIsIdempotent(t *testing.T) {
	st, dbURL := newStore(t)
	ctx := context.Background()
	spec := flows.ForumSpec{Name: "8.B", Key: "12345"}
	first, err := st.CreateForum(ctx, spec, "teacher-1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	codes := make([]string, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := st.CreateForum(ctx, spec, "teacher-1", time.Time{})
			if err != nil {
				t.Error(err)
				return
			}
			codes[i] = f.Code
		}()
	}
	wg.Wait()
	for _, c := range codes {
		if c != first.Code {
			t.Fatalf("a second forum %q was created (first %q)", c, first.Code)
		}
	}
	all, err := st.AllForums(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("%d forums, %v", len(all), err)
	}
	// The key is the owner's: another owner's set-up with the same tag, or
	// another tag, is another forum.
	if other, err := st.CreateForum(ctx, spec, "teacher-2", time.Time{}); err != nil || other.Code == first.Code {
		t.Errorf("another owner: %+v, %v", other, err)
	}
	spec.Key = "99999"
	if other, err := st.CreateForum(ctx, spec, "teacher-1", time.Time{}); err != nil || other.Code == first.Code {
		t.Errorf("another key: %+v, %v", other, err)
	}
	var key string
	if err := connect(t, dbURL).QueryRow(ctx, `SELECT creation_key FROM forums WHERE id = $1`, first.ID).Scan(&key); err != nil || key != "teacher-1:12345" {
		t.Errorf("creation key %q, %v; want teacher-1:12345", key, err)
	}
}
