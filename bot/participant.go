package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// participantID is the pseudonym a student is known by everywhere we store
// anything: a keyed hash of the Telegram user id. Without the key the id
// cannot be recovered or linked to other data sets.
func participantID(key []byte, telegramUserID int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("telegram-user:"))
	m.Write([]byte(strconv.FormatInt(telegramUserID, 10)))
	return hex.EncodeToString(m.Sum(nil))[:32]
}
