package export

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// bom makes Excel read the file as UTF-8; without it, Czech and Ukrainian
// letters come out garbled when staff double-click the file.
const bom = "\uFEFF"

// CSVWriter writes ideas as CSV: UTF-8 with a byte order mark, a header row,
// RFC 4180 quoting and CRLF line ends, which is what Excel expects. Czech and
// Norwegian Excel split a .csv on ';' rather than ',', so a field holding a
// ';' is quoted too.
type CSVWriter struct {
	w      *bufio.Writer
	opts   options
	labels *labels
	cols   []column
	row    Row // the row being written, where the columns read it
	cells  []string
	n      int
}

// NewCSV writes the byte order mark and the header row to w and returns a
// writer for the rows. Dates are days in Europe/Prague unless WithLocation
// and WithTime say otherwise; headers and coded values are in Czech unless
// WithLanguage says otherwise. The check code is the last column (a CSV
// file cannot hide one).
func NewCSV(w io.Writer, opts ...Option) (*CSVWriter, error) {
	headers, err := Headers(opts...)
	if err != nil {
		return nil, fmt.Errorf("export csv: %w", err)
	}
	c, err := newCSVTable(w, headers)
	if err != nil {
		return nil, fmt.Errorf("export csv: %w", err)
	}
	c.opts = buildOptions(opts)
	c.cols, c.cells = columnsFor(&c.opts), make([]string, len(headers))
	c.labels, _ = labelsFor(c.opts.lang) // Headers has checked the language
	return c, nil
}

// newCSVTable writes the byte order mark and a header row to w: the start
// of any table the exports write as CSV.
func newCSVTable(w io.Writer, headers []string) (*CSVWriter, error) {
	if _, err := io.WriteString(w, bom); err != nil {
		return nil, err
	}
	c := &CSVWriter{w: bufio.NewWriter(w)}
	if err := c.writeRecord(headers); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	return c, nil
}

// Write adds one idea.
func (c *CSVWriter) Write(r Row) error {
	c.row = r
	for i := range c.cols {
		col := &c.cols[i]
		c.cells[i] = col.shown(&c.row, &c.opts, c.labels)
		if col.text != nil {
			c.cells[i] = neutralize(c.cells[i])
		}
	}
	if err := c.writeRecord(c.cells); err != nil {
		return fmt.Errorf("export csv: %s: %w", r.Reference, err)
	}
	c.n++
	return nil
}

// Count is the number of ideas written.
func (c *CSVWriter) Count() int { return c.n }

// Close flushes what is buffered to the underlying writer.
func (c *CSVWriter) Close() error {
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("export csv: %w", err)
	}
	return nil
}

// writeRecord writes one line as encoding/csv does with UseCRLF (a line
// break inside a quoted field becomes CRLF, a lone CR is dropped), except
// that a field holding a ';' is quoted as well. Errors stick in the
// bufio.Writer and come back from Flush.
func (c *CSVWriter) writeRecord(fields []string) error {
	for i, f := range fields {
		if i > 0 {
			c.w.WriteByte(',')
		}
		if !fieldNeedsQuotes(f) {
			c.w.WriteString(f)
			continue
		}
		c.w.WriteByte('"')
		if !containsAnyByte(f, '"', '\r', '\n') {
			c.w.WriteString(f)
		} else {
			for j := 0; j < len(f); j++ {
				switch f[j] {
				case '"':
					c.w.WriteString(`""`)
				case '\r':
				case '\n':
					c.w.WriteString("\r\n")
				default:
					c.w.WriteByte(f[j])
				}
			}
		}
		c.w.WriteByte('"')
	}
	_, err := c.w.WriteString("\r\n")
	return err
}

// containsAnyByte is strings.ContainsAny for ASCII bytes, with one fast
// IndexByte scan each: ContainsAny goes byte by byte through long texts.
func containsAnyByte(s string, bytes ...byte) bool {
	for _, c := range bytes {
		if strings.IndexByte(s, c) >= 0 {
			return true
		}
	}
	return false
}

// fieldNeedsQuotes is encoding/csv's rule with ';' added to the separators.
func fieldNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` || containsAnyByte(f, ',', ';', '"', '\r', '\n') {
		return true
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}

// neutralize keeps a spreadsheet from running a student's text as a formula
// (CSV injection): a formula trigger (= + - @, a tab or a carriage return)
// gets an apostrophe before it, as OWASP recommends, wherever a cell could
// start: at the start of the text, and after a ',' or ';' or a line break
// inside it, where Excel with another list separator, or a program that
// ignores quotes, starts a new cell or row. Excel hides a leading apostrophe
// and shows the text as typed. Coordinates never pass through here: they are
// numbers, and a negative longitude must stay a number.
func neutralize(s string) string {
	if s == "" || (!isFormulaTrigger(s[0]) && !triggerAfter(s, ',') && !triggerAfter(s, ';') && !triggerAfter(s, '\n')) {
		return s // nearly always: one fast scan per separator
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		if isFormulaTrigger(s[i]) && (i == 0 || startsCell(s[i-1])) {
			b.WriteByte('\'')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// triggerAfter reports whether a formula trigger follows sep somewhere in s.
func triggerAfter(s string, sep byte) bool {
	for {
		i := strings.IndexByte(s, sep)
		if i < 0 {
			return false
		}
		s = s[i+1:]
		if s != "" && isFormulaTrigger(s[0]) {
			return true
		}
	}
}

// startsCell reports whether a cell can begin after c. A lone CR is not a
// line break here: writeRecord drops it, and a CRLF ends with LF.
func startsCell(c byte) bool {
	return c == ',' || c == ';' || c == '\n'
}

func isFormulaTrigger(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

func formatCoord(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}
