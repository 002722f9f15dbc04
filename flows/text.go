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
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t' || r == '\r':
			b.WriteRune(' ')
		case invisible(r):
		case unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// invisible are characters that change how text is shown without being seen:
// zero-width spaces and the bidirectional overrides used to disguise text.
// The zero-width joiner (U+200D) stays: emoji sequences need it.
func invisible(r rune) bool {
	switch {
	case r == '\u200b', r == '\u2060', r == '\ufeff', r == '\u00ad':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// Length counts characters as a student sees them, roughly: runes.
func Length(s string) int { return utf8.RuneCountInString(s) }
