package export_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/healthycities/napad/storage/export"
)

func writeXLSX(t testing.TB, rows []export.Row, loc *time.Location, opts ...export.Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := export.NewXLSX(&buf, loc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if w.Count() != len(rows) {
		t.Errorf("Count() = %d, want %d", w.Count(), len(rows))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	return buf.Bytes()
}

// openXLSX opens an export in lang ("": the default, Czech) and checks its
// sheets: the summary, then the ideas.
func openXLSX(t testing.TB, data []byte, lang string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a workbook excelize can read: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	if lang == "" {
		lang = export.DefaultLanguage
	}
	if got, want := f.GetSheetList(), []string{export.SummarySheetName(lang), export.IdeasSheetName(lang)}; !slices.Equal(got, want) {
		t.Fatalf("sheets %v, want %v", got, want)
	}
	return f
}

// ideasSheet is the sheet of ideas of the default language, Czech.
var ideasSheet = export.IdeasSheetName(export.DefaultLanguage)

func cellName(col, row int) string {
	name, err := excelize.CoordinatesToCellName(col+1, row)
	if err != nil {
		panic(err)
	}
	return name
}

// The workbook's cell values, as Excel shows them, against a golden file.
func TestExportXLSXGolden(t *testing.T) {
	f := openXLSX(t, writeXLSX(t, sampleRows(), nil), "")
	rows, err := f.GetRows(ideasSheet)
	if err != nil {
		t.Fatal(err)
	}
	// One JSON array per row, so a diff shows which row changed.
	var got []byte
	for _, row := range rows {
		line, err := json.Marshal(row)
		if err != nil {
			t.Fatal(err)
		}
		got = append(append(got, line...), '\n')
	}
	golden(t, "ideas.xlsx.jsonl", got)
}

// Every value reads back as what was written, with its type: text as
// text (formula-like text too, never a formula), dates as Excel dates in
// the given location, coordinates as numbers.
func TestExportXLSXRoundTrip(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	rows := sampleRows()
	f := openXLSX(t, writeXLSX(t, rows, oslo, export.WithLanguage("en")), "en")
	sheet := export.IdeasSheetName("en")
	raw := excelize.Options{RawCellValue: true}
	for i, h := range enHeaders {
		if v, _ := f.GetCellValue(sheet, cellName(i, 1)); v != h {
			t.Errorf("header %d = %q, want %q", i, v, h)
		}
	}
	for i, r := range rows {
		n := i + 2
		texts := map[string]string{"Reference": r.Reference, "Forum": r.Forum, "School": r.School, "Town": r.Town,
			"Language": enLanguage[r.Language], "About": enScope[r.Scope], "Category": enCategory[r.Category],
			"What works": r.WorksWell, "What to improve": r.Improve, "Title": r.Title, "Description": r.Description,
			"Place": r.PlaceText, "Photo": map[bool]string{true: "Yes", false: "No"}[r.HasPhoto],
			"Wants to help": enYesNo[r.WantsToHelp], "Status": enStatus[r.Status], "Answer to the student": r.StaffAnswer,
			"Student (pseudonym)": r.Participant, "Channel": enChannel[r.Channel], "Check code": export.CheckCode(r.Reference)}
		for header, want := range texts {
			cell := cellName(col(header), n)
			got, err := f.GetCellValue(sheet, cell, raw)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s %s = %q, want %q", r.Reference, header, got, want)
			}
			if want == "" {
				continue
			}
			if typ, _ := f.GetCellType(sheet, cell); typ != excelize.CellTypeInlineString {
				t.Errorf("%s %s has type %v, want text", r.Reference, header, typ)
			}
			if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
				t.Errorf("%s %s is a formula %q", r.Reference, header, formula)
			}
		}

		// A real date: a number whose wall clock is the day in Oslo (the
		// time only with WithTime, see TestExportTimeOnRequest).
		v, _ := f.GetCellValue(sheet, cellName(col("Date"), n), raw)
		serial, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s date %q is not a number", r.Reference, v)
		}
		date, err := excelize.ExcelDateToTime(serial, false)
		if err != nil {
			t.Fatal(err)
		}
		wall := r.Date.In(oslo)
		want := time.Date(wall.Year(), wall.Month(), wall.Day(), 0, 0, 0, 0, time.UTC)
		if d := date.Sub(want); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("%s date %v, want %v", r.Reference, date, want)
		}

		for header, p := range map[string]*float64{"Latitude": r.Latitude, "Longitude": r.Longitude} {
			v, _ := f.GetCellValue(sheet, cellName(col(header), n), raw)
			if p == nil {
				if v != "" {
					t.Errorf("%s %s = %q, want empty", r.Reference, header, v)
				}
				continue
			}
			got, err := strconv.ParseFloat(v, 64)
			if err != nil || math.Abs(got-*p) > 1e-12 {
				t.Errorf("%s %s = %q, want %v", r.Reference, header, v, *p)
			}
			if typ, _ := f.GetCellType(sheet, cellName(col(header), n)); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
				t.Errorf("%s %s has type %v, want a number", r.Reference, header, typ)
			}
		}
	}
}

