package postgres_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

func checkRole(t *testing.T, st *postgres.Store, participantID, wantRole, wantTown string) {
	t.Helper()
	role, town, err := st.RoleOf(t.Context(), participantID)
	if err != nil || role != wantRole || town != wantTown {
		t.Errorf("RoleOf(%q) = %q, %q, %v; want %q, %q", participantID, role, town, err, wantRole, wantTown)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()

	checkRole(t, st, "student", "", "")
	if err := st.GrantRole(ctx, "p1", "teacher", "Kolín", "staff-1"); err != nil {
		t.Fatalf("GrantRole: %v", err)
	}
	checkRole(t, st, "p1", "teacher", "Kolín")
	checkRole(t, st, "student", "", "")

	// Granting again replaces the role, town and grantor.
	if err := st.GrantRole(ctx, "p1", "staff", "Brno", ""); err != nil {
		t.Fatalf("GrantRole again: %v", err)
	}
	checkRole(t, st, "p1", "staff", "Brno")
	var grantedBy string
	var rows int
	if err := connect(t, dbURL).QueryRow(ctx,
		`SELECT max(granted_by), count(*) FROM roles WHERE participant_id = 'p1'`).Scan(&grantedBy, &rows); err != nil {
		t.Fatal(err)
	}
	if grantedBy != "" || rows != 1 {
		t.Errorf("roles row: granted_by %q, %d rows", grantedBy, rows)
	}

	for name, call := range map[string]func() error{
		"bad role":       func() error { return st.GrantRole(ctx, "p2", "admin", "Kolín", "") },
		"empty role":     func() error { return st.GrantRole(ctx, "p2", "", "Kolín", "") },
		"no participant": func() error { return st.GrantRole(ctx, "", "teacher", "Kolín", "") },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: GrantRole succeeded", name)
		}
	}
	checkRole(t, st, "p2", "", "")
	if _, _, err := st.RoleOf(ctx, ""); err == nil {
		t.Error(`RoleOf("") succeeded`)
	}
}

var t0 = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)

func newInvite(t *testing.T, st *postgres.Store, town string, expiresAt time.Time) string {
	t.Helper()
	code, err := st.CreateInvite(t.Context(), town, "staff-1", expiresAt)
	if err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}
	if !joinCodeRE.MatchString(code) {
		t.Fatalf("invite code %q is not 16 URL-safe characters", code)
	}
	return code
}

func redeem(t *testing.T, st *postgres.Store, code, participantID string, now time.Time) (string, string) {
	t.Helper()
	town, result, err := st.RedeemInvite(t.Context(), code, participantID, now)
	if err != nil {
		t.Fatalf("RedeemInvite(%q, %q): %v", code, participantID, err)
	}
	return town, result
}

func TestInviteIsSingleUse(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	code := newInvite(t, st, "Kolín", t0.Add(72*time.Hour))
	if other := newInvite(t, st, "Kolín", t0.Add(72*time.Hour)); other == code {
		t.Fatalf("two invites share code %q", code)
	}

	town, result := redeem(t, st, code, "teacher-1", t0)
	if result != flows.InviteAccepted || town != "Kolín" {
		t.Fatalf("RedeemInvite = %q, %v; want Kolín, accepted", town, result)
	}
	checkRole(t, st, "teacher-1", "teacher", "Kolín")
	var usedBy, grantedBy string
	var usedAt time.Time
	if err := connect(t, dbURL).QueryRow(ctx, `
		SELECT i.used_by, i.used_at, r.granted_by
		FROM teacher_invites i JOIN roles r ON r.participant_id = i.used_by
		WHERE i.code = $1`, code).Scan(&usedBy, &usedAt, &grantedBy); err != nil {
		t.Fatal(err)
	}
	if usedBy != "teacher-1" || !usedAt.Equal(t0) || grantedBy != "staff-1" {
		t.Errorf("used_by %q, used_at %v, granted_by %q", usedBy, usedAt, grantedBy)
	}

	// Neither someone else nor the same teacher can use it again.
	for _, p := range []string{"teacher-2", "teacher-1"} {
		if town, result := redeem(t, st, code, p, t0.Add(time.Minute)); result != flows.InviteUsed || town != "" {
			t.Errorf("second redemption by %s = %q, %v; want used", p, town, result)
		}
	}
	checkRole(t, st, "teacher-2", "", "")
}

func TestInviteExpired(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	expires := t0.Add(72 * time.Hour)
	code := newInvite(t, st, "Kolín", expires)
	// Valid strictly before expiresAt.
	for _, now := range []time.Time{expires, expires.Add(time.Second), expires.Add(365 * 24 * time.Hour)} {
		if town, result := redeem(t, st, code, "late", now); result != flows.InviteExpired || town != "" {
			t.Errorf("redeem at %v = %q, %v; want expired", now, town, result)
		}
	}
	checkRole(t, st, "late", "", "")
	if _, result := redeem(t, st, code, "on-time", expires.Add(-time.Microsecond)); result != flows.InviteAccepted {
		t.Errorf("redeem just before expiry = %v; want accepted", result)
	}
	// Used and since expired reads as used: that is what happened to it.
	if _, result := redeem(t, st, code, "late", expires.Add(time.Hour)); result != flows.InviteUsed {
		t.Errorf("redeem used+expired = %v; want used", result)
	}
}

