package web_test

import (
	"bytes"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/healthycities/napad/bot/web"
)

// browserless is a browser without one: a cookie jar and the forms' values
// read from the pages.
type browserless struct {
	t      *testing.T
	client *http.Client
	base   string
	page   string
}

func newBrowserless(t *testing.T, base string) *browserless {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browserless{t: t, client: &http.Client{Jar: jar}, base: base}
}

func (b *browserless) get(path string) *http.Response {
	b.t.Helper()
	resp, err := b.client.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	b.page = string(body)
	return resp
}

// field is the value of the page's first hidden field called name.
func (b *browserless) field(name string) string {
	b.t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(b.page)
	if m == nil {
		b.t.Fatalf("no field %s on the page", name)
	}
	return html.UnescapeString(m[1])
}

func (b *browserless) post(path string, form url.Values) *http.Response {
	b.t.Helper()
	form.Set("csrf", b.field("csrf"))
	form.Set("n", b.field("n"))
	resp, err := b.client.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	b.page = string(body)
	return resp
}

func (b *browserless) postPhoto(jpg []byte) *http.Response {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", b.field("csrf"))
	_ = mw.WriteField("n", b.field("n"))
	fw, _ := mw.CreateFormFile("photo", "photo.jpg")
	_, _ = fw.Write(jpg)
	_ = mw.Close()
	resp, err := b.client.Post(b.base+"/c/photo", mw.FormDataContentType(), &body)
	if err != nil {
		b.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	b.page = string(page)
	return resp
}

// Without a Telegram bot a join link starts in the browser at once; a
// student's photo and files are theirs alone.
func TestJoinLinkAndWhatIsWhose(t *testing.T) {
	w := newWorld(t, web.Config{DemoCode: "demo_forum"})
	a := newBrowserless(t, w.srv.URL)
	if a.get("/"); !strings.Contains(a.page, `href="/j/demo_forum?web=1"`) {
		t.Errorf("the home page has no demo link:\n%s", a.page)
	}
	if resp := a.get("/j/" + w.forum.Code); resp.Request.URL.Path != "/c" || !strings.Contains(a.page, html.EscapeString(w.forum.Name)) {
		t.Fatalf("the join link led to %s:\n%.400s", resp.Request.URL, a.page)
	}
	if resp := a.get("/j/no_such_forum"); resp.StatusCode != 200 || resp.Request.URL.Path != "/c" {
		t.Errorf("a join link of no forum: %s %s", resp.Status, resp.Request.URL)
	}
	if resp := a.get("/j/bad%20code"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a join code that cannot be one: %s", resp.Status)
	}

	a.get("/c")
	if resp := a.postPhoto(photoWithEXIF(t)); resp.StatusCode != 200 {
		t.Fatalf("the photo: %s", resp.Status)
	}
	photo := regexp.MustCompile(`src="(/photo/[^"]+)"`).FindStringSubmatch(a.page)
	if photo == nil {
		t.Fatalf("the photo is not shown:\n%s", a.page)
	}
	if resp := a.post("/c", url.Values{"command": {"mydata"}}); resp.StatusCode != 200 {
		t.Fatalf("/mydata: %s", resp.Status)
	}
	file := regexp.MustCompile(`class="file" href="(/f/[^"]+)"`).FindStringSubmatch(a.page)
	if file == nil {
		t.Fatalf("/mydata gave no file:\n%s", a.page)
	}
	for _, link := range []string{photo[1], file[1]} {
		if resp := a.get(link); resp.StatusCode != 200 {
			t.Errorf("its owner gets %s: %s", link, resp.Status)
		}
		b := newBrowserless(t, w.srv.URL)
		b.get("/c")
		if resp := b.get(link); resp.StatusCode != http.StatusNotFound || strings.Contains(b.page, "Lavičky") {
			t.Errorf("someone else gets %s: %s", link, resp.Status)
		}
		if resp, err := http.Get(w.srv.URL + link); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("without a cookie %s: %v %v", link, resp.Status, err)
		}
	}

	// A command not in the student's menu is no command.
	a.get("/c")
	if resp := a.post("/c", url.Values{"command": {"review"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("staff's /review from the menu form: %s", resp.Status)
	}
	// Not a picture, and nothing chosen: said on the chat page.
	a.get("/c")
	if resp := a.postPhoto([]byte("<svg onload=alert(1)>")); resp.StatusCode != 200 || resp.Request.URL.Query().Get("n") != "photo_bad" {
		t.Errorf("a file that is no picture: %s %s", resp.Status, resp.Request.URL)
	}
	if resp := a.postPhoto(nil); resp.Request.URL.Query().Get("n") != "photo_none" {
		t.Errorf("no photo: %s", resp.Request.URL)
	}
	if resp := a.post("/c", url.Values{"text": {"  "}}); resp.Request.URL.Query().Get("n") != "text_empty" {
		t.Errorf("an empty message: %s", resp.Request.URL)
	}
	if resp := a.post("/c", url.Values{"lat": {"91"}, "lon": {"15"}}); resp.Request.URL.Query().Get("n") != "location_bad" {
		t.Errorf("a location off the Earth: %s", resp.Request.URL)
	}
	if resp := a.post("/c", url.Values{"text": {strings.Repeat("x", 70_000)}}); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a form over 64 KB: %s", resp.Status)
	}
}
