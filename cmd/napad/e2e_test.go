package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// A whole idea in every language, by long polling and by webhook; the row in
// PostgreSQL holds every answer.
func TestE2EWholeIdeaInEveryLanguage(t *testing.T) {
	inBothModes(t, func(t *testing.T, webhook bool) { wholeIdeaInEveryLanguage(t, webhook) })
}

func wholeIdeaInEveryLanguage(t *testing.T, webhook bool, setup ...func(*app)) {
	a := newApp(t, webhook, setup...)
	f := a.forum("8.B – ZŠ Komenského")
	for _, lang := range flows.Languages {
		s := a.student(lang)
		want := flowtest.AnswersIn(lang)
		s.toReview(f.Code, want)
		s.tap("button.submit")
		thanks := s.expectCount("submit.thanks", one())
		ref := regexpRef.FindString(thanks.Text)
		if ref == "" {
			t.Fatalf("%s: no reference in %q", lang, thanks.Text)
		}
		row := a.suggestion(ref)
		checkRow(t, row, f, lang, want)
	}
	if n := len(a.suggestions(f)); n != len(flows.Languages) {
		t.Errorf("%d rows, want %d", n, len(flows.Languages))
	}
	// The command menu was published in every language.
	for _, lang := range append([]string{""}, flows.Languages...) {
		if cmds := a.fake.Commands(lang); len(cmds) != 12 || cmds[0].Command != "new" || cmds[1].Command != "join" {
			t.Errorf("commands for %q: %v", lang, cmds)
		}
	}
}

// A student stops halfway, the bot is restarted, and the student finishes.
func TestE2ERestartMidConversation(t *testing.T) {
	inBothModes(t, restartMidConversation)
}

func restartMidConversation(t *testing.T, webhook bool) {
	a := newApp(t, webhook)
	f := a.forum("9.A")
	s := a.student("cs")
	want := flowtest.AnswersIn("cs")
	s.toFirstQuestion(f.Code, "school")
	s.walk(flows.StepWorksWell, flows.StepTitle, want, nil)

	a.stop()
	s.u.SendText(want[flows.StepTitle]) // sent while the bot is down
	a.start()

	rest := maps.Clone(want)
	rest[flows.StepPlace] = "Školní dvůr"
	s.walk(flows.StepDescription, flows.StepReview, rest, map[flows.StepID]string{flows.StepPhoto: skipIt, flows.StepHelp: "maybe"})
	s.tap("button.submit")
	ref := regexpRef.FindString(s.expectCount("submit.thanks", one()).Text)
	row := a.suggestion(ref)
	if row.Scope != "school" || row.WorksWell != want[flows.StepWorksWell] || row.Improve != want[flows.StepImprove] || row.Title != want[flows.StepTitle] ||
		row.PlaceText != "Školní dvůr" || row.Latitude != nil || row.PhotoFileID != "" || row.WantsToHelp != "maybe" {
		t.Errorf("row after restart: %+v", row.Idea)
	}
}

// Submit tapped twice and the same update delivered again: one row. The last
// update handled, delivered again, is answered again (the bot cannot know
// whether its first answer got out); an older one is not. The first
// thank-you takes the summary's place; the one said again is a message of
// its own.
func TestE2ESubmitTwiceAndDuplicateUpdate(t *testing.T) {
	inBothModes(t, func(t *testing.T, webhook bool) {
		a := newApp(t, webhook)
		f := a.forum("7.C")
		s := a.student("en")
		s.toReview(f.Code, flowtest.AnswersIn("en"))
		review := s.expect("review.summary")
		submit := s.buttonData(review, "button.submit")
		first := s.u.TapData(review, submit)
		s.expectCount("submit.thanks", one())
		a.fake.Redeliver(first)
		confirmations := func() int { return s.count("submit.thanks", one()) }
		a.fake.WaitFor(t, s.u.ID(), func(telegramtest.SentMessage) bool { return confirmations() == 2 }, waitLong)
		// Tapped again quickly: the summary has become the thank-you, but
		// the client still sends the Submit button's callback.
		s.u.TapData(review, submit)
		s.expect("submit.already")
		a.fake.Redeliver(first)
		s.u.SendText("/help")
		s.expect("about.help")
		rows := a.suggestions(f)
		if len(rows) != 1 {
			t.Fatalf("%d rows, want 1", len(rows))
		}
		if n := confirmations(); n != 2 {
			t.Errorf("%d confirmations, want 2 (the tap, and the tap delivered again right after)", n)
		}
	})
}

