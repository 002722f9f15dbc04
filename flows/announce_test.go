package flows_test

import (
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
)

func newStaff(t *testing.T, lang string) *student {
	s := newStudent(t, lang)
	s.who, s.pid = "staff", "pid-staff"
	s.actor = flows.Actor{Role: flows.RoleStaff}
	empty := testForum
	empty.ID, empty.Name = 8, "9.A – Gymnázium"
	s.forums = []flows.Forum{testForum, empty}
	s.reach = map[int64]int{testForum.ID: 300, empty.ID: 0}
	return s
}

// What staff see announcing to a forum: the refusals, the preview exactly
// as students get it, and the confirmation with how long it takes.
func TestTranscriptAnnounce(t *testing.T) {
	for _, lang := range []string{"en", "cs"} {
		s := newStaff(t, lang)
		s.command(flows.CommandAnnounce)
		forum := func(name string) string {
			return s.render(flows.Msg{Key: "forum.list_item", Data: map[string]any{"Forum": name}})
		}
		s.tap(forum("9.A – Gymnázium")) // nobody to tell there
		s.command(flows.CommandAnnounce)
		s.tap(forum(testForum.Name))
		s.text("   ")
		s.text(strings.Repeat("a", flows.MaxAnnouncementLen+1))
		s.text("Voting opens on Monday.")
		s.text("Voting opens on Monday at 8:00 – bring your phones! \u202e")
		s.tap(s.label("button.cancel"))
		s.command(flows.CommandAnnounce)
		s.tap(forum(testForum.Name))
		s.text("Voting opens on Monday at 8:00.")
		send := s.buttonData(s.render(flows.Msg{Key: "button.announce_send", Count: ptr(300)}))
		s.press(send)
		s.press(send) // a double tap: stale, nothing more
		golden(t, "announce."+lang, s.log.String())

		if len(s.announced) != 1 {
			t.Fatalf("%s: %d announcements, want 1: %+v", lang, len(s.announced), s.announced)
		}
		a := s.announced[0]
		if a.ForumID != testForum.ID || a.Announcement.Text != "Voting opens on Monday at 8:00." || a.Announcement.Forum != testForum.Name || a.Key == "" {
			t.Errorf("%s: announced %+v", lang, a)
		}
	}
}

func ptr(n int) *int { return &n }

func TestOnlyStaffAnnounce(t *testing.T) {
	for _, actor := range []flows.Actor{{}, {Role: flows.RoleTeacher, Town: "Kolín"}} {
		s := newStudent(t, "en")
		s.actor = actor
		if res := s.command(flows.CommandAnnounce); len(res.Effects) != 0 {
			t.Errorf("%q /announce: %+v", actor.Role, res.Effects)
		}
		for _, data := range []string{"|anf|7", "1001|ans|send"} {
			if res := s.press(data); len(res.Effects) != 0 {
				t.Errorf("%q pressed %q: %+v", actor.Role, data, res.Effects)
			}
		}
	}
	// A staff member whose role ended mid-announcement: the text is not taken.
	s := newStaff(t, "en")
	s.command(flows.CommandAnnounce)
	s.tap("📋 8.B – ZŠ Komenského")
	s.actor = flows.Actor{}
	if res := s.text("Hello"); len(res.Effects) != 0 || s.state.Announce != nil {
		t.Errorf("after the role ended: %+v, state %+v", res.Effects, s.state.Announce)
	}
	// Forged or stale buttons change nothing.
	s = newStaff(t, "en")
	for _, data := range []string{"|anf|x", "|anf|-3", "nope|ans|send"} {
		if res := s.press(data); len(res.Effects) != 0 {
			t.Errorf("pressed %q: %+v", data, res.Effects)
		}
	}
	if !flows.NeedsActor(flows.State{Announce: &flows.AnnounceDraft{Tag: "t"}}, flows.Input{What: flows.Text{Text: "x"}}) {
		t.Error("text while announcing must look the role up")
	}
}
