package export

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/healthycities/napad/flows"
)

// ForumShortlist is one forum's shortlist with its votes, as exported:
// how many voted for each item, never who.
type ForumShortlist struct {
	Forum  string          `json:"forum"`
	School string          `json:"school,omitempty"`
	Town   string          `json:"town,omitempty"`
	Phase  string          `json:"phase"` // the votes are final from "results" on
	Items  []ShortlistItem `json:"items"`
}

// ShortlistItem is one item of a forum's shortlist, ranked by its votes.
type ShortlistItem struct {
	Item  int                       `json:"item"` // its position on the shortlist (the ballot's order)
	Rank  int                       `json:"rank"`
	Votes int                       `json:"votes"`
	Texts map[string]flows.ItemText `json:"texts"` // by language, as staff wrote them
	Ideas []string                  `json:"ideas"` // references of the ideas it carries
}

// ShortlistSheetName is the XLSX export's last sheet.
const ShortlistSheetName = "Shortlist"

// shortlistColumn is one column of the shortlist table (CSV, and the XLSX
// export's second sheet); number is set for the columns that hold counts.
type shortlistColumn struct {
	label  string
	width  float64
	text   func(*ForumShortlist, *ShortlistItem) string
	number func(*ShortlistItem) int
}

// shortlistColumns are the shortlist table's columns: a title per language
// (an item carries the languages staff wrote it in). Headers are in English,
// as the ideas' are.
var shortlistColumns = func() []shortlistColumn {
	cs := []shortlistColumn{
		{label: "Forum", width: 24, text: func(f *ForumShortlist, _ *ShortlistItem) string { return f.Forum }},
		{label: "Phase", width: 12, text: func(f *ForumShortlist, _ *ShortlistItem) string { return f.Phase }},
		{label: "Item", width: 6, number: func(it *ShortlistItem) int { return it.Item }},
		{label: "Rank", width: 6, number: func(it *ShortlistItem) int { return it.Rank }},
		{label: "Votes", width: 7, number: func(it *ShortlistItem) int { return it.Votes }},
	}
	for _, lang := range flows.Languages {
		cs = append(cs, shortlistColumn{label: "Title (" + lang + ")", width: 30,
			text: func(_ *ForumShortlist, it *ShortlistItem) string { return it.Texts[lang].Title }})
	}
	return append(cs, shortlistColumn{label: "Merged ideas", width: 30,
		text: func(_ *ForumShortlist, it *ShortlistItem) string { return strings.Join(it.Ideas, ", ") }})
}()

// ShortlistHeaders are the shortlist table's column titles, in order.
var ShortlistHeaders = func() []string {
	h := make([]string, len(shortlistColumns))
	for i, c := range shortlistColumns {
		h[i] = c.label
	}
	return h
}()

// WriteShortlistCSV writes the shortlists as one CSV table (a CSV file
// holds one table: the ideas are another file), as the ideas' CSV is
// written: UTF-8 with a byte order mark, quoted for ',' and ';', and text
// that could start a formula neutralised. Returns the items written.
func WriteShortlistCSV(w io.Writer, forums []ForumShortlist) (int, error) {
	c, err := newCSVTable(w, ShortlistHeaders)
	if err != nil {
		return 0, fmt.Errorf("export shortlist csv: %w", err)
	}
	n := 0
	cells := make([]string, len(shortlistColumns))
	for fi := range forums {
		for ii := range forums[fi].Items {
			for i, col := range shortlistColumns {
				if col.number != nil {
					cells[i] = strconv.Itoa(col.number(&forums[fi].Items[ii]))
				} else {
					cells[i] = neutralize(col.text(&forums[fi], &forums[fi].Items[ii]))
				}
			}
			if err := c.writeRecord(cells); err != nil {
				return n, fmt.Errorf("export shortlist csv: %w", err)
			}
			n++
		}
	}
	if err := c.Close(); err != nil {
		return n, fmt.Errorf("export shortlist csv: %w", err)
	}
	return n, nil
}

// WriteResultsJSON writes the shortlists with their votes and ranks as JSON,
// for scripts and for importing elsewhere. Returns the items written.
func WriteResultsJSON(w io.Writer, forums []ForumShortlist) (int, error) {
	n := 0
	for i := range forums {
		if forums[i].Items == nil {
			forums[i].Items = []ShortlistItem{}
		}
		n += len(forums[i].Items)
	}
	if forums == nil {
		forums = []ForumShortlist{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"forums": forums}); err != nil {
		return 0, fmt.Errorf("export results json: %w", err)
	}
	return n, nil
}
