package export

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// XLSXDateFormat is the number format of the Date column: a real Excel
// date, so staff can sort and filter by it; the day only unless WithTime
// asks for the time (XLSXTimeFormat, shown without seconds).
const (
	XLSXDateFormat = "yyyy-mm-dd"
	XLSXTimeFormat = "yyyy-mm-dd hh:mm"
)

// editableFill is the background of the headers of the columns staff may
// change and send back (Status, Answer to the student): a light yellow.
const editableFill = "FFF2CC"

// XLSXWriter writes ideas to an Excel workbook in the staff's language:
// first a summary (ideas per forum, category, scope, status and channel,
// with a chart of the categories), then the ideas: a bold, frozen header row with
// an autofilter, real dates, numeric coordinates, a link to the map, a
// drop-down of the statuses and, hidden, each reference's check code.
// Ideas stream to a temporary file as they come (excelize's StreamWriter
// keeps at most 16 MB in memory) and only their counts are kept, so memory
// stays flat however many ideas there are; Close writes the summary,
// assembles the workbook and writes it out.
//
// Text is stored as inline strings, which Excel never evaluates, so unlike
// the CSV export no apostrophe is needed against formula injection and the
// cells hold exactly what the student wrote. The one formula is the map
// link's HYPERLINK of two numbers.
type XLSXWriter struct {
	w          io.Writer
	f          *excelize.File
	sw         *excelize.StreamWriter
	opts       options
	labels     *labels
	cols       []column
	dateStyle  int
	coordStyle int
	linkStyle  int
	row        int // last row written; 1 is the header
	r          Row // the row being written, where the columns read it
	vals       []any
	closed     bool
	sum        summary
	// headerStyle is the header rows' style; shortlist, what Close writes
	// on the last sheet.
	headerStyle int
	shortlist   []ForumShortlist
}

// NewXLSX starts a workbook that Close writes to w. Dates are shown in loc
// (nil means Europe/Prague, or what a WithLocation option says): Excel dates
// carry no time zone. They are days unless WithTime asks for the time.
func NewXLSX(w io.Writer, loc *time.Location, opts ...Option) (*XLSXWriter, error) {
	o := buildOptions(append([]Option{WithLocation(loc)}, opts...))
	l, err := labelsFor(o.lang)
	if err != nil {
		return nil, fmt.Errorf("export xlsx: %w", err)
	}
	x := &XLSXWriter{w: w, f: excelize.NewFile(), opts: o, labels: l, cols: columnsFor(&o), sum: newSummary()}
	x.vals = make([]any, len(x.cols))
	if err := x.start(); err != nil {
		_ = x.f.Close()
		return nil, fmt.Errorf("export xlsx: %w", err)
	}
	return x, nil
}

func (x *XLSXWriter) start() error {
	f := x.f
	// The summary comes first, so it is what a workbook opens on; it is
	// written at Close, when the counts are known.
	if err := f.SetSheetName(f.GetSheetName(0), x.labels.summarySheet); err != nil {
		return err
	}
	if _, err := f.NewSheet(x.labels.ideasSheet); err != nil {
		return err
	}
	var err error
	bottom := []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}
	if x.headerStyle, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Border: bottom}); err != nil {
		return err
	}
	editableStyle, err := f.NewStyle(&excelize.Style{
		Font: &excelize.Font{Bold: true}, Border: bottom,
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{editableFill}},
	})
	if err != nil {
		return err
	}
	dateFmt := XLSXDateFormat
	if x.opts.withTime {
		dateFmt = XLSXTimeFormat
	}
	if x.dateStyle, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
		return err
	}
	// Six decimals is about 10 cm, as precise as a phone's pin gets.
	coordFmt := "0.000000"
	if x.coordStyle, err = f.NewStyle(&excelize.Style{CustomNumFmt: &coordFmt}); err != nil {
		return err
	}
	if x.linkStyle, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "0563C1", Underline: "single"}}); err != nil {
		return err
	}
	if x.sw, err = f.NewStreamWriter(x.labels.ideasSheet); err != nil {
		return err
	}
	// Column widths, visibility and panes must be set before the first
	// row is streamed. excelize puts each column it is told about before
	// those it knew, and spreadsheet programs expect them in order: so the
	// last column goes first.
	for i := len(x.cols) - 1; i >= 0; i-- {
		if err := x.sw.SetColWidth(i+1, i+1, x.cols[i].width); err != nil {
			return err
		}
		if x.cols[i].hidden {
			if err := x.sw.SetColVisible(i+1, i+1, false); err != nil {
				return err
			}
		}
	}
	if err := x.sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}
	header := make([]any, len(x.cols))
	for i := range x.cols {
		style := x.headerStyle
		if x.cols[i].editable {
			style = editableStyle
		}
		header[i] = excelize.Cell{StyleID: style, Value: x.labels.header(&x.cols[i])}
	}
	x.row = 1
	return x.sw.SetRow("A1", header)
}

