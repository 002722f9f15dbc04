package export_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
)

// edit opens an exported workbook, lets change edit it as a person would
// in a spreadsheet program, and saves it.
func edit(t *testing.T, data []byte, change func(f *excelize.File)) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	change(f)
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// set sets cells of the ideas' sheet by the English header of their column
// and their row.
func set(t *testing.T, f *excelize.File, sheet string, header string, row int, v any) {
	t.Helper()
	if err := f.SetCellValue(sheet, cellName(col(header), row), v); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, name string, data []byte) []export.Decision {
	t.Helper()
	ds, err := export.ReadDecisions(name, data)
	if err != nil {
		t.Fatalf("ReadDecisions(%s): %v", name, err)
	}
	return ds
}

// decisionsOf are the decisions an untouched export of rows holds, in order.
func decisionsOf(rows []export.Row) []export.Decision {
	var ds []export.Decision
	for i, r := range rows {
		ds = append(ds, export.Decision{Row: i + 2, Reference: r.Reference, Status: r.Status,
			Answer: strings.TrimSpace(r.StaffAnswer), Check: export.CheckCode(r.Reference)})
	}
	return ds
}

// An untouched export reads back as what it holds, in every language and
// format.
func TestReadDecisionsUntouched(t *testing.T) {
	rows := sampleRows()
	want := decisionsOf(rows)
	for _, lang := range flows.Languages {
		opts := []export.Option{export.WithLanguage(lang), export.WithHidden(lang == "nb")}
		for name, data := range map[string][]byte{
			"ideas.xlsx": writeXLSX(t, rows, nil, opts...),
			"ideas.csv":  writeCSV(t, rows, opts...),
		} {
			if got := read(t, name, data); !slices.Equal(got, want) {
				t.Errorf("%s %s:\n%+v\nwant\n%+v", lang, name, got, want)
			}
		}
	}
}

