package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/healthycities/napad/bot/web"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/internal/browsertest"
	"github.com/healthycities/napad/storage/postgres"
)

// browserEvents is what went wrong in the pages: script errors, console
// errors (a Content-Security-Policy violation is one), dialogs.
type browserEvents struct {
	mu       sync.Mutex
	problems []string
}

func (e *browserEvents) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.problems = append(e.problems, s)
}

func (e *browserEvents) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.problems)
}

// phone is one browser profile (a device: its own cookies) with a tab at
// a phone's size.
type phone struct {
	t       *testing.T
	profile context.Context // the device
	ctx     context.Context // its tab
	base    string
	events  *browserEvents
	shots   string // where screenshots go ("": none)
	name    string // the screenshots' prefix
	n       int
	// acceptLanguage is the browser's Accept-Language.
	acceptLanguage string
}

// newPhone opens a fresh browser profile (no cookies) in browser, of
// someone whose languages are acceptLanguage.
func newPhone(t *testing.T, browser context.Context, base, acceptLanguage string) *phone {
	t.Helper()
	profile, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(profile); err != nil {
		t.Fatalf("opening a browser profile: %v", err)
	}
	p := &phone{t: t, profile: profile, base: base, events: &browserEvents{}, acceptLanguage: acceptLanguage}
	p.newTab()
	return p
}

