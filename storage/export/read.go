package export

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"

	"github.com/healthycities/napad/flows"
)

// Decision is what one row of a spreadsheet staff send back says about an
// idea: its status and the answer its author sees.
type Decision struct {
	Row       int    // the row in the file: the header is row 1 unless rows were added above it
	Reference string // trimmed, in capitals
	Status    string // one of flows.Statuses
	Answer    string // trimmed, with "\n" line breaks; "" for none
	Check     string // the check code found beside the reference (it matched)
}

// Reading a file back stops at these sizes, whatever the file claims:
// a workbook is a zip, and a small zip can unpack to gigabytes.
const (
	maxUnzipped    = 256 << 20
	headerRowsSeen = 20 // the header is looked for in a sheet's first rows
)

// ReadLimited reads a file staff sent, refusing it (ImportTooLarge) once
// it is over flows.MaxImportBytes without reading further.
func ReadLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, flows.MaxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("export: read the file: %w", err)
	}
	if len(data) > flows.MaxImportBytes {
		return nil, &flows.ImportError{Reason: flows.ImportTooLarge}
	}
	return data, nil
}

// ReadDecisions reads the decisions in a spreadsheet staff exported and
// edited: an XLSX workbook or a CSV file (name is the file's name; the
// content decides which it is). Its ideas are found on whichever sheet has
// the columns Reference, Status, Answer to the student and the check code,
// in any of the languages exports are written in, wherever those columns
// are and whatever else was added: sheets, columns, rows sorted or
// filtered (hidden rows count). Rows without a reference, a status or an
// answer (blank lines, totals) are skipped.
//
// A file that cannot be taken as a whole is refused with a
// *flows.ImportError naming the first row at fault: not a spreadsheet,
// over flows.MaxImportBytes, no sheet with the columns, a formula in one of
// the columns read, a reference edited (it no longer matches its check
// code), an idea in two rows, a status not in the list, an answer over
// flows.MaxStaffAnswer characters. Whether a status needs an answer
// depends on what changes, and is for the caller to check
// (flows.StatusNeedsAnswer).
func ReadDecisions(name string, data []byte) ([]Decision, error) {
	if len(data) > flows.MaxImportBytes {
		return nil, &flows.ImportError{Reason: flows.ImportTooLarge}
	}
	if _, err := allLabels(); err != nil {
		return nil, err
	}
	var t *table
	var err error
	switch ext := strings.ToLower(path.Ext(name)); {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		t, err = readXLSX(data)
	case ext == ".xlsx" || ext == ".xlsm" || ext == ".xls" || !isText(data):
		return nil, &flows.ImportError{Reason: flows.ImportNotSpreadsheet, Value: name}
	default:
		t, err = readCSV(data)
	}
	if err != nil {
		return nil, err
	}
	defer t.close()
	return t.decisions()
}

// A table is the ideas' sheet of a file: its rows after the header, and
// where the columns read are.
type table struct {
	next    func() (row int, cells []string, ok bool, err error)
	at      map[string]int // column key -> position
	formula *formulaCell   // the first formula in a column read, if any
	csv     bool           // cells may carry the CSV export's apostrophe
	close   func()         // removes what reading left behind (a workbook's temporary files)
}

// columnsRead are the columns an import needs.
var columnsRead = []string{colReference, colStatus, colAnswer, colCheck}

// findHeader looks for the header among the first rows next gives: a row
// naming every column an import reads. It returns the header's row and
// where each column is; found is false when there is none. A column named
// twice is an error: which of them did staff edit?
func findHeader(next func() (int, []string, bool, error)) (row int, at map[string]int, found bool, err error) {
	words := headerWords()
	for range headerRowsSeen {
		n, cells, ok, err := next()
		if err != nil || !ok {
			return 0, nil, false, err
		}
		at := map[string]int{}
		for i, c := range cells {
			key, ok := words[normalize(c)]
			if !ok {
				continue
			}
			if _, twice := at[key]; twice && isRead(key) {
				return 0, nil, false, &flows.ImportError{Reason: flows.ImportNoColumns, Row: n, Value: strings.TrimSpace(c)}
			}
			at[key] = i
		}
		if hasAll(at) {
			return n, at, true, nil
		}
	}
	return 0, nil, false, nil
}

func isRead(key string) bool {
	for _, k := range columnsRead {
		if k == key {
			return true
		}
	}
	return false
}

func hasAll(at map[string]int) bool {
	for _, k := range columnsRead {
		if _, ok := at[k]; !ok {
			return false
		}
	}
	return true
}

// headerWords are the headers of every language, normalized, by column key.
func headerWords() map[string]string {
	all, _ := allLabels() // ReadDecisions has checked the error
	out := map[string]string{}
	for _, l := range all {
		for key, h := range l.cols {
			out[normalize(h)] = key
		}
	}
	return out
}

// statusWords are the statuses in every language and their codes,
// normalized, by code.
func statusWords() map[string]string {
	all, _ := allLabels()
	out := map[string]string{}
	for _, s := range flows.Statuses {
		out[normalize(s)] = s
		for _, l := range all {
			out[normalize(l.word(colStatus, s))] = s
		}
	}
	return out
}