func TestInviteUnknown(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	newInvite(t, st, "Kolín", t0.Add(time.Hour))
	for _, code := range []string{
		"AAAAAAAAAAAAAAAA", // well-formed, absent
		strings.Repeat("a", 64),
		"",
		strings.Repeat("a", 65),
		"abc def",
		"kód",
		"x' OR '1'='1",
		"t_AAAAAAAAAAAAAA", // the link prefix is not part of the code
	} {
		if town, result := redeem(t, st, code, "p", t0); result != flows.InviteUnknown || town != "" {
			t.Errorf("RedeemInvite(%q) = %q, %v; want unknown", code, town, result)
		}
	}
	checkRole(t, st, "p", "", "")
}

func TestInviteValidation(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	if code, err := st.CreateInvite(ctx, " ", "staff-1", t0); err == nil {
		t.Errorf("CreateInvite without town = %q", code)
	}
	if code, err := st.CreateInvite(ctx, "Kolín", "staff-1", time.Time{}); err == nil {
		t.Errorf("CreateInvite without expiry = %q", code)
	}
	code := newInvite(t, st, "Kolín", t0.Add(time.Hour))
	if _, _, err := st.RedeemInvite(ctx, code, "", t0); err == nil {
		t.Error("RedeemInvite without participant succeeded")
	}
	if _, _, err := st.RedeemInvite(ctx, code, "p", time.Time{}); err == nil {
		t.Error("RedeemInvite without time succeeded")
	}
	// The failed calls did not use it up.
	if _, result := redeem(t, st, code, "p", t0); result != flows.InviteAccepted {
		t.Errorf("RedeemInvite = %v after invalid calls; want accepted", result)
	}
}

// Staff opening a teacher invite (say, to check the link) stay staff.
func TestInviteDoesNotDemoteStaff(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	if err := st.GrantRole(t.Context(), "boss", "staff", "Kolín", ""); err != nil {
		t.Fatal(err)
	}
	code := newInvite(t, st, "Brno", t0.Add(time.Hour))
	if _, result := redeem(t, st, code, "boss", t0); result != flows.InviteAccepted {
		t.Errorf("result = %v", result)
	}
	checkRole(t, st, "boss", "staff", "Kolín")

	// A teacher invited again moves to the new town.
	if err := st.GrantRole(t.Context(), "teacher", "teacher", "Kolín", ""); err != nil {
		t.Fatal(err)
	}
	code = newInvite(t, st, "Brno", t0.Add(time.Hour))
	if _, result := redeem(t, st, code, "teacher", t0); result != flows.InviteAccepted {
		t.Errorf("result = %v", result)
	}
	checkRole(t, st, "teacher", "teacher", "Brno")
}

func TestInviteConcurrentRedemption(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	const rounds, n = 5, 10
	for round := range rounds {
		code := newInvite(t, st, "Kolín", t0.Add(time.Hour))
		results := make([]string, n)
		towns := make([]string, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start // release together to maximise overlap
				towns[i], results[i], errs[i] = st.RedeemInvite(ctx, code, fmt.Sprintf("p%d-%d", round, i), t0)
			})
		}
		close(start)
		wg.Wait()

		winner := -1
		for i := range n {
			switch {
			case errs[i] != nil:
				t.Fatalf("round %d, redeemer %d: %v", round, i, errs[i])
			case results[i] == flows.InviteAccepted && winner >= 0:
				t.Fatalf("round %d: redeemers %d and %d both accepted", round, winner, i)
			case results[i] == flows.InviteAccepted:
				winner = i
				if towns[i] != "Kolín" {
					t.Errorf("winner's town = %q", towns[i])
				}
			case results[i] != flows.InviteUsed:
				t.Errorf("round %d, redeemer %d: %v, want used", round, i, results[i])
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody accepted: %v", round, results)
		}
		var teachers int
		var usedBy string
		if err := conn.QueryRow(ctx, `
			SELECT (SELECT count(*) FROM roles WHERE participant_id LIKE $1),
				(SELECT used_by FROM teacher_invites WHERE code = $2)`,
			fmt.Sprintf("p%d-%%", round), code).Scan(&teachers, &usedBy); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("p%d-%d", round, winner); teachers != 1 || usedBy != want {
			t.Errorf("round %d: %d teachers, used_by %q; want 1, %q", round, teachers, usedBy, want)
		}
	}
}

func TestCreateInviteRetriesCollision(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	postgres.SetCodeGenerator(st, codeSequence("AAAAAAAAAAAAAAAA"))
	if code, err := st.CreateInvite(ctx, "Kolín", "s", t0); err != nil || code != "AAAAAAAAAAAAAAAA" {
		t.Fatalf("CreateInvite = %q, %v", code, err)
	}
	postgres.SetCodeGenerator(st, codeSequence("AAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBB"))
	if code, err := st.CreateInvite(ctx, "Kolín", "s", t0); err != nil || code != "BBBBBBBBBBBBBBBB" {
		t.Fatalf("CreateInvite after collision = %q, %v", code, err)
	}
	postgres.SetCodeGenerator(st, codeSequence("AAAAAAAAAAAAAAAA"))
	if code, err := st.CreateInvite(ctx, "Kolín", "s", t0); err == nil {
		t.Errorf("CreateInvite with only taken codes = %q, want error", code)
	}
}

// The results are the words the bot's PeopleStore port promises.
func TestInviteResultWords(t *testing.T) {
	t.Parallel()
	for r, want := range map[string]string{
		flows.InviteAccepted: "accepted", flows.InviteUnknown: "unknown",
		flows.InviteUsed: "used", flows.InviteExpired: "expired",
	} {
		if r != want {
			t.Errorf("invite result %q, want %q", r, want)
		}
	}
}
