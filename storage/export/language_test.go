package export_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
)

// The Czech headers, in order, as a city office in Kolín reads them.
var csHeaders = []string{
	"Kód", "Fórum", "Škola", "Město", "Datum", "Jazyk", "Týká se", "Oblast", "Co funguje", "Co zlepšit",
	"Název", "Popis", "Místo", "Zeměpisná šířka", "Zeměpisná délka", "Mapa", "Fotografie", "Chce pomoci",
	"Stav", "Odpověď žákovi", "Žák (pseudonym)", "Kanál", "Věková skupina", "Kontrolní kód",
}

func TestExportHeadersInCzech(t *testing.T) {
	got, err := export.Headers(export.WithLanguage("cs"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, csHeaders) {
		t.Errorf("Czech headers\n%q\nwant\n%q", got, csHeaders)
	}
	// With hidden ideas, "Skryto" says why, after the pseudonym.
	got, err = export.Headers(export.WithLanguage("cs"), export.WithHidden(true))
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Insert(slices.Clone(csHeaders), slices.Index(csHeaders, "Žák (pseudonym)")+1, "Skryto")
	if !slices.Equal(got, want) {
		t.Errorf("Czech headers with hidden ideas\n%q\nwant\n%q", got, want)
	}

	// The files carry them: CSV (by default in Czech) and XLSX.
	if rec := readCSV(t, writeCSV(t, sampleRows()))[0]; !slices.Equal(rec, csHeaders) {
		t.Errorf("CSV header %q", rec)
	}
	f := openXLSX(t, writeXLSX(t, sampleRows(), nil, export.WithLanguage("cs")), "cs")
	rows, err := f.GetRows("Nápady")
	if err != nil || len(rows) != 6 || !slices.Equal(rows[0], csHeaders) {
		t.Errorf("XLSX header %q (%v)", rows, err)
	}
}

// Every coded value is a word in the file's language: the Ukrainian idea's
// language is "ukrajinština" in Czech, "ukrainsk" in Norwegian.
func TestExportWordsInTheFilesLanguage(t *testing.T) {
	r := sampleRows()[1] // uk, town, transport, wants to help: maybe, under_review, web
	r.Hidden = flows.HideOffTopic
	for _, c := range []struct {
		lang string
		want map[int]string // by position in an export with hidden ideas
	}{
		{"cs", map[int]string{5: "ukrajinština", 6: "Město", 7: "Doprava a bezpečnost", 16: "Ne", 17: "Možná", 18: "Posuzuje se", 21: "Mimo téma", 22: "Web (prohlížeč)"}},
		{"en", map[int]string{5: "Ukrainian", 6: "Town", 7: "Transport and safety", 16: "No", 17: "Maybe", 18: "Under review", 21: "Off topic", 22: "Web (browser)"}},
		{"nb", map[int]string{5: "ukrainsk", 6: "Kommune", 7: "Trafikk og trygghet", 16: "Nei", 17: "Kanskje", 18: "Til vurdering", 21: "Utenfor tema", 22: "Nettleser"}},
		{"uk", map[int]string{5: "українська", 6: "Місто", 7: "Транспорт і безпека", 16: "Ні", 17: "Можливо", 18: "На розгляді", 21: "Не на тему", 22: "Веб (браузер)"}},
	} {
		opts := []export.Option{export.WithLanguage(c.lang), export.WithHidden(true)}
		rec := readCSV(t, writeCSV(t, []export.Row{r}, opts...))[1]
		f := openXLSX(t, writeXLSX(t, []export.Row{r}, nil, opts...), c.lang)
		cells, err := f.GetRows(export.IdeasSheetName(c.lang))
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range c.want {
			if rec[i] != want {
				t.Errorf("%s CSV cell %d = %q, want %q", c.lang, i, rec[i], want)
			}
			if cells[1][i] != want {
				t.Errorf("%s XLSX cell %d = %q, want %q", c.lang, i, cells[1][i], want)
			}
		}
	}
	// A visible idea's "Hidden" cell is empty.
	r.Hidden = ""
	if rec := readCSV(t, writeCSV(t, []export.Row{r}, export.WithHidden(true)))[1]; rec[21] != "" {
		t.Errorf("a visible idea is hidden: %q", rec[21])
	}
}

// An idea with a pin links to it on OpenStreetMap: the address in CSV, a
// link in XLSX; without a pin the cell is empty.
func TestExportMapLink(t *testing.T) {
	rows := sampleRows()
	const want = "https://www.openstreetmap.org/?mlat=50.0280631&mlon=15.2001154#map=18/50.0280631/15.2001154"
	recs := readCSV(t, writeCSV(t, rows))
	if got := recs[1][col("Map")]; got != want {
		t.Errorf("CSV map %q, want %q", got, want)
	}
	if got := recs[2][col("Map")]; got != "" {
		t.Errorf("CSV map without a pin %q", got)
	}
	f := openXLSX(t, writeXLSX(t, rows, nil), "")
	cell := cellName(col("Map"), 2)
	if v, _ := f.GetCellValue(ideasSheet, cell); v != want {
		t.Errorf("XLSX map shows %q, want %q", v, want)
	}
	if formula, _ := f.GetCellFormula(ideasSheet, cell); formula != `HYPERLINK("`+want+`")` {
		t.Errorf("XLSX map formula %q", formula)
	}
	if v, _ := f.GetCellValue(ideasSheet, cellName(col("Map"), 3)); v != "" {
		t.Errorf("XLSX map without a pin %q", v)
	}
}

// The check code is the last column, hidden in XLSX, and changes with the
// reference (whatever its case and spaces).
func TestExportCheckCode(t *testing.T) {
	a, b := export.CheckCode("N-7K2Q"), export.CheckCode("N-7K2R")
	if len(a) != 6 || a == b || export.CheckCode(" n-7k2q ") != a {
		t.Errorf("check codes %q %q %q", a, b, export.CheckCode(" n-7k2q "))
	}
	f := openXLSX(t, writeXLSX(t, sampleRows(), nil), "")
	last, _ := excelizeColumn(len(csHeaders))
	if visible, err := f.GetColVisible(ideasSheet, last); err != nil || visible {
		t.Errorf("check code column %s visible %v (%v)", last, visible, err)
	}
	if v, _ := f.GetCellValue(ideasSheet, last+"2"); v != export.CheckCode("N-7K2Q") {
		t.Errorf("check code %q", v)
	}
	for i := 1; i < len(csHeaders); i++ {
		name, _ := excelizeColumn(i)
		if visible, _ := f.GetColVisible(ideasSheet, name); !visible {
			t.Errorf("column %s is hidden", name)
		}
	}
}

func TestExportRefusesUnknownLanguage(t *testing.T) {
	for _, format := range flows.ExportFormats {
		if _, err := export.New(format, &bytes.Buffer{}, nil, export.WithLanguage("de")); err == nil {
			t.Errorf("%s export in German accepted", format)
		}
	}
	if export.IsLanguage("de") || !export.IsLanguage("nb") {
		t.Error("IsLanguage is wrong")
	}
}

// The words of every language can be read back by the import: no header
// or status means two things in any of the languages, and none holds a
// ',' (the drop-down list's separator) or a ';'.
func TestExportWordsAreUnambiguous(t *testing.T) {
	headers := map[string]int{} // normalized header -> column position
	for _, lang := range flows.Languages {
		h, err := export.Headers(export.WithLanguage(lang), export.WithHidden(true))
		if err != nil {
			t.Fatal(err)
		}
		for i, label := range h {
			key := strings.ToLower(label)
			if j, ok := headers[key]; ok && j != i {
				t.Errorf("%s: header %q names columns %d and %d", lang, label, i, j)
			}
			headers[key] = i
			if strings.ContainsAny(label, ",;\"") {
				t.Errorf("%s: header %q holds a separator", lang, label)
			}
		}
	}
	statuses := map[string]string{}
	for _, lang := range flows.Languages {
		var buf bytes.Buffer
		w, err := export.NewCSV(&buf, export.WithLanguage(lang))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range flows.Statuses {
			r := sampleRows()[4]
			r.Status = s
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		for i, rec := range readCSV(t, buf.Bytes())[1:] {
			word := strings.ToLower(rec[col("Status")])
			if code, ok := statuses[word]; ok && code != flows.Statuses[i] {
				t.Errorf("%s: status word %q means %s and %s", lang, word, code, flows.Statuses[i])
			}
			statuses[word] = flows.Statuses[i]
			if strings.ContainsAny(word, ",;\"") {
				t.Errorf("%s: status %q holds a separator", lang, word)
			}
		}
	}
}
