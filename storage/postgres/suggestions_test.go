package postgres_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

var referenceRE = regexp.MustCompile(`^N-[2-9A-HJ-NP-Z]{4,5}$`)

func ptr(f float64) *float64 { return &f }

// checkStored reads ref back and compares every field with want.
func checkStored(t *testing.T, st *postgres.Store, ref string, want flows.Idea) postgres.StoredIdea {
	t.Helper()
	got, found, err := st.IdeaByReference(t.Context(), ref)
	if err != nil || !found {
		t.Fatalf("IdeaByReference(%q) = found %v, err %v", ref, found, err)
	}
	if got.Reference != ref || got.ID <= 0 {
		t.Errorf("reference/id = %q/%d, want %q/>0", got.Reference, got.ID, ref)
	}
	if time.Since(got.CreatedAt) > time.Minute || time.Until(got.CreatedAt) > time.Minute {
		t.Errorf("CreatedAt = %v, want about now", got.CreatedAt)
	}
	// PostgreSQL keeps microseconds; times compare by instant, not location.
	if !got.SubmittedAt.Equal(want.SubmittedAt.Truncate(time.Microsecond)) {
		t.Errorf("SubmittedAt = %v, want %v", got.SubmittedAt, want.SubmittedAt)
	}
	gotSub, wantSub := got.Idea, want
	gotSub.SubmittedAt, wantSub.SubmittedAt = time.Time{}, time.Time{}
	if wantSub.Channel == "" {
		wantSub.Channel = flows.ChannelTelegram // what an idea that names none is stored as
	}
	if !reflect.DeepEqual(gotSub, wantSub) {
		t.Errorf("stored submission differs\n got: %s\nwant: %s", describe(gotSub), describe(wantSub))
	}
	return got
}

// describe prints pointers' values so a lat/lon mismatch is readable.
func describe(s flows.Idea) string {
	f := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprint(*p)
	}
	lat, lon := f(s.Latitude), f(s.Longitude)
	s.Latitude, s.Longitude = nil, nil
	return fmt.Sprintf("%+v lat=%s lon=%s", s, lat, lon)
}

func TestSubmitStoresEveryField(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)

	full := flows.Idea{
		DraftID:       "draft-full",
		ParticipantID: "hmac-3f9a",
		ForumID:       f.ID,
		Language:      "uk",
		Scope:         "both",
		WorksWell:     "Бібліотека працює добре — děkujeme!",
		Improve:       "Більше лавок у парку",
		Title:         "Лавки в парку Лужанки 🌳",
		Description:   string([]rune(strings.Repeat("Příliš žluťoučký kůň úpěl ďábelské ódy. Їжак ґедзь. ", 50))[:2000]),
		Category:      "parks",
		PlaceText:     "Park Lužánky, u fontány",
		Latitude:      ptr(49.2079),
		Longitude:     ptr(16.6061),
		PhotoFileID:   "AgACAgIAAxkBAAIBQ2Z",
		WantsToHelp:   "yes",
		SubmittedAt:   time.Date(2025, 5, 14, 9, 30, 15, 123456789, time.FixedZone("CEST", 2*3600)),
		// An answer to a question added later, without a column of its own.
		More:    map[string]string{"when": "Na jaře, před maturitou 🌸"},
		Channel: flows.ChannelWeb,
	}
	if n := utf8.RuneCountInString(full.Description); n != 2000 {
		t.Fatalf("test setup: description has %d characters", n)
	}

	minimal := flows.Idea{
		DraftID:       "draft-minimal",
		ParticipantID: "hmac-77aa",
		ForumID:       f.ID,
		Language:      "cs",
		Scope:         "school",
		Improve:       "Pitná voda",
		Title:         "Fontánka na chodbě",
		SubmittedAt:   time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	// A pin at 0,0 is a real location, not "unset".
	zeroPin := minimal
	zeroPin.DraftID, zeroPin.Latitude, zeroPin.Longitude = "draft-zero", ptr(0), ptr(0)

	for _, sub := range []flows.Idea{full, minimal, zeroPin} {
		ref, err := st.Submit(ctx, sub)
		if err != nil {
			t.Fatalf("Submit(%s): %v", sub.DraftID, err)
		}
		if !referenceRE.MatchString(ref) {
			t.Errorf("reference %q does not match %s", ref, referenceRE)
		}
		got := checkStored(t, st, ref, sub)
		if (got.Latitude == nil) != (sub.Latitude == nil) {
			t.Errorf("%s: latitude nil-ness changed", sub.DraftID)
		}
	}
}

