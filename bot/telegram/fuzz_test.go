package telegram

import (
	"encoding/json"
	"testing"

	"github.com/go-telegram/bot/models"
)

// FuzzUpdate decodes arbitrary update JSON as Telegram (or someone posing as
// it) might send, and runs everything that reads an update before the
// conversation: none of it may panic. Seeds run in `make test`; explore with
// `go test ./bot -run '^$' -fuzz FuzzUpdate -fuzztime 60s`.
func FuzzUpdate(f *testing.F) {
	for _, seed := range []string{
		`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5,"first_name":"A"},"text":"/start abc","entities":[{"type":"bot_command","offset":0,"length":6}]}}`,
		`{"update_id":2,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5,"first_name":"A"},"text":"","entities":[{"type":"bot_command","offset":0,"length":6}]}}`,
		`{"update_id":3,"callback_query":{"id":"q","from":{"id":5,"first_name":"A"},"data":"1|cat|misc","message":{"message_id":9,"date":0,"chat":{"id":5,"type":"private"}}}}`,
		`{"update_id":4,"callback_query":{"id":"q","from":{"id":5,"first_name":"A"},"data":"x"}}`,
		`{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"photo":[],"location":{"latitude":91,"longitude":-200,"live_period":60}}}`,
		`{"update_id":6,"edited_message":{"message_id":1,"date":1,"chat":{"id":-5,"type":"group"}}}`,
		`{"update_id":7,"channel_post":{"message_id":1,"date":1,"chat":{"id":-100,"type":"channel"},"text":"/new"}}`,
		`{"update_id":8,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5},"text":"   ","entities":[{"type":"bot_command","offset":0,"length":3}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		u := &models.Update{}
		if json.Unmarshal(raw, u) != nil {
			return
		}
		_ = chatKey(u)
		_ = languageCode(u)
		_ = tappedMessage(u)
		if u.CallbackQuery != nil {
			_, _ = callbackChat(u.CallbackQuery)
		}
		for _, m := range []*models.Message{u.Message, u.EditedMessage, u.ChannelPost} {
			if m == nil {
				continue
			}
			_ = messageInput(m)
			_, _ = commandName(m)
			_ = commandArg(m.Text)
		}
	})
}