// normalize is how headers and statuses are compared: without the case
// and with the spaces around and inside them made single.
func normalize(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// decisions reads the table's rows.
func (t *table) decisions() ([]Decision, error) {
	statuses := statusWords()
	seen := map[string]bool{}
	var out []Decision
	for {
		n, cells, ok, err := t.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		cell := func(key string) string {
			if i := t.at[key]; i < len(cells) {
				if t.csv {
					return unneutralize(cells[i])
				}
				return cells[i]
			}
			return ""
		}
		ref := strings.ToUpper(strings.TrimSpace(cell(colReference)))
		status := strings.TrimSpace(cell(colStatus))
		answer := strings.TrimSpace(strings.ReplaceAll(cell(colAnswer), "\r\n", "\n"))
		check := strings.TrimSpace(cell(colCheck))
		if t.formula != nil && t.formula.row == n {
			return nil, &flows.ImportError{Reason: flows.ImportFormula, Row: n, Ref: ref, Value: t.formula.text}
		}
		if t.csv {
			for _, key := range []string{colReference, colStatus, colAnswer} {
				// A spreadsheet would run it; the export never writes one.
				if i := t.at[key]; i < len(cells) && strings.HasPrefix(cells[i], "=") {
					return nil, &flows.ImportError{Reason: flows.ImportFormula, Row: n, Ref: ref, Value: cells[i]}
				}
			}
		}
		if ref == "" && status == "" && answer == "" {
			continue // a blank line, or a line of totals
		}
		if ref == "" || !strings.EqualFold(check, CheckCode(ref)) {
			return nil, &flows.ImportError{Reason: flows.ImportChangedRef, Row: n, Ref: ref, Value: check}
		}
		if seen[ref] {
			return nil, &flows.ImportError{Reason: flows.ImportRepeatedRef, Row: n, Ref: ref}
		}
		seen[ref] = true
		code, ok := statuses[normalize(status)]
		if !ok {
			return nil, &flows.ImportError{Reason: flows.ImportBadStatus, Row: n, Ref: ref, Value: status}
		}
		if c := utf8.RuneCountInString(answer); c > flows.MaxStaffAnswer {
			return nil, &flows.ImportError{Reason: flows.ImportAnswerTooLong, Row: n, Ref: ref, Value: strconv.Itoa(c)}
		}
		out = append(out, Decision{Row: n, Reference: ref, Status: code, Answer: answer, Check: check})
	}
}

// readXLSX finds the ideas' sheet of a workbook, streaming its rows.
func readXLSX(data []byte) (*table, error) {
	notSheet := &flows.ImportError{Reason: flows.ImportNotSpreadsheet}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxUnzipped})
	if err != nil {
		return nil, notSheet
	}
	done := false // the table returned closes f
	defer func() {
		if !done {
			_ = f.Close()
		}
	}()
	for _, sheet := range f.GetSheetList() {
		rows, err := f.Rows(sheet)
		if err != nil {
			continue // a chart sheet, or one excelize cannot read
		}
		n := 0
		next := func() (int, []string, bool, error) {
			if !rows.Next() {
				if err := rows.Error(); err != nil {
					return 0, nil, false, notSheet
				}
				return 0, nil, false, nil
			}
			n++
			cells, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				return 0, nil, false, notSheet
			}
			return n, cells, true, nil
		}
		header, at, found, err := findHeader(next)
		if err != nil {
			_ = rows.Close()
			return nil, err
		}
		if !found {
			_ = rows.Close()
			continue
		}
		t := &table{next: next, at: at, close: func() { _ = rows.Close(); _ = f.Close() }}
		read := []int{at[colReference], at[colStatus], at[colAnswer]}
		if t.formula, err = firstFormula(data, sheet, header, read); err != nil {
			_ = rows.Close()
			return nil, err
		}
		done = true
		return t, nil
	}
	return nil, &flows.ImportError{Reason: flows.ImportNoColumns}
}

// formulaCell is a cell holding a formula: its row and the formula.
type formulaCell struct {
	row  int
	text string
}