// Bad input gets a clear answer, never a crash, and changes nothing.
func TestE2EBadInput(t *testing.T) {
	inBothModes(t, badInput)
}

func badInput(t *testing.T, webhook bool) {
	a := newApp(t, webhook)
	f := a.forum("6.B")
	s := a.studentOnPhone("en", "de") // asked the language

	s.u.SendText("hello")
	s.expect("start.how_to_join")
	s.u.SendText("/start")
	s.expect("start.how_to_join")
	s.u.SendText("/start NoSuchCode123")
	s.expect("join.unknown")
	s.u.SendText("/start bad%code!")
	s.expect("join.unknown")
	s.u.SendText("/start " + strings.Repeat("x", 80))
	s.expect("join.unknown")

	s.u.SendText("/start " + f.Code)
	s.expect("language.ask")
	s.u.SendText("English")
	s.expect("error.tap_button")
	s.tap("lang.en")
	s.expect("privacy.notice")
	s.tap("privacy.ok")
	s.expect("scope.ask")
	s.tap("scope.town")
	s.expect("works.ask")
	s.u.SendSticker()
	s.expect("error.text_expected")
	s.u.SendVoice()
	s.expect("error.text_expected")
	s.u.SendVideo()
	s.expect("error.text_expected")
	s.tap("button.skip")
	s.expect("improve.ask")
	s.u.SendText(strings.Repeat("Příliš dlouhé. ", 400)) // 6,000 characters
	s.expect("error.too_long")
	s.u.SendText("\u200b\u200b  ")
	s.expect("error.empty")
	s.u.SendText("🙂🙂🙂")
	s.expect("title.ask")

	last := a.fake.Sent(s.u.ID())
	msg := last[len(last)-1]
	s.u.TapData(msg, "forged|data|here")
	s.expect("error.stale_button")
	s.u.TapData(msg, "999|scope|school")
	s.expect("error.stale_button")
	s.u.TapData(msg, strings.Repeat("z", 64))
	s.expect("error.stale_button")

	// Another student's button, a group chat, a channel post, an edit and an
	// unknown update type: ignored or answered, never a crash.
	other := a.studentOnPhone("cs", "")
	other.u.SendText("/start " + f.Code)
	other.expect("language.ask")
	otherSent := a.fake.Sent(other.u.ID())
	otherMsg := otherSent[len(otherSent)-1]
	czech := a.renderIn("cs", "lang.cs")
	button, _ := otherMsg.Button(czech)
	// A forged tap by one student on a message in another student's chat.
	tapID := a.fake.InjectRaw(fmt.Sprintf(`{"callback_query":{"id":"forged-1","from":{"id":%d,"is_bot":false,"first_name":"S"},"chat_instance":"x","data":%q,"message":{"message_id":%d,"date":1764300000,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":true,"first_name":"Nápad"},"text":"x"}}}`,
		s.u.ID(), button.CallbackData, otherMsg.MessageID, other.u.ID(), telegramtest.BotID))
	a.fake.WaitCallbackAnswer(t, tapID, waitLong)
	a.fake.InjectRaw(`{"message":{"message_id":1,"date":1764300000,"chat":{"id":-100123,"type":"group","title":"8.B"},"from":{"id":6001,"is_bot":false,"first_name":"A","language_code":"cs"},"text":"/start","entities":[{"type":"bot_command","offset":0,"length":6}]}}`)
	a.fake.WaitFor(t, -100123, func(m telegramtest.SentMessage) bool {
		return m.Text == a.renderIn("cs", "bot.private_only")
	}, waitLong)
	a.fake.InjectRaw(`{"channel_post":{"message_id":2,"date":1764300000,"chat":{"id":-100999,"type":"channel","title":"News"},"text":"hello"}}`)
	a.fake.InjectRaw(`{"some_future_update":{"x":1}}`)
	s.u.EditLast("edited text")
	s.u.SendText("A title at last")
	s.expect("description.ask")
	// A tap now changes the tapped message itself: the other chat must
	// have neither a new message nor an edited one.
	if now := a.fake.Sent(other.u.ID()); len(now) != len(otherSent) || now[len(now)-1].Edited || now[len(now)-1].Text != otherMsg.Text {
		t.Errorf("a tap from another user changed the other chat:\n%v\nwas:\n%v", now, otherSent)
	}
	other.tap("lang.cs") // the other student's own tap still works
	other.expect("privacy.notice")

	// Closed forum.
	if err := a.db.SetForumOpen(context.Background(), f.Code, false); err != nil {
		t.Fatal(err)
	}
	late := a.student("uk")
	late.u.SendText("/start " + f.Code)
	late.expect("join.closed")
	if len(a.suggestions(f)) != 0 {
		t.Error("bad input stored an idea")
	}
	if n := len(a.fake.Sent(-100999)); n != 0 {
		t.Errorf("the bot wrote %d messages into a channel", n)
	}
}

