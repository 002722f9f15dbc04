package flows

import (
	"strconv"
	"strings"
)

// Staff decide what became of ideas in the spreadsheet they exported: they
// change the "Status" and "Answer to the student" columns and send the file
// back (to the bot, or with `napad import`). Nothing changes before they
// have seen what would change and confirmed it.

// MaxImportBytes is the largest file taken back: the most a Telegram bot may
// download, and more than an export of 100,000 ideas (13 MB).
const MaxImportBytes = 20 << 20

// ImportChange is one idea whose status or answer the file changes.
type ImportChange struct {
	Row                  int // the row of the file (the header is row 1)
	Ref, Title           string
	FromStatus, ToStatus string // codes of Statuses; equal when only the answer changes
	FromAnswer, ToAnswer string
}

// ImportPlan is what importing a file would change. Importing the same file
// again after it was applied plans no changes.
type ImportPlan struct {
	Changes []ImportChange
	// Rows is the number of ideas the file holds (changed or not).
	Rows int
	// Hash identifies the planned changes: the file is applied only if
	// planning it again, at the moment of applying, gives the same hash,
	// so nothing is applied that staff did not see.
	Hash string
}

// StatusCounts are how many changes set each status (answer-only changes
// are not counted here), for "12 changes: 5 selected, 3 not feasible".
func (p ImportPlan) StatusCounts() map[string]int {
	n := map[string]int{}
	for _, c := range p.Changes {
		if c.FromStatus != c.ToStatus {
			n[c.ToStatus]++
		}
	}
	return n
}

// AnswersEdited is how many changes edit the answer to the student and
// nothing else (those with a new status are counted by it).
func (p ImportPlan) AnswersEdited() int {
	n := 0
	for _, c := range p.Changes {
		if c.FromStatus == c.ToStatus && c.FromAnswer != c.ToAnswer {
			n++
		}
	}
	return n
}

// ImportError is why a file was refused as a whole (Reason, one of the
// Import* reasons below). Row is the file's row (0: the file itself);
// Ref and Value say what was found there.
type ImportError struct {
	Reason     string
	Row        int
	Ref, Value string
}

func (e *ImportError) Error() string {
	s := "import: " + e.Reason
	if e.Row > 0 {
		s += " in row " + strconv.Itoa(e.Row)
	}
	if e.Ref != "" {
		s += " (" + e.Ref + ")"
	}
	if e.Value != "" {
		s += ": " + strconv.Quote(e.Value)
	}
	return s
}

// Why a file was refused. Each has a sentence "import.why.<reason>".
const (
	ImportNotSpreadsheet = "not_spreadsheet" // not an XLSX or CSV file, or not readable as one
	ImportTooLarge       = "too_large"       // over MaxImportBytes
	ImportNoColumns      = "no_columns"      // no sheet with the Reference, Status and Answer columns
	ImportUnknownRef     = "unknown_ref"     // no idea has this reference
	ImportChangedRef     = "changed_ref"     // the reference was edited: it no longer matches its row
	ImportRepeatedRef    = "repeated_ref"    // the same idea in two rows
	ImportBadStatus      = "bad_status"      // a status not in the list
	ImportAnswerNeeded   = "answer_needed"   // "not feasible" or "duplicate" without an answer
	ImportAnswerTooLong  = "answer_too_long" // over MaxStaffAnswer characters
	ImportFormula        = "formula"         // a cell holding a formula
)

// MaxStaffAnswer is the longest answer to a student, in characters: it is
// sent in one message with the idea's title.
const MaxStaffAnswer = 2000

// StatusNeedsAnswer reports whether a student must hear a reason with
// status: they are told their idea will not happen, or is another's.
func StatusNeedsAnswer(status string) bool {
	return status == StatusNotFeasible || status == StatusDuplicate
}

// ImportDraft is a file staff sent back, between its preview and their
// confirmation: the file stays with the channel (FileID), and Hash is the
// plan they were shown.
type ImportDraft struct {
	FileID string `json:"f"`
	Name   string `json:"n,omitempty"`
	Hash   string `json:"h,omitempty"`
}

// The buttons under an import's preview.
const (
	buttonImport       = "im" // "apply:<first hashPrefix characters of the plan's hash>" or "cancel"
	importHashPrefix   = 12
	maxPreviewedChange = 10 // changes listed one by one; the rest are counted
)

// fileSent is a document sent. Staff send back an exported spreadsheet;
// from anyone else a file is not an answer.
func (c *conversation) fileSent(f FileSent) {
	if !c.in.Actor.May(Staff) {
		c.in.What = Media{Kind: "document"}
		c.answer()
		return
	}
	if f.Size > MaxImportBytes {
		c.importRefused(f.Name, ImportError{Reason: ImportTooLarge})
		return
	}
	c.st.Import = &ImportDraft{FileID: f.FileID, Name: f.Name}
	c.do(PlanImport{FileID: f.FileID, Name: f.Name})
}

