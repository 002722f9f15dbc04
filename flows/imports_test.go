package flows_test

import (
	"fmt"
	"testing"

	"github.com/healthycities/napad/flows"
)

// sendFile sends a document, as a person attaches a file in the chat.
func (s *student) sendFile(name string, size int64) flows.Result {
	return s.do(fmt.Sprintf("sends the file “%s” (%d bytes)", name, size),
		flows.Input{What: flows.FileSent{FileID: "file-" + name, Name: name, Size: size}})
}

// samplePlan is what a city's spreadsheet typically changes: twelve ideas,
// five selected, three not feasible with a reason, four answers edited.
func samplePlan(hash string) flows.ImportPlan {
	p := flows.ImportPlan{Rows: 40, Hash: hash}
	add := func(n int, from, to, answer string) {
		for range n {
			i := len(p.Changes) + 2
			p.Changes = append(p.Changes, flows.ImportChange{Row: i, Ref: fmt.Sprintf("N-A%03d", i), Title: fmt.Sprintf("Idea %d", i),
				FromStatus: from, ToStatus: to, ToAnswer: answer})
		}
	}
	add(5, flows.StatusUnderReview, flows.StatusSelected, "")
	add(3, flows.StatusNew, flows.StatusNotFeasible, "The land belongs to the state.")
	add(4, flows.StatusSelected, flows.StatusSelected, "We start in spring.")
	return p
}

// What staff see sending their spreadsheet back: a refusal naming the row,
// a preview of twelve changes, a cancel, the preview again, the apply (a
// double tap applies once), and a file that changes nothing.
func TestTranscriptImport(t *testing.T) {
	for _, lang := range []string{"en", "cs"} {
		s := newStaff(t, lang)
		plan := samplePlan("3f9a0c1d2e4b5a6978877665544332211")
		s.importing = func(e flows.Effect) flows.Happened {
			switch e := e.(type) {
			case flows.PlanImport:
				switch e.Name {
				case "wrong.xlsx":
					return flows.ImportRefused{Name: e.Name, Err: flows.ImportError{Reason: flows.ImportBadStatus, Row: 7, Ref: "N-7K2Q", Value: "Maybe"}}
				case "same.xlsx":
					return flows.ImportPlanned{FileID: e.FileID, Name: e.Name, Plan: flows.ImportPlan{Rows: 40, Hash: "e3b0c4"}}
				}
				return flows.ImportPlanned{FileID: e.FileID, Name: e.Name, Plan: plan}
			case flows.ApplyImport:
				return flows.ImportApplied{FileID: e.FileID, Name: e.Name, Plan: plan, Applied: e.Hash == plan.Hash}
			}
			return flows.StoreFailed{}
		}
		s.sendFile("huge.xlsx", flows.MaxImportBytes+1)
		s.sendFile("wrong.xlsx", 20_000)
		s.sendFile("napady.xlsx", 20_000)
		s.tap(s.label("button.cancel"))
		s.sendFile("napady.xlsx", 20_000)
		apply := s.buttonData(s.render(flows.Msg{Key: "button.import_apply", Count: ptr(12)}))
		s.press(apply)
		s.press(apply) // a double tap: stale, nothing more
		s.sendFile("same.xlsx", 20_000)
		golden(t, "import."+lang, s.log.String())

		if len(s.imported) != 1 || s.imported[0] != (flows.ApplyImport{FileID: "file-napady.xlsx", Name: "napady.xlsx", Hash: plan.Hash}) {
			t.Errorf("%s: applied %+v, want napady.xlsx once with its plan's hash", lang, s.imported)
		}
		if s.state.Import != nil {
			t.Errorf("%s: an import is still open: %+v", lang, s.state.Import)
		}
	}
}

// When the ideas changed between the preview and the tap, nothing is
// applied and the new preview is shown, to be confirmed again.
func TestImportChangedMeanwhile(t *testing.T) {
	s := newStaff(t, "en")
	plans := []flows.ImportPlan{samplePlan("aaaaaaaaaaaaaaaaaaaa"), samplePlan("bbbbbbbbbbbbbbbbbbbb")}
	plans[1].Changes = plans[1].Changes[:2]
	var applied []string
	s.importing = func(e flows.Effect) flows.Happened {
		switch e := e.(type) {
		case flows.PlanImport:
			return flows.ImportPlanned{FileID: e.FileID, Name: e.Name, Plan: plans[0]}
		case flows.ApplyImport:
			applied = append(applied, e.Hash)
			return flows.ImportApplied{FileID: e.FileID, Name: e.Name, Plan: plans[1], Applied: e.Hash == plans[1].Hash}
		}
		return flows.StoreFailed{}
	}
	s.sendFile("napady.xlsx", 1000)
	s.press(s.buttonData(s.render(flows.Msg{Key: "button.import_apply", Count: ptr(12)})))
	if got := s.keys(); len(got) != 2 || got[0] != "import.changed_meanwhile" || got[1] != "import.preview" {
		t.Fatalf("after the ideas changed: %v", got)
	}
	s.press(s.buttonData(s.render(flows.Msg{Key: "button.import_apply", Count: ptr(2)})))
	if got := s.keys(); len(got) != 1 || got[0] != "import.applied" {
		t.Errorf("applying the new preview: %v", got)
	}
	if want := []string{plans[0].Hash, plans[1].Hash}; fmt.Sprint(applied) != fmt.Sprint(want) {
		t.Errorf("applied with hashes %v, want %v", applied, want)
	}
}

// A file from a student or a teacher is not an answer, and their buttons
// cannot apply anything; a staff member whose role ended cannot either.
func TestOnlyStaffImport(t *testing.T) {
	for _, actor := range []flows.Actor{{}, {Role: flows.RoleTeacher, Town: "Kolín"}} {
		s := newStudent(t, "en")
		s.actor = actor
		res := s.sendFile("napady.xlsx", 1000)
		if len(res.Effects) != 0 || s.state.Import != nil {
			t.Errorf("%q sent a file: %+v", actor.Role, res.Effects)
		}
		if res := s.press("|im|apply:3f9a0c1d2e4b"); len(res.Effects) != 0 {
			t.Errorf("%q pressed apply: %+v", actor.Role, res.Effects)
		}
	}
	s := newStaff(t, "en")
	s.importing = func(e flows.Effect) flows.Happened {
		p := e.(flows.PlanImport)
		return flows.ImportPlanned{FileID: p.FileID, Name: p.Name, Plan: samplePlan("cccccccccccccccccccc")}
	}
	s.sendFile("napady.xlsx", 1000)
	apply := s.buttonData(s.render(flows.Msg{Key: "button.import_apply", Count: ptr(12)}))
	for _, forged := range []string{"|im|apply:dddddddddddd", "|im|apply:", "|im|nonsense", "|im|apply:c"} {
		if res := s.press(forged); len(res.Effects) != 0 {
			t.Errorf("forged %q: %+v", forged, res.Effects)
		}
	}
	s.actor = flows.Actor{}
	if res := s.press(apply); len(res.Effects) != 0 {
		t.Errorf("after the role ended: %+v", res.Effects)
	}
}