// The sheet is ready to work with: bold frozen header with a filter, date
// format on the dates, sensible widths.
func TestExportXLSXLayout(t *testing.T) {
	rows := sampleRows()
	data := writeXLSX(t, rows, nil)
	f := openXLSX(t, data, "")

	panes, err := f.GetPanes(ideasSheet)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v, want the first row frozen", panes)
	}

	styleOf := func(cell string) *excelize.Style {
		t.Helper()
		id, err := f.GetCellStyle(ideasSheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	for i, header := range enHeaders {
		if st := styleOf(cellName(i, 1)); st.Font == nil || !st.Font.Bold {
			t.Errorf("header %s is not bold", header)
		}
	}
	if st := styleOf("B2"); st.Font != nil && st.Font.Bold {
		t.Error("data rows are bold")
	}
	for n := 2; n <= len(rows)+1; n++ {
		st := styleOf(cellName(col("Date"), n))
		if st.CustomNumFmt == nil || *st.CustomNumFmt != export.XLSXDateFormat {
			t.Errorf("date in row %d has number format %v/%d, want %q", n, st.CustomNumFmt, st.NumFmt, export.XLSXDateFormat)
		}
		if typ, _ := f.GetCellType(ideasSheet, cellName(col("Date"), n)); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("date in row %d has cell type %v, want a number", n, typ)
		}
	}
	if v, _ := f.GetCellValue(ideasSheet, cellName(col("Date"), 2)); v != "2026-01-14" {
		t.Errorf("the first date shows %q, want 2026-01-14 (Prague)", v)
	}

	// The autofilter covers the header and every row: A1:T6 for 20 columns.
	last, err := excelize.ColumnNumberToName(len(enHeaders))
	if err != nil {
		t.Fatal(err)
	}
	rowsTo := len(rows) + 1
	var filter bool
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm._FilterDatabase" && dn.RefersTo == fmt.Sprintf("'%s'!$A$1:$%s$%d", ideasSheet, last, rowsTo) {
			filter = true
		}
	}
	if !filter {
		t.Errorf("no filter database name for A1:%s%d: %+v", last, rowsTo, f.GetDefinedName())
	}
	if sheet := sheetXML(t, data); !strings.Contains(sheet, fmt.Sprintf(`<autoFilter ref="A1:%s%d"`, last, rowsTo)) &&
		!strings.Contains(sheet, fmt.Sprintf(`<autoFilter ref="$A$1:$%s$%d"`, last, rowsTo)) {
		t.Errorf("no autoFilter A1:%s%d in the sheet XML", last, rowsTo)
	} else if strings.Contains(sheet, `filterMode="true"`) || strings.Contains(sheet, `filterMode="1"`) {
		t.Error("the sheet claims a filter is applied")
	}

	// Columns are described in order, as spreadsheet programs expect.
	var mins []int
	for _, m := range regexp.MustCompile(`<col min="(\d+)"`).FindAllStringSubmatch(sheetXML(t, data), -1) {
		n, _ := strconv.Atoi(m[1])
		mins = append(mins, n)
	}
	if len(mins) != len(enHeaders) || !slices.IsSorted(mins) {
		t.Errorf("<col> elements for columns %v, want 1 to %d in order", mins, len(enHeaders))
	}

	for header, min := range map[string]float64{"Reference": 9, "Forum": 20, "Date": 16, "Description": 50, "Answer to the student": 30} {
		name, err := excelize.ColumnNumberToName(col(header) + 1)
		if err != nil {
			t.Fatal(err)
		}
		if w, err := f.GetColWidth(ideasSheet, name); err != nil || w < min {
			t.Errorf("column %s (%s) width %v (%v), want at least %v", name, header, w, err, min)
		}
	}
}

func sheetXML(t *testing.T, data []byte) string {
	t.Helper()
	return zipFile(t, data, "xl/worksheets/sheet2.xml") // the ideas, after the summary
}

func TestExportXLSXEmpty(t *testing.T) {
	f := openXLSX(t, writeXLSX(t, nil, nil), "")
	rows, err := f.GetRows(ideasSheet)
	if err != nil || len(rows) != 1 {
		t.Errorf("empty export: %d rows (%v), want the header only", len(rows), err)
	}
}

// excelizeColumn is the name of the n-th column (1: A).
func excelizeColumn(n int) (string, error) { return excelize.ColumnNumberToName(n) }
