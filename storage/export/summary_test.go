package export_test

import (
	"archive/zip"
	"bytes"
	"html"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/healthycities/napad/storage/export"
)

// zipFile is one part of an XLSX file, "" when it has none.
func zipFile(t *testing.T, data []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The workbook opens on the summary: ideas per forum with a total, per
// category, scope, status and channel (every one, zeros too), with bold headers,
// and a chart of the categories beside them.
func TestExportXLSXSummary(t *testing.T) {
	rows := sampleRows()
	rows = append(rows, rows[0], rows[1]) // a forum with three ideas, one with two
	data := writeXLSX(t, rows, nil, export.WithLanguage("cs"))
	f := openXLSX(t, data, "cs")
	got, err := f.GetRows("Přehled")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Fórum", "Počet nápadů"},
		{"8.B – ZŠ Komenského", "2"},
		{"9.A – Gymnázium", "2"},
		{"Ungdomsrådet", "1"},
		{`Forum "A", 7.C`, "1"},
		{"7.B", "1"},
		{"Celkem", "7"},
		nil,
		{"Oblast", "Počet nápadů"},
		{"Život ve škole", "1"},
		{"Příroda a životní prostředí", "0"},
		{"Doprava a bezpečnost", "2"},
		{"Sport a volný čas", "1"},
		{"Kultura a akce", "0"},
		{"Veřejný prostor", "2"},
		{"Lidé a komunita", "0"},
		{"Jiné", "1"},
		nil,
		{"Týká se", "Počet nápadů"},
		{"Škola", "4"},
		{"Město", "2"},
		{"Škola i město", "1"},
		nil,
		{"Stav", "Počet nápadů"},
		{"Nový", "2"},
		{"Posuzuje se", "2"},
		{"Vybráno", "1"},
		{"Realizuje se", "0"},
		{"Hotovo", "1"},
		{"Nelze realizovat", "1"},
		{"Duplicita", "0"},
		nil,
		{"Kanál", "Počet nápadů"},
		{"Telegram", "4"},
		{"Web (prohlížeč)", "3"},
	}
	if len(got) != len(want) {
		t.Fatalf("summary has %d rows, want %d:\n%q", len(got), len(want), got)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) && !(want[i] == nil && len(got[i]) == 0) {
			t.Errorf("summary row %d = %q, want %q", i+1, got[i], want[i])
		}
	}
	// Counts are numbers; headers and the total are bold.
	if typ, _ := f.GetCellType("Přehled", "B2"); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Errorf("a count has cell type %v", typ)
	}
	for _, cell := range []string{"A1", "B1", "A7", "A9", "B9", "A19", "A24", "A33"} {
		id, _ := f.GetCellStyle("Přehled", cell)
		if st, err := f.GetStyle(id); err != nil || st.Font == nil || !st.Font.Bold {
			t.Errorf("%s is not bold", cell)
		}
	}

	// The chart: a drawing on the summary sheet with a bar chart of the
	// categories' rows (excelize cannot read charts back, so the parts
	// are checked in the file itself).
	chart := html.UnescapeString(zipFile(t, data, "xl/charts/chart1.xml"))
	if !strings.Contains(chart, "<barChart>") || !strings.Contains(chart, `<barDir val="bar">`) {
		t.Fatalf("no bar chart in the workbook:\n%.500s", chart)
	}
	for _, ref := range []string{"'Přehled'!$A$10:$A$17", "'Přehled'!$B$10:$B$17", "Nápady podle oblasti"} {
		if !strings.Contains(chart, ref) {
			t.Errorf("the chart does not hold %s", ref)
		}
	}
	if sheet := zipFile(t, data, "xl/worksheets/sheet1.xml"); !strings.Contains(sheet, "<drawing ") {
		t.Error("the summary sheet shows no drawing")
	}
	if rels := zipFile(t, data, "xl/drawings/_rels/drawing1.xml.rels"); !strings.Contains(rels, "charts/chart1.xml") {
		t.Errorf("the drawing does not show the chart: %s", rels)
	}
}

// An empty export still has a summary with zeros and its chart.
func TestExportXLSXSummaryEmpty(t *testing.T) {
	data := writeXLSX(t, nil, nil)
	f := openXLSX(t, data, "")
	if v, _ := f.GetCellValue("Přehled", "B2"); v != "0" {
		t.Errorf("total of an empty export %q", v)
	}
	if zipFile(t, data, "xl/charts/chart1.xml") == "" {
		t.Error("no chart")
	}
}

// The Status column offers exactly the statuses in the file's language,
// for every idea's row, and refuses others; the headers of the two columns
// staff may change are marked with a fill.
func TestExportXLSXStatusDropDown(t *testing.T) {
	rows := sampleRows()
	for lang, words := range map[string]string{
		"cs": `"Nový,Posuzuje se,Vybráno,Realizuje se,Hotovo,Nelze realizovat,Duplicita"`,
		"en": `"New,Under review,Selected,In progress,Done,Not feasible,Duplicate"`,
		"nb": `"Ny,Til vurdering,Valgt ut,Under arbeid,Gjennomført,Ikke gjennomførbar,Duplikat"`,
		"uk": `"Нова,На розгляді,Обрано,Виконується,Виконано,Неможливо реалізувати,Дублікат"`,
	} {
		f := openXLSX(t, writeXLSX(t, rows, nil, export.WithLanguage(lang)), lang)
		sheet := export.IdeasSheetName(lang)
		dvs, err := f.GetDataValidations(sheet)
		if err != nil {
			t.Fatal(err)
		}
		status, _ := excelizeColumn(col("Status") + 1)
		if len(dvs) != 1 || dvs[0].Type != "list" || dvs[0].Formula1 != words || !dvs[0].ShowErrorMessage ||
			dvs[0].Sqref != status+"2:"+status+"6" {
			t.Errorf("%s: validations %+v, want a list %s on %s2:%s6", lang, dvs, words, status, status)
		}
		for i := range enHeaders {
			id, _ := f.GetCellStyle(sheet, cellName(i, 1))
			st, err := f.GetStyle(id)
			if err != nil {
				t.Fatal(err)
			}
			marked := len(st.Fill.Color) > 0
			if editable := i == col("Status") || i == col("Answer to the student"); marked != editable {
				t.Errorf("%s: header %d (%s) marked %v", lang, i, enHeaders[i], marked)
			}
		}
	}
}

// Where students were asked their age group, the summary counts the ideas
// per group, and each idea's row says its group.
func TestExportXLSXSummaryByAge(t *testing.T) {
	rows := sampleRows()
	rows[0].More = map[string]string{"age": "13-14"}
	rows[1].More = map[string]string{"age": "16-17"}
	rows[2].More = map[string]string{"age": "16-17"}
	f := openXLSX(t, writeXLSX(t, rows, nil, export.WithLanguage("cs")), "cs")
	got, err := f.GetRows("Přehled")
	if err != nil {
		t.Fatal(err)
	}
	at := slices.IndexFunc(got, func(r []string) bool { return len(r) > 0 && r[0] == "Věková skupina" })
	if at < 0 || len(got) < at+6 {
		t.Fatalf("no age table in the summary: %q", got)
	}
	want := [][]string{{"12-", "0"}, {"13-14", "1"}, {"15", "0"}, {"16-17", "2"}, {"18+", "0"}}
	for i, w := range want {
		if !slices.Equal(got[at+1+i], w) {
			t.Errorf("age row %d: %q, want %q", i, got[at+1+i], w)
		}
	}
}
