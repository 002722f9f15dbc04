package flows

import "strings"

// Button data is "<draft>|<step>|<value>": the draft tag makes buttons of an
// earlier idea stale, the step makes buttons of an earlier question stale.
// Telegram allows 64 bytes; anything else that arrives is treated as forged.
const (
	buttonNav          = "nav"  // back, skip, cancel
	buttonEdit         = "edit" // change one answer from the review
	buttonReview       = "rev"  // submit or delete from the review
	buttonConfirm      = "cf"   // yes/no of a pending question
	buttonNewIdea      = "new"  // start another idea (works from any message)
	buttonPickLanguage = "pl"   // language chosen with /language
	buttonDeleteAll    = "del"  // yes/no to deleting all of a student's data
	maxButtonData      = 64
)

type buttonData struct{ draft, step, value string }

func encodeButton(draft, step, value string) string {
	return draft + "|" + step + "|" + value
}

func parseButton(data string) (buttonData, bool) {
	if len(data) > maxButtonData {
		return buttonData{}, false
	}
	parts := strings.Split(data, "|")
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return buttonData{}, false
	}
	for _, p := range parts {
		if !plainToken(p) {
			return buttonData{}, false
		}
	}
	return buttonData{draft: parts[0], step: parts[1], value: parts[2]}, true
}

func plainToken(s string) bool {
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == ':'
		if !ok {
			return false
		}
	}
	return true
}