// Write adds one idea as the next row.
func (x *XLSXWriter) Write(r Row) error {
	if x.closed {
		return errors.New("export xlsx: write after close")
	}
	x.r = r
	for i := range x.cols {
		x.vals[i] = x.cell(&x.cols[i])
	}
	x.row++
	if err := x.sw.SetRow("A"+strconv.Itoa(x.row), x.vals); err != nil {
		return fmt.Errorf("export xlsx: %s: %w", r.Reference, err)
	}
	x.sum.add(&r)
	return nil
}

// cell is column c's cell in the row being written: text as an inline
// string, a date as a real Excel date, a coordinate as a number, a link as
// a HYPERLINK formula showing its address, and no cell at all (rather than
// an empty text cell) for a missing value.
func (x *XLSXWriter) cell(c *column) any {
	switch {
	case c.date != nil:
		t := c.date(&x.r)
		if t.IsZero() {
			return nil
		}
		// Excel dates have no zone: the wall clock in loc is what staff
		// expect. Seconds are enough, and sub-second fractions would only
		// show up as rounding noise. Without the time, the cell holds the
		// day's midnight, so the time is not in the file at all.
		t = t.In(x.opts.loc)
		if !x.opts.withTime {
			return excelize.Cell{StyleID: x.dateStyle, Value: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, x.opts.loc)}
		}
		return excelize.Cell{StyleID: x.dateStyle, Value: t.Truncate(time.Second)}
	case c.coord != nil:
		v := c.coord(&x.r)
		if v == nil {
			return nil
		}
		return excelize.Cell{StyleID: x.coordStyle, Value: *v}
	case c.link:
		// A formula rather than the sheet's hyperlink list: that list is
		// kept in memory until Close, one entry per pin, while a formula
		// streams. The address is built from two numbers only, and the
		// cached value is the address, shown until the formula is computed.
		u := c.text(&x.r)
		if u == "" {
			return nil
		}
		return excelize.Cell{StyleID: x.linkStyle, Formula: `HYPERLINK("` + u + `")`, Value: u}
	}
	if s := c.shown(&x.r, &x.opts, x.labels); s != "" {
		return s
	}
	return nil
}

// Count is the number of ideas written.
func (x *XLSXWriter) Count() int { return x.row - 1 }

// SetShortlist has Close add the forums' shortlists with their votes as a
// last sheet, "Shortlist" (after the ideas, which stream until Close).
func (x *XLSXWriter) SetShortlist(forums []ForumShortlist) { x.shortlist = forums }

// writeShortlist writes the last sheet: a header row, then one row per
// item, counts as numbers.
func (x *XLSXWriter) writeShortlist() error {
	if _, err := x.f.NewSheet(ShortlistSheetName); err != nil {
		return err
	}
	sw, err := x.f.NewStreamWriter(ShortlistSheetName)
	if err != nil {
		return err
	}
	header := make([]any, len(shortlistColumns))
	for i, c := range shortlistColumns {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return err
		}
		header[i] = excelize.Cell{StyleID: x.headerStyle, Value: c.label}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	row := 1
	vals := make([]any, len(shortlistColumns))
	for fi := range x.shortlist {
		for ii := range x.shortlist[fi].Items {
			for i, c := range shortlistColumns {
				if c.number != nil {
					vals[i] = c.number(&x.shortlist[fi].Items[ii])
				} else if s := c.text(&x.shortlist[fi], &x.shortlist[fi].Items[ii]); s != "" {
					vals[i] = s
				} else {
					vals[i] = nil
				}
			}
			row++
			if err := sw.SetRow("A"+strconv.Itoa(row), vals); err != nil {
				return err
			}
		}
	}
	return sw.Flush()
}

// Close finishes the ideas' sheet, writes the summary, writes the workbook to the writer given to
// NewXLSX and removes the temporary files. Closing again does nothing.
func (x *XLSXWriter) Close() (err error) {
	if x.closed {
		return nil
	}
	x.closed = true
	defer func() {
		if cerr := x.f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("export xlsx: remove temporary files: %w", cerr)
		}
	}()
	// The filter range and the rows to validate are only known now. The
	// stream writer emits the autoFilter and dataValidations elements at
	// Flush, so setting them here is still in time.
	sheet := x.labels.ideasSheet
	last, err := excelize.CoordinatesToCellName(len(x.cols), x.row)
	if err != nil {
		return fmt.Errorf("export xlsx: %w", err)
	}
	if err := x.f.AutoFilter(sheet, "A1:"+last, nil); err != nil {
		return fmt.Errorf("export xlsx: autofilter: %w", err)
	}
	if err := x.validateStatuses(); err != nil {
		return fmt.Errorf("export xlsx: status drop-down: %w", err)
	}
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("export xlsx: finish sheet: %w", err)
	}
	if err := x.writeSummary(); err != nil {
		return fmt.Errorf("export xlsx: summary sheet: %w", err)
	}
	if x.shortlist != nil {
		if err := x.writeShortlist(); err != nil {
			return fmt.Errorf("export xlsx: shortlist sheet: %w", err)
		}
	}
	if err := x.f.Write(x.w); err != nil {
		return fmt.Errorf("export xlsx: write workbook: %w", err)
	}
	return nil
}