// Webhook requests without the right secret are refused and change nothing.
func TestE2EWebhookSecret(t *testing.T) {
	a := newApp(t, true)
	body := `{"update_id":99,"message":{"message_id":1,"date":1764300000,"chat":{"id":4242,"type":"private"},"from":{"id":4242,"is_bot":false,"first_name":"X"},"text":"/start","entities":[{"type":"bot_command","offset":0,"length":6}]}}`
	for _, secret := range []string{"", "wrong_secret_0123456789"} {
		req, _ := http.NewRequest(http.MethodPost, a.webhook, strings.NewReader(body))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("secret %q: status %d, want 401", secret, resp.StatusCode)
		}
	}
	if calls := a.fake.CallsTo("sendMessage"); len(calls) != 0 {
		t.Errorf("an unauthenticated update made the bot send %d messages", len(calls))
	}
}

// `napad forum create` prints a join link that works.
func TestE2EForumCreateCommand(t *testing.T) {
	a := newApp(t, false)
	var out strings.Builder
	err := run(context.Background(), []string{"forum", "create", "--name", "8.B – ZŠ Komenského", "--school", "ZŠ Komenského", "--town", "Kolín"}, a.getenv, &out, &out)
	if err != nil {
		t.Fatalf("forum create: %v\n%s", err, out.String())
	}
	prefix := "https://t.me/" + telegramtest.BotUsername + "?start="
	i := strings.Index(out.String(), prefix)
	if i < 0 {
		t.Fatalf("no join link in:\n%s", out.String())
	}
	code := strings.Fields(out.String()[i+len(prefix):])[0]
	s := a.student("cs")
	s.u.SendText("/start " + code)
	welcome := s.expect("join.welcome")
	if !strings.Contains(welcome.Text, "8.B – ZŠ Komenského") {
		t.Errorf("welcome %q lacks the forum name", welcome.Text)
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	base := map[string]string{
		"TELEGRAM_BOT_TOKEN": testToken, "DATABASE_URL": "postgres://x@127.0.0.1:1/db", "REDIS_URL": "redis://127.0.0.1:1/0",
		"PARTICIPANT_KEY": strings.Repeat("k", 32),
	}
	cases := map[string]map[string]string{
		"TELEGRAM_BOT_TOKEN":     {"TELEGRAM_BOT_TOKEN": "not-a-token"},
		"DATABASE_URL":           {"DATABASE_URL": "mysql://x"},
		"REDIS_URL":              {"REDIS_URL": ""},
		"PARTICIPANT_KEY":        {"PARTICIPANT_KEY": "short"},
		"PARTICIPANT_KEY ":       {"PARTICIPANT_KEY": ""},
		"WEBHOOK_SECRET":         {"WEBHOOK_URL": "https://example.org/hook"},
		"LISTEN_ADDR":            {"LISTEN_ADDR": "8080"},
		"WEBHOOK_URL":            {"WEBHOOK_URL": "https://example.org/", "WEBHOOK_SECRET": testSecret},
		"WEBHOOK_URL ":           {"WEBHOOK_URL": "https://example.org", "WEBHOOK_SECRET": testSecret},
		"METRICS_ADDR":           {"METRICS_ADDR": ":8080"},
		"LOG_LEVEL":              {"LOG_LEVEL": "loud"},
		"TELEGRAM_API_URL":       {"TELEGRAM_API_URL": "ftp://x"},
		"CONTACT_KEY":            {"CONTACT_KEY": "a-passphrase-is-not-a-key-0123456789"},
		"CONTACT_OLD_KEYS":       {"CONTACT_OLD_KEYS": strings.Repeat("ab", 32) + ",0123"},
		"CONTACT_OLD_KEYS ":      {"CONTACT_KEY": strings.Repeat("ab", 32), "CONTACT_OLD_KEYS": strings.Repeat("ab", 32)},
		"MIGRATION_DATABASE_URL": {"MIGRATION_DATABASE_URL": "mysql://x"},
		"REDIS_URL  ":            {"REDIS_URL": "redis+sentinel://:pw@127.0.0.1:26379/0"},
		"REDIS_URL   ":           {"REDIS_URL": "http://127.0.0.1:6379"},
		"REDIS_KEY_PREFIX":       {"REDIS_KEY_PREFIX": "napad:{a}:"},
	}
	for name, change := range cases {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range change {
			env[k] = v
		}
		err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &strings.Builder{}, &strings.Builder{})
		if err == nil || !strings.HasPrefix(err.Error(), strings.TrimSpace(name)) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: the token is in the error", name)
		}
		if err != nil && (strings.Contains(err.Error(), "passphrase") || strings.Contains(err.Error(), "abab")) {
			t.Errorf("%s: a key is in the error: %v", name, err)
		}
	}
	if err := run(context.Background(), nil, func(string) string { return "" }, &strings.Builder{}, &strings.Builder{}); err == nil {
		t.Error("no command accepted")
	}
}

