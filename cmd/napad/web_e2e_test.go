package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/bot/web/webtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
)

// A forum's QR code opens Telegram, or, once its teacher (or staff) says
// so on the card, the web channel's page that offers Telegram or the
// browser: one poster for students with and without Telegram.
func TestE2EQRChoice(t *testing.T) {
	a := newApp(t, false, func(a *app) {
		a.env["STAFF_TELEGRAM_IDS"] = "4100"
		a.env["PUBLIC_URL"] = "https://napad.example.org"
	})
	f := a.forum("6.C")
	staff := &student{a: a, t: t, u: a.fake.NewUser(staffID, "Staff", "en"), lang: "en"}
	staff.u.SendText("/forums")
	list := staff.expectCount("forum.list", one())
	staff.u.Tap(list, "📋 6.C")
	card := staff.expect("forum.card")
	qr := func(card telegramtest.SentMessage) string {
		before := len(a.fake.Sent(staffID))
		staff.u.Tap(card, "📷 QR code")
		photo := a.fake.WaitFor(t, staffID, func(m telegramtest.SentMessage) bool { return m.Photo != nil && len(a.fake.Sent(staffID)) > before }, waitLong)
		return decodeQR(t, photo.Photo.Data)
	}
	if got := qr(card); got != "https://t.me/"+telegramtest.BotUsername+"?start="+f.Code {
		t.Errorf("QR code opens %q, want the Telegram link", got)
	}
	staff.u.Tap(card, staff.render("button.qr_choice"))
	changed := a.fake.WaitFor(t, staffID, func(m telegramtest.SentMessage) bool {
		return m.MessageID == card.MessageID && strings.Contains(m.Text, "a page offering Telegram or the browser")
	}, waitLong)
	if got := qr(changed); got != "https://napad.example.org/j/"+f.Code {
		t.Errorf("QR code opens %q, want the web page", got)
	}
	// The page it opens offers both.
	resp, err := http.Get("http://" + a.env["LISTEN_ADDR"] + "/j/" + f.Code)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "https://t.me/"+telegramtest.BotUsername+"?start="+f.Code) || !strings.Contains(string(body), `action="/j/`+f.Code) {
		t.Errorf("the choice page lacks Telegram's link or the browser's form:\n%s", body)
	}
}

