package web_test

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/bot/web"
	"github.com/healthycities/napad/bot/web/webtest"
)

// newClient is a browser without one (a cookie jar and the forms read from
// the pages) for the world's site.
func newClient(t *testing.T, w *world) *webtest.Client {
	t.Helper()
	c, err := webtest.New(w.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// open opens path and fails the test on a network error; a page with an
// error status is for the test to judge (Status).
func open(t *testing.T, c *webtest.Client, path string) {
	t.Helper()
	var se *webtest.StatusError
	if err := c.Open(path); err != nil && !errors.As(err, &se) {
		t.Fatal(err)
	}
}

// sent fails the test when a post did not get as far as an answer: a
// network error, or no form on the page to post. A page with an error
// status is for the test to judge (Status).
func sent(t *testing.T, err error) {
	t.Helper()
	var se *webtest.StatusError
	if err != nil && !errors.As(err, &se) {
		t.Fatal(err)
	}
}

// Without a Telegram bot a join link starts in the browser at once; a
// student's photo and files are theirs alone.
func TestJoinLinkAndWhatIsWhose(t *testing.T) {
	w := newWorld(t, web.Config{DemoCode: "demo_forum"})
	a := newClient(t, w)
	if open(t, a, "/"); !strings.Contains(a.Page(), `href="/j/demo_forum?web=1"`) {
		t.Errorf("the home page has no demo link:\n%s", a.Page())
	}
	if open(t, a, "/j/"+w.forum.Code); a.URL().Path != "/c" || !strings.Contains(a.Page(), html.EscapeString(w.forum.Name)) {
		t.Fatalf("the join link led to %s:\n%.400s", a.URL(), a.Page())
	}
	if welcome := a.Messages(); len(welcome) == 0 || !strings.Contains(welcome[len(welcome)-1], w.forum.Name) || len(a.Buttons()) == 0 {
		t.Errorf("the welcome: %q with buttons %q", welcome, a.Buttons())
	}
	if open(t, a, "/j/no_such_forum"); a.Status() != 200 || a.URL().Path != "/c" {
		t.Errorf("a join link of no forum: %d %s", a.Status(), a.URL())
	}
	if err := a.Open("/j/bad%20code"); !webtest.IsStatus(err, http.StatusNotFound) {
		t.Errorf("a join code that cannot be one: %v", err)
	}

	open(t, a, "/c")
	if err := a.Photo(photoWithEXIF(t)); err != nil {
		t.Fatalf("the photo: %v", err)
	}
	var photo string
	for _, e := range a.Entries() {
		if e.Me && e.Photo != "" {
			photo = e.Photo
		}
	}
	if photo == "" {
		t.Fatalf("the photo is not shown:\n%s", a.Page())
	}
	if err := a.Command("mydata"); err != nil {
		t.Fatalf("/mydata: %v", err)
	}
	var file string
	for _, e := range a.Entries() {
		if e.File != "" {
			file = e.File
		}
	}
	if file == "" {
		t.Fatalf("/mydata gave no file:\n%s", a.Page())
	}
	for _, link := range []string{photo, file} {
		if err := a.Open(link); err != nil {
			t.Errorf("its owner gets %s: %v", link, err)
		}
		b := newClient(t, w)
		open(t, b, "/c")
		if open(t, b, link); b.Status() != http.StatusNotFound || strings.Contains(b.Page(), "Lavičky") {
			t.Errorf("someone else gets %s: %d", link, b.Status())
		}
		if resp, err := http.Get(w.srv.URL + link); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("without a cookie %s: %v %v", link, resp.Status, err)
		}
	}

	// A command not in the student's menu is no command.
	open(t, a, "/c")
	if err := a.Command("review"); err == nil {
		t.Error("staff's /review is in a student's menu")
	}
	csrf, nonce := a.Tokens()
	if err := a.PostRaw("/c", url.Values{"command": {"review"}, "csrf": {csrf}, "n": {nonce}}); !webtest.IsStatus(err, http.StatusNotFound) {
		t.Errorf("staff's /review from the menu form: %v", err)
	}
	// Not a picture, and nothing chosen: said on the chat page.
	open(t, a, "/c")
	if sent(t, a.Photo([]byte("<svg onload=alert(1)>"))); a.Status() != 200 || a.Notice() != "photo_bad" {
		t.Errorf("a file that is no picture: %d %s", a.Status(), a.URL())
	}
	if sent(t, a.Photo(nil)); a.Notice() != "photo_none" {
		t.Errorf("no photo: %s", a.URL())
	}
	if sent(t, a.Text("  ")); a.Notice() != "text_empty" {
		t.Errorf("an empty message: %s", a.URL())
	}
	if sent(t, a.Location(91, 15)); a.Notice() != "location_bad" {
		t.Errorf("a location off the Earth: %s", a.URL())
	}
	if err := a.Text(strings.Repeat("x", 70_000)); !webtest.IsStatus(err, http.StatusRequestEntityTooLarge) {
		t.Errorf("a form over 64 KB: %v", err)
	}
}

// A form posted twice (a double tap, a reload that posts again) is one
// event: the chat gets one answer. A form with another student's token, or
// none, is refused.
func TestDoubleSubmitAndForgedTokens(t *testing.T) {
	w := newWorld(t, web.Config{})
	var requests []string
	a, err := webtest.New(w.srv.URL, webtest.WithHook(func(method, path string, d time.Duration, status int) {
		if d <= 0 {
			t.Errorf("%s %s took %s", method, path, d)
		}
		requests = append(requests, fmt.Sprint(method, " ", path, " ", status))
	}))
	if err != nil {
		t.Fatal(err)
	}
	b := newClient(t, w)
	open(t, a, "/j/"+w.forum.Code)
	open(t, b, "/j/"+w.forum.Code)
	// Each request is told of, the redirect to the chat too.
	if want := []string{"GET /j/" + w.forum.Code + " 303", "GET /c 200"}; !slices.Equal(requests, want) {
		t.Errorf("the hook was told of %q, want %q", requests, want)
	}
	before := a.Entries()
	if len(before) == 0 || len(before[len(before)-1].Buttons) == 0 {
		t.Fatalf("the welcome has no buttons:\n%s", a.Page())
	}
	question := before[len(before)-1]
	csrf, nonce := a.Tokens()
	tap := url.Values{"tap": {question.Buttons[0].Data}, "m": {strconv.Itoa(question.ID)}, "csrf": {csrf}, "n": {nonce}}
	if err := a.PostRaw("/c", tap); err != nil {
		t.Fatal(err)
	}
	once := a.Entries()
	if slices.Equal(a.Messages(), messages(before)) {
		t.Fatalf("the tap was not answered:\n%s", a.Page())
	}
	if err := a.Resubmit(); err != nil {
		t.Fatal(err)
	}
	if twice := a.Entries(); !slices.EqualFunc(twice, once, sameEntry) {
		t.Errorf("the form posted twice: the chat is\n%+v\nafter the first\n%+v", twice, once)
	}

	otherCSRF, _ := b.Tokens()
	for name, form := range map[string]url.Values{
		"another student's token": {"text": {"hi"}, "csrf": {otherCSRF}, "n": {"x1"}},
		"no token":                {"text": {"hi"}, "n": {"x2"}},
		"no nonce":                {"text": {"hi"}, "csrf": {csrf}},
	} {
		if err := a.PostRaw("/c", form); !webtest.IsStatus(err, http.StatusForbidden) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := a.Open("/c"); err != nil || !slices.EqualFunc(a.Entries(), once, sameEntry) {
		t.Errorf("after the refused posts the chat is\n%+v\nwant\n%+v (%v)", a.Entries(), once, err)
	}
}

// messages are the bot's texts among entries.
func messages(entries []webtest.Entry) []string {
	var out []string
	for _, e := range entries {
		if !e.Me {
			out = append(out, e.Text)
		}
	}
	return out
}

func sameEntry(a, b webtest.Entry) bool {
	return a.ID == b.ID && a.Me == b.Me && a.Text == b.Text && slices.Equal(a.Buttons, b.Buttons)
}