// --- helpers ---

func (a *app) renderIn(lang, key string) string {
	text, err := a.catalog.Render(lang, flows.Msg{Key: key})
	if err != nil {
		a.t.Fatal(err)
	}
	return text
}

func (a *app) suggestion(ref string) postgres.StoredIdea {
	a.t.Helper()
	s, found, err := a.db.IdeaByReference(context.Background(), ref)
	if err != nil || !found {
		a.t.Fatalf("suggestion %s: found=%v err=%v", ref, found, err)
	}
	return s
}

func (a *app) suggestions(f flows.Forum) []postgres.StoredIdea {
	a.t.Helper()
	rows, err := pgtest.IdeasByForum(context.Background(), a.db, f.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	return rows
}

func checkRow(t *testing.T, row postgres.StoredIdea, f flows.Forum, lang string, want map[flows.StepID]string) {
	t.Helper()
	got := row.Idea
	if got.ForumID != f.ID || got.Language != lang || got.Scope != "both" || got.WorksWell != want[flows.StepWorksWell] ||
		got.Improve != want[flows.StepImprove] || got.Title != want[flows.StepTitle] || got.Description != want[flows.StepDescription] ||
		got.Category != "public_space" || got.PhotoFileID != flowtest.Photo || got.WantsToHelp != "yes" ||
		got.Channel != flows.ChannelTelegram {
		t.Errorf("%s: row %+v", lang, got)
	}
	if got.Latitude == nil || *got.Latitude != flowtest.Kolin.Lat || got.Longitude == nil || *got.Longitude != flowtest.Kolin.Lon {
		t.Errorf("%s: place %v %v", lang, got.Latitude, got.Longitude)
	}
	if len(got.ParticipantID) != 32 || strings.Contains(got.ParticipantID, strconv.Itoa(int(nextUserID))) {
		t.Errorf("%s: participant id %q is not a pseudonym", lang, got.ParticipantID)
	}
}

// Redis unreachable: the student hears once that the answer will come, and
// the message is handled by itself when Redis is back.
func TestE2ERedisOutage(t *testing.T) {
	inBothModes(t, func(t *testing.T, webhook bool) {
		var redisProxy *tcpProxy
		a := newApp(t, webhook, throughProxy("REDIS_URL", &redisProxy))
		f := a.forum("5.A")
		s := a.student("nb") // a phone in Norwegian: not asked the language
		s.u.SendText("/start " + f.Code)
		s.expect("privacy.notice")

		if code := a.getOps(t, "/readyz"); code != http.StatusOK {
			t.Errorf("/readyz with both stores up: %d", code)
		}
		redisProxy.cut()
		if code := a.getOps(t, "/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz with Redis cut: %d", code)
		}
		if code := a.getOps(t, "/healthz"); code != http.StatusOK {
			t.Errorf("/healthz with Redis cut: %d", code)
		}
		s.tap("privacy.ok")
		s.expect("bot.try_again_later")
		redisProxy.restore()
		s.expect("scope.ask")

		notices := 0
		for _, m := range a.fake.Sent(s.u.ID()) {
			if m.Text == s.render("bot.try_again_later") {
				notices++
			}
		}
		if notices != 1 {
			t.Errorf("told %d times that the bot is stuck, want once", notices)
		}
		s.tap("scope.school")
		s.expect("works.ask")
	})
}

