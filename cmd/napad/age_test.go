package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
)

// Where students must be 15 (MIN_AGE) and their age group is asked
// (ASK_AGE_BAND): a 14-year-old is told kindly what to do instead and
// nothing about them is kept, not a join, not a conversation; a
// 16-year-old's idea is stored with the age group.
func TestE2EMinAge(t *testing.T) {
	a := newApp(t, false, func(a *app) { a.env["MIN_AGE"], a.env["ASK_AGE_BAND"] = "15", "true" })
	f := a.forum("8.B – ZŠ Komenského")
	young, old := a.student("cs"), a.student("en")

	young.u.SendText("/start " + f.Code)
	young.expect("age.ask")
	young.tap("age.13-14")
	young.expectCount("age.too_young", nil)

	old.u.SendText("/start " + f.Code)
	old.expect("age.ask")
	old.tap("age.16-17")
	old.walk(flows.StepPrivacy, flows.StepReview, nil, nil)
	old.tap("button.submit")
	ref := regexpRef.FindString(old.expectCount("submit.thanks", one()).Text)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var joined int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM forum_participants WHERE participant_id = $1`, young.pid()).Scan(&joined); err != nil || joined != 0 {
		t.Errorf("the 14-year-old was counted as joined (%d, %v)", joined, err)
	}
	var band string
	if err := conn.QueryRow(ctx, `SELECT coalesce(more->>'age', '') FROM suggestions WHERE reference = $1`, ref).Scan(&band); err != nil || band != "16-17" {
		t.Errorf("the idea's age group %q (%v), want 16-17", band, err)
	}
	// The conversation is gone too: the bot knows nothing of them.
	young.u.SendText("hi")
	young.expect("start.how_to_join")
}

// MIN_AGE must be a bound of the age groups; ASK_AGE_BAND a boolean.
func TestAgeSettings(t *testing.T) {
	load := func(env map[string]string) (config, error) {
		return loadConfig(func(k string) string { return env[k] }, needs{})
	}
	for _, env := range []map[string]string{{"MIN_AGE": "14"}, {"MIN_AGE": "fifteen"}, {"MIN_AGE": "-1"}, {"ASK_AGE_BAND": "maybe"}} {
		if _, err := load(env); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
	cfg, err := load(map[string]string{"MIN_AGE": "13", "ASK_AGE_BAND": "true"})
	if err != nil || cfg.Age != (flows.AgeRule{Min: 13, AskBand: true}) {
		t.Errorf("MIN_AGE=13 ASK_AGE_BAND=true: %+v, %v", cfg.Age, err)
	}
	if cfg, err := load(map[string]string{}); err != nil || cfg.Age.Asks() {
		t.Errorf("by default: %+v, %v; want no age asked", cfg.Age, err)
	}
}
