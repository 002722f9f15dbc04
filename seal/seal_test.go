package seal_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/healthycities/napad/seal"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, seal.KeySize) }

func keyring(t *testing.T, current []byte, old ...[]byte) *seal.Keyring {
	t.Helper()
	k, err := seal.NewKeyring(current, old...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealedChatOpensOnlyWhereItWasSealed(t *testing.T) {
	k := keyring(t, testKey(1))
	const chat = 7305118042
	sealed := k.SealChat("contacts", "p1", chat)
	if got, err := k.OpenChat("contacts", "p1", sealed); err != nil || got != chat {
		t.Fatalf("OpenChat = %d, %v; want %d", got, err, chat)
	}
	if again := k.SealChat("contacts", "p1", chat); bytes.Equal(again, sealed) {
		t.Error("sealing twice gives the same bytes: equal chats would show")
	}
	for _, c := range []struct{ place, pid string }{{"contacts", "p2"}, {"outbox", "p1"}, {"contacts", "p"}, {"contacts\x00p", "1"}} {
		if _, err := k.OpenChat(c.place, c.pid, sealed); !errors.Is(err, seal.ErrCorrupt) {
			t.Errorf("opened for %q/%q: %v, want ErrCorrupt", c.place, c.pid, err)
		}
	}
	for i := range sealed {
		changed := bytes.Clone(sealed)
		changed[i] ^= 1
		if _, err := k.OpenChat("contacts", "p1", changed); err == nil {
			t.Errorf("opened with byte %d changed", i)
		}
	}
	for _, bad := range [][]byte{nil, {}, sealed[:seal.HeaderSize], sealed[:len(sealed)-1]} {
		if _, err := k.OpenChat("contacts", "p1", bad); err == nil {
			t.Errorf("opened %x", bad)
		}
	}
}

// A keyring opens what its old keys sealed, seals with its current key, and
// says which values are sealed with another key.
func TestKeyringRotation(t *testing.T) {
	old := keyring(t, testKey(1))
	sealed := old.SealChat("contacts", "p1", 42)
	next := keyring(t, testKey(2), testKey(1))
	if got, err := next.OpenChat("contacts", "p1", sealed); err != nil || got != 42 {
		t.Fatalf("the next keyring opens the old value: %d, %v", got, err)
	}
	if next.Current(sealed) || !old.Current(sealed) {
		t.Error("Current does not tell the old key from the new")
	}
	resealed := next.SealChat("contacts", "p1", 42)
	if !next.Current(resealed) || seal.KeyIDOf(resealed) != next.KeyID() || next.KeyID() == old.KeyID() {
		t.Errorf("resealed with key %s, current %s, old %s", seal.KeyIDOf(resealed), next.KeyID(), old.KeyID())
	}
	if !next.Has(old.KeyID()) || old.Has(next.KeyID()) || next.Has("zz") {
		t.Error("Has is wrong")
	}
	only := keyring(t, testKey(2))
	if _, err := only.OpenChat("contacts", "p1", sealed); !errors.Is(err, seal.ErrUnknownKey) {
		t.Errorf("without the old key: %v, want ErrUnknownKey", err)
	}
	if got, err := only.OpenChat("contacts", "p1", resealed); err != nil || got != 42 {
		t.Errorf("the resealed value without the old key: %d, %v", got, err)
	}
	// The key id tells nothing of the key.
	if strings.Contains(hex.EncodeToString(testKey(1)), old.KeyID()) {
		t.Error("the key id is part of the key")
	}
}

func TestNewKeyringRefusesBadKeys(t *testing.T) {
	for name, keys := range map[string][][]byte{
		"short":   {testKey(1)[:16]},
		"old bad": {testKey(1), {1, 2, 3}},
		"twice":   {testKey(1), testKey(2), testKey(1)},
	} {
		if _, err := seal.NewKeyring(keys[0], keys[1:]...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseKey(t *testing.T) {
	raw := testKey(0xfb)
	for _, s := range []string{
		hex.EncodeToString(raw), strings.ToUpper(hex.EncodeToString(raw)), " " + hex.EncodeToString(raw) + "\n",
		base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
	} {
		if k, err := seal.ParseKey(s); err != nil || !bytes.Equal(k, raw) {
			t.Errorf("ParseKey(%q) = %x, %v", s, k, err)
		}
	}
	secret := "this-is-a-long-passphrase-not-a-key-0123"
	for _, s := range []string{"", "abcd", hex.EncodeToString(raw[:31]), secret} {
		k, err := seal.ParseKey(s)
		if err == nil {
			t.Errorf("ParseKey(%q) = %x, want an error", s, k)
		} else if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("the error repeats the secret: %v", err)
		}
	}
}

// Without a key of its own, the contact key comes from the participant key,
// the same every time and different from it; and a keyring with a key of
// its own still opens what the derived key sealed.
func TestContactKeys(t *testing.T) {
	participant := []byte("e2e-participant-key-0123456789abcdef")
	derived, err := seal.ContactKeys(participant, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := seal.ContactKeys(participant, nil)
	if err != nil || again.KeyID() != derived.KeyID() {
		t.Fatalf("derived twice: %v, %v", again, err)
	}
	if k := seal.DeriveKey(participant, "contact chat v1"); bytes.Contains(k, participant[:8]) {
		t.Error("the derived key shows the participant key")
	}
	if seal.DeriveKey(participant, "a") == nil || bytes.Equal(seal.DeriveKey(participant, "a"), seal.DeriveKey(participant, "b")) {
		t.Error("two purposes give one key")
	}
	sealed := derived.SealChat("contacts", "p1", 99)
	own, err := seal.ContactKeys(participant, testKey(7))
	if err != nil {
		t.Fatal(err)
	}
	if own.KeyID() == derived.KeyID() {
		t.Error("a key of its own is not used")
	}
	if got, err := own.OpenChat("contacts", "p1", sealed); err != nil || got != 99 {
		t.Errorf("the derived key's value with a key of its own: %d, %v", got, err)
	}
	// Giving the derived key as an old key too is no mistake.
	if _, err := seal.ContactKeys(participant, testKey(7), seal.DeriveKey(participant, "contact chat v1")); err != nil {
		t.Errorf("the derived key as an old key: %v", err)
	}
}
