package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
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
