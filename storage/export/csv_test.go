package export_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
)

func writeCSV(t *testing.T, rows []export.Row, opts ...export.Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := export.NewCSV(&buf, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Count() != len(rows) {
		t.Errorf("Count() = %d, want %d", w.Count(), len(rows))
	}
	return buf.Bytes()
}

// readCSV parses an export as a spreadsheet program would, after checking
// and removing the byte order mark.
func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	rest, ok := bytes.CutPrefix(data, []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Fatalf("no UTF-8 byte order mark at the start: % x", data[:min(len(data), 8)])
	}
	records, err := csv.NewReader(bytes.NewReader(rest)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v", err)
	}
	return records
}

func TestExportCSVGolden(t *testing.T) {
	golden(t, "ideas.csv", writeCSV(t, sampleRows()))
}

func TestExportCSVRoundTrip(t *testing.T) {
	rows := sampleRows()
	data := writeCSV(t, rows, export.WithLanguage("en"))
	records := readCSV(t, data)
	if len(records) != len(rows)+1 {
		t.Fatalf("%d records, want header + %d", len(records), len(rows))
	}
	if got := strings.Join(records[0], "|"); got != strings.Join(enHeaders, "|") {
		t.Errorf("header %q", got)
	}
	for i, r := range rows {
		rec := records[i+1]
		if len(rec) != len(enHeaders) {
			t.Fatalf("row %d has %d cells", i, len(rec))
		}
		cell := func(header string) string {
			for j, h := range enHeaders {
				if h == header {
					return rec[j]
				}
			}
			t.Fatalf("no column %q", header)
			return ""
		}
		// Text that is not formula-like comes back exactly, Czech and
		// Ukrainian letters included. encoding/csv reads CRLF inside a
		// quoted field as LF, as spreadsheet programs do.
		for header, want := range map[string]string{
			"Reference": r.Reference, "Forum": r.Forum, "School": r.School, "Town": r.Town,
			"About": enScope[r.Scope], "Category": enCategory[r.Category], "Student (pseudonym)": r.Participant,
			"Status": enStatus[r.Status], "Check code": export.CheckCode(r.Reference),
		} {
			if got := cell(header); got != want {
				t.Errorf("%s %s = %q, want %q", r.Reference, header, got, want)
			}
		}
		if r.Reference == "N-ABCD" {
			if got := cell("What to improve"); got != "Автобуси їздять рідко" {
				t.Errorf("Ukrainian text came back as %q", got)
			}
			if got := cell("Answer to the student"); got != "Díky, řešíme s dopravcem." {
				t.Errorf("Czech text came back as %q", got)
			}
		}
		if want := r.Date.In(prague).Format(time.DateOnly); cell("Date") != want {
			t.Errorf("%s Date %q, want the day %s", r.Reference, cell("Date"), want)
		}
		if r.Latitude == nil && (cell("Latitude") != "" || cell("Longitude") != "") {
			t.Errorf("%s has coordinates %q, %q", r.Reference, cell("Latitude"), cell("Longitude"))
		}
	}
}

// Text a spreadsheet would run as a formula gets a leading apostrophe;
// numbers stay numbers.
func TestExportCSVFormulaInjection(t *testing.T) {
	cases := []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+SUM()", "'+SUM()"},
		{"-2+3", "'-2+3"},
		{"@cmd", "'@cmd"},
		{"\t=x", "'\t=x"},
		{"\r=x", "'\r=x"},
		{`=HYPERLINK("http://evil.example", "click")`, `'=HYPERLINK("http://evil.example", "click")`},
		{"a=1", "a=1"},
		{" =1", " =1"},
		{`say "hi", then go` + "\nhome", `say "hi", then go` + "\nhome"},
		{"'already", "'already"},
		{"", ""},
	}
	for _, c := range cases {
		r := sampleRows()[4]
		r.Title, r.Description, r.StaffAnswer = c.in, c.in, c.in
		rec := readCSV(t, writeCSV(t, []export.Row{r}))[1]
		// With CRLF line ends encoding/csv drops a lone \r; the apostrophe
		// is what matters and it stays.
		want := strings.ReplaceAll(c.want, "\r", "")
		for _, header := range []string{"Title", "Description", "Answer to the student"} {
			if got := rec[col(header)]; got != want {
				t.Errorf("%q in %s: got %q, want %q", c.in, header, got, want)
			}
		}
	}

	// Negative coordinates are numbers, never text with an apostrophe.
	r := sampleRows()[3]
	rec := readCSV(t, writeCSV(t, []export.Row{r}))[1]
	if lat, lon := rec[col("Latitude")], rec[col("Longitude")]; lat != "-33.8688" || lon != "-151.2093" {
		t.Errorf("coordinates %q, %q, want -33.8688, -151.2093", lat, lon)
	}
	if place := rec[col("Place")]; place != "'-" {
		t.Errorf("place %q, want '-", place)
	}
}