// newTab opens a new tab of the phone's profile, to use from now on.
func (p *phone) newTab() {
	t := p.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(p.profile)
	t.Cleanup(cancel)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTime)
	p.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	err := chromedp.Listen(ctx, func(e any) {
		// This runs in the tab's loop: no command here.
		switch e := e.(type) {
		case *page.EventJavascriptDialogOpening:
			p.events.add("dialog: " + e.Message)
		case *runtime.EventExceptionThrown:
			p.events.add("script error: " + e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == "error" || e.Type == "warning" {
				var args []string
				for _, a := range e.Args {
					args = append(args, fmt.Sprintf("%s%s", a.Value, a.Description))
				}
				p.events.add("console: " + strings.Join(args, " "))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": p.acceptLanguage},
	}); err != nil {
		t.Fatal(err)
	}
}

func (p *phone) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

// load runs actions that lead to a new page and checks it came with want.
func (p *phone) load(want int64, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, actions...)
	if err != nil {
		p.t.Fatal(err)
	}
	if resp == nil {
		p.t.Fatal("no page was loaded")
	}
	if resp.Status != want {
		p.t.Fatalf("%s answered %d, want %d", resp.URL, resp.Status, want)
	}
}

func (p *phone) open(path string) { p.t.Helper(); p.load(200, chromedp.Navigate(p.base+path)) }

// tap taps the chat's button whose data ends in suffix.
func (p *phone) tap(suffix string) {
	p.t.Helper()
	p.load(200, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[name=tap][value$=%q]`, suffix))))
}

// say writes a message in the chat and sends it.
func (p *phone) say(text string) {
	p.t.Helper()
	p.do(chromedp.SetValue(chromedp.CSS("textarea[name=text]"), text))
	p.load(200, chromedp.Click(chromedp.CSS(".say button")))
}

// eval runs js in the page and decodes its JSON result into out.
func (p *phone) eval(js string, out any) {
	p.t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		p.t.Fatalf("%s: %s: %v", js, raw, err)
	}
}

// lastBot is the text of the chat's last message from the bot.
func (p *phone) lastBot() string {
	p.t.Helper()
	var s string
	p.eval(`(() => { const m = [...document.querySelectorAll('.msg.bot .text')]; return m.length ? m[m.length-1].textContent : ''; })()`, &s)
	return s
}

// messages are the chat's messages, "me: …" or "bot: …".
func (p *phone) messages() []string {
	p.t.Helper()
	var ms []string
	p.eval(`[...document.querySelectorAll('.msg')].map(m => (m.classList.contains('me') ? 'me: ' : 'bot: ') + m.textContent.trim())`, &ms)
	return ms
}

// shot saves a screenshot of what the phone shows, if this phone's are kept.
func (p *phone) shot(what string) {
	p.t.Helper()
	if p.shots == "" {
		return
	}
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatal(err)
	}
	p.n++
	file := filepath.Join(p.shots, fmt.Sprintf("%s-%02d-%s.png", p.name, p.n, what))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", file)
}

// noProblems checks the pages had no script errors, CSP violations or
// dialogs, and show no locale key instead of words.
func (p *phone) noProblems() {
	p.t.Helper()
	if got := p.events.get(); len(got) > 0 {
		p.t.Errorf("the pages had problems: %q", got)
	}
	var text string
	p.eval(`document.body.innerText`, &text)
	if k := regexp.MustCompile(`\bweb\.[a-z_]+\.[a-z_]+`).FindString(text); k != "" {
		p.t.Errorf("the page shows a locale key: %s", k)
	}
}

func startBrowser(t *testing.T) context.Context {
	return browsertest.Start(t, 390, 844, 5*time.Minute)
}

// wantTexts are what the tests look for in each language.
var wantTexts = map[string]struct{ continueButton, improve, title, place, summaryPlace string }{
	"cs": {"Pokračovat v prohlížeči", "O přestávkách si venku nemáme kam sednout.", "Lavičky na školním dvoře", "Školní dvůr u jídelny", "Místo"},
	"en": {"Continue in the browser", "There is nowhere to sit outside during breaks.", "Benches in the school yard", "The yard by the canteen", "Place"},
	"nb": {"Fortsett i nettleseren", "Vi har ingen steder å sitte ute i friminuttene.", "Benker i skolegården", "Skolegården ved kantina", "Sted"},
	"uk": {"Продовжити в браузері", "На перервах нам ніде посидіти надворі.", "Лавки на шкільному подвір’ї", "Подвір’я біля їдальні", "Місце"},
}

// Students send an idea with a photo and a typed place in a real browser
// at a phone's size, in each language: from the forum's join link, through
// the questions, to the idea in PostgreSQL with its photo, re-encoded and
// without EXIF.
func TestStudentsSendIdeasInABrowser(t *testing.T) {
	browser := startBrowser(t)
	w := newWorld(t, web.Config{BotUsername: "napad_test_bot"})
	photoFile := filepath.Join(t.TempDir(), "IMG_20260512_101500.jpg")
	if err := os.WriteFile(photoFile, photoWithEXIF(t), 0o644); err != nil {
		t.Fatal(err)
	}
	shots := browsertest.ScreenshotDir(t)
	sent := 0
	for _, lang := range []string{"cs", "en", "nb", "uk"} {
		t.Run(lang, func(t *testing.T) {
			want := wantTexts[lang]
			// A German phone: the language comes from the pages' picker.
			p := newPhone(t, browser, w.srv.URL, "de-DE,de;q=0.9")
			// Czech, and every language with NAPAD_SCREENSHOT_ALL set.
			if lang == "cs" || os.Getenv("NAPAD_SCREENSHOT_ALL") != "" {
				p.shots, p.name = shots, "web-"+lang
			}
			p.open("/?lang=" + lang)
			p.shot("home")
			var htmlLang string
			p.eval(`document.documentElement.lang`, &htmlLang)
			if htmlLang != lang {
				t.Fatalf("the home page is in %q after picking %s", htmlLang, lang)
			}

			// The join link offers Telegram or the browser.
			p.open("/j/" + w.forum.Code)
			var choice struct{ Telegram, Browser string }
			p.eval(`({telegram: document.querySelector('a.tg').href, browser: document.querySelector('form button').textContent})`, &choice)
			if choice.Telegram != "https://t.me/napad_test_bot?start="+w.forum.Code || choice.Browser != want.continueButton {
				t.Errorf("the choice: %+v", choice)
			}
			p.shot("choice")
			p.load(200, chromedp.Click(chromedp.CSS("form button")))
			p.eval(`document.documentElement.lang`, &htmlLang)
			if htmlLang != lang || !strings.Contains(p.lastBot(), w.forum.Name) {
				t.Fatalf("the welcome (page in %s): %q", htmlLang, p.lastBot())
			}
			p.shot("welcome")

			p.tap("|privacy|ok")
			p.tap("|scope|school")
			p.tap("|nav|skip:works")
			p.say(want.improve)
			p.shot("improve-answered")
			p.say(want.title)
			if lang == "cs" {
				p = continueElsewhere(t, p, browser)
			}
			p.tap("|nav|skip:desc")
			p.tap("|cat|public_space")
			p.say(want.place)
			p.shot("photo-question")

			// The photo question opens the photo field.
			var open bool
			p.eval(`document.querySelector('details.attach').open`, &open)
			if !open {
				t.Error("the photo question leaves the photo field closed")
			}
			p.do(chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{photoFile}))
			p.load(200, chromedp.Click(chromedp.CSS(`form[action="/c/photo"] button`)))
			var shown struct{ Mine, Loaded bool }
			p.eval(`(() => { const i = document.querySelector('.msg.me img'); return {mine: !!i, loaded: !!i && i.complete && i.naturalWidth > 0}; })()`, &shown)
			if !shown.Mine || !shown.Loaded {
				t.Errorf("the photo sent is not shown as the student's: %+v", shown)
			}
			p.shot("photo-sent")
			p.tap("|help|yes")
			summary := p.lastBot()
			for _, s := range []string{want.title, want.place, want.improve} {
				if !strings.Contains(summary, s) {
					t.Errorf("the summary lacks %q:\n%s", s, summary)
				}
			}
			p.shot("summary")
			if lang == "cs" {
				doubleSubmit(t, p)
			} else {
				p.tap("|rev|submit")
			}
			p.shot("sent")
			p.noProblems()

			sent++
			ideas := w.ideas(t)
			if len(ideas) != sent {
				t.Fatalf("%d ideas stored, want %d", len(ideas), sent)
			}
			idea := ideas[sent-1]
			if idea.Language != lang || idea.Title != want.title || idea.PlaceText != want.place || idea.Improve != want.improve || idea.WantsToHelp != "yes" ||
				idea.Channel != flows.ChannelWeb {
				t.Errorf("the stored idea: %+v", idea.Idea)
			}
			if !strings.Contains(p.lastBot(), ideas[sent-1].Reference) {
				t.Errorf("the thanks does not give the reference %s: %q", idea.Reference, p.lastBot())
			}
			checkStoredPhoto(t, w, idea)

			switch lang {
			case "cs":
				forgedPosts(t, p, w, sent)
				menuAndMyData(t, p)
			case "en":
				placeByLocation(t, p, w.srv.URL)
			case "uk":
				deleteEverything(t, p, w, idea)
				sent--
			}
			p.noProblems()
		})
	}
}

// continueElsewhere stops halfway and closes the page, comes back with the
// cookie to where the chat was, and then goes on on a second device with
// the resume code: the phone the test goes on with.
func continueElsewhere(t *testing.T, p *phone, browser context.Context) *phone {
	t.Helper()
	question, before := p.lastBot(), p.messages()
	// The tab is closed; a new one of the same profile has the cookie.
	if err := chromedp.Cancel(p.ctx); err != nil {
		t.Fatal(err)
	}
	again := p
	again.newTab()
	again.open("/")
	again.load(200, chromedp.Click(chromedp.CSS(`a[href="/c#now"]`)))
	if got := again.lastBot(); got != question {
		t.Fatalf("back with the cookie, the chat asks %q, want %q", got, question)
	}
	if got := again.messages(); !slices.Equal(got, before) {
		t.Errorf("back with the cookie, the chat is\n%q\nwant\n%q", got, before)
	}
	again.shot("back-later")
	var code string
	again.eval(`document.querySelector('.code strong').textContent`, &code)
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$`).MatchString(code) {
		t.Fatalf("the resume code shown is %q", code)
	}

	other := newPhone(t, browser, p.base, "cs-CZ,cs;q=0.9,en;q=0.5")
	other.shots, other.name, other.n = p.shots, p.name, again.n
	other.open("/c")
	if got := other.messages(); len(got) != 0 {
		t.Fatalf("a new device shows a chat: %q", got)
	}
	other.open("/resume")
	other.shot("resume")
	// Typed as people do: small letters, a space for the dash, O for 0.
	typed := strings.ToLower(strings.ReplaceAll(strings.Replace(code, "-", " ", 1), "0", "O"))
	other.do(chromedp.SetValue(chromedp.CSS("#code"), "WRONG-CODE1"))
	other.load(200, chromedp.Click(chromedp.CSS("form button")))
	var wrong bool
	other.eval(`!!document.querySelector('.notice')`, &wrong)
	if !wrong {
		t.Error("a wrong code is not refused")
	}
	other.shot("resume-wrong")
	other.do(chromedp.SetValue(chromedp.CSS("#code"), typed))
	other.load(200, chromedp.Click(chromedp.CSS("form button")))
	if got := other.messages(); !slices.Equal(got, before) {
		t.Errorf("on the second device the chat is\n%q\nwant\n%q", got, before)
	}
	if got := other.lastBot(); got != question {
		t.Fatalf("on the second device the chat asks %q, want %q", got, question)
	}
	other.shot("second-device")
	again.noProblems()
	return other
}

// replay posts a form of the page from outside the browser, with the
// browser's cookies: what a second click, a flaky network or someone with
// a copied request sends. (The pages' own policy lets no script fetch.)
func (p *phone) replay(path string, form url.Values, header http.Header) int {
	p.t.Helper()
	cookies, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.base + "/"}})
	if err != nil {
		p.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, p.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	for _, c := range cookies.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// fetch gets a link of the page from outside the browser, with its cookies.
func (p *phone) fetch(link string) (*http.Response, []byte) {
	p.t.Helper()
	cookies, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.base + "/"}})
	if err != nil {
		p.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, c := range cookies.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return resp, body
}

