package export

import (
	"fmt"
	"io"
	"strconv"
)

// pinHeaders are the pins' CSV headers in l's language: those the ideas'
// export has too in its words, the rest from [pincol].
func pinHeaders(l *pinLabels, withHidden bool) []string {
	col := func(key string) string { return l.header(columnByKey(key)) }
	h := []string{
		l.text("pincol.pin"), col("date"), col(colForum), col("town"),
		l.text("pincol.feeling"), l.text("pincol.comment"), col("place"),
		col("latitude"), col("longitude"), col(colAge),
	}
	if withHidden {
		h = append(h, col("hidden"))
	}
	return h
}

// WritePinsCSV writes pins as CSV, the way the ideas' CSV is written (UTF-8
// with a byte order mark, CRLF, a field with ';' quoted, students' text that
// looks like a formula neutralised): the pin's number, date, forum, town,
// feeling, comment, typed place, latitude and longitude (numbers with a
// '.', empty for a typed place), and age group, with headers and words in
// the WithLanguage language. Hidden pins are left out unless WithHidden,
// which adds a last column saying which are hidden. It returns the number
// of pins written.
func WritePinsCSV(w io.Writer, pins []PinRow, opts ...Option) (int, error) {
	o := buildOptions(opts)
	l, err := pinLabelsFor(o.lang)
	if err != nil {
		return 0, fmt.Errorf("export pins csv: %w", err)
	}
	headers := pinHeaders(l, o.withHidden)
	c, err := newCSVTable(w, headers)
	if err != nil {
		return 0, fmt.Errorf("export pins csv: %w", err)
	}
	cells := make([]string, len(headers))
	n := 0
	for _, p := range visiblePins(pins, o.withHidden) {
		cells = append(cells[:0],
			strconv.FormatInt(p.ID, 10),
			formatDate(p.Date, &o),
			neutralize(p.Forum),
			neutralize(p.Town),
			neutralize(withoutEmoji(l.feeling(p))), // a forum's own feeling is a teacher's text
			neutralize(p.Comment),
			neutralize(p.PlaceText),
			formatCoord(roundCoord(p.Latitude)),
			formatCoord(roundCoord(p.Longitude)),
			neutralize(l.age(p.AgeBand)),
		)
		if o.withHidden {
			cells = append(cells, l.text("sheet."+yesNo(p.Hidden)))
		}
		if err := c.writeRecord(cells); err != nil {
			return n, fmt.Errorf("export pins csv: pin %d: %w", p.ID, err)
		}
		n++
	}
	if err := c.Close(); err != nil {
		return n, fmt.Errorf("export pins csv: %w", err)
	}
	return n, nil
}