// Odd things students' apps send: a tap on a days-old message (Telegram then
// leaves out its content), an album of photos, an edit, a live location
// where a pin is asked for.
func TestE2EOddUpdates(t *testing.T) {
	a := newApp(t, false)
	f := a.forum("4.B")
	s := a.studentOnPhone("en", "de") // asked the language
	s.u.SendText("/start " + f.Code)
	s.expect("language.ask")
	s.tap("lang.en")
	privacy := s.expect("privacy.notice")
	ok, _ := privacy.Button(s.render("privacy.ok"))
	a.fake.InjectRaw(fmt.Sprintf(`{"callback_query":{"id":"old-1","from":{"id":%d,"is_bot":false,"first_name":"S","language_code":"en"},"chat_instance":"x","data":%q,"message":{"message_id":%d,"date":0,"chat":{"id":%d,"type":"private"}}}}`,
		s.u.ID(), ok.CallbackData, privacy.MessageID, s.u.ID()))
	s.expect("scope.ask")

	s.tap("scope.both")
	s.expect("works.ask")
	s.u.EditLast("changed my mind")
	s.expect("error.edited")
	s.tap("button.skip")
	s.walk(flows.StepImprove, flows.StepPlace, map[flows.StepID]string{
		flows.StepImprove: "Shade", flows.StepTitle: "Trees", flows.StepDescription: "Plant trees.",
	}, map[flows.StepID]string{flows.StepCategory: "environment"})
	s.u.SendLiveLocation(flowtest.Kolin.Lat, flowtest.Kolin.Lon, time.Hour)
	s.expect("error.live_location")
	s.u.SendText("Town square")
	s.expect("photo.ask")
	for i, id := range []string{"album-photo-1", "album-photo-2", "album-photo-3"} {
		a.fake.InjectRaw(fmt.Sprintf(`{"message":{"message_id":%d,"date":1764300000,"media_group_id":"album-7","chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"S","language_code":"en"},"photo":[{"file_id":%q,"file_unique_id":"u%d","width":1280,"height":960}]}}`,
			900+i, s.u.ID(), s.u.ID(), id, i))
	}
	s.expect(ideaFlow[questionIndex(flows.StepPhoto)+1].ask)
	s.u.SendText("/help")
	s.expect("about.help")
	if n := s.count("error.tap_button", nil); n != 0 {
		t.Errorf("the extra photos of an album were answered %d times", n)
	}
	s.walk(ideaFlow[questionIndex(flows.StepPhoto)+1].step.ID, flows.StepReview, nil, map[flows.StepID]string{flows.StepHelp: "no"})
	s.tap("button.submit")
	ref := regexpRef.FindString(s.expectCount("submit.thanks", one()).Text)
	if row := a.suggestion(ref); row.PhotoFileID != "album-photo-1" || row.PlaceText != "Town square" {
		t.Errorf("row %+v", row.Idea)
	}
}