// formOf is the form of the element sel with the values it would post,
// with the button's own if sel is a button.
func (p *phone) formOf(sel string) url.Values {
	p.t.Helper()
	var pairs [][2]string
	p.eval(fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		const pairs = [...new FormData(el.form || el)].map(([k, v]) => [k, v]);
		if (el.name) pairs.push([el.name, el.value]);
		return pairs;
	})()`, sel), &pairs)
	form := url.Values{}
	for _, kv := range pairs {
		form.Add(kv[0], kv[1])
	}
	return form
}

// doubleSubmit sends the idea as a double click does: the same form posted
// twice at once (the browser's click and a replay), and once more after:
// one idea, one thanks.
func doubleSubmit(t *testing.T, p *phone) {
	t.Helper()
	const submit = `button[name=tap][value$="|rev|submit"]`
	form := p.formOf(submit)
	replayed := make(chan int)
	go func() { replayed <- p.replay("/c", form, nil) }()
	p.load(200, chromedp.Click(chromedp.CSS(submit)))
	if got := <-replayed; got != http.StatusSeeOther {
		t.Errorf("the replayed post answered %d", got)
	}
	if got := p.replay("/c", form, nil); got != http.StatusSeeOther {
		t.Errorf("the post replayed later answered %d", got)
	}
	p.open("/c")
	thanks := 0
	for _, m := range p.messages() {
		if strings.HasPrefix(m, "bot: Díky!") {
			thanks++
		}
	}
	if thanks != 1 {
		t.Errorf("%d thanks in the chat after the double submit:\n%q", thanks, p.messages())
	}
}

// forgedPosts are posts without the page's token, with another's, or from
// another site: they are refused and change nothing.
func forgedPosts(t *testing.T, p *phone, w *world, ideas int) {
	t.Helper()
	before := p.messages()
	form := p.formOf("form.say")
	form.Set("text", "FORGED MESSAGE")
	good := form.Get("csrf")
	form.Set("csrf", "forged-token")
	if got := p.replay("/c", form, nil); got != http.StatusForbidden {
		t.Errorf("a forged token: %d, want 403", got)
	}
	form.Del("csrf")
	if got := p.replay("/c", form, nil); got != http.StatusForbidden {
		t.Errorf("no token: %d, want 403", got)
	}
	form.Set("csrf", good)
	if got := p.replay("/c", form, http.Header{"Origin": {"https://evil.example"}}); got != http.StatusForbidden {
		t.Errorf("from another site: %d, want 403", got)
	}
	if got := p.replay("/c", form, http.Header{"Sec-Fetch-Site": {"cross-site"}}); got != http.StatusForbidden {
		t.Errorf("from another site (Sec-Fetch-Site): %d, want 403", got)
	}
	// The friendly page, as a student who kept a page open too long sees it.
	p.do(chromedp.SetValue(chromedp.CSS("textarea[name=text]"), "FORGED MESSAGE"),
		chromedp.SetAttributeValue(chromedp.CSS(`form.say input[name=csrf]`), "value", "stale-token"))
	p.load(403, chromedp.Click(chromedp.CSS(".say button")))
	p.shot("refused")
	p.open("/c")
	if got := p.messages(); !slices.Equal(got, before) {
		t.Errorf("after forged posts the chat is\n%q\nwant\n%q", got, before)
	}
	if n := len(w.ideas(t)); n != ideas {
		t.Errorf("%d ideas after forged posts, want %d", n, ideas)
	}
}

// menuAndMyData opens the command menu and asks for /mydata, whose file
// is a link to download.
func menuAndMyData(t *testing.T, p *phone) {
	t.Helper()
	p.do(chromedp.Click(chromedp.CSS("details.menu summary")))
	p.do(chromedp.ScrollIntoView(chromedp.CSS("header.bar")))
	p.shot("menu")
	p.load(200, chromedp.Click(chromedp.CSS(`button[name=command][value=mydata]`)))
	var href string
	p.eval(`(() => { const a = document.querySelector('.msg.bot a.file'); return a ? a.href : ''; })()`, &href)
	if href == "" {
		t.Fatal("/mydata gives no file to download")
	}
	resp, body := p.fetch(href)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || !json.Valid(body) || !bytes.Contains(body, []byte("Lavičky")) {
		t.Errorf("/mydata's file: %s %v\n%.300s", resp.Status, resp.Header, body)
	}
	p.shot("mydata")
}

// placeByLocation starts another idea and answers the place question with
// the location button.
func placeByLocation(t *testing.T, p *phone, origin string) {
	t.Helper()
	lat, lon, accuracy := 50.0281, 15.2006, 10.0
	if _, err := chromedp.CallBrowser(p.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"}, Setting: cdpbrowser.PermissionSettingGranted,
		Origin: origin, BrowserContextID: chromedp.FromContext(p.ctx).BrowserContextID,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(p.ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{
		Latitude: &lat, Longitude: &lon, Accuracy: &accuracy,
	}); err != nil {
		t.Fatal(err)
	}
	p.tap("|new|go")
	p.tap("|scope|town")
	p.say("Water fountains")
	p.tap("|nav|skip:desc")
	p.tap("|cat|misc")
	var visible bool
	p.eval(`(() => { const b = document.querySelector('#locate'); return !!b && !b.hidden && b.offsetHeight > 0; })()`, &visible)
	if !visible {
		t.Fatal("the place question shows no location button")
	}
	p.load(200, chromedp.Click(chromedp.CSS("#locate")))
	ms := p.messages()
	if len(ms) < 2 || ms[len(ms)-2] != "me: 📍 My location" || !strings.Contains(ms[len(ms)-1], "photo") {
		t.Errorf("after the location the chat ends\n%q", ms[max(0, len(ms)-3):])
	}
}

// deleteEverything deletes the student's data with /delete: the ideas go,
// and with them the chat, the photo and the resume code.
func deleteEverything(t *testing.T, p *phone, w *world, idea postgres.StoredIdea) {
	t.Helper()
	var code string
	p.eval(`document.querySelector('.code strong').textContent.replace('-', '')`, &code)
	p.do(chromedp.Click(chromedp.CSS("details.menu summary")))
	p.load(200, chromedp.Click(chromedp.CSS(`button[name=command][value=delete]`)))
	p.tap("|del|yes")
	if ms := p.messages(); len(ms) != 1 {
		t.Errorf("after /delete the chat still shows\n%q", ms)
	}
	id := strings.TrimPrefix(idea.PhotoFileID, postgres.WebPhotoPrefix)
	if _, found, err := w.db.Photos().Get(t.Context(), id); err != nil || found {
		t.Errorf("the photo after /delete: found %v, %v", found, err)
	}
	if _, found, err := w.redis.ResumeCode(t.Context(), code); err != nil || found {
		t.Errorf("the resume code after /delete: found %v, %v", found, err)
	}
	for _, i := range w.ideas(t) {
		if i.Reference == idea.Reference {
			t.Error("the idea is still there after /delete")
		}
	}
}

// checkStoredPhoto checks that an idea's photo is stored re-encoded: upright
// (the EXIF orientation applied), without EXIF, without the GPS words.
func checkStoredPhoto(t *testing.T, w *world, idea postgres.StoredIdea) {
	t.Helper()
	id, ok := strings.CutPrefix(idea.PhotoFileID, postgres.WebPhotoPrefix)
	if !ok {
		t.Fatalf("the idea's photo is %q, not a web photo", idea.PhotoFileID)
	}
	jpg, found, err := w.db.Photos().Get(t.Context(), id)
	if err != nil || !found {
		t.Fatalf("the idea's photo %s: found %v, %v", id, found, err)
	}
	if hasAPP1(jpg) || bytes.Contains(jpg, []byte("Exif")) || bytes.Contains(jpg, []byte(secretGPS)) {
		t.Error("the stored photo kept its EXIF block")
	}
	img, format, err := image.Decode(bytes.NewReader(jpg))
	if err != nil || format != "jpeg" {
		t.Fatalf("the stored photo: %s, %v", format, err)
	}
	if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 64 {
		t.Errorf("the stored photo is %dx%d, want 32x64 (turned upright)", b.Dx(), b.Dy())
	}
	if r, _, b, _ := img.At(16, 4).RGBA(); r < b { // the left half was red; upright it is on top
		t.Error("the stored photo is not turned as its EXIF orientation says")
	}
}
