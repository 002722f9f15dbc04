package flows

import "strconv"

// Staff decide what became of ideas in the spreadsheet they exported: they
// change the "Status" and "Answer to the student" columns and send the file
// back (to the bot, or with `napad import`). Nothing changes before they
// have seen what would change and confirmed it.

// MaxImportBytes is the largest file taken back: an export of a whole city's
// ideas is a few megabytes.
const MaxImportBytes = 10 << 20

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

// AnswersEdited is how many changes change the answer to the student.
func (p ImportPlan) AnswersEdited() int {
	n := 0
	for _, c := range p.Changes {
		if c.FromAnswer != c.ToAnswer {
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

// Why a file was refused. Each has a sentence "import.refused.<reason>".
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