// PostgreSQL unreachable at Submit: the idea is kept in the Redis outbox, the
// student is told it is saved, and it is stored once PostgreSQL is back,
// exactly once, and the student gets its code.
func TestE2EDatabaseOutageAtSubmit(t *testing.T) {
	var pgProxy *tcpProxy
	a := newApp(t, false, throughProxy("DATABASE_URL", &pgProxy), func(a *app) { a.env["NOTIFY_INTERVAL"] = "100ms" })
	f := a.forum("3.C")
	s := a.student("uk")
	s.toReview(f.Code, flowtest.AnswersIn("uk"))
	pgProxy.cut()
	s.tap("button.submit")
	s.expect("submit.queued")
	s.tap("button.submit") // the old button again: already kept
	s.expect("submit.queued")
	// Redis does not give away whom to tell the code: the chat is sealed.
	entries := s.outbox()
	if len(entries) != 1 {
		t.Errorf("%d outbox entries, want 1", len(entries))
	}
	chat := regexp.MustCompile(`\b` + strconv.FormatInt(s.u.ID(), 10) + `\b`)
	for _, data := range entries {
		if chat.Match(data) {
			t.Errorf("the outbox entry has the chat id: %s", data)
		}
	}
	pgProxy.restore()
	code := s.expect("submit.code_later")
	ref := regexpRef.FindString(code.Text)
	checkRow(t, a.suggestion(ref), f, "uk", flowtest.AnswersIn("uk"))
	if n := len(a.suggestions(f)); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
	s.u.SendText("/myideas")
	if item := s.expect("myideas.item"); !strings.Contains(item.Text, ref) {
		t.Errorf("/myideas after the outbox: %q", item.Text)
	}
}

// inBothModes runs a scenario with long polling and with a webhook.
func inBothModes(t *testing.T, scenario func(t *testing.T, webhook bool)) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) { scenario(t, mode == "webhook") })
	}
}

