// Package webtest is a browser without a browser for the web channel's
// pages (package bot/web), as bot/telegram/telegramtest is Telegram for
// the Telegram channel: a cookie jar, the pages' forms read from their
// HTML, and the posts a student's browser makes when they tap a button,
// send a message, a photo or a place, or pick a command from the menu.
// It runs no script, as the pages need none (but the location button's).
//
// Its methods return errors rather than failing a test, so that tests and
// the load generator (cmd/napad-bench -mode web) can both use it. A Client
// is one student's browser: it is not safe for use by several goroutines
// at once; many Clients may run at once.
//
//	c, err := webtest.New(srv.URL)
//	err = c.Open("/j/" + forumCode) // the join link: the chat page
//	err = c.Tap("OK")               // a button of the latest message
//	err = c.Text("Benches in the school yard")
//	fmt.Println(c.Messages())       // what the bot said, as plain text
//
// A page that answers with an HTTP status of 400 or more is kept as the
// page (Page, Status) and returned as a *StatusError. After a network
// error the page is still the one before, and Resubmit posts the form
// again.
package webtest

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Hook is told of every HTTP request a Client makes, redirects followed
// included: its method, its path (without the query), the time from
// sending it until its body was read or closed, and its status (0 when
// it failed on the network). It is called on the Client's goroutine.
type Hook func(method, path string, d time.Duration, status int)

// Client is one student's browser.
type Client struct {
	base   *url.URL
	client *http.Client
	header http.Header
	hook   Hook

	page   string
	status int
	url    *url.URL
	parsed *parsedPage
	posted *posted // the last form posted
}

// posted is a form as it was posted, to post it again.
type posted struct {
	url, ctype string
	body       []byte
}

// Option changes a new Client.
type Option func(*Client)

// WithHook makes the Client tell hook of every request.
func WithHook(hook Hook) Option { return func(c *Client) { c.hook = hook } }

// WithTransport makes the Client send its requests through t (default
// http.DefaultTransport). A load generator shares one among its clients,
// with room for as many idle connections as it has students.
func WithTransport(t http.RoundTripper) Option {
	return func(c *Client) { c.client.Transport = timed{next: t, c: c} }
}

// WithHeader adds a header to every request, e.g. X-Forwarded-For for a
// server behind a proxy that counts its limits per address.
func WithHeader(key, value string) Option { return func(c *Client) { c.header.Add(key, value) } }

// New is a browser with an empty cookie jar for the site at baseURL
// (http://127.0.0.1:8080), on which paths are opened.
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("webtest: %q is no http(s) URL", baseURL)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("webtest: %w", err)
	}
	c := &Client{base: base, header: http.Header{}}
	c.client = &http.Client{Jar: jar}
	c.client.Transport = timed{next: http.DefaultTransport, c: c}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// StatusError is a page answered with an HTTP status of 400 or more (a
// page not found, a form refused, too many requests); the page is still
// the Client's page.
type StatusError struct {
	Method string
	URL    string
	Code   int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("webtest: %s %s: HTTP %d %s", e.Method, e.URL, e.Code, http.StatusText(e.Code))
}

// Open shows the page at path (with its query, if any), following
// redirects, as typing its address does.
func (c *Client) Open(path string) error {
	req, err := http.NewRequest(http.MethodGet, c.resolve(path), nil)
	if err != nil {
		return fmt.Errorf("webtest: %w", err)
	}
	return c.do(req)
}

// Tap taps the button with this visible label on the latest message that
// has buttons (the bot's messages after the student's last one; older
// ones' buttons are answered and not shown).
func (c *Client) Tap(label string) error {
	e, ok := c.latestWithButtons()
	if !ok {
		return fmt.Errorf("webtest: no message with buttons to tap %q on %s", label, c.where())
	}
	for _, b := range e.Buttons {
		if b.Label == label {
			return c.tap(e.ID, b.Data)
		}
	}
	return fmt.Errorf("webtest: no button %q on the latest message with buttons (it has %q)", label, labels(e.Buttons))
}

