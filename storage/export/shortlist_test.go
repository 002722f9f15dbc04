package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
)

// sampleShortlists are two forums' ranked shortlists: an item written in
// two languages merging two ideas, and a title that would start a formula.
func sampleShortlists() []export.ForumShortlist {
	return []export.ForumShortlist{
		{Forum: "8.B – ZŠ Komenského", Town: "Kolín", Phase: flows.PhaseResults, Items: []export.ShortlistItem{
			{Item: 2, Rank: 1, Votes: 5, Texts: map[string]flows.ItemText{"cs": {Title: "Stín a lavičky"}, "en": {Title: "Shade and benches"}}, Ideas: []string{"N-AAAA", "N-BBBB"}},
			{Item: 1, Rank: 2, Votes: 3, Texts: map[string]flows.ItemText{"uk": {Title: "Питна вода; фонтанчик"}}, Ideas: []string{"N-CCCC"}},
		}},
		{Forum: "9.A", Phase: flows.PhaseVoting, Items: []export.ShortlistItem{
			{Item: 1, Rank: 1, Votes: 0, Texts: map[string]flows.ItemText{"nb": {Title: "=HYPERLINK(\"x\")"}}, Ideas: []string{"N-DDDD"}},
		}},
	}
}

// shortlistCell is the cell of column header in a shortlist record.
func shortlistCell(t *testing.T, rec []string, header string) string {
	t.Helper()
	i := slices.Index(export.ShortlistHeaders, header)
	if i < 0 {
		t.Fatalf("no shortlist column %q in %v", header, export.ShortlistHeaders)
	}
	return rec[i]
}

// The shortlist CSV reads back with ',' (RFC 4180): one row per item,
// counts as numbers, merged ideas listed, a title in every language
// written; read with ';' (Czech and Norwegian Excel) no cell starts a formula.
func TestShortlistCSVReadsBack(t *testing.T) {
	var buf bytes.Buffer
	n, err := export.WriteShortlistCSV(&buf, sampleShortlists())
	if err != nil || n != 3 {
		t.Fatalf("wrote %d items: %v", n, err)
	}
	records := readCSV(t, buf.Bytes())
	if !slices.Equal(records[0], export.ShortlistHeaders) || len(records) != 4 {
		t.Fatalf("records %q", records)
	}
	first := records[1]
	for header, want := range map[string]string{"Forum": "8.B – ZŠ Komenského", "Phase": "results", "Item": "2", "Rank": "1", "Votes": "5",
		"Title (cs)": "Stín a lavičky", "Title (en)": "Shade and benches", "Title (uk)": "", "Merged ideas": "N-AAAA, N-BBBB"} {
		if got := shortlistCell(t, first, header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	if got := shortlistCell(t, records[3], "Title (nb)"); got != `'=HYPERLINK("x")` {
		t.Errorf("a formula is neutralised: %q", got)
	}
	semicolon := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF"))))
	semicolon.Comma, semicolon.FieldsPerRecord, semicolon.LazyQuotes = ';', -1, true
	bySemicolon, err := semicolon.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(bySemicolon) != 4 {
		t.Errorf("read with ';': %q", bySemicolon)
	}
	for _, rec := range bySemicolon {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("read with ';', a cell starts a formula: %q", cell)
			}
		}
	}
}

// The results JSON has every forum's items with rank, votes, texts and
// ideas, and nothing that names a participant.
func TestResultsJSONReadsBack(t *testing.T) {
	var buf bytes.Buffer
	if n, err := export.WriteResultsJSON(&buf, sampleShortlists()); err != nil || n != 3 {
		t.Fatalf("wrote %d items: %v", n, err)
	}
	var got struct{ Forums []export.ForumShortlist }
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := sampleShortlists()
	if len(got.Forums) != 2 || got.Forums[0].Items[0].Texts["en"].Title != "Shade and benches" || got.Forums[0].Items[1].Votes != 3 ||
		!slices.Equal(got.Forums[0].Items[0].Ideas, want[0].Items[0].Ideas) || got.Forums[1].Phase != "voting" {
		t.Errorf("results %+v", got)
	}
	if strings.Contains(buf.String(), "participant") {
		t.Errorf("a participant in the results:\n%s", buf.String())
	}
	buf.Reset()
	if _, err := export.WriteResultsJSON(&buf, nil); err != nil || strings.TrimSpace(buf.String()) != "{\n  \"forums\": []\n}" {
		t.Errorf("no shortlists: %q %v", buf.String(), err)
	}
}

// An XLSX export with the shortlists has them on a second sheet,
// "Shortlist", after the ideas: counts as numbers, a title per language.
func TestXLSXShortlistSheet(t *testing.T) {
	var buf bytes.Buffer
	w, err := export.NewXLSX(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sampleRows() {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.SetShortlist(sampleShortlists())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{export.SummarySheetName("cs"), export.IdeasSheetName("cs"), export.ShortlistSheetName}) {
		t.Fatalf("sheets %v", got)
	}
	ideas, err := f.GetRows(export.IdeasSheetName("cs"))
	if err != nil || len(ideas) != len(sampleRows())+1 {
		t.Fatalf("the ideas sheet has %d rows: %v", len(ideas), err)
	}
	rows, err := f.GetRows(export.ShortlistSheetName)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], export.ShortlistHeaders) {
		t.Fatalf("shortlist rows %q", rows)
	}
	if got := shortlistCell(t, rows[1], "Title (en)"); got != "Shade and benches" {
		t.Errorf("title %q", got)
	}
	votes := slices.Index(export.ShortlistHeaders, "Votes")
	cell, err := excelize.CoordinatesToCellName(votes+1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if typ, err := f.GetCellType(export.ShortlistSheetName, cell); err != nil || typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
		t.Errorf("votes are a number, not text: %v %v", typ, err)
	}
	if got, _ := f.GetCellValue(export.ShortlistSheetName, cell); got != "5" {
		t.Errorf("votes %q", got)
	}
}
