package export_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/healthycities/napad/storage/export"
)

// Every export gives the day an idea came by default, never the time: a
// teacher who knows when a student was on the phone must not be able to tie
// an idea to them. The first sample idea came at 10:30:15 in Prague.
func TestExportDayByDefault(t *testing.T) {
	rows := sampleRows()[:1]
	for _, format := range []string{"csv", "geojson", "xlsx"} {
		var buf bytes.Buffer
		w, err := export.New(format, &buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rows[0]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got := exportedDate(t, format, buf.Bytes())
		if got != "2026-01-14" {
			t.Errorf("%s: date %q, want the day only, 2026-01-14", format, got)
		}
	}
}

// exportedDate is the first idea's date as a spreadsheet or a map shows it.
func exportedDate(t *testing.T, format string, data []byte) string {
	t.Helper()
	switch format {
	case "csv":
		return readCSV(t, data)[1][col("Date")]
	case "geojson":
		return decodeGeoJSON(t, data).Features[0].Properties["date"]
	}
	f := openXLSX(t, data, "")
	v, err := f.GetCellValue(export.IdeasSheetName(export.DefaultLanguage), cellName(col("Date"), 2))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(v)
}

// WithTime gives staff who need it the time too.
func TestExportTimeOnRequest(t *testing.T) {
	want := map[string]string{
		"csv": "2026-01-14T10:30:15+01:00", "geojson": "2026-01-14T10:30:15+01:00", "xlsx": "2026-01-14 10:30",
	}
	for format, want := range want {
		var buf bytes.Buffer
		w, err := export.New(format, &buf, nil, export.WithTime(true))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(sampleRows()[0]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := exportedDate(t, format, buf.Bytes()); got != want {
			t.Errorf("%s with the time: date %q, want %q", format, got, want)
		}
	}
}