// TapData taps the button whose data is data, on whichever message shows
// it (the data is what the conversation reads: "<draft>|<step>|<value>").
func (c *Client) TapData(data string) error {
	entries := c.Entries()
	for i := len(entries) - 1; i >= 0; i-- {
		for _, b := range entries[i].Buttons {
			if b.Data == data {
				return c.tap(entries[i].ID, data)
			}
		}
	}
	return fmt.Errorf("webtest: no button with data %q on %s", data, c.where())
}

func (c *Client) tap(message int, data string) error {
	return c.post("/c", url.Values{"tap": {data}, "m": {strconv.Itoa(message)}})
}

// Text sends a message, as typed into the text field.
func (c *Client) Text(s string) error { return c.post("/c", url.Values{"text": {s}}) }

// Location sends the place where the student is, as the location button
// does (with the browser's position).
func (c *Client) Location(lat, lon float64) error {
	return c.post("/c", url.Values{
		"lat": {strconv.FormatFloat(lat, 'f', -1, 64)}, "lon": {strconv.FormatFloat(lon, 'f', -1, 64)},
	})
}

// Command picks a command from the page's menu (its name without the
// slash: "mydata"); an error if the menu has no such command.
func (c *Client) Command(name string) error {
	for _, m := range c.Menu() {
		if m == name {
			return c.post("/c", url.Values{"command": {name}})
		}
	}
	return fmt.Errorf("webtest: no command %q in the menu of %s (it has %q)", name, c.where(), c.Menu())
}

// Photo sends a picture through the photo form (a JPEG, or whatever file
// the test wants the server to judge).
func (c *Client) Photo(jpeg []byte) error {
	csrf, nonce, err := c.tokens()
	if err != nil {
		return err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	_ = mw.WriteField("n", nonce)
	fw, _ := mw.CreateFormFile("photo", "photo.jpg")
	_, _ = fw.Write(jpeg)
	_ = mw.Close()
	return c.postBody(c.resolve("/c/photo"), mw.FormDataContentType(), body.Bytes())
}

// Resubmit posts the last form posted again, as it was (the same tokens
// and nonce, the same photo): what a browser does when the student
// reloads the page a form led to, or when it sends a post again after
// the connection broke. The server takes it for the same event.
func (c *Client) Resubmit() error {
	if c.posted == nil {
		return errors.New("webtest: no form was posted yet")
	}
	return c.postBody(c.posted.url, c.posted.ctype, c.posted.body)
}

func (c *Client) postBody(u, ctype string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webtest: %w", err)
	}
	req.Header.Set("Content-Type", ctype)
	c.posted = &posted{url: u, ctype: ctype, body: body}
	return c.do(req)
}

// ResumeCode is the resume code the chat page shows ("ABCDE-FGHJK"), or
// "" if it shows none.
func (c *Client) ResumeCode() string { return c.parse().code }

// Resume takes this browser to the chat a resume code stands for, as
// typing it on the resume page does.
func (c *Client) Resume(code string) error {
	if err := c.Open("/resume"); err != nil {
		return err
	}
	return c.post("/resume", url.Values{"code": {code}})
}

