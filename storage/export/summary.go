package export

import (
	"fmt"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/healthycities/napad/flows"
)

// summary counts the ideas as they stream past, for the XLSX export's
// first sheet: per forum (in the order forums first appear), category,
// scope, status and channel. It holds one number per forum and code, never rows.
type summary struct {
	total   int
	forums  []string
	byForum map[string]int
	byCode  map[string]map[string]int // by column key: code → ideas
}

// summaryTables are the coded columns the summary counts, in its order,
// each with every code (zeros too, so a chart's bars are always the same).
var summaryTables = []struct {
	key   string
	codes []string
}{
	{colCategory, flows.Categories},
	{colScope, flows.Scopes},
	{colStatus, flows.Statuses},
	{colChannel, flows.Channels},
	{colAge, flows.AgeBands}, // only where students were asked (see writeSummary)
}

// colAge is the age group's column: an answer kept in Row.More.
const colAge = string(flows.StepAge)

func newSummary() summary {
	s := summary{byForum: map[string]int{}, byCode: map[string]map[string]int{}}
	for _, t := range summaryTables {
		s.byCode[t.key] = map[string]int{}
	}
	return s
}

func (s *summary) add(r *Row) {
	s.total++
	if _, seen := s.byForum[r.Forum]; !seen {
		s.forums = append(s.forums, r.Forum)
	}
	s.byForum[r.Forum]++
	s.byCode[colCategory][r.Category]++
	s.byCode[colScope][r.Scope]++
	s.byCode[colStatus][r.Status]++
	s.byCode[colChannel][r.Channel]++
	if band := r.More[colAge]; band != "" {
		s.byCode[colAge][band]++
	}
}

// writeSummary fills the first sheet: a table per count, one under the
// other (a bold header row: what is counted, and the number of ideas), the
// forums' with a total, and beside them a column chart of the categories.
func (x *XLSXWriter) writeSummary() error {
	f, sheet, l := x.f, x.labels.summarySheet, x.labels
	if err := f.SetColWidth(sheet, "A", "A", 32); err != nil {
		return err
	}
	if err := f.SetColWidth(sheet, "B", "B", 16); err != nil {
		return err
	}
	totalStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	row := 1
	put := func(label string, n int, style int) error {
		a, b := "A"+strconv.Itoa(row), "B"+strconv.Itoa(row)
		if err := f.SetCellStr(sheet, a, label); err != nil {
			return err
		}
		if style == x.headerStyle {
			if err := f.SetCellStr(sheet, b, l.count); err != nil {
				return err
			}
		} else if err := f.SetCellInt(sheet, b, int64(n)); err != nil {
			return err
		}
		if style != 0 {
			if err := f.SetCellStyle(sheet, a, b, style); err != nil {
				return err
			}
		}
		row++
		return nil
	}
	if err := put(l.header(columnByKey(colForum)), 0, x.headerStyle); err != nil {
		return err
	}
	for _, forum := range x.sum.forums {
		if err := put(forum, x.sum.byForum[forum], 0); err != nil {
			return err
		}
	}
	if err := put(l.total, x.sum.total, totalStyle); err != nil {
		return err
	}
	var catFirst int // the categories' first row, for the chart
	for _, t := range summaryTables {
		if t.key == colAge && len(x.sum.byCode[colAge]) == 0 {
			continue // a deployment that asks no age has no age groups to count
		}
		row++ // an empty row between tables
		if err := put(l.header(columnByKey(t.key)), 0, x.headerStyle); err != nil {
			return err
		}
		if t.key == colCategory {
			catFirst = row
		}
		for _, code := range t.codes {
			if err := put(l.word(t.key, code), x.sum.byCode[t.key][code], 0); err != nil {
				return err
			}
		}
	}
	// Quoted: the sheet's name may hold spaces or letters beyond ASCII.
	ref := func(col string, from, to int) string {
		return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", sheet, col, from, col, to)
	}
	catLast := catFirst + len(flows.Categories) - 1
	// Printed, the summary is one landscape page, the chart beside the
	// tables: what a city office hands round at a meeting.
	fit, landscape, vary := true, "landscape", false
	one := 1
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, FitToWidth: &one, FitToHeight: &one}); err != nil {
		return err
	}
	// Bars, not columns: the categories' names are long, and read across.
	// Reversed, they stand in the tables' order, top to bottom.
	return f.AddChart(sheet, "D2", &excelize.Chart{
		Type:       excelize.Bar,
		VaryColors: &vary,
		// Black labels: excelize's default grey is hard to read printed.
		XAxis: excelize.ChartAxis{ReverseOrder: true, Font: excelize.Font{Color: "000000", Size: 10}},
		YAxis: excelize.ChartAxis{MajorGridLines: true, Font: excelize.Font{Color: "000000", Size: 10}},
		Series: []excelize.ChartSeries{{
			Name:       fmt.Sprintf("'%s'!$B$%d", sheet, catFirst-1),
			Categories: ref("A", catFirst, catLast),
			Values:     ref("B", catFirst, catLast),
		}},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: l.chart}}},
		Legend:    excelize.ChartLegend{Position: "none"},
		Dimension: excelize.ChartDimension{Width: 640, Height: 400},
	})
}

// validateStatuses gives the Status column a drop-down of the statuses in
// the file's language, refusing anything else, for every idea's row.
func (x *XLSXWriter) validateStatuses() error {
	if x.row < 2 {
		return nil
	}
	col := -1
	for i := range x.cols {
		if x.cols[i].key == colStatus {
			col = i + 1
		}
	}
	name, err := excelize.ColumnNumberToName(col)
	if err != nil {
		return err
	}
	dv := excelize.NewDataValidation(true)
	dv.Sqref = fmt.Sprintf("%s2:%s%d", name, name, x.row)
	if err := dv.SetDropList(x.labels.statuses()); err != nil {
		return err
	}
	dv.ShowErrorMessage = true
	return x.f.AddDataValidation(x.labels.ideasSheet, dv)
}
