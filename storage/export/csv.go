package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// bom makes Excel read the file as UTF-8; without it, Czech and Ukrainian
// letters come out garbled when staff double-click the file.
const bom = "\uFEFF"

// CSVWriter writes ideas as CSV: UTF-8 with a byte order mark, a header row,
// RFC 4180 quoting and CRLF line ends, which is what Excel expects.
type CSVWriter struct {
	csv   *csv.Writer
	loc   *time.Location
	row   Row // the row being written, where the columns read it
	cells []string
	n     int
}

// NewCSV writes the byte order mark and the header row to w and returns a
// writer for the rows. Dates are in Europe/Prague unless WithLocation says
// otherwise.
func NewCSV(w io.Writer, opts ...Option) (*CSVWriter, error) {
	o := buildOptions(opts)
	if _, err := io.WriteString(w, bom); err != nil {
		return nil, fmt.Errorf("export csv: %w", err)
	}
	// csv.Writer buffers by itself.
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	c := &CSVWriter{csv: cw, loc: o.loc, cells: make([]string, len(columns))}
	if err := cw.Write(Headers); err != nil {
		return nil, fmt.Errorf("export csv: header: %w", err)
	}
	return c, nil
}

// Write adds one idea.
func (c *CSVWriter) Write(r Row) error {
	c.row = r
	for i := range columns {
		col := &columns[i]
		c.cells[i] = col.plain(&c.row, c.loc)
		if col.text != nil {
			c.cells[i] = neutralize(c.cells[i])
		}
	}
	if err := c.csv.Write(c.cells); err != nil {
		return fmt.Errorf("export csv: %s: %w", r.Reference, err)
	}
	c.n++
	return nil
}

// Count is the number of ideas written.
func (c *CSVWriter) Count() int { return c.n }

// Close flushes what is buffered to the underlying writer.
func (c *CSVWriter) Close() error {
	c.csv.Flush()
	if err := c.csv.Error(); err != nil {
		return fmt.Errorf("export csv: %w", err)
	}
	return nil
}

// neutralize keeps a spreadsheet from running a student's text as a formula
// (CSV injection): text starting with = + - @, a tab or a carriage return
// gets a leading apostrophe, as OWASP recommends. Excel hides the apostrophe
// and shows the text as typed. Coordinates never pass through here: they are
// numbers, and a negative longitude must stay a number.
func neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func formatCoord(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}