// firstFormula is the first cell of sheet below the header row in one of
// the columns cols (0-based) that holds a formula: excelize's row iterator
// gives only the values. The sheet's XML is streamed from the zip, so
// memory stays flat.
func firstFormula(data []byte, sheet string, header int, cols []int) (*formulaCell, error) {
	notSheet := &flows.ImportError{Reason: flows.ImportNotSpreadsheet}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, notSheet
	}
	part, err := sheetPart(zr, sheet)
	if err != nil {
		return nil, notSheet
	}
	rc, err := zr.Open(part)
	if err != nil {
		return nil, notSheet
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, maxUnzipped))
	row, col := 0, -1
	inCell, inRead := false, false // formulas elsewhere (validations, formatting) are not cells'
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, notSheet
		}
		if end, ok := tok.(xml.EndElement); ok && end.Name.Local == "c" {
			inCell = false
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch el.Name.Local {
		case "row":
			row, col = row+1, -1
			if r, err := strconv.Atoi(attr(el, "r")); err == nil {
				row = r
			}
		case "c":
			col++
			if ref := attr(el, "r"); ref != "" {
				if c, r, err := excelize.CellNameToCoordinates(ref); err == nil {
					col, row = c-1, r
				}
			}
			inCell, inRead = true, false
			for _, c := range cols {
				inRead = inRead || c == col
			}
		case "f":
			if !inCell || !inRead || row <= header {
				continue
			}
			var text string
			_ = dec.DecodeElement(&text, &el)
			return &formulaCell{row: row, text: "=" + text}, nil
		}
	}
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// sheetPart is the zip part holding the sheet named sheet: the workbook
// names its sheets, its relationships say where each is.
func sheetPart(zr *zip.Reader, sheet string) (string, error) {
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := decodePart(zr, "xl/workbook.xml", &wb); err != nil {
		return "", err
	}
	if err := decodePart(zr, "xl/_rels/workbook.xml.rels", &rels); err != nil {
		return "", err
	}
	for _, s := range wb.Sheets {
		if s.Name != sheet {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID == s.ID {
				if strings.HasPrefix(r.Target, "/") {
					return strings.TrimPrefix(r.Target, "/"), nil
				}
				return path.Join("xl", r.Target), nil
			}
		}
	}
	return "", fmt.Errorf("no part for sheet %q", sheet)
}

func decodePart(zr *zip.Reader, name string, v any) error {
	rc, err := zr.Open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(io.LimitReader(rc, maxUnzipped)).Decode(v)
}

// isText reports whether data can be a CSV file: no control characters
// but tabs and line breaks (a PDF, a picture or an old .xls has them
// within its first bytes).
func isText(data []byte) bool {
	for _, b := range data {
		if b < 0x20 && b != '\t' && b != '\n' && b != '\r' {
			return false
		}
	}
	return true
}

// readCSV finds the header of a CSV file: UTF-8 (the export's, with a byte
// order mark) or, as Excel saves "CSV" in a Czech, Norwegian or Ukrainian
// Windows, that Windows' code page; separated by ',' (the export's), ';'
// (Czech and Norwegian Excel's) or a tab.
func readCSV(data []byte) (*table, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if utf8.Valid(data) {
		return csvTable(string(data), nil)
	}
	// Which code page: the one whose language the header is in (Czech
	// headers read as Czech in 1250, and so on), tried in turn.
	for _, cp := range []struct {
		cm    *charmap.Charmap
		langs []string
	}{
		{charmap.Windows1250, []string{"cs"}},
		{charmap.Windows1251, []string{"uk"}},
		{charmap.Windows1252, []string{"nb", "en"}},
	} {
		text, err := cp.cm.NewDecoder().String(string(data))
		if err != nil {
			continue
		}
		if t, err := csvTable(text, cp.langs); err == nil {
			return t, nil
		}
	}
	return nil, &flows.ImportError{Reason: flows.ImportNoColumns}
}

// csvTable reads text as CSV; langs, unless nil, are the languages its
// header must be in.
func csvTable(text string, langs []string) (*table, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes, r.ReuseRecord = separator(text), -1, true, false
	n := 0
	next := func() (int, []string, bool, error) {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return 0, nil, false, nil
		}
		if err != nil {
			return 0, nil, false, &flows.ImportError{Reason: flows.ImportNotSpreadsheet, Row: n + 1}
		}
		n++
		return n, rec, true, nil
	}
	row, at, found, err := findHeader(next)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &flows.ImportError{Reason: flows.ImportNoColumns}
	}
	if langs != nil && !headerIn(text, row, at, langs) {
		return nil, &flows.ImportError{Reason: flows.ImportNoColumns}
	}
	return &table{next: next, at: at, csv: true, close: func() {}}, nil
}

// headerIn reports whether the Answer column's header (the one with
// letters beyond ASCII in most languages) in row of text is in one of
// langs.
func headerIn(text string, row int, at map[string]int, langs []string) bool {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes = separator(text), -1, true
	var rec []string
	for range row {
		var err error
		if rec, err = r.Read(); err != nil {
			return false
		}
	}
	for _, lang := range langs {
		if l, err := labelsFor(lang); err == nil && normalize(rec[at[colAnswer]]) == normalize(l.cols[colAnswer]) {
			return true
		}
	}
	return false
}

// separator is the character that separates most fields on the first line.
func separator(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	best, most := ',', strings.Count(line, ",")
	for _, sep := range []rune{';', '\t'} {
		if n := strings.Count(line, string(sep)); n > most {
			best, most = sep, n
		}
	}
	return best
}

// unneutralize undoes neutralize: the apostrophe the CSV export put before
// a formula trigger where a cell could start. (A text that itself had an
// apostrophe there loses it: the export cannot tell them apart.)
func unneutralize(s string) string {
	if !strings.Contains(s, "'") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' && i+1 < len(s) && isFormulaTrigger(s[i+1]) && (i == 0 || startsCell(s[i-1])) {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
