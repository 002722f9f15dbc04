package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// Staff set a forum's town on the emotional map and its own feelings from
// the command line; without changes the command shows them; every change
// is audited; mistakes change nothing.
func TestForumMapCommand(t *testing.T) {
	t.Parallel()
	db, dbURL := pgtest.NewStore(t)
	ctx := t.Context()
	f, err := pgtest.CreateForum(ctx, db, "7.B", "ZŠ Komenského", "Kolín")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": dbURL, "TIMEZONE": "Europe/Prague", "LOG_LEVEL": "error"}
	try := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"forum", "map"}, args...), func(k string) string { return env[k] }, &out, &out)
		return out.String(), err
	}
	runOK := func(args ...string) string {
		t.Helper()
		out, err := try(args...)
		if err != nil {
			t.Fatalf("napad forum map %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	read := func() flows.Forum {
		t.Helper()
		got, found, err := db.ForumByCode(ctx, f.Code)
		if err != nil || !found {
			t.Fatalf("ForumByCode: %v %v", found, err)
		}
		return got
	}

	if out := runOK(f.Code); !strings.Contains(out, "Area:          none") || !strings.Contains(out, "Own feelings:  none") {
		t.Errorf("a forum without a map:\n%s", out)
	}
	out := runOK(f.Code, "--centre", "50.028, 15.2", "--radius", "4.5", "--feeling", "🌳 Quiet place", "--feeling", "Jídlo, pití")
	if got := read(); got.Area != (flows.MapArea{Lat: 50.028, Lon: 15.2, RadiusKm: 4.5}) ||
		!slices.Equal(got.Feelings, []string{"🌳 Quiet place", "Jídlo, pití"}) {
		t.Errorf("after setting: %+v %q", got.Area, got.Feelings)
	}
	if !strings.Contains(out, "50.028,15.2, 4.5 km around") || !strings.Contains(out, "🌳 Quiet place | Jídlo, pití") {
		t.Errorf("output:\n%s", out)
	}
	log, err := pgtest.AuditLog(ctx, db, 1)
	if err != nil || len(log) != 1 || log[0].Action != postgres.ActionForumMap || log[0].Actor != postgres.CLIActor {
		t.Errorf("audit %+v, %v", log, err)
	}

	// The area alone, flags after the code or before it: the feelings stay.
	runOK("--radius", "10", f.Code, "--centre", "50.1,15.3")
	if got := read(); got.Area.RadiusKm != 10 || len(got.Feelings) != 2 {
		t.Errorf("after a new area: %+v %q", got.Area, got.Feelings)
	}

	for _, bad := range [][]string{
		{},                            // no code
		{f.Code, "--centre", "50,15"}, // no radius
		{f.Code, "--radius", "5"},     // no centre
		{f.Code, "--centre", "50", "--radius", "5"},
		{f.Code, "--centre", "50,15", "--radius", "201"},
		{f.Code, "--centre", "0,0", "--radius", "5"},
		{f.Code, "--no-area", "--radius", "5"},
		{f.Code, "--no-feelings", "--feeling", "x"},
		{f.Code, "--feeling", "a", "--feeling", "b", "--feeling", "c", "--feeling", "d"},
		{f.Code, "--feeling", strings.Repeat("ž", flows.MaxOwnFeeling+1)},
	} {
		if out, err := try(bad...); err == nil {
			t.Errorf("forum map %q succeeded:\n%s", bad, out)
		}
	}
	if got := read(); got.Area.RadiusKm != 10 || len(got.Feelings) != 2 {
		t.Errorf("a mistake changed the map: %+v %q", got.Area, got.Feelings)
	}
	if _, err := try("AAAAAAAAAAAAAAAA", "--no-area"); err == nil || !strings.Contains(err.Error(), "no forum has the join code") {
		t.Errorf("unknown forum: %v", err)
	} else if errors.Is(err, errUsage) {
		t.Errorf("unknown forum reported as a usage mistake: %v", err)
	}

	runOK(f.Code, "--no-area", "--no-feelings")
	if got := read(); got.Area.Set() || got.Feelings != nil {
		t.Errorf("after removing: %+v %q", got.Area, got.Feelings)
	}
}
