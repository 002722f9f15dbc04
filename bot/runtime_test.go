package bot

import (
	"strings"
	"testing"
)

func TestParticipantIDIsAStableKeyedPseudonym(t *testing.T) {
	pid := func(key, user string) string {
		rt, err := New(Config{ParticipantKey: []byte(key)}, Stores{})
		if err != nil {
			t.Fatal(err)
		}
		return rt.ParticipantID(user)
	}
	a := pid("key-one-0123456789abcdef0123456789", "telegram-user:123456789")
	// The same as every earlier version: stored pseudonyms must stay valid.
	if a != "d7a792d30c2446076fbf45eb7dcb55cc" {
		t.Errorf("pseudonym changed: %q", a)
	}
	if a == pid("key-two-0123456789abcdef0123456789", "telegram-user:123456789") {
		t.Error("does not depend on the key")
	}
	if a == pid("key-one-0123456789abcdef0123456789", "telegram-user:123456780") {
		t.Error("does not depend on the user")
	}
	if len(a) != 32 || strings.Contains(a, "123456789") {
		t.Errorf("pseudonym %q", a)
	}
}