// PostRaw posts form to path exactly as given, without the page's tokens:
// for tests of forged tokens and of the same form posted twice (Tokens
// has the page's).
func (c *Client) PostRaw(path string, form url.Values) error {
	return c.postBody(c.resolve(path), "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// Tokens are the page's form token (csrf) and form nonce (n), which every
// form of a page carries; "" if it has no form.
func (c *Client) Tokens() (csrf, nonce string) {
	p := c.parse()
	return p.csrf, p.nonce
}

// Page is the last page's body (HTML, or whatever the last request got).
func (c *Client) Page() string { return c.page }

// Status is the last page's HTTP status.
func (c *Client) Status() int { return c.status }

// URL is the address the last page came from, after redirects (nil before
// the first).
func (c *Client) URL() *url.URL { return c.url }

// Notice is what the chat page says about the last post, as its address
// names it (?n=: "photo_bad", "text_empty", "retry", …); "" if nothing.
func (c *Client) Notice() string {
	if c.url == nil {
		return ""
	}
	return c.url.Query().Get("n")
}

// Entry is one message of the chat page.
type Entry struct {
	ID      int // the message's id, as a tap names it (0 if the page does not show it)
	Me      bool
	Text    string   // plain text
	Buttons []Button // shown only on the messages after the student's last one
	Photo   string   // the link of a photo the student sent
	Image   string   // the link of a picture a reply carried
	File    string   // the link of a file a reply carried
	Name    string   // the file's name
}

// Button is a button of a message.
type Button struct{ Label, Data string }

// Entries are the chat page's messages, oldest first.
func (c *Client) Entries() []Entry { return c.parse().entries }

// Messages are the texts of the bot's messages on the chat page, oldest
// first, as plain text.
func (c *Client) Messages() []string {
	var out []string
	for _, e := range c.Entries() {
		if !e.Me {
			out = append(out, e.Text)
		}
	}
	return out
}

// Buttons are the labels of the buttons of the latest message that has
// any.
func (c *Client) Buttons() []string {
	e, _ := c.latestWithButtons()
	return labels(e.Buttons)
}

// Menu are the names of the commands in the page's menu.
func (c *Client) Menu() []string { return c.parse().menu }

// Wants is what the latest question asks for beyond text, as the page
// shows it: "photo" (the photo field is open), "place" (the location
// button) or "".
func (c *Client) Wants() string { return c.parse().wants }

func (c *Client) latestWithButtons() (Entry, bool) {
	entries := c.Entries()
	for i := len(entries) - 1; i >= 0; i-- {
		if len(entries[i].Buttons) > 0 {
			return entries[i], true
		}
	}
	return Entry{}, false
}

func labels(bs []Button) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Label
	}
	return out
}

// post posts a form of the page, with its tokens.
func (c *Client) post(path string, form url.Values) error {
	csrf, nonce, err := c.tokens()
	if err != nil {
		return err
	}
	form.Set("csrf", csrf)
	form.Set("n", nonce)
	return c.PostRaw(path, form)
}

func (c *Client) tokens() (csrf, nonce string, err error) {
	csrf, nonce = c.Tokens()
	if csrf == "" || nonce == "" {
		return "", "", fmt.Errorf("webtest: %s has no form to post", c.where())
	}
	return csrf, nonce, nil
}

func (c *Client) where() string {
	if c.url == nil {
		return "no page (open one first)"
	}
	return "the page " + c.url.RequestURI()
}

func (c *Client) resolve(path string) string {
	u, err := c.base.Parse(path)
	if err != nil {
		return c.base.String() + path
	}
	return u.String()
}

// do sends req, reads the page it leads to, and keeps it.
func (c *Client) do(req *http.Request) error {
	for k, vs := range c.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("webtest: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	c.page, c.status, c.url, c.parsed = string(body), resp.StatusCode, resp.Request.URL, nil
	if err != nil {
		return fmt.Errorf("webtest: %s %s: %w", req.Method, resp.Request.URL, err)
	}
	if resp.StatusCode >= 400 {
		return &StatusError{Method: req.Method, URL: resp.Request.URL.String(), Code: resp.StatusCode}
	}
	return nil
}

// timed tells the Client's hook of each request, when its body has been
// read or closed.
type timed struct {
	next http.RoundTripper
	c    *Client
}

func (t timed) RoundTrip(req *http.Request) (*http.Response, error) {
	hook := t.c.hook
	if hook == nil {
		return t.next.RoundTrip(req)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		hook(req.Method, req.URL.Path, time.Since(start), 0)
		return nil, err
	}
	status := resp.StatusCode
	resp.Body = &timedBody{ReadCloser: resp.Body, done: func() { hook(req.Method, req.URL.Path, time.Since(start), status) }}
	return resp, nil
}

type timedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.done)
	}
	return n, err
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// A page as the forms and messages on it: read from the HTML the
// templates of package web write (templates/chat.html, layout.html).
type parsedPage struct {
	csrf, nonce string
	entries     []Entry
	menu        []string
	code        string
	wants       string
}

