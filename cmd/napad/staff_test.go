package main

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
)

// City staff go through new ideas and take them home as a file; students
// cannot do either.
func TestE2EStaffReviewAndExport(t *testing.T) {
	a := staffApp(t)
	f := a.forum("7.A – ZŠ Masarykova")
	staff := &student{a: a, t: t, u: a.fake.NewUser(staffID, "Staff", "en"), lang: "en"}

	var refs []string
	for i, title := range []string{"Benches in the yard", "This school is shit", "More benches"} {
		s := a.student("en")
		want := flowtest.AnswersIn("en")
		want[flows.StepTitle] = title
		s.toReview(f.Code, want)
		s.tap("button.submit")
		refs = append(refs, regexpRef.FindString(s.expectCount("submit.thanks", one()).Text))
		if i == 0 {
			for _, cmd := range []string{"/review", "/export"} {
				s.u.SendText(cmd)
				s.expect("about.help") // a student learns nothing about them
			}
		}
	}

	staff.u.SendText("/review")
	card := staff.expect("staffreview.card") // possibly offensive ideas come first
	if !strings.Contains(card.Text, "This school is shit") || !strings.HasPrefix(card.Text, "⚠️") {
		t.Fatalf("first card: %q", card.Text)
	}
	staff.u.Tap(card, staff.render("staffbutton.hide"))
	staff.u.Tap(staff.expect("staffdecide.hide_ask"), staff.render("button.hide_abusive"))
	staff.expect("staffreview.hidden")
	card = staff.expect("staffreview.card")
	if !strings.Contains(card.Text, "Benches in the yard") || !strings.Contains(card.Text, refs[0]) {
		t.Fatalf("second card: %q", card.Text)
	}
	staff.u.Tap(card, staff.render("button.review_accept"))
	staff.expect("staffreview.accepted")
	card = staff.expect("staffreview.card")
	staff.u.Tap(card, staff.render("button.review_duplicate"))
	staff.expect("staffreview.dup_ask")
	staff.u.SendText("n-zzzz")
	staff.expect("staffreview.dup_unknown")
	staff.u.Tap(card, staff.render("button.review_duplicate"))
	staff.expect("staffreview.dup_ask")
	staff.u.SendText(strings.ToLower(refs[0]))
	staff.expect("staffdecide.dup_answer_ask") // the student hears why
	staff.u.SendText("The same as " + refs[0] + ": we look at both together.")
	staff.expect("staffreview.duplicate")
	staff.expect("staffreview.empty")

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for ref, want := range map[string]string{refs[0]: "under_review", refs[2]: "duplicate"} {
		var status, dupOf string
		err := conn.QueryRow(ctx, `SELECT status, coalesce(duplicate_of, '') FROM suggestions WHERE reference = $1`, ref).Scan(&status, &dupOf)
		if err != nil || status != want || (want == "duplicate" && dupOf != refs[0]) {
			t.Errorf("%s: status %q duplicate of %q (%v), want %q", ref, status, dupOf, err, want)
		}
	}

	// The export leaves the hidden idea out.
	staff.u.SendText("/export")
	formats := staff.expect("export.pick_format")
	staff.u.Tap(formats, staff.render("button.export_csv"))
	forums := staff.expect("export.pick_forum")
	staff.u.Tap(forums, staff.render("button.all_forums"))
	doc := a.fake.WaitFor(t, staff.u.ID(), func(m telegramtest.SentMessage) bool { return m.Document != nil }, waitLong)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(doc.Document.Data), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v", err)
	}
	if len(rows) != 3 { // header and the two visible ideas
		t.Fatalf("%d rows:\n%s", len(rows), doc.Document.Data)
	}
	if strings.Contains(string(doc.Document.Data), "This school is shit") {
		t.Error("a hidden idea was exported")
	}
	if !strings.Contains(doc.Caption, "2") {
		t.Errorf("caption %q", doc.Caption)
	}
}
