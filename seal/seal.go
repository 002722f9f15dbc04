// Package seal encrypts the few values Nápad must keep that would tell who a
// student is — their Telegram chat id — so that a copy of PostgreSQL or
// Redis alone does not re-identify anyone.
//
// A sealed value is AES-256-GCM with a random nonce, bound by its associated
// data to where it is kept (a place such as "contacts" and the participant
// id), so that it cannot be copied to another student's row. It starts with
// a format byte and the id of the key that sealed it: a Keyring seals with
// its current key and opens with any of its keys, which is how keys are
// rotated (new writes use the new key, old rows are sealed again, then the
// old key goes).
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// KeySize is the size of a key: AES-256.
const KeySize = 32

const (
	format  = 1 // the layout below; another layout gets another byte
	idSize  = 4
	nonceAt = 1 + idSize
	// HeaderSize is how many bytes of a sealed value say how it was sealed
	// (format and key id), before the nonce and ciphertext.
	HeaderSize = nonceAt
)

// ErrUnknownKey: the value was sealed with a key the keyring does not have.
var ErrUnknownKey = errors.New("seal: sealed with a key that is not configured")

// ErrCorrupt: the value is not a sealed value, or it was changed, or it
// belongs elsewhere (other associated data).
var ErrCorrupt = errors.New("seal: cannot be opened: changed, or not sealed for this place")

type key struct {
	id   [idSize]byte
	aead cipher.AEAD
}

// Keyring seals with its current key and opens with any of its keys. It is
// safe for concurrent use.
type Keyring struct {
	current *key
	byID    map[[idSize]byte]*key
}

// NewKeyring makes a keyring that seals with current and also opens what
// was sealed with old. Every key must be KeySize bytes, and no key may be
// given twice.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{byID: map[[idSize]byte]*key{}}
	for i, raw := range append([][]byte{current}, old...) {
		if len(raw) != KeySize {
			return nil, fmt.Errorf("seal: key %d is %d bytes, want %d", i, len(raw), KeySize)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("seal: key %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: key %d: %w", i, err)
		}
		kk := &key{id: keyID(raw), aead: aead}
		if _, dup := k.byID[kk.id]; dup {
			return nil, fmt.Errorf("seal: key %d is given twice", i)
		}
		k.byID[kk.id] = kk
		if i == 0 {
			k.current = kk
		}
	}
	return k, nil
}

// keyID names a key without giving it away: the start of an HMAC of a fixed
// text under it.
func keyID(raw []byte) [idSize]byte {
	m := hmac.New(sha256.New, raw)
	m.Write([]byte("napad seal key id"))
	var id [idSize]byte
	copy(id[:], m.Sum(nil))
	return id
}

// KeyID is the id of the current key, as KeyIDOf gives it.
func (k *Keyring) KeyID() string { return hex.EncodeToString(k.current.id[:]) }

// KeyIDOf is the id of the key that sealed a value, in hex, or "" if the
// value is not a sealed value.
func KeyIDOf(sealed []byte) string {
	if len(sealed) < HeaderSize || sealed[0] != format {
		return ""
	}
	return hex.EncodeToString(sealed[1:HeaderSize])
}

// Has says whether the keyring has the key of the given id (KeyIDOf).
func (k *Keyring) Has(id string) bool {
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) != idSize {
		return false
	}
	_, ok := k.byID[[idSize]byte(raw)]
	return ok
}

// Current says whether a value is sealed with the current key, so that
// sealing it again would change nothing.
func (k *Keyring) Current(sealed []byte) bool {
	return KeyIDOf(sealed) == k.KeyID()
}

// ad is the associated data: the header (so the key id cannot be swapped),
// the place and the participant.
func ad(header []byte, place, participantID string) []byte {
	out := make([]byte, 0, len(header)+len(place)+1+len(participantID))
	out = append(out, header...)
	out = append(out, place...)
	out = append(out, 0)
	return append(out, participantID...)
}

