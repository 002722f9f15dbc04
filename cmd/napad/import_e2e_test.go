package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
)

// A city office decides in the spreadsheet and sends it back in the chat:
// staff export the ideas in Czech, change two statuses in Excel's way
// (one with the answer the student must get), send the file to the bot,
// see the preview, confirm, and the students hear of it. A student who
// sends the same file changes nothing.
func TestE2EStaffImportInChat(t *testing.T) {
	a := newApp(t, false, fastNotifier, func(a *app) { a.env["STAFF_TELEGRAM_IDS"] = fmt.Sprint(staffID) })
	f := a.forum("8.B – ZŠ Komenského")
	benches, skate := a.student("cs"), a.student("en")
	benchRef, skateRef := benches.submitIdea(f.Code), skate.submitIdea(f.Code)
	staff := &student{a: a, t: t, u: a.fake.NewUser(staffID, "Staff", "cs"), lang: "cs"}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	decided := func(ref string) string {
		t.Helper()
		var status, answer string
		if err := conn.QueryRow(ctx, `SELECT status, staff_answer FROM suggestions WHERE reference = $1`, ref).Scan(&status, &answer); err != nil {
			t.Fatal(err)
		}
		return status + "|" + answer
	}

	staff.u.SendText("/export")
	staff.u.Tap(staff.expect("export.pick_format"), staff.render("button.export_xlsx"))
	staff.u.Tap(staff.expect("export.pick_forum"), staff.render("button.all_forums"))
	doc := a.fake.WaitFor(t, staff.u.ID(), func(m telegramtest.SentMessage) bool { return m.Document != nil }, waitLong)

	const answer = "Skatepark je v plánu města až na rok 2028."
	edited := editWorkbook(t, doc.Document.Data, export.IdeasSheetName("cs"), map[[2]string]string{
		{benchRef, "Stav"}: "Vybráno",
		{skateRef, "Stav"}: "Nelze realizovat", {skateRef, "Odpověď žákovi"}: answer,
	})

	// A student cannot import: the file is no answer to anything.
	benches.u.SendFile("napady.xlsx", edited)
	benches.expect("done.hint")

	staff.u.SendFile("napady.xlsx", edited)
	preview := staff.expectCount("import.preview", ptrInt(2))
	for _, want := range []string{benchRef, skateRef, "1 × Vybráno", "1 × Nelze realizovat"} {
		if !strings.Contains(preview.Text, want) {
			t.Errorf("the preview lacks %q:\n%s", want, preview.Text)
		}
	}
	if s := decided(benchRef); s != "new|" {
		t.Fatalf("changed before the confirmation: %s", s)
	}
	label := a.renderData("cs", flows.Msg{Key: "button.import_apply", Count: ptrInt(2)})
	staff.u.Tap(preview, label)
	staff.expectCount("import.applied", ptrInt(2))
	staff.u.Tap(preview, label) // a double tap applies nothing more

	a.fake.WaitFor(t, benches.u.ID(), benches.notificationMatcher(benchRef, flows.StatusSelected, ""), waitLong)
	a.fake.WaitFor(t, skate.u.ID(), skate.notificationMatcher(skateRef, flows.StatusNotFeasible, answer), waitLong)
	if s := decided(benchRef); s != "selected|" {
		t.Errorf("%s: %s", benchRef, s)
	}
	if s := decided(skateRef); s != "not_feasible|"+answer {
		t.Errorf("%s: %s", skateRef, s)
	}
	var audited int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'suggestion.set_status'
		AND actor = $1 AND target = ANY($2)`, staff.pid(), []string{benchRef, skateRef}).Scan(&audited); err != nil || audited != 2 {
		t.Errorf("%d audited changes by the staff member (%v), want 2", audited, err)
	}

	// The same file again: nothing to change.
	staff.u.SendFile("napady.xlsx", edited)
	staff.expectCount("import.nothing", ptrInt(2))
}

// editWorkbook changes an exported workbook as a person would in Excel:
// the cells named by {reference, header}, a column of their own, a sheet
// of their own; and saves it.
func editWorkbook(t *testing.T, data []byte, sheet string, cells map[[2]string]string) []byte {
	t.Helper()
	f, err := excelize.OpenReader(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(sheet)
	if err != nil || len(rows) < 2 {
		t.Fatalf("sheet %q: %d rows, %v", sheet, len(rows), err)
	}
	for at, v := range cells {
		row := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == at[0] })
		col := slices.Index(rows[0], at[1])
		if row < 0 || col < 0 {
			t.Fatalf("no cell %v in %v", at, rows[0])
		}
		name, _ := excelize.CoordinatesToCellName(col+1, row+1)
		if err := f.SetCellValue(sheet, name, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.InsertCols(sheet, "B", 1); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue(sheet, "B1", "Poznámka odboru"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet("Porada"); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