func TestSubmitZeroSubmittedAtUsesNow(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	f := newForum(t, st)
	sub := submission(f.ID, "d")
	sub.SubmittedAt = time.Time{}
	ref, err := st.Submit(t.Context(), sub)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := st.IdeaByReference(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(got.SubmittedAt); d < -time.Minute || d > time.Minute {
		t.Errorf("SubmittedAt = %v, want about now", got.SubmittedAt)
	}
}

func TestSubmitTwiceSameDraft(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)

	first := submission(f.ID, "draft-1")
	ref1, err := st.Submit(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	// A retry may carry different content (e.g. a changed language); the
	// stored draft must win and nothing may change.
	again := first
	again.Title = "Something else"
	again.Language = "en"
	ref2, err := st.Submit(ctx, again)
	if err != nil {
		t.Fatalf("second Submit: %v", err)
	}
	if ref1 != ref2 {
		t.Errorf("references differ: %q vs %q", ref1, ref2)
	}
	if n, err := st.CountSuggestionsByDraft(ctx, "draft-1"); err != nil || n != 1 {
		t.Errorf("CountSuggestionsByDraft = %d, %v; want 1", n, err)
	}
	checkStored(t, st, ref1, first)

	var lang string
	var updated bool
	err = connect(t, dbURL).QueryRow(ctx,
		`SELECT language, updated_at <> created_at FROM participants WHERE id = $1`,
		first.ParticipantID).Scan(&lang, &updated)
	if err != nil {
		t.Fatal(err)
	}
	if lang != "cs" || updated {
		t.Errorf("participant changed by repeated draft: language %q, updated %v", lang, updated)
	}
}

func TestSubmitConcurrentSameDraft(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)

	const n = 20
	refs := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start // release together to maximise overlap
			refs[i], errs[i] = st.Submit(ctx, submission(f.ID, "draft-race"))
		})
	}
	close(start)
	wg.Wait()

	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Submit #%d: %v", i, errs[i])
		}
		if refs[i] != refs[0] {
			t.Errorf("Submit #%d returned %q, #0 returned %q", i, refs[i], refs[0])
		}
	}
	if c, err := st.CountSuggestionsByDraft(ctx, "draft-race"); err != nil || c != 1 {
		t.Errorf("CountSuggestionsByDraft = %d, %v; want 1", c, err)
	}
	all, err := pgtest.IdeasByForum(ctx, st, f.ID)
	if err != nil || len(all) != 1 || all[0].Reference != refs[0] {
		t.Errorf("IdeasByForum = %d rows, %v; want the one row %q", len(all), err, refs[0])
	}
}

func TestDifferentDraftsGetDifferentReferences(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	other := newForum(t, st)

	seen := map[string]string{}
	var ids []int64
	for i := range 30 {
		draft := fmt.Sprintf("draft-%02d", i)
		ref, err := st.Submit(ctx, submission(f.ID, draft))
		if err != nil {
			t.Fatal(err)
		}
		if !referenceRE.MatchString(ref) {
			t.Errorf("reference %q does not match %s", ref, referenceRE)
		}
		if prev, dup := seen[ref]; dup {
			t.Errorf("%s and %s share reference %s", prev, draft, ref)
		}
		seen[ref] = draft
	}
	if _, err := st.Submit(ctx, submission(other.ID, "other-forum")); err != nil {
		t.Fatal(err)
	}

	all, err := pgtest.IdeasByForum(ctx, st, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 30 {
		t.Fatalf("IdeasByForum returned %d rows, want 30", len(all))
	}
	for i, s := range all {
		if want := fmt.Sprintf("draft-%02d", i); s.DraftID != want || seen[s.Reference] != want {
			t.Errorf("row %d: draft %q ref %q, want draft %q in submit order", i, s.DraftID, s.Reference, want)
		}
		ids = append(ids, s.ID)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Errorf("ids not ascending: %v", ids)
			break
		}
	}

	none, err := pgtest.IdeasByForum(ctx, st, 999999)
	if err != nil || len(none) != 0 {
		t.Errorf("IdeasByForum(unknown) = %d rows, %v", len(none), err)
	}
}

func TestReferenceFormat(t *testing.T) {
	t.Parallel()
	counts := map[rune]int{}
	for range 2000 {
		ref, err := postgres.NewReference(4)
		if err != nil {
			t.Fatal(err)
		}
		if !referenceRE.MatchString(ref) || len(ref) != 6 {
			t.Fatalf("NewReference(4) = %q", ref)
		}
		for _, r := range ref[2:] {
			counts[r]++
		}
	}
	// 8000 characters over 32 letters: every letter shows up.
	if len(counts) != 32 {
		t.Errorf("only %d distinct characters used: %v", len(counts), counts)
	}
	ref, err := postgres.NewReference(5)
	if err != nil || !referenceRE.MatchString(ref) || len(ref) != 7 {
		t.Errorf("NewReference(5) = %q, %v", ref, err)
	}
}