// A student sees their ideas, takes their data, stops messages and deletes
// everything; afterwards nothing about them is left.
func TestE2EStudentDataRights(t *testing.T) {
	a := newApp(t, false)
	f := a.forum("2.A")
	s := a.student("en")
	s.toReview(f.Code, flowtest.AnswersIn("en"))
	s.tap("button.submit")
	ref := regexpRef.FindString(s.expectCount("submit.thanks", one()).Text)

	s.u.SendText("/myideas")
	item := s.expect("myideas.item")
	if !strings.Contains(item.Text, ref) || !strings.Contains(item.Text, flowtest.AnswersIn("en")[flows.StepTitle]) || !strings.Contains(item.Text, s.render("status.new")) {
		t.Errorf("/myideas: %q", item.Text)
	}

	s.u.SendText("/mydata")
	doc := a.fake.WaitFor(t, s.u.ID(), func(m telegramtest.SentMessage) bool { return m.Document != nil }, waitLong)
	if !strings.Contains(string(doc.Document.Data), flowtest.AnswersIn("en")[flows.StepDescription]) || !strings.Contains(string(doc.Document.Data), ref) {
		t.Errorf("/mydata file:\n%s", doc.Document.Data)
	}
	if strings.Contains(string(doc.Document.Data), "Student") { // the Telegram first name
		t.Error("/mydata contains the student's Telegram name")
	}
	// Their chat, sealed in the database, is theirs to see.
	if !strings.Contains(string(doc.Document.Data), fmt.Sprintf(`"telegram_chat": %d`, s.u.ID())) {
		t.Errorf("/mydata lacks the student's chat:\n%s", doc.Document.Data)
	}

	s.u.SendText("/stop")
	s.expect("stop.done")

	exported := func() string {
		t.Helper()
		file := t.TempDir() + "/ideas.csv"
		var out strings.Builder
		if err := run(context.Background(), []string{"export", "--format", "csv", "-o", file}, a.getenv, &out, &out); err != nil {
			t.Fatalf("export: %v\n%s", err, out.String())
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if csv := exported(); !strings.Contains(csv, ref) {
		t.Fatalf("the idea is not in the export before /delete:\n%s", csv)
	}

	s.u.SendText("/delete")
	s.expect("delete.confirm")
	s.tap("button.keep_data")
	s.expect("delete.kept")
	if _, found, _ := a.db.IdeaByReference(context.Background(), ref); !found {
		t.Fatal("'keep it' deleted the idea")
	}
	s.u.SendText("/delete")
	s.expect("delete.confirm")
	s.tap("button.delete_all")
	s.expect("delete.done")
	if _, found, _ := a.db.IdeaByReference(context.Background(), ref); found {
		t.Error("the idea is still in PostgreSQL")
	}
	if n := len(a.suggestions(f)); n != 0 {
		t.Errorf("%d ideas left in the forum", n)
	}
	if csv := exported(); strings.Contains(csv, ref) || strings.Contains(csv, flowtest.AnswersIn("en")[flows.StepTitle]) {
		t.Errorf("the export still has the deleted idea:\n%s", csv)
	}
	s.u.SendText("/myideas")
	s.expect("myideas.none")
	s.u.SendText("hello")
	s.expect("start.how_to_join") // the conversation is gone too
}

func TestRetentionCommand(t *testing.T) {
	a := newApp(t, false)
	var out strings.Builder
	if err := run(context.Background(), []string{"retention"}, a.getenv, &out, &out); err == nil {
		t.Error("retention ran without RETENTION_DAYS")
	}
	a.env["RETENTION_DAYS"] = "365"
	out.Reset()
	if err := run(context.Background(), []string{"retention"}, a.getenv, &out, &out); err != nil || !strings.Contains(out.String(), "0 ideas") {
		t.Errorf("retention: %v %q", err, out.String())
	}
	a.env["RETENTION_DAYS"] = "7"
	if err := run(context.Background(), []string{"retention"}, a.getenv, &out, &out); err == nil || !strings.HasPrefix(err.Error(), "RETENTION_DAYS") {
		t.Errorf("a too short retention: %v", err)
	}
}

// A student sending 50 messages in a moment is slowed down politely, once,
// and nobody else notices.
func TestE2EFloodIsSlowedDown(t *testing.T) {
	a := newApp(t, false)
	f := a.forum("1.A")
	s := a.student("en")
	s.u.SendText("/start " + f.Code)
	s.expect("privacy.notice")
	for i := 0; i < 50; i++ {
		s.u.SendText(fmt.Sprintf("message %d", i))
	}
	s.expect("bot.slow_down")
	other := a.student("cs")
	other.u.SendText("/start " + f.Code)
	other.expect("privacy.notice")
	if warnings := s.count("bot.slow_down", nil); warnings != 1 {
		t.Errorf("told to slow down %d times", warnings)
	}
}

// In long polling, an update that must wait for PostgreSQL makes Telegram
// hand out the updates after it again, round after round; those already
// handled (another student's answer) are neither handled nor answered again.
func TestE2EOthersAreNotAnsweredTwiceWhileOneUpdateWaits(t *testing.T) {
	var pgProxy *tcpProxy
	a := newApp(t, false, throughProxy("DATABASE_URL", &pgProxy))
	f := a.forum("4.D")
	b := a.student("en")
	b.toFirstQuestion(f.Code, "school")

	pgProxy.cut()
	late := a.student("cs")
	waiting := late.u.SendText("/start " + f.Code) // needs PostgreSQL: waits
	b.u.SendText("The library")                    // needs only Redis: answered
	b.expect("improve.ask")
	// Wait for two more rounds of fetching from the waiting update.
	refetches := func() int {
		n := 0
		for _, c := range a.fake.CallsTo("getUpdates") {
			if c.Params["offset"] == strconv.FormatInt(waiting, 10) {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(waitLong)
	for start := refetches(); refetches() < start+2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the waiting update was not fetched again")
		}
	}
	pgProxy.restore()
	late.expect("privacy.notice")

	if asked := b.count("improve.ask", nil); asked != 1 {
		t.Errorf("the other student was asked the next question %d times, want once", asked)
	}
}

// A student who said /stop before sending any idea is not kept reachable by
// a later one: no contact is stored, so no status message can come.
func TestE2EStopBeforeTheFirstIdea(t *testing.T) {
	a := newApp(t, false)
	f := a.forum("2.A")
	s := a.student("en")
	s.u.SendText("/stop")
	s.expect("stop.done")
	s.toReview(f.Code, flowtest.AnswersIn("en"))
	s.tap("button.submit")
	s.expectCount("submit.thanks", one())
	if n := len(a.suggestions(f)); n != 1 {
		t.Fatalf("%d ideas, want 1", n)
	}
	conn, err := pgx.Connect(t.Context(), a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var contacts int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM contacts WHERE NOT opted_out`).Scan(&contacts); err != nil {
		t.Fatal(err)
	}
	if contacts != 0 {
		t.Errorf("%d reachable contacts after /stop, want 0", contacts)
	}
}

// A class typing commands into a group hears once that the bot works in
// private chats, not once per message, and nobody else waits for it.
func TestE2EGroupCommandsAreAnsweredOnce(t *testing.T) {
	a := newApp(t, false)
	const group = -100777
	for i := range 30 {
		a.fake.InjectRaw(fmt.Sprintf(`{"message":{"message_id":%d,"date":1764300000,"chat":{"id":%d,"type":"group","title":"8.B"},"from":{"id":%d,"is_bot":false,"first_name":"A","language_code":"cs"},"text":"/start","entities":[{"type":"bot_command","offset":0,"length":6}]}}`,
			i+1, group, 7000+i))
	}
	f := a.forum("8.B")
	s := a.student("cs")
	s.u.SendText("/start " + f.Code)
	s.expect("privacy.notice") // handled after the whole group's batch
	if n := len(a.fake.Sent(group)); n != 1 {
		t.Errorf("%d messages into the group, want 1", n)
	}
}

// A student sends at most IDEAS_PER_DAY ideas to one forum in a day (here
// one); the next is kept in the conversation, not lost, and the others are
// unaffected.
func TestE2EIdeasPerDay(t *testing.T) {
	a := newApp(t, false, func(a *app) { a.env["IDEAS_PER_DAY"] = "1" })
	f := a.forum("2.C")
	s := a.student("cs")
	s.toReview(f.Code, flowtest.AnswersIn("cs"))
	s.tap("button.submit")
	s.expectCount("submit.thanks", one())
	s.tap("button.new_idea")
	s.walk(ideaFlow[questionIndex(flows.StepPrivacy)+1].step.ID, flows.StepReview, nil, nil)
	s.tap("button.submit")
	limited := s.expectCount("submit.limit", one())
	if _, ok := limited.Button(s.render("button.try_again")); !ok {
		t.Errorf("no way to send the idea later: %q", limited.Text)
	}
	if n := len(a.suggestions(f)); n != 1 {
		t.Errorf("%d ideas stored, want 1", n)
	}
	other := a.student("en")
	other.toReview(f.Code, flowtest.AnswersIn("en"))
	other.tap("button.submit")
	other.expectCount("submit.thanks", one())
}
