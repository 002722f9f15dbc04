package flows

import (
	"slices"
	"strconv"
)

// Students who said they would like to help with an idea that made it into
// the chosen items are asked, once the results are out, whether the school
// and the city may contact them about it, and how. It is opt-in: nothing is
// stored unless they write how to reach them.

// SelectedRanks: items ranked 1 to SelectedRanks in the results are the
// chosen ones (ties included, so there may be more than three): the ones
// the school and the city take on, where helpers are wanted.
const SelectedRanks = 3

// MaxHelpContact is how long the way to reach a helper may be, in
// characters: an e-mail address or a class, with a word or two.
const MaxHelpContact = 200

// PendingHelpContact asks a student how to reach them about a chosen item
// (State.Help is which).
const PendingHelpContact Pending = "helpcontact"

// buttonHelp is the yes/no of a help offer: "<forum>:<item>:<y|n>".
const buttonHelp = "hp"

// HelpRef is the chosen item a student offered to help with.
type HelpRef struct {
	ForumID int64 `json:"f"`
	ItemID  int64 `json:"i"`
}

// HelpOffers are the chosen items among results that carry one of mine
// whose author would like to help ("yes" or "maybe"): one per item, with
// the first such idea. The bot asks with these, and checks against them
// again before it stores anything.
func HelpOffers(results []ItemResult, mine []MyIdea) []CarriedIdea {
	var out []CarriedIdea
	for _, r := range results {
		if r.Rank > SelectedRanks {
			continue
		}
		i := slices.IndexFunc(mine, func(m MyIdea) bool {
			return (m.WantsToHelp == "yes" || m.WantsToHelp == "maybe") && slices.Contains(r.Item.Ideas, m.Reference)
		})
		if i >= 0 {
			out = append(out, CarriedIdea{Ref: mine[i].Reference, Title: mine[i].Title, Item: r.Item, Rank: r.Rank})
		}
	}
	return out
}

// HelpOfferReply asks the author of ci (carried by a chosen item of forum
// forumID) whether they want to be contacted about it, in lang.
func HelpOfferReply(forumID int64, ci CarriedIdea, lang string) Reply {
	value := strconv.FormatInt(forumID, 10) + ":" + strconv.FormatInt(ci.Item.ID, 10) + ":"
	return Reply{
		Text: Msg{Key: "helper.offer", Data: map[string]any{"Idea": ci.Title, "Item": ci.Item.Text(lang).Title}},
		Buttons: [][]Button{row(
			Button{Label: Msg{Key: "button.help_yes"}, Data: encodeButton("", buttonHelp, value+"y")},
			Button{Label: Msg{Key: "button.help_no"}, Data: encodeButton("", buttonHelp, value+"n")})},
	}
}

// helpButton handles yes or no to a help offer. Whether the item is chosen
// and carries the student's idea is the bot's to check when storing: the
// button alone proves nothing.
func (c *conversation) helpButton(b buttonData) {
	forumID, itemID, choice, ok := parseItemButton(b.value, "y", "n")
	if !ok {
		c.stale()
		return
	}
	if choice == "n" {
		if c.st.Pending == PendingHelpContact {
			c.st.Pending, c.st.Help = PendingNone, nil
		}
		c.say("helper.nothing_stored", nil)
		return
	}
	if c.st.Pending != PendingNone && c.st.Pending != PendingHelpContact {
		c.stale() // another question is open: answer it first
		return
	}
	c.st.Pending, c.st.Help = PendingHelpContact, &HelpRef{ForumID: forumID, ItemID: itemID}
	c.askPending()
}

// helpContact takes the way to reach the student, and asks to store it.
// The question stays open until it is stored (or refused), so a failed
// store can be answered by writing it again.
func (c *conversation) helpContact() {
	contact, ok := c.pendingText(MaxHelpContact)
	if !ok {
		return
	}
	c.do(SaveHelpOffer{ForumID: c.st.Help.ForumID, ItemID: c.st.Help.ItemID, Contact: contact})
}

// helpSaved closes the question: stored, or refused (the item is not a
// chosen one carrying the student's idea, or not any more).
func (c *conversation) helpSaved(stored bool) {
	c.st.Pending, c.st.Help = PendingNone, nil
	if !stored {
		c.say("helper.refused", nil)
		return
	}
	c.say("helper.thanks", nil)
}