// A reference clash with another draft is retried with a fresh reference,
// growing to 5 characters when 4-character ones keep clashing.
func TestSubmitRetriesReferenceCollision(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)

	postgres.SetReferenceGenerator(st, func(int) (string, error) { return "N-AAAA", nil })
	if ref, err := st.Submit(ctx, submission(f.ID, "first")); err != nil || ref != "N-AAAA" {
		t.Fatalf("first Submit = %q, %v", ref, err)
	}

	var mu sync.Mutex
	var lengths []int
	postgres.SetReferenceGenerator(st, func(n int) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		lengths = append(lengths, n)
		if n == 4 {
			return "N-AAAA", nil // always taken
		}
		return "N-BBBBB", nil
	})
	sub := submission(f.ID, "second")
	ref, err := st.Submit(ctx, sub)
	if err != nil || ref != "N-BBBBB" {
		t.Fatalf("second Submit = %q, %v; want N-BBBBB", ref, err)
	}
	wantLengths := []int{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5}
	if !reflect.DeepEqual(lengths, wantLengths) {
		t.Errorf("reference lengths tried = %v, want %v", lengths, wantLengths)
	}
	checkStored(t, st, ref, sub)

	// When every reference is taken Submit gives up with an error and stores nothing.
	postgres.SetReferenceGenerator(st, func(int) (string, error) { return "N-AAAA", nil })
	if ref, err := st.Submit(ctx, submission(f.ID, "third")); err == nil {
		t.Errorf("Submit with no free reference = %q, want error", ref)
	}
	if n, err := st.CountSuggestionsByDraft(ctx, "third"); err != nil || n != 0 {
		t.Errorf("CountSuggestionsByDraft(third) = %d, %v; want 0", n, err)
	}
}

func TestSubmitValidation(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)

	cases := map[string]func(*flows.Idea){
		"no draft id":       func(s *flows.Idea) { s.DraftID = "" },
		"no participant":    func(s *flows.Idea) { s.ParticipantID = "" },
		"no title":          func(s *flows.Idea) { s.Title = "" },
		"blank title":       func(s *flows.Idea) { s.Title = "  \n" },
		"zero forum":        func(s *flows.Idea) { s.ForumID = 0 },
		"negative forum":    func(s *flows.Idea) { s.ForumID = -1 },
		"bad scope":         func(s *flows.Idea) { s.Scope = "city" },
		"empty scope":       func(s *flows.Idea) { s.Scope = "" },
		"latitude only":     func(s *flows.Idea) { s.Latitude = ptr(49) },
		"longitude only":    func(s *flows.Idea) { s.Longitude = ptr(16) },
		"latitude too big":  func(s *flows.Idea) { s.Latitude, s.Longitude = ptr(91), ptr(16) },
		"longitude too big": func(s *flows.Idea) { s.Latitude, s.Longitude = ptr(49), ptr(-181) },
		"NaN":               func(s *flows.Idea) { s.Latitude, s.Longitude = ptr(math.NaN()), ptr(16) },
		"Inf":               func(s *flows.Idea) { s.Latitude, s.Longitude = ptr(49), ptr(math.Inf(1)) },
		"unknown channel":   func(s *flows.Idea) { s.Channel = "sms" },
	}
	for name, mutate := range cases {
		sub := submission(f.ID, "draft-invalid")
		mutate(&sub)
		if ref, err := st.Submit(ctx, sub); err == nil {
			t.Errorf("%s: Submit = %q, want error", name, ref)
		}
	}
	// ForumID is positive but no such forum exists.
	ref, err := st.Submit(ctx, submission(f.ID+1000, "draft-invalid"))
	if !errors.Is(err, postgres.ErrForumNotFound) {
		t.Errorf("unknown forum: Submit = %q, %v; want ErrForumNotFound", ref, err)
	}
	if n, err := st.CountSuggestionsByDraft(ctx, "draft-invalid"); err != nil || n != 0 {
		t.Errorf("invalid submissions stored %d rows (err %v)", n, err)
	}
}

func TestSuggestionByReferenceNotFound(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	for _, ref := range []string{"N-2222", "", "nonsense"} {
		s, found, err := st.IdeaByReference(t.Context(), ref)
		if err != nil || found {
			t.Errorf("IdeaByReference(%q) = %+v, %v, %v", ref, s, found, err)
		}
	}
}

// Deleting a participant erases what they wrote: the basis for honouring an
// erasure request from a minor or their parent.
func TestDeletingParticipantDeletesSuggestions(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	keep := submission(f.ID, "keep")
	gone := submission(f.ID, "gone")
	for _, s := range []flows.Idea{keep, gone} {
		if _, err := st.Submit(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := connect(t, dbURL).Exec(ctx, `DELETE FROM participants WHERE id = $1`, gone.ParticipantID); err != nil {
		t.Fatal(err)
	}
	for draft, want := range map[string]int{"keep": 1, "gone": 0} {
		if n, err := st.CountSuggestionsByDraft(ctx, draft); err != nil || n != want {
			t.Errorf("CountSuggestionsByDraft(%s) = %d, %v; want %d", draft, n, err, want)
		}
	}
}