func TestExportCSVBytes(t *testing.T) {
	data := writeCSV(t, sampleRows()) // in Czech, by default
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBFKód,Fórum,Škola,")) {
		t.Errorf("does not start with a BOM and the header: %q", data[:min(len(data), 30)])
	}
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Error("the last line does not end with CRLF")
	}
	if n := bytes.Count(data, []byte("\n")); n != bytes.Count(data, []byte("\r\n")) {
		t.Errorf("%d line feeds, only %d of them after CR", n, bytes.Count(data, []byte("\r\n")))
	}
	// An export with no ideas is still a valid file with its header.
	empty := writeCSV(t, nil)
	if records := readCSV(t, empty); len(records) != 1 {
		t.Errorf("empty export has %d records", len(records))
	}
}

func TestExportCSVLocation(t *testing.T) {
	r := sampleRows()[0] // 2026-01-14 09:30:15 UTC
	withTime := export.WithTime(true)
	for _, c := range []struct {
		opts []export.Option
		want string
	}{
		{[]export.Option{withTime}, "2026-01-14T10:30:15+01:00"},
		{[]export.Option{export.WithLocation(time.UTC), withTime}, "2026-01-14T09:30:15Z"},
		{[]export.Option{export.WithLocation(time.FixedZone("X", -5*3600)), withTime}, "2026-01-14T04:30:15-05:00"},
		{[]export.Option{export.WithLocation(nil), withTime}, "2026-01-14T10:30:15+01:00"},
		// The day is the day where the city is.
		{[]export.Option{export.WithLocation(time.FixedZone("X", -10*3600))}, "2026-01-13"},
	} {
		if got := readCSV(t, writeCSV(t, []export.Row{r}, c.opts...))[1][col("Date")]; got != c.want {
			t.Errorf("date %q, want %q", got, c.want)
		}
	}
	// Summer time in Prague.
	r.Date = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	if got := readCSV(t, writeCSV(t, []export.Row{r}, withTime))[1][col("Date")]; got != "2026-07-01T14:00:00+02:00" {
		t.Errorf("summer date %q", got)
	}
}

func TestExportNewFormats(t *testing.T) {
	for _, f := range flows.ExportFormats {
		var buf bytes.Buffer
		w, err := export.New(strings.ToUpper(f), &buf, nil)
		if err != nil {
			t.Fatalf("New(%q): %v", f, err)
		}
		if err := w.Write(sampleRows()[0]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if w.Count() != 1 || buf.Len() == 0 {
			t.Errorf("%s: count %d, %d bytes", f, w.Count(), buf.Len())
		}
		if !export.IsFormat(f) {
			t.Errorf("IsFormat(%q) = false", f)
		}
	}
	if _, err := export.New("pdf", &bytes.Buffer{}, nil); err == nil {
		t.Error("New(pdf) succeeded")
	}
	if export.IsFormat("pdf") {
		t.Error("IsFormat(pdf) = true")
	}
}

// Excel in Czech and Norwegian splits a .csv on ';', and a cell there can
// start after a ';' or a line break inside a field: no such cell may start
// with a formula trigger, read with either separator, and the values come
// back as meant when read with ','.
func TestExportCSVSemicolonLocales(t *testing.T) {
	cases := []struct{ in, want string }{
		{"x;=1+1", "x;'=1+1"},
		{"x;+1", "x;'+1"},
		{"a,-1", "a,'-1"},
		{"a;@cmd", "a;'@cmd"},
		{"a;\t=x", "a;'\t=x"},
		{"line\n=1+1", "line\n'=1+1"},
		{"line\r\n=HYPERLINK(\"x\")", "line\n'=HYPERLINK(\"x\")"},
		{"=1;=2\n-3", "'=1;'=2\n'-3"},
		{"ok;fine", "ok;fine"},
		{"a; =1", "a; =1"},
	}
	var rows []export.Row
	for i, c := range cases {
		r := sampleRows()[4]
		r.Reference = fmt.Sprintf("N-S%03d", i)
		r.Forum, r.Title, r.Description, r.StaffAnswer = c.in, c.in, c.in, c.in
		rows = append(rows, r)
	}
	data := writeCSV(t, rows)
	if !bytes.Contains(data, []byte(`"ok;fine"`)) {
		t.Errorf("a field with ';' is not quoted: %q", data)
	}

	isCoord := map[int]bool{col("Latitude"): true, col("Longitude"): true}
	for _, sep := range []rune{',', ';'} {
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
		r.Comma, r.FieldsPerRecord, r.LazyQuotes = sep, -1, sep != ','
		records, err := r.ReadAll()
		if err != nil {
			t.Fatalf("read with %q: %v", sep, err)
		}
		for i, rec := range records {
			for j, cell := range rec {
				if cell == "" || (sep == ',' && isCoord[j]) {
					continue
				}
				if strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("read with %q, record %d cell %d starts a formula: %q", sep, i, j, cell)
				}
			}
		}
	}

	records := readCSV(t, data)
	for i, c := range cases {
		rec := records[i+1]
		for _, header := range []string{"Forum", "Title", "Description", "Answer to the student"} {
			if got := rec[col(header)]; got != c.want {
				t.Errorf("%q in %s: got %q, want %q", c.in, header, got, c.want)
			}
		}
	}
}