var (
	csrfField   = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
	nonceField  = regexp.MustCompile(`name="n" value="([^"]*)"`)
	entryStart  = regexp.MustCompile(`<li class="msg (me|bot)" id="(?:now|m(\d+))">`)
	textPart    = regexp.MustCompile(`(?s)<p class="text">(.*?)</p>`)
	messageID   = regexp.MustCompile(`name="m" value="(\d+)"`)
	tapButton   = regexp.MustCompile(`(?s)<button name="tap" value="([^"]*)">(.*?)</button>`)
	imageLink   = regexp.MustCompile(`<img src="(/(?:photo|f)/[^"]+)"`)
	fileLink    = regexp.MustCompile(`class="file" href="([^"]+)" download="([^"]*)"`)
	menuCommand = regexp.MustCompile(`<button name="command" value="([^"]+)">`)
	resumeCode  = regexp.MustCompile(`<div class="card code"><p>[^<]*<strong>([^<]+)</strong>`)
	attachOpen  = regexp.MustCompile(`<details class="attach" open>`)
)

func (c *Client) parse() *parsedPage {
	if c.parsed != nil {
		return c.parsed
	}
	p := &parsedPage{}
	c.parsed = p
	page := c.page
	if m := csrfField.FindStringSubmatch(page); m != nil {
		p.csrf = html.UnescapeString(m[1])
	}
	if m := nonceField.FindStringSubmatch(page); m != nil {
		p.nonce = html.UnescapeString(m[1])
	}
	for _, m := range menuCommand.FindAllStringSubmatch(page, -1) {
		p.menu = append(p.menu, html.UnescapeString(m[1]))
	}
	if m := resumeCode.FindStringSubmatch(page); m != nil {
		p.code = html.UnescapeString(m[1])
	}
	if attachOpen.MatchString(page) {
		hasPhoto := strings.Contains(page, `action="/c/photo"`)
		hasPlace := strings.Contains(page, `id="location-form"`)
		switch {
		case hasPhoto && !hasPlace:
			p.wants = "photo"
		case hasPlace && !hasPhoto:
			p.wants = "place"
		}
	}
	log, _, _ := strings.Cut(page, "</ol>")
	starts := entryStart.FindAllStringSubmatchIndex(log, -1)
	for i, s := range starts {
		end := len(log)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		part := log[s[1]:end]
		e := Entry{Me: log[s[2]:s[3]] == "me"}
		if s[4] >= 0 {
			e.ID, _ = strconv.Atoi(log[s[4]:s[5]])
		}
		if m := textPart.FindStringSubmatch(part); m != nil {
			e.Text = html.UnescapeString(m[1])
		}
		if m := messageID.FindStringSubmatch(part); m != nil {
			e.ID, _ = strconv.Atoi(m[1])
		}
		for _, m := range tapButton.FindAllStringSubmatch(part, -1) {
			e.Buttons = append(e.Buttons, Button{Label: html.UnescapeString(m[2]), Data: html.UnescapeString(m[1])})
		}
		for _, m := range imageLink.FindAllStringSubmatch(part, -1) {
			link := html.UnescapeString(m[1])
			if strings.HasPrefix(link, "/photo/") {
				e.Photo = link
			} else {
				e.Image = link
			}
		}
		if m := fileLink.FindStringSubmatch(part); m != nil {
			e.File, e.Name = html.UnescapeString(m[1]), html.UnescapeString(m[2])
		}
		p.entries = append(p.entries, e)
	}
	return p
}

// IsStatus reports whether err is a page answered with HTTP status code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}
