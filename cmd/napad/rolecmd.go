package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/healthycities/napad/storage/postgres"
)

// role is `napad role list|revoke PSEUDONYM`: who is a teacher or staff
// member, by pseudonym, and taking a role away (audited). A revoked
// teacher's forums stay; a running bot notices within a minute (its role
// cache).
func role(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "revoke") || (args[0] == "revoke") != (len(args) == 2) || (args[0] == "list" && len(args) != 1) {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("role needs list, or revoke PSEUDONYM: %w", errUsage)
	}
	db, cfg, err := openConfiguredDatabase(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	if args[0] == "revoke" {
		r, err := db.RevokeRole(ctx, args[1], "cli")
		switch {
		case errors.Is(err, postgres.ErrRoleAmbiguous):
			return fmt.Errorf("more than one person's pseudonym starts with %q: give more of it (see napad role list)", args[1])
		case errors.Is(err, postgres.ErrRoleNotFound):
			return fmt.Errorf("nobody with a role has a pseudonym starting with %q (at least 8 characters; see napad role list)", args[1])
		case err != nil:
			return err
		}
		fmt.Fprintf(stdout, "Revoked: %s was %s%s; their forums stay.\n", r.Pseudonym, r.Role, inTown(r.Town))
		return nil
	}
	roles, err := db.Roles(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PSEUDONYM\tROLE\tTOWN\tSINCE\tFORUMS")
	for _, r := range roles {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", r.Pseudonym, r.Role, r.Town, r.GrantedAt.In(cfg.Location).Format(time.DateOnly), r.Forums)
	}
	return w.Flush()
}

func inTown(town string) string {
	if town == "" {
		return ""
	}
	return " in " + town
}
