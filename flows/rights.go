package flows

import (
	"slices"
	"time"
)

// What students may do with their own data: see their ideas and what
// became of them (/myideas), get everything stored about them (/mydata),
// delete it all (/delete), and stop being messaged (/stop).

// PendingDelete asks whether to really delete everything.
const PendingDelete Pending = "delete"

// MyIdea is one of a student's ideas as they see it.
type MyIdea struct {
	Reference, Title, Status, Answer, Forum string
	SentAt                                  time.Time
	// WantsToHelp is the idea's answer to "would you help?" (yes, maybe,
	// no): who is asked how to reach them when it is chosen.
	WantsToHelp string
	// Hidden is why staff did not publish it (one of HideReasons); "" when
	// it is published.
	Hidden string
}

// File is a file to send, such as a student's data.
type File struct {
	Name string
	Data []byte
}

func (c *conversation) myIdeasCommand(CommandSent) { c.do(ListMyIdeas{}) }

func (c *conversation) myDataCommand(CommandSent) { c.do(ExportMyData{}) }

func (c *conversation) stopCommand(CommandSent) {
	c.st.Quiet = true
	c.do(StopMessages{})
	c.say("stop.done", nil)
}

func (c *conversation) deleteCommand(CommandSent) {
	c.st.Pending = PendingDelete
	c.askPending()
}

func (c *conversation) myIdeas(ideas []MyIdea) {
	if len(ideas) == 0 {
		c.say("myideas.none", nil)
		return
	}
	c.sayCount("myideas.header", len(ideas), nil)
	for _, i := range ideas {
		if slices.Contains(HideReasons, i.Hidden) {
			// Not "waiting to be read" for ever: why it is not published.
			c.say("myideas.hidden.item", map[string]any{
				"Ref": i.Reference, "Title": i.Title, "Forum": i.Forum, "Date": i.SentAt,
				"Reason": Msg{Key: "myideas.hidden." + i.Hidden},
			})
			continue
		}
		answer := any(Msg{Key: "myideas.no_answer"})
		if i.Answer != "" {
			answer = i.Answer
		}
		c.say("myideas.item", map[string]any{
			"Ref": i.Reference, "Title": i.Title, "Forum": i.Forum,
			"Status": Msg{Key: "status." + i.Status}, "Answer": answer,
			"Date": i.SentAt,
		})
	}
}

func (c *conversation) myData(f File) {
	c.replies = append(c.replies, Reply{Text: Msg{Key: "mydata.caption"}, File: &f})
}

// confirmDelete handles the answer to "really delete everything?".
func (c *conversation) confirmDelete(answer string) {
	if answer != "yes" {
		c.say("delete.kept", nil)
		c.continueIfInProgress()
		return
	}
	c.do(DeleteMe{})
}

// deleted forgets the student entirely; only the language stays for the
// goodbye, and even that is not stored.
func (c *conversation) deleted() {
	c.st = State{Lang: c.st.Lang}
	c.forget = true
	c.say("delete.done", nil)
}