// importPlanned shows what the file would change and asks to confirm, or
// says that it changes nothing.
func (c *conversation) importPlanned(p ImportPlanned) {
	if len(p.Plan.Changes) == 0 {
		c.st.Import = nil
		c.sayCount("import.nothing", p.Plan.Rows, map[string]any{"Name": p.Name})
		return
	}
	c.st.Import = &ImportDraft{FileID: p.FileID, Name: p.Name, Hash: p.Plan.Hash}
	n := len(p.Plan.Changes)
	var summary Lines
	counts := p.Plan.StatusCounts()
	for _, s := range Statuses {
		if k := counts[s]; k > 0 {
			summary = append(summary, Msg{Key: "import.to_status", Data: map[string]any{"Status": Msg{Key: "staffstatus." + s}}, Count: &k})
		}
	}
	if k := p.Plan.AnswersEdited(); k > 0 {
		summary = append(summary, Msg{Key: "import.answers_edited", Count: &k})
	}
	var changes Lines
	for i, ch := range p.Plan.Changes {
		if i == maxPreviewedChange {
			more := n - i
			changes = append(changes, Msg{Key: "import.more_changes", Count: &more})
			break
		}
		changes = append(changes, importChangeLine(ch))
	}
	hash := p.Plan.Hash
	if len(hash) > importHashPrefix {
		hash = hash[:importHashPrefix]
	}
	c.sayCount("import.preview", n, map[string]any{"Name": p.Name, "Summary": summary, "Changes": changes},
		row(Button{Label: Msg{Key: "button.import_apply", Count: &n}, Data: encodeButton("", buttonImport, "apply:"+hash)}),
		row(Button{Label: Msg{Key: "button.cancel"}, Data: encodeButton("", buttonImport, "cancel")}))
}

// importChangeLine is one change of a preview: the row, the idea, and
// what changes.
func importChangeLine(ch ImportChange) Msg {
	data := map[string]any{"Row": ch.Row, "Ref": ch.Ref, "Title": ch.Title,
		"From": Msg{Key: "staffstatus." + ch.FromStatus}, "To": Msg{Key: "staffstatus." + ch.ToStatus}}
	switch {
	case ch.FromStatus == ch.ToStatus:
		return Msg{Key: "import.change_answer", Data: data}
	case ch.FromAnswer != ch.ToAnswer:
		return Msg{Key: "import.change_status_answer", Data: data}
	}
	return Msg{Key: "import.change_status", Data: data}
}

func (c *conversation) importButton(b buttonData) {
	d := c.st.Import
	what, hash, _ := strings.Cut(b.value, ":")
	switch {
	case d == nil || d.Hash == "":
		c.stale()
	case what == "cancel":
		c.st.Import = nil
		c.say("import.cancelled", nil)
	case what == "apply" && hash == d.Hash[:min(len(d.Hash), importHashPrefix)]:
		// Gone before the outcome: a second tap on the same preview finds
		// nothing to apply.
		c.st.Import = nil
		c.do(ApplyImport{FileID: d.FileID, Name: d.Name, Hash: d.Hash})
	default:
		c.stale()
	}
}

// importApplied says what was done; if the ideas changed since the preview,
// nothing was, and the new preview is shown.
func (c *conversation) importApplied(a ImportApplied) {
	if !a.Applied {
		c.say("import.changed_meanwhile", nil)
		c.importPlanned(ImportPlanned{FileID: a.FileID, Name: a.Name, Plan: a.Plan})
		return
	}
	c.sayCount("import.applied", len(a.Plan.Changes), nil)
}

// importRefused says why a file was not taken, naming the row.
func (c *conversation) importRefused(name string, e ImportError) {
	c.st.Import = nil
	data := map[string]any{"Name": name, "Row": e.Row, "Ref": e.Ref, "Value": e.Value, "Max": MaxImportBytes >> 20,
		"Statuses": staffStatusList()}
	key := "import.why." + e.Reason
	if e.Row > 0 {
		c.say("import.refused_row", map[string]any{"Name": name, "Row": e.Row, "Why": Msg{Key: key, Data: data}})
		return
	}
	c.say("import.refused_file", map[string]any{"Name": name, "Why": Msg{Key: key, Data: data}})
}

// staffStatusList is every status as staff choose it in the file.
func staffStatusList() Lines {
	var l Lines
	for _, s := range Statuses {
		l = append(l, Msg{Key: "import.status_item", Data: map[string]any{"Status": Msg{Key: "staffstatus." + s}}})
	}
	return l
}
