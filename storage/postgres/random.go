package postgres

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/healthycities/napad/flows"
)

// referenceAlphabet has no 0/O, 1/I: references are read aloud and retyped.
// Its 32 letters divide 256 evenly, so masking a random byte is unbiased.
const referenceAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// newReference returns "N-" followed by n random characters of referenceAlphabet.
func newReference(n int) (string, error) {
	s, err := randomString(referenceAlphabet, n)
	if err != nil {
		return "", fmt.Errorf("random reference: %w", err)
	}
	return "N-" + s, nil
}

// newShortCode returns a forum's short join code: flows.JoinCodeLen random
// characters of flows.JoinCodeAlphabet, 40 bits.
func newShortCode() (string, error) {
	s, err := randomString(flows.JoinCodeAlphabet, flows.JoinCodeLen)
	if err != nil {
		return "", fmt.Errorf("random short code: %w", err)
	}
	return s, nil
}

// randomString is n random characters of alphabet, which must have 32:
// a random byte masked to 5 bits then picks each without bias.
func randomString(alphabet string, n int) (string, error) {
	if len(alphabet) != 32 {
		return "", fmt.Errorf("an alphabet of %d characters, not 32", len(alphabet))
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b), nil
}

// newCode returns 96 random bits as 16 URL-safe characters, which fit in a
// Telegram deep link (?start= allows up to 64 of A-Za-z0-9_-) and cannot be
// guessed. Join codes and teacher invite codes are both made this way.
func newCode() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random code: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// validJoinCode reports whether code could be a join or invite code at all:
// 1..64 characters of A-Za-z0-9_-, the Telegram deep-link alphabet.
func validJoinCode(code string) bool {
	if len(code) == 0 || len(code) > 64 {
		return false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