// Seal seals plaintext for participantID's record in place (e.g. "contacts").
func (k *Keyring) Seal(place, participantID string, plaintext []byte) []byte {
	c := k.current
	out := make([]byte, HeaderSize, HeaderSize+c.aead.NonceSize()+len(plaintext)+c.aead.Overhead())
	out[0] = format
	copy(out[1:], c.id[:])
	// Random nonces: a key may seal some 2^32 values before a repeat is a
	// concern, and a contact is sealed once per idea.
	nonce := make([]byte, c.aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand since Go 1.24)
	out = append(out, nonce...)
	return c.aead.Seal(out, nonce, plaintext, ad(out[:HeaderSize], place, participantID))
}

// Open opens what Seal sealed for the same place and participant.
func (k *Keyring) Open(place, participantID string, sealed []byte) ([]byte, error) {
	if KeyIDOf(sealed) == "" {
		return nil, ErrCorrupt
	}
	c, ok := k.byID[[idSize]byte(sealed[1:HeaderSize])]
	if !ok {
		return nil, fmt.Errorf("%w (key id %s)", ErrUnknownKey, KeyIDOf(sealed))
	}
	body := sealed[HeaderSize:]
	if len(body) < c.aead.NonceSize()+c.aead.Overhead() {
		return nil, ErrCorrupt
	}
	nonce, ct := body[:c.aead.NonceSize()], body[c.aead.NonceSize():]
	plain, err := c.aead.Open(nil, nonce, ct, ad(sealed[:HeaderSize], place, participantID))
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

// SealChat seals a chat id (see Seal).
func (k *Keyring) SealChat(place, participantID string, chat int64) []byte {
	return k.Seal(place, participantID, binary.BigEndian.AppendUint64(nil, uint64(chat)))
}

// OpenChat opens a chat id sealed by SealChat.
func (k *Keyring) OpenChat(place, participantID string, sealed []byte) (int64, error) {
	plain, err := k.Open(place, participantID, sealed)
	if err != nil {
		return 0, err
	}
	if len(plain) != 8 {
		return 0, ErrCorrupt
	}
	return int64(binary.BigEndian.Uint64(plain)), nil
}

// ParseKey reads a key as an operator writes it: 64 hex digits (`openssl
// rand -hex 32`) or base64 (`openssl rand -base64 32`). Errors never repeat
// the text, which is a secret.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if raw, err := hex.DecodeString(s); err == nil && len(raw) == KeySize {
		return raw, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil && len(raw) == KeySize {
			return raw, nil
		}
	}
	return nil, fmt.Errorf("not %d bytes as 64 hex digits or base64", KeySize)
}

// DeriveKey derives a key for one purpose from a longer-lived secret (HKDF
// with SHA-256): the derived key tells nothing about the secret, nor about
// keys derived for other purposes.
func DeriveKey(secret []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, "napad "+purpose, KeySize)
	if err != nil {
		// Only for a length HKDF cannot give; KeySize is far below it.
		panic("seal: derive key: " + err.Error())
	}
	return k
}

// contactPurpose separates the contact key derived from the participant key
// from that key's own use (pseudonyms) and from any other derived key.
const contactPurpose = "contact chat v1"

// ContactKeys is the keyring for students' chats. It seals with current,
// or, when that is nil, with a key derived from participantKey; it opens
// with that derived key and with old too, so that moving from the derived
// key to a key of its own needs no old key to be given.
func ContactKeys(participantKey, current []byte, old ...[]byte) (*Keyring, error) {
	derived := DeriveKey(participantKey, contactPurpose)
	if current == nil {
		current = derived
	}
	keys := old
	if !bytes.Equal(current, derived) && !slices.ContainsFunc(old, func(k []byte) bool { return bytes.Equal(k, derived) }) {
		keys = append(keys[:len(keys):len(keys)], derived)
	}
	return NewKeyring(current, keys...)
}
