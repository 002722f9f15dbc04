package postgres_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

var joinCodeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16}$`)

func TestCreateAndFindForum(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()

	f, err := pgtest.CreateForum(ctx, st, "Třída 7.B", "ZŠ Komenského", "Brno")
	if err != nil {
		t.Fatalf("CreateForum: %v", err)
	}
	if f.ID <= 0 || f.Phase != flows.PhaseCollecting || !joinCodeRE.MatchString(f.Code) {
		t.Fatalf("CreateForum returned %+v", f)
	}
	want := flows.Forum{ID: f.ID, Code: f.Code, ShortCode: f.ShortCode, Name: "Třída 7.B", School: "ZŠ Komenského", Town: "Brno", Phase: flows.PhaseCollecting, ShortlistSize: 10, VotesPerParticipant: 2,
		Scope: "both", Languages: flows.Languages}
	if !sameForum(f, want) {
		t.Errorf("CreateForum = %+v, want %+v", f, want)
	}

	got, found, err := st.ForumByCode(ctx, f.Code)
	if err != nil || !found {
		t.Fatalf("ForumByCode = %v, %v", found, err)
	}
	if !sameForum(got, want) {
		t.Errorf("ForumByCode = %+v, want %+v", got, want)
	}

	// School and town are optional.
	g, err := pgtest.CreateForum(ctx, st, "Město Brno", "", "")
	if err != nil {
		t.Fatalf("CreateForum without school/town: %v", err)
	}
	if g.Code == f.Code || g.ID == f.ID {
		t.Errorf("two forums share code or id: %+v %+v", f, g)
	}
	got, found, err = st.ForumByCode(ctx, g.Code)
	if err != nil || !found || !sameForum(got, g) {
		t.Errorf("ForumByCode(second) = %+v, %v, %v; want %+v", got, found, err, g)
	}
}

func TestJoinCodesAreRandom(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	seen := map[string]bool{}
	for range 50 {
		f, err := pgtest.CreateForum(t.Context(), st, "f", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if !joinCodeRE.MatchString(f.Code) {
			t.Fatalf("bad join code %q", f.Code)
		}
		if seen[f.Code] {
			t.Fatalf("join code %q repeated", f.Code)
		}
		seen[f.Code] = true
	}
}

func TestCreateForumRequiresName(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	for _, name := range []string{"", "   "} {
		if f, err := pgtest.CreateForum(t.Context(), st, name, "s", "t"); err == nil {
			t.Errorf("CreateForum(%q) = %+v, want error", name, f)
		}
	}
}

func TestForumByCodeNotFound(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	newForum(t, st)
	for _, code := range []string{
		"AAAAAAAAAAAAAAAA",      // well-formed but unknown
		"",                      // empty
		strings.Repeat("a", 65), // too long
		"abc def",               // space
		"abc/def",
		"kód", // non-ASCII
		"x' OR '1'='1",
		"abc\x00",
	} {
		f, found, err := st.ForumByCode(t.Context(), code)
		if err != nil || found {
			t.Errorf("ForumByCode(%q) = %+v, %v, %v; want not found, nil", code, f, found, err)
		}
	}
	// 64 characters is still a valid shape: looked up, simply absent.
	if _, found, err := st.ForumByCode(t.Context(), strings.Repeat("a", 64)); err != nil || found {
		t.Errorf("64-char code: found=%v err=%v", found, err)
	}
}

func TestSetForumOpen(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	other := newForum(t, st)

	if err := st.SetForumOpen(ctx, f.Code, false); err != nil {
		t.Fatalf("close: %v", err)
	}
	got, found, err := st.ForumByCode(ctx, f.Code)
	if err != nil || !found || got.Phase != flows.PhaseClosed {
		t.Fatalf("after close: %+v, %v, %v", got, found, err)
	}
	// A closed forum is still found; only its phase changes.
	if got.Name != f.Name || got.ID != f.ID {
		t.Errorf("closing changed the forum: %+v", got)
	}
	if o, _, _ := st.ForumByCode(ctx, other.Code); o.Phase != flows.PhaseCollecting {
		t.Error("closing one forum closed another")
	}

	if err := st.SetForumOpen(ctx, f.Code, true); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if got, _, _ := st.ForumByCode(ctx, f.Code); got.Phase != flows.PhaseCollecting {
		t.Error("forum still closed after reopening")
	}

	for _, code := range []string{"AAAAAAAAAAAAAAAA", "", "bad code"} {
		err := st.SetForumOpen(ctx, code, false)
		if !errors.Is(err, postgres.ErrForumNotFound) {
			t.Errorf("SetForumOpen(%q) = %v, want ErrForumNotFound", code, err)
		}
	}
}