// A file exported before ideas had a channel has no Channel column: it
// reads back as before, in both formats.
func TestReadDecisionsWithoutTheChannelColumn(t *testing.T) {
	rows := sampleRows()
	channel := col("Channel")
	xlsx := edit(t, writeXLSX(t, rows, nil), func(f *excelize.File) {
		name, _ := excelizeColumn(channel + 1)
		if err := f.RemoveCol(ideasSheet, name); err != nil {
			t.Fatal(err)
		}
	})
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, rec := range readCSV(t, writeCSV(t, rows)) {
		if err := w.Write(slices.Delete(rec, channel, channel+1)); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	want := decisionsOf(rows)
	for name, data := range map[string][]byte{"ideas.xlsx": xlsx, "ideas.csv": buf.Bytes()} {
		if got := read(t, name, data); !slices.Equal(got, want) {
			t.Errorf("%s without the channel:\n%+v\nwant\n%+v", name, got, want)
		}
	}
}

// The workbook after a person worked on it: rows sorted by title, one
// filtered out of sight, a column of their own in the middle, a sheet of
// their own first, statuses picked from the drop-down, answers written.
func TestReadDecisionsAfterEditing(t *testing.T) {
	rows := sampleRows()
	data := edit(t, writeXLSX(t, rows, nil), func(f *excelize.File) {
		sheet := ideasSheet
		all, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		// Sort the ideas by title, as Data → Sort does: whole rows move.
		data := all[1:]
		slices.SortFunc(data, func(a, b []string) int { return strings.Compare(a[col("Title")], b[col("Title")]) })
		for i, r := range data {
			vals := make([]any, len(r))
			for j, v := range r {
				vals[j] = v
			}
			if err := f.SetSheetRow(sheet, cellName(0, i+2), &vals); err != nil {
				t.Fatal(err)
			}
		}
		// Sorted: +SUM(A1:A9) (N-EQ11), Lavičky (N-7K2Q), Line one (N-QUOT), x (N-MIN5), Більше (N-ABCD).
		set(t, f, sheet, "Status", 2, "Hotovo")
		set(t, f, sheet, "Status", 4, " vybráno ")
		set(t, f, sheet, "Answer to the student", 4, "  Postavíme je na jaře.\r\nDíky!  ")
		set(t, f, sheet, "Status", 6, "Not feasible") // another language's word
		set(t, f, sheet, "Answer to the student", 6, "Dopravce nemá řidiče.")
		set(t, f, sheet, "Answer to the student", 2, "")
		if err := f.SetRowVisible(sheet, 5, false); err != nil { // filtered out
			t.Fatal(err)
		}
		if err := f.InsertCols(sheet, "C", 1); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellValue(sheet, "C1", "Poznámka"); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellValue(sheet, "C3", "zavolat řediteli"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.NewSheet("Moje poznámky"); err != nil {
			t.Fatal(err)
		}
		if err := f.MoveSheet("Moje poznámky", export.SummarySheetName("cs")); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellValue("Moje poznámky", "A1", "Kód"); err != nil {
			t.Fatal(err)
		}
	})
	got := read(t, "Nápady (upraveno).xlsx", data)
	want := []export.Decision{
		{Row: 2, Reference: "N-EQ11", Status: flows.StatusDone, Answer: ""},
		{Row: 3, Reference: "N-7K2Q", Status: flows.StatusNew},
		{Row: 4, Reference: "N-QUOT", Status: flows.StatusSelected, Answer: "Postavíme je na jaře.\nDíky!"},
		{Row: 5, Reference: "N-MIN5", Status: flows.StatusNotFeasible},
		{Row: 6, Reference: "N-ABCD", Status: flows.StatusNotFeasible, Answer: "Dopravce nemá řidiče."},
	}
	for i := range want {
		want[i].Check = export.CheckCode(want[i].Reference)
	}
	if !slices.Equal(got, want) {
		t.Errorf("after editing:\n%+v\nwant\n%+v", got, want)
	}
}

// Statuses are read in any language and case, with spaces around, or as
// their codes.
func TestReadDecisionsStatusWords(t *testing.T) {
	r := sampleRows()[4]
	for in, want := range map[string]string{
		"Vybráno": "selected", "VYBRÁNO": "selected", "  vybráno\t": "selected", "selected": "selected",
		"Valgt ut": "selected", "Обрано": "selected", "under_review": "under_review", "Posuzuje  se": "under_review",
		"ikke gjennomførbar": "not_feasible", "Дублікат": "duplicate", "Nový": "new",
	} {
		data := edit(t, writeXLSX(t, []export.Row{r}, nil), func(f *excelize.File) {
			set(t, f, ideasSheet, "Status", 2, in)
		})
		if got := read(t, "x.xlsx", data); len(got) != 1 || got[0].Status != want {
			t.Errorf("status %q read as %+v, want %s", in, got, want)
		}
	}
}

// rewriteCSV reads an exported CSV and writes it again as a spreadsheet
// program would save it: with sep between fields, and change applied to
// its records.
func rewriteCSV(t *testing.T, data []byte, sep rune, change func([][]string)) []byte {
	t.Helper()
	recs := readCSV(t, data)
	change(recs)
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	w.Comma = sep
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A CSV export comes back in the same shape, with ',' or with ';' as Czech
// Excel saves it (without the byte order mark, even in Windows-1250), and
// text the export neutralised comes back as written.
func TestReadDecisionsCSV(t *testing.T) {
	rows := sampleRows()
	rows[1].StaffAnswer = "-5 °C v zimě; =venku"
	data := writeCSV(t, rows)
	want := decisionsOf(rows)
	if got := read(t, "ideas.csv", data); !slices.Equal(got, want) {
		t.Errorf("as exported:\n%+v\nwant\n%+v", got, want)
	}
	edited := func(recs [][]string) {
		recs[3][col("Status")] = "Hotovo"
		recs[3][col("Answer to the student")] = "Hotovo, díky."
		slices.Reverse(recs[1:])
	}
	wantEdited := slices.Clone(want)
	wantEdited[2].Status, wantEdited[2].Answer = flows.StatusDone, "Hotovo, díky."
	slices.Reverse(wantEdited)
	for i := range wantEdited {
		wantEdited[i].Row = i + 2
	}
	for _, sep := range []rune{',', ';', '\t'} {
		csvData := rewriteCSV(t, data, sep, edited)
		if got := read(t, "ideas.csv", csvData); !slices.Equal(got, wantEdited) {
			t.Errorf("separated by %q:\n%+v\nwant\n%+v", sep, got, wantEdited)
		}
	}
	// Czech Excel's plain "CSV": Windows-1250, ';'.
	cp1250, err := charmap.Windows1250.NewEncoder().Bytes(rewriteCSV(t, writeCSV(t, rows[:1]), ';', func([][]string) {}))
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, "nápady.csv", cp1250); !slices.Equal(got, want[:1]) {
		t.Errorf("Windows-1250:\n%+v\nwant\n%+v", got, want[:1])
	}
	// Ukrainian in Windows-1251.
	r := rows[1]
	r.Forum, r.School, r.Town = "9-А", "Гімназія", "Київ" // letters Windows-1251 has
	r.StaffAnswer = "Дякуємо, розглянемо."
	cp1251, err := charmap.Windows1251.NewEncoder().Bytes(rewriteCSV(t, writeCSV(t, []export.Row{r}, export.WithLanguage("uk")), ';', func([][]string) {}))
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, "ідеї.csv", cp1251); len(got) != 1 || got[0].Answer != r.StaffAnswer || got[0].Status != r.Status {
		t.Errorf("Windows-1251: %+v", got)
	}
}

// Every refusal names its reason and the row at fault.
func TestReadDecisionsRefusals(t *testing.T) {
	rows := sampleRows()
	xlsx := writeXLSX(t, rows, nil)
	csvData := writeCSV(t, rows)
	xlsxEdit := func(change func(f *excelize.File)) []byte { return edit(t, xlsx, change) }
	csvEdit := func(change func([][]string)) []byte { return rewriteCSV(t, csvData, ',', change) }
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	for _, c := range []struct {
		name   string
		file   string
		data   []byte
		reason string
		row    int
	}{
		{"a PDF renamed", "ideas.xlsx", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nstream\n\x00\x01\x02"), flows.ImportNotSpreadsheet, 0},
		{"random bytes", "ideas.csv", random, flows.ImportNotSpreadsheet, 0},
		{"a zip that is no workbook", "ideas.xlsx", append([]byte("PK\x03\x04"), random...), flows.ImportNotSpreadsheet, 0},
		{"too large", "ideas.csv", append(slices.Clone(csvData), bytes.Repeat([]byte("x"), flows.MaxImportBytes)...), flows.ImportTooLarge, 0},
		{"no columns: a CSV of something else", "other.csv", []byte("name,town\nAnna,Kolín\n"), flows.ImportNoColumns, 0},
		{"no columns: the check code deleted", "ideas.xlsx", xlsxEdit(func(f *excelize.File) {
			last, _ := excelizeColumn(len(csHeaders))
			if err := f.RemoveCol(ideasSheet, last); err != nil {
				t.Fatal(err)
			}
		}), flows.ImportNoColumns, 0},
		{"no columns: the status twice", "ideas.xlsx", xlsxEdit(func(f *excelize.File) {
			if err := f.SetCellValue(ideasSheet, "A1", "Stav"); err != nil {
				t.Fatal(err)
			}
		}), flows.ImportNoColumns, 1},
		{"a formula in a status", "ideas.xlsx", xlsxEdit(func(f *excelize.File) {
			if err := f.SetCellFormula(ideasSheet, cellName(col("Status"), 4), `"Vybráno"`); err != nil {
				t.Fatal(err)
			}
		}), flows.ImportFormula, 4},
		{"a formula in an answer", "ideas.xlsx", xlsxEdit(func(f *excelize.File) {
			if err := f.SetCellFormula(ideasSheet, cellName(col("Answer to the student"), 6), `CONCAT("a","b")`); err != nil {
				t.Fatal(err)
			}
		}), flows.ImportFormula, 6},
		{"a formula under a title row with one", "ideas.xlsx", xlsxEdit(func(f *excelize.File) {
			if err := f.InsertRows(ideasSheet, 1, 1); err != nil {
				t.Fatal(err)
			}
			if err := f.SetCellFormula(ideasSheet, cellName(col("Status"), 1), `TODAY()`); err != nil {
				t.Fatal(err)
			}
			if err := f.SetCellFormula(ideasSheet, cellName(col("Status"), 6), `"Hotovo"`); err != nil {
				t.Fatal(err)
			}
		}), flows.ImportFormula, 6},
		{"a formula in a reference", "ideas.xlsx", xlsxEdit(func(f *excelize.File) {
			if err := f.SetCellFormula(ideasSheet, cellName(col("Reference"), 3), `"N-"&"ABCD"`); err != nil {
				t.Fatal(err)
			}
		}), flows.ImportFormula, 3},
		{"a formula in a CSV answer", "ideas.csv", csvEdit(func(recs [][]string) {
			recs[5][col("Answer to the student")] = "=HYPERLINK(\"http://evil.example\")"
		}), flows.ImportFormula, 6},
		{"a status not in the list", "ideas.xlsx", xlsxEdit(func(f *excelize.File) {
			set(t, f, ideasSheet, "Status", 3, "Hotovo?")
		}), flows.ImportBadStatus, 3},
		{"an empty status", "ideas.csv", csvEdit(func(recs [][]string) {
			recs[2][col("Status")] = ""
		}), flows.ImportBadStatus, 3},
		{"an answer too long", "ideas.xlsx", xlsxEdit(func(f *excelize.File) {
			set(t, f, ideasSheet, "Answer to the student", 5, strings.Repeat("á", flows.MaxStaffAnswer+1))
		}), flows.ImportAnswerTooLong, 5},
		{"a reference edited", "ideas.xlsx", xlsxEdit(func(f *excelize.File) {
			set(t, f, ideasSheet, "Reference", 4, "N-7K2Q") // another idea's reference
		}), flows.ImportChangedRef, 4},
		{"a reference deleted", "ideas.csv", csvEdit(func(recs [][]string) {
			recs[3][col("Reference")] = ""
		}), flows.ImportChangedRef, 4},
		{"an idea in two rows", "ideas.csv", csvEdit(func(recs [][]string) {
			recs[5] = slices.Clone(recs[2])
		}), flows.ImportRepeatedRef, 6},
	} {
		_, err := export.ReadDecisions(c.file, c.data)
		var ie *flows.ImportError
		if !errors.As(err, &ie) || ie.Reason != c.reason || ie.Row != c.row {
			t.Errorf("%s: %v, want %s in row %d", c.name, err, c.reason, c.row)
		}
	}
}

// Blank rows and rows of totals under the ideas are not ideas.
func TestReadDecisionsSkipsBlankRows(t *testing.T) {
	rows := sampleRows()[:2]
	data := edit(t, writeXLSX(t, rows, nil), func(f *excelize.File) {
		set(t, f, ideasSheet, "Title", 6, "Celkem")
		if err := f.SetCellFormula(ideasSheet, cellName(col("Latitude"), 6), "COUNTA(A2:A3)"); err != nil {
			t.Fatal(err)
		}
	})
	if got := read(t, "x.xlsx", data); !slices.Equal(got, decisionsOf(rows)) {
		t.Errorf("%+v", got)
	}
}

func TestReadLimited(t *testing.T) {
	data, err := export.ReadLimited(bytes.NewReader(make([]byte, flows.MaxImportBytes)))
	if err != nil || len(data) != flows.MaxImportBytes {
		t.Errorf("a file of the largest size: %d bytes, %v", len(data), err)
	}
	var ie *flows.ImportError
	if _, err := export.ReadLimited(bytes.NewReader(make([]byte, flows.MaxImportBytes+1))); !errors.As(err, &ie) || ie.Reason != flows.ImportTooLarge {
		t.Errorf("a byte over: %v", err)
	}
}
