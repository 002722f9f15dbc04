package flows

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Besides its link and QR code, every forum has a short code that students
// type from the projector when a camera refuses the QR code: /join K7Q2-M9XD,
// or just the code before they have joined any forum. Joining by code is
// the same as opening the link: the bot looks the code up and hands back
// the JoinLinkOpened the link would have given. The bot also counts the
// codes that lead nowhere (see bot/joincode.go), so guessing them is hopeless.

// JoinCodeLen is how many characters a short join code has: 8 characters
// of a 32-letter alphabet are 40 random bits.
const JoinCodeLen = 8

// JoinCodeAlphabet is Crockford's base32: the digits and the capital
// letters without I, L and O (read as 1, 1 and 0) and U. Its 32 letters
// divide 256, so a random byte masked to 5 bits picks one without bias.
const JoinCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// PendingJoinCode: /join came without a code, and the next message is
// taken as the code.
const PendingJoinCode Pending = "joincode"

// typedAs maps what people type for a code's characters, upper-cased, to
// them: letters read as digits, and the Cyrillic look-alikes a Ukrainian
// keyboard gives for the Latin letters on the board.
var typedAs = map[rune]rune{
	'O': '0', 'I': '1', 'L': '1',
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': '0',
	'Р': 'P', 'С': 'C', 'Т': 'T', 'Х': 'X', 'І': '1', 'З': '3',
}

// NormalJoinCode reads a short join code as someone typed it: in any case,
// with or without spaces and dashes, with O for 0 and I or L for 1. It
// returns the code as stored (8 characters of JoinCodeAlphabet, no dash),
// or false when typed cannot be a code.
func NormalJoinCode(typed string) (string, bool) {
	if len(typed) > 64 { // no code, and no reason to read further
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		if unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) { // phones turn "-" into "–"
			continue
		}
		if to, ok := typedAs[r]; ok {
			r = to
		}
		if r >= utf8.RuneSelf || !strings.ContainsRune(JoinCodeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != JoinCodeLen {
		return "", false
	}
	return b.String(), true
}

// FormatJoinCode writes a stored code as it is shown: XXXX-XXXX.
func FormatJoinCode(code string) string {
	if len(code) != JoinCodeLen {
		return code
	}
	return code[:JoinCodeLen/2] + "-" + code[JoinCodeLen/2:]
}

// JoinCommand is what someone types to join the forum whose short code is
// code: "/join K7Q2-M9XD" ("" for no code).
func JoinCommand(code string) string {
	if code == "" {
		return ""
	}
	return "/" + CommandJoin + " " + FormatJoinCode(code)
}

// joinCommand is /join: with a code, join its forum; alone, ask for it.
func (c *conversation) joinCommand(w CommandSent) {
	c.argOrAsk(w, PendingJoinCode, c.joinByCode)
}

// joinByCode looks up the forum of a code someone typed. Text that cannot
// be a code is not looked up, and not counted as a wrong code.
func (c *conversation) joinByCode(typed string) {
	c.st.Pending = PendingNone // one message is the answer, whatever it is
	code, ok := NormalJoinCode(typed)
	if !ok {
		c.say("joincode.malformed", nil)
		c.continueIfInProgress()
		return
	}
	c.do(LookUpJoinCode{Code: code})
}

// joinCodeText is a message to the question /join asked, or from someone
// who has not joined any forum: a code, or (when not asked) how to join.
func (c *conversation) joinCodeText() {
	text, _ := c.in.What.(Text)
	if c.st.Pending == PendingJoinCode {
		c.joinByCode(text.Text)
		return
	}
	if _, ok := NormalJoinCode(text.Text); ok {
		c.joinByCode(text.Text)
		return
	}
	c.say("start.how_to_join", nil)
}

// joinCodeRefused says why a typed code led to no forum.
func (c *conversation) joinCodeRefused(r JoinCodeRefused) {
	if r.Limited {
		c.say("joincode.wait", nil)
	} else {
		c.say("joincode.unknown", map[string]any{"Code": FormatJoinCode(r.Code)})
	}
	c.continueIfInProgress()
}