// With nothing but a database and Redis (no Telegram token, no PUBLIC_URL)
// the bot serves the web channel alone, says where, and shows a demo forum
// at / that works in the browser.
func TestE2EWebOnlyWithNothingConfigured(t *testing.T) {
	a := prepareApp(t)
	delete(a.env, "TELEGRAM_BOT_TOKEN")
	delete(a.env, "TELEGRAM_API_URL")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, a.getenv, a.logs, a.logs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	base := "http://" + a.env["LISTEN_ADDR"]
	var home string
	for deadline := time.Now().Add(waitLong); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(base + "/")
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		home = string(body)
		break
	}
	demo := regexp.MustCompile(`href="/j/([A-Za-z0-9_-]+)`).FindStringSubmatch(home)
	if demo == nil {
		t.Fatalf("the home page has no demo forum:\n%s\n%s", home, a.logs)
	}
	port := a.env["LISTEN_ADDR"][strings.LastIndex(a.env["LISTEN_ADDR"], ":"):]
	if want := "the demo forum: http://localhost" + port + "/j/" + demo[1]; !strings.Contains(a.logs.String(), want) {
		t.Errorf("the bot did not print %q", want)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	resp, err := client.Get(base + "/j/" + demo[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Nápad – demo") {
		t.Errorf("the demo forum's page: %d\n%s", resp.StatusCode, body)
	}
}

// The same idea, sent by one student in Telegram and by another in the
// browser, arrives in PostgreSQL in the same shape: only who sent it, when,
// its code and the channel differ.
func TestE2ESameIdeaFromBothChannels(t *testing.T) {
	a := newApp(t, false)
	f := a.forum("8.C")
	want := flowtest.AnswersIn("en")

	tg := a.student("en")
	tg.toReview(f.Code, want)
	tg.tap("button.submit")
	tgRef := regexpRef.FindString(tg.expectCount("submit.thanks", one()).Text)
	// toReview answers the photo with a Telegram photo: the browser student
	// sends none, so compare without it.
	fromTelegram := a.suggestion(tgRef).Idea
	fromTelegram.PhotoFileID = ""

	b, err := webtest.New("http://"+a.env["LISTEN_ADDR"], webtest.WithHeader("Accept-Language", "en"))
	if err != nil {
		t.Fatal(err)
	}
	label := func(key string) string { return tg.render(key) }
	steps := []struct {
		what string
		do   func() error
	}{
		{"join", func() error { return b.Open("/j/" + f.Code + "?web=1") }},
		{"privacy", func() error { return b.Tap(label("privacy.ok")) }},
		{"scope", func() error { return b.Tap(label("scope.both")) }},
		{"works", func() error { return b.Text(want[flows.StepWorksWell]) }},
		{"improve", func() error { return b.Text(want[flows.StepImprove]) }},
		{"title", func() error { return b.Text(want[flows.StepTitle]) }},
		{"description", func() error { return b.Text(want[flows.StepDescription]) }},
		{"category", func() error { return b.Tap(label("cat.public_space")) }},
		{"place", func() error { return b.Location(flowtest.Kolin.Lat, flowtest.Kolin.Lon) }},
		{"photo", func() error { return b.Tap(label("button.skip")) }},
		{"help", func() error { return b.Tap(label("help.yes")) }},
		{"send", func() error { return b.Tap(label("button.submit")) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v\n%v", s.what, err, b.Messages())
		}
	}
	webRef := regexpRef.FindString(strings.Join(b.Messages(), "\n"))
	if webRef == "" || webRef == tgRef {
		t.Fatalf("no new idea code in the browser: %v", b.Messages())
	}
	fromWeb := a.suggestion(webRef).Idea
	if fromWeb.Channel != flows.ChannelWeb || fromTelegram.Channel != flows.ChannelTelegram {
		t.Errorf("channels %q and %q", fromTelegram.Channel, fromWeb.Channel)
	}
	for _, idea := range []*flows.Idea{&fromTelegram, &fromWeb} {
		idea.DraftID, idea.ParticipantID, idea.SubmittedAt, idea.Channel, idea.ContactChat = "", "", time.Time{}, "", 0
	}
	if !reflect.DeepEqual(fromTelegram, fromWeb) {
		t.Errorf("the same idea differs:\ntelegram %+v\nweb      %+v", fromTelegram, fromWeb)
	}
}

// What became of an idea sent from the browser reaches the student there:
// the notifier sends to whichever channel the chat is in.
func TestE2EWebStudentHearsTheNews(t *testing.T) {
	a := newApp(t, false, func(a *app) { a.env["NOTIFY_INTERVAL"] = "100ms" })
	f := a.forum("8.D")
	b, err := webtest.New("http://"+a.env["LISTEN_ADDR"], webtest.WithHeader("Accept-Language", "en"))
	if err != nil {
		t.Fatal(err)
	}
	render := func(key string) string {
		text, err := a.catalog.Text("en", key, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	for i, step := range []func() error{
		func() error { return b.Open("/j/" + f.Code + "?web=1") },
		func() error { return b.Tap(render("privacy.ok")) },
		func() error { return b.Tap(render("scope.school")) },
		func() error { return b.Tap(render("button.skip")) },
		func() error { return b.Text("Nowhere to sit") },
		func() error { return b.Text("Benches") },
		func() error { return b.Tap(render("button.skip")) },
		func() error { return b.Tap(render("cat.school")) },
		func() error { return b.Tap(render("button.skip")) },
		func() error { return b.Tap(render("button.skip")) },
		func() error { return b.Tap(render("help.no")) },
		func() error { return b.Tap(render("button.submit")) },
	} {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v\n%v", i, err, b.Messages())
		}
	}
	ref := regexpRef.FindString(strings.Join(b.Messages(), "\n"))
	var out, errOut strings.Builder
	if err := run(t.Context(), []string{"status", "set", "--ref", ref, "--status", "selected"}, a.getenv, &out, &errOut); err != nil {
		t.Fatalf("status set: %v %s", err, errOut.String())
	}
	for deadline := time.Now().Add(waitLong); ; time.Sleep(100 * time.Millisecond) {
		if err := b.Open("/c"); err != nil {
			t.Fatal(err)
		}
		if all := strings.Join(b.Messages(), "\n"); strings.Count(all, ref) >= 2 && strings.Contains(all, render("status.selected")) {
			return // the news names the idea and what became of it
		}
		if time.Now().After(deadline) {
			t.Fatalf("the news did not reach the browser:\n%s\n%s", strings.Join(b.Messages(), "\n"), a.logs)
		}
	}
}
