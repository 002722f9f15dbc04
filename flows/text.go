package flows

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CleanText makes a student's text safe to keep and show: Unicode in one
// normal form, no control characters (but line breaks), no invisible
// characters that hide or reorder text, no blank lines at either end.
// Emoji, including joined ones (👩‍🎓), are kept as they are.
func CleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	inFlag := false // in an emoji tag sequence: 🏴 followed by tag characters
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t' || r == '\r' || blank(r):
			b.WriteRune(' ')
		case isTag(r):
			if inFlag { // the flag of England, Scotland, Wales
				b.WriteRune(r)
			}
			continue
		case invisible(r):
		case unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
		inFlag = r == '\U0001F3F4'
	}
	return strings.TrimSpace(b.String())
}

// invisible are characters that change how text is shown without being seen:
// zero-width spaces, direction marks and the bidirectional overrides used to
// disguise text, invisible operators. The zero-width joiner (U+200D) stays:
// emoji sequences need it.
func invisible(r rune) bool {
	switch {
	case r == '\u200b', r == '\u2060', r == '\ufeff', r == '\u00ad', r == '\u034f', r == '\u180e':
		return true
	case r == '\u200e', r == '\u200f', r == '\u061c': // LRM, RLM, ALM
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r >= '\u2061' && r <= '\u2064':
		return true
	}
	return false
}

// blank are characters that show as nothing but are not spaces (Hangul
// fillers, the blank Braille pattern): a title made of them looks empty, so
// they count as spaces.
func blank(r rune) bool {
	switch r {
	case '\u3164', '\u2800', '\u115f', '\u1160', '\uffa0':
		return true
	}
	return false
}

// isTag is a tag character (U+E0000–E007F): invisible, but for the flags of
// England, Scotland and Wales, which are 🏴 followed by tags.
func isTag(r rune) bool { return r >= 0xE0000 && r <= 0xE007F }

// Length counts characters as a student sees them, roughly: runes.
func Length(s string) int { return utf8.RuneCountInString(s) }
