package postgres_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// exportFile is the seed's ideas as staff get them, in lang and format.
func (s *exportSeed) exportFile(t *testing.T, format, lang string, f postgres.ExportFilter) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := export.New(format, &buf, nil, export.WithLanguage(lang), export.WithHidden(f.IncludeHidden))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.st.ExportIdeas(t.Context(), f, w.Write); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// editBook opens a workbook, lets change work on its sheet of ideas as a
// person would, and saves it. cell(header, ref) names the cell of the
// column headed header (in Czech) in the row of the idea ref.
func editBook(t *testing.T, data []byte, change func(f *excelize.File, sheet string, cell func(header, ref string) string)) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := export.IdeasSheetName("cs")
	cell := func(header, ref string) string {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		col, row := slices.Index(rows[0], header), slices.IndexFunc(rows, func(r []string) bool { return slices.Contains(r, ref) })
		if col < 0 || row < 0 {
			t.Fatalf("no cell %s of %s", header, ref)
		}
		name, _ := excelize.CoordinatesToCellName(col+1, row+1)
		return name
	}
	change(f, sheet, cell)
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// pending are the status notifications waiting to be sent, by reference:
// "status|answer".
func (s *exportSeed) pending(t *testing.T) map[string]string {
	t.Helper()
	rows, err := s.conn.Query(t.Context(), `SELECT s.reference, n.status, n.answer FROM notifications n
		JOIN suggestions s ON s.id = n.suggestion_id WHERE n.sent_at IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ref, status, answer string
		if err := rows.Scan(&ref, &status, &answer); err != nil {
			t.Fatal(err)
		}
		out[ref] = status + "|" + answer
	}
	return out
}

// decisionOf is an idea's status and answer in the database.
func (s *exportSeed) decisionOf(t *testing.T, key string) string {
	t.Helper()
	var status, answer string
	if err := s.conn.QueryRow(t.Context(), `SELECT status, staff_answer FROM suggestions WHERE reference = $1`,
		s.refs[key]).Scan(&status, &answer); err != nil {
		t.Fatal(err)
	}
	return status + "|" + answer
}

// Staff export, decide in the workbook (sorted, with a column and a sheet
// of their own), and import: the plan shows exactly the changes, applying
// it makes them as the chat would (audited, the authors told), and the
// same file again changes nothing.
func TestImportRoundTrip(t *testing.T) {
	t.Parallel()
	s := seedExport(t)
	ctx := t.Context()
	bench, bus, trees, skate := s.refs["bench"], s.refs["bus"], s.refs["trees"], s.refs["skate"]
	if _, err := s.conn.Exec(ctx, `UPDATE notifications SET sent_at = now()`); err != nil {
		t.Fatal(err)
	}
	auditBefore, err := pgtest.AuditLog(ctx, s.st, 100)
	if err != nil {
		t.Fatal(err)
	}

	file := editBook(t, s.exportFile(t, "xlsx", "cs", postgres.ExportFilter{}), func(f *excelize.File, sheet string, cell func(string, string) string) {
		// Sorted by title, as Data → Sort moves whole rows.
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		title := slices.Index(rows[0], "Název")
		data := rows[1:]
		slices.SortFunc(data, func(a, b []string) int { return strings.Compare(a[title], b[title]) })
		for i, r := range data {
			vals := make([]any, len(r))
			for j, v := range r {
				vals[j] = v
			}
			if err := f.SetSheetRow(sheet, "A"+string(rune('2'+i)), &vals); err != nil {
				t.Fatal(err)
			}
		}
		for c, v := range map[string]string{
			cell("Stav", bench): "Vybráno", cell("Odpověď žákovi", bench): "Postavíme je na jaře.",
			cell("Odpověď žákovi", bus): "", // the answer taken back
			cell("Stav", trees):         "Nelze realizovat", cell("Odpověď žákovi", trees): "Na to nemáme rozpočet.",
		} {
			if err := f.SetCellValue(sheet, c, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.InsertCols(sheet, "C", 1); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellValue(sheet, "C1", "Poznámka odboru"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.NewSheet("Porada 12. 5."); err != nil {
			t.Fatal(err)
		}
	})

	plan, err := s.st.PlanImport(ctx, "nápady.xlsx", file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]flows.ImportChange{
		bench: {Ref: bench, Title: "Lavičky na dvoře", FromStatus: "new", ToStatus: "selected", ToAnswer: "Postavíme je na jaře."},
		bus: {Ref: bus, Title: "Більше автобусів увечері", FromStatus: "selected", ToStatus: "selected",
			FromAnswer: "Díky, řešíme s dopravcem."},
		trees: {Ref: trees, Title: "=1+1", FromStatus: "new", ToStatus: "not_feasible", ToAnswer: "Na to nemáme rozpočet."},
	}
	if plan.Rows != 4 || len(plan.Changes) != 3 || plan.AnswersEdited() != 1 ||
		!maps.Equal(plan.StatusCounts(), map[string]int{"selected": 1, "not_feasible": 1}) || plan.Hash == "" {
		t.Errorf("plan: %d rows, %+v, counts %v, %d answers", plan.Rows, plan.Changes, plan.StatusCounts(), plan.AnswersEdited())
	}
	rowOf := map[string]int{} // sorted by title: "=1+1", "Lavičky…", "Skatepark", "Більше…"
	for i, ref := range []string{trees, bench, skate, bus} {
		rowOf[ref] = i + 2
	}
	for _, c := range plan.Changes {
		w := want[c.Ref]
		w.Row = rowOf[c.Ref]
		if c != w {
			t.Errorf("change\n%+v\nwant\n%+v", c, w)
		}
	}
	// Planning changes nothing.
	if got := s.decisionOf(t, "bench"); got != "new|" {
		t.Errorf("bench after planning: %s", got)
	}

	applied, ok, err := s.st.ApplyImport(ctx, "nápady.xlsx", file, plan.Hash, "staff-import")
	if err != nil || !ok || applied.Hash != plan.Hash {
		t.Fatalf("apply: %v, %v, %+v", ok, err, applied)
	}
	for key, want := range map[string]string{
		"bench": "selected|Postavíme je na jaře.", "bus": "selected|", "trees": "not_feasible|Na to nemáme rozpočet.",
		"skate": "new|",
	} {
		if got := s.decisionOf(t, key); got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}
	audit, err := pgtest.AuditLog(ctx, s.st, 100)
	if err != nil {
		t.Fatal(err)
	}
	added := audit[:len(audit)-len(auditBefore)]
	var targets []string
	for _, e := range added {
		if e.Actor != "staff-import" || e.Action != postgres.ActionSetStatus {
			t.Errorf("audit entry %+v", e)
		}
		targets = append(targets, e.Target)
	}
	slices.Sort(targets)
	if wantTargets := slices.Sorted(slices.Values([]string{bench, bus, trees})); !slices.Equal(targets, wantTargets) {
		t.Errorf("audited %v, want %v", targets, wantTargets)
	}
	if got, want := s.pending(t), map[string]string{
		bench: "selected|Postavíme je na jaře.", bus: "selected|", trees: "not_feasible|Na to nemáme rozpočet.",
	}; !maps.Equal(got, want) {
		t.Errorf("notifications %v, want %v", got, want)
	}

	// The same file again: nothing to change, nothing audited.
	again, err := s.st.PlanImport(ctx, "nápady.xlsx", file)
	if err != nil || len(again.Changes) != 0 || again.Rows != 4 {
		t.Errorf("planned again: %+v, %v", again, err)
	}
	if _, ok, err := s.st.ApplyImport(ctx, "nápady.xlsx", file, again.Hash, "staff-import"); err != nil || !ok {
		t.Errorf("applied again: %v, %v", ok, err)
	}
	if audit2, _ := pgtest.AuditLog(ctx, s.st, 100); len(audit2) != len(audit) {
		t.Errorf("importing again audited %d more changes", len(audit2)-len(audit))
	}
}

// A plan is applied only as staff saw it: when an idea changed since, the
// new plan comes back and nothing is applied.
func TestImportHashMismatch(t *testing.T) {
	t.Parallel()
	s := seedExport(t)
	ctx := t.Context()
	bench, skate := s.refs["bench"], s.refs["skate"]
	file := editBook(t, s.exportFile(t, "xlsx", "cs", postgres.ExportFilter{}), func(f *excelize.File, sheet string, cell func(string, string) string) {
		for _, ref := range []string{bench, skate} {
			if err := f.SetCellValue(sheet, cell("Stav", ref), "Posuzuje se"); err != nil {
				t.Fatal(err)
			}
		}
	})
	plan, err := s.st.PlanImport(ctx, "x.xlsx", file)
	if err != nil || len(plan.Changes) != 2 {
		t.Fatalf("plan %+v, %v", plan, err)
	}
	// Meanwhile, in the chat, bench is selected.
	if _, _, err := s.st.SetStatus(ctx, bench, "selected", "Ano!", "staff-chat"); err != nil {
		t.Fatal(err)
	}
	now, ok, err := s.st.ApplyImport(ctx, "x.xlsx", file, plan.Hash, "staff-import")
	// The new plan says what the file would now do to bench: take back
	// the answer given in the chat, which staff see before confirming.
	if err != nil || ok || now.Hash == plan.Hash || len(now.Changes) != 2 || now.Changes[0].FromStatus != "selected" ||
		now.Changes[0].FromAnswer != "Ano!" || now.Changes[0].ToAnswer != "" {
		t.Errorf("apply after a change: applied %v, %v, %+v", ok, err, now)
	}
	if got := s.decisionOf(t, "skate"); got != "new|" {
		t.Errorf("skate changed by a refused plan: %s", got)
	}
	if _, ok, err := s.st.ApplyImport(ctx, "x.xlsx", file, "not the hash", "staff-import"); err != nil || ok {
		t.Errorf("apply with a wrong hash: %v, %v", ok, err)
	}
	// With the new plan's hash it goes through.
	if _, ok, err := s.st.ApplyImport(ctx, "x.xlsx", file, now.Hash, "staff-import"); err != nil || !ok {
		t.Errorf("apply the new plan: %v, %v", ok, err)
	}
	if got := s.decisionOf(t, "bench"); got != "under_review|" {
		t.Errorf("bench: %s", got)
	}
}

// Refusals that need the database: a reference no idea has, and a change
// to not feasible or duplicate without an answer. An idea that already was
// a duplicate without an answer (decided before answers were required) is
// no change, and no refusal.
func TestImportRefusals(t *testing.T) {
	t.Parallel()
	s := seedExport(t)
	ctx := t.Context()
	if _, err := s.conn.Exec(ctx, `UPDATE suggestions SET status = 'duplicate', duplicate_of = $2, staff_answer = ''
		WHERE reference = $1`, s.refs["skate"], s.refs["bench"]); err != nil {
		t.Fatal(err)
	}
	exported := s.exportFile(t, "csv", "cs", postgres.ExportFilter{})
	if plan, err := s.st.PlanImport(ctx, "x.csv", exported); err != nil || len(plan.Changes) != 0 {
		t.Errorf("an untouched export with a duplicate without an answer: %+v, %v", plan, err)
	}
	records := func() [][]string {
		recs, err := readCSVRecords(exported)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	col := func(recs [][]string, header string) int { return slices.Index(recs[0], header) }
	unknown := records()
	unknown = append(unknown, slices.Clone(unknown[1]))
	unknown[5][col(unknown, "Kód")], unknown[5][col(unknown, "Kontrolní kód")] = "N-ZZZZ", export.CheckCode("N-ZZZZ")
	// Rows: bench (new), bus (selected, with an answer), skate (the
	// duplicate), trees.
	needs := records()
	needs[1][col(needs, "Stav")], needs[1][col(needs, "Odpověď žákovi")] = "Nelze realizovat", ""
	cleared := records()
	cleared[2][col(cleared, "Stav")], cleared[2][col(cleared, "Odpověď žákovi")] = "Duplicita", " "
	for name, c := range map[string]struct {
		recs   [][]string
		reason string
		row    int
	}{
		"unknown reference":             {unknown, flows.ImportUnknownRef, 6},
		"not feasible without answer":   {needs, flows.ImportAnswerNeeded, 2},
		"duplicate, the answer cleared": {cleared, flows.ImportAnswerNeeded, 3},
	} {
		file := writeCSVRecords(t, c.recs)
		for _, err := range []error{
			func() error { _, err := s.st.PlanImport(ctx, "x.csv", file); return err }(),
			func() error { _, _, err := s.st.ApplyImport(ctx, "x.csv", file, "", "staff"); return err }(),
		} {
			var ie *flows.ImportError
			if !errors.As(err, &ie) || ie.Reason != c.reason || ie.Row != c.row {
				t.Errorf("%s: %v, want %s in row %d", name, err, c.reason, c.row)
			}
		}
	}
	if got := s.decisionOf(t, "bus"); got != "selected|Díky, řešíme s dopravcem." {
		t.Errorf("bus after refused imports: %s", got)
	}
}

// A CSV saved by Czech Excel (';') goes the same way as a workbook.
func TestImportCSVSemicolons(t *testing.T) {
	t.Parallel()
	s := seedExport(t)
	ctx := t.Context()
	recs, err := readCSVRecords(s.exportFile(t, "csv", "en", postgres.ExportFilter{}))
	if err != nil {
		t.Fatal(err)
	}
	status, answer := slices.Index(recs[0], "Status"), slices.Index(recs[0], "Answer to the student")
	recs[1][status], recs[1][answer] = "done", "-5 °C nevadí; hotovo."
	file := bytes.ReplaceAll(writeCSVRecordsSep(t, recs, ';'), []byte("\n"), []byte("\r\n"))
	plan, err := s.st.PlanImport(ctx, "ideas.csv", file)
	if err != nil || len(plan.Changes) != 1 || plan.Changes[0].Ref != s.refs["bench"] {
		t.Fatalf("plan %+v, %v", plan, err)
	}
	if _, ok, err := s.st.ApplyImport(ctx, "ideas.csv", file, plan.Hash, "staff"); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got := s.decisionOf(t, "bench"); got != "done|-5 °C nevadí; hotovo." {
		t.Errorf("bench: %s", got)
	}
	// Exported again, the answer is neutralised ('-5 …) and still no change.
	if plan, err := s.st.PlanImport(ctx, "ideas.csv", s.exportFile(t, "csv", "cs", postgres.ExportFilter{})); err != nil || len(plan.Changes) != 0 {
		t.Errorf("the new export planned %+v, %v", plan.Changes, err)
	}
}

// readCSVRecords parses a CSV export, without its byte order mark.
func readCSVRecords(data []byte) ([][]string, error) {
	return csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF")))).ReadAll()
}

func writeCSVRecords(t *testing.T, recs [][]string) []byte { return writeCSVRecordsSep(t, recs, ',') }

// writeCSVRecordsSep writes records as a spreadsheet program saves a CSV
// file: with sep between fields and no byte order mark.
func writeCSVRecordsSep(t *testing.T, recs [][]string, sep rune) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = sep
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
