package postgres_test

import (
	"errors"
	"testing"

	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// Staff can see who holds a role, by pseudonym only, and take it away; the
// revocation is audited and needs an unambiguous pseudonym.
func TestRolesListAndRevoke(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	for _, g := range []struct{ pid, role, town string }{
		{"aaaa1111bbbb2222cccc3333dddd4444", "teacher", "Kolín"},
		{"aaaa1111ffff2222cccc3333dddd4444", "teacher", "Brno"},
		{"9999888877776666555544443333aaaa", "staff", ""},
	} {
		if err := st.GrantRole(ctx, g.pid, g.role, g.town, "cli"); err != nil {
			t.Fatal(err)
		}
	}
	roles, err := st.Roles(ctx)
	if err != nil || len(roles) != 3 {
		t.Fatalf("Roles = %+v, %v", roles, err)
	}
	for _, r := range roles {
		if len(r.Pseudonym) != postgres.PseudonymLen {
			t.Errorf("role %+v shows %d characters of the pseudonym", r, len(r.Pseudonym))
		}
	}
	if _, err := st.RevokeRole(ctx, "aaaa1111", "cli"); !errors.Is(err, postgres.ErrRoleAmbiguous) {
		t.Errorf("an ambiguous pseudonym: %v", err)
	}
	if _, err := st.RevokeRole(ctx, "0000000000", "cli"); !errors.Is(err, postgres.ErrRoleNotFound) {
		t.Errorf("an unknown pseudonym: %v", err)
	}
	r, err := st.RevokeRole(ctx, "aaaa1111ffff", "cli")
	if err != nil || r.Role != "teacher" || r.Town != "Brno" || r.Pseudonym != "aaaa1111ffff" {
		t.Fatalf("RevokeRole = %+v, %v", r, err)
	}
	checkRole(t, st, "aaaa1111ffff2222cccc3333dddd4444", "", "")
	checkRole(t, st, "aaaa1111bbbb2222cccc3333dddd4444", "teacher", "Kolín")
	log, err := pgtest.AuditLog(ctx, st, 1)
	if err != nil || len(log) != 1 || log[0].Action != "role.revoke" || log[0].Actor != "cli" || log[0].Target != "aaaa1111ffff" {
		t.Errorf("audit %+v, %v", log, err)
	}
}
