package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
	"github.com/healthycities/napad/storage/postgres/pgtest"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// newServer is a web channel on a runtime without stores but the ones the
// web channel has of its own (real Redis and PostgreSQL).
func newServer(t *testing.T, secret string) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rt, err := bot.New(bot.Config{ParticipantKey: []byte("k"), Logger: log}, bot.Stores{})
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	db, _ := pgtest.NewStore(t)
	s, err := New(rt, catalog, Config{Secret: []byte(secret)}, Stores{Transcripts: redistest.New(t), Photos: db.Photos()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const secretA = "secret-a-0123456789abcdef0123456789abcdef"

func TestIsWebChat(t *testing.T) {
	for range 1000 {
		var raw [webIDLen]byte
		_, _ = rand.Read(raw[:])
		if c := chatOf(raw[:]); !IsWebChat(c) {
			t.Fatalf("web chat %d is not a web chat", c)
		}
	}
	for _, raw := range [][]byte{bytes.Repeat([]byte{0}, 16), bytes.Repeat([]byte{0xFF}, 16)} {
		if c := chatOf(raw); !IsWebChat(c) {
			t.Errorf("the web chat of %x, %d, is not a web chat", raw, c)
		}
	}
	// Telegram's: users, groups, supergroups and channels.
	for _, c := range []int64{1, 5151, 1<<52 - 1, -1, -4242, -1001234567890, -1009999999999, -(1 << 52), 0} {
		if IsWebChat(c) {
			t.Errorf("%d is taken for a web chat", c)
		}
	}
}

// A cookie whose id or signature was changed, or that another server
// signed, is no session.
func TestSignedCookies(t *testing.T) {
	s := newServer(t, secretA)
	rec := httptest.NewRecorder()
	sess := s.ensureSession(rec, httptest.NewRequest(http.MethodGet, "/c", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != sessionCookie || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("the session cookie: %+v", cookies)
	}
	with := func(value string) (session, bool) {
		r := httptest.NewRequest(http.MethodGet, "/c", nil)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
		return s.session(r)
	}
	got, ok := with(cookies[0].Value)
	if !ok || got != sess || got.pid == "" || !IsWebChat(got.chat) {
		t.Fatalf("the cookie's own session: %+v, %v; want %+v", got, ok, sess)
	}
	id, sig, _ := strings.Cut(cookies[0].Value, ".")
	flip := func(s string) string {
		b := []byte(s)
		if b[3] == 'A' {
			b[3] = 'B'
		} else {
			b[3] = 'A'
		}
		return string(b)
	}
	other := newServer(t, "secret-b-0123456789abcdef0123456789abcdef")
	for name, value := range map[string]string{
		"id changed":        flip(id) + "." + sig,
		"signature changed": id + "." + flip(sig),
		"no signature":      id,
		"empty":             "",
		"another server's":  other.cookieValue(id),
	} {
		if got, ok := with(value); ok {
			t.Errorf("%s: a session %+v", name, got)
		}
	}
	if s.setSessionCookie(rec, sess); !slices.ContainsFunc(rec.Result().Cookies(), func(c *http.Cookie) bool { return !c.Secure }) {
		t.Error("a cookie is Secure without Config.Secure")
	}
}

func TestFormTokens(t *testing.T) {
	s := newServer(t, secretA)
	a, _ := s.sessionFor("AAAAAAAAAAAAAAAAAAAAAA")
	b, _ := s.sessionFor("BBBBBBBBBBBBBBBBBBBBBB")
	if !s.validCSRF(a, s.csrfToken(a)) {
		t.Error("a session's own token is refused")
	}
	for _, token := range []string{s.csrfToken(b), "", "x", s.cookieValue(a.id)} {
		if s.validCSRF(a, token) {
			t.Errorf("token %q is taken for another session's", token)
		}
	}
	k1, again := s.eventKey(a, "n1"), s.eventKey(a, "n1")
	if k1 != again || k1 == s.eventKey(a, "n2") || k1 == s.eventKey(b, "n1") {
		t.Error("event keys are not one per session and form")
	}
	id := s.photoID(a, "n1")
	if id != s.photoID(a, "n1") || !s.ownsPhoto(a, id) || s.ownsPhoto(b, id) || s.ownsPhoto(a, id[:len(id)-1]+"x") {
		t.Errorf("photo id %q: not one per form, or shown to others", id)
	}

	// Through the pages: a post without the token, with another's, or
	// from another site is refused before anything is done.
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/c", nil))
	cookie := rec.Result().Cookies()[0]
	sess, _ := s.sessionFor(strings.Split(cookie.Value, ".")[0])
	for name, r := range map[string]*http.Request{
		"no token":      post("text=hi&n=1", cookie, nil),
		"another token": post("text=hi&n=1&csrf="+s.csrfToken(b), cookie, nil),
		"no cookie":     post("text=hi&n=1&csrf="+s.csrfToken(sess), nil, nil),
		"no nonce":      post("text=hi&csrf="+s.csrfToken(sess), cookie, nil),
		"another site":  post("text=hi&n=1&csrf="+s.csrfToken(sess), cookie, http.Header{"Origin": {"https://evil.example"}}),
		"cross-site":    post("text=hi&n=1&csrf="+s.csrfToken(sess), cookie, http.Header{"Sec-Fetch-Site": {"cross-site"}}),
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "<h1>") {
			t.Errorf("%s: %d %.80q", name, rec.Code, rec.Body.String())
		}
	}
	if data, _, err := s.stores.Transcripts.WebTranscript(t.Context(), sess.chat); err != nil || data != nil {
		t.Errorf("a refused post changed the chat: %s, %v", data, err)
	}
}

func post(body string, cookie *http.Cookie, header http.Header) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/c", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		r.Header[k] = v
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	return r
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	s := newServer(t, secretA)
	for _, path := range []string{"/", "/c", "/resume", "/nowhere", "/static/napad.css", "/static/location.js", "/photo/xyz", "/j/%20bad"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		h := rec.Result().Header
		for k, v := range securityHeaders {
			if h.Get(k) != v {
				t.Errorf("%s: %s is %q", path, k, h.Get(k))
			}
		}
		if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "text/html") && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: a page cached: %q", path, h.Get("Cache-Control"))
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, s.staticURL("napad.css"), nil))
	if cc := rec.Result().Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || rec.Result().Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("the style sheet: %q, %q", cc, rec.Result().Header.Get("Content-Type"))
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	l := newLimiter(Rate{Burst: 3, PerSecond: 0.5}, func() time.Time { return now })
	for i := range 3 {
		if !l.allow("a") {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if l.allow("a") {
		t.Fatal("a request over the burst allowed")
	}
	if !l.allow("b") {
		t.Fatal("someone else is slowed down")
	}
	now = now.Add(1900 * time.Millisecond)
	if l.allow("a") {
		t.Fatal("allowed before a token came back")
	}
	now = now.Add(200 * time.Millisecond)
	if !l.allow("a") || l.allow("a") {
		t.Fatal("not one token back after two seconds")
	}
	// Many who asked long ago are forgotten.
	for i := range pruneAt + 10 {
		l.allow(string(rune(i)))
	}
	now = now.Add(time.Hour)
	l.allow("late")
	if len(l.buckets) > 2 {
		t.Errorf("%d buckets kept", len(l.buckets))
	}
	if !newLimiter(Rate{}, time.Now).allow("x") {
		t.Error("no limit refuses")
	}
}

// Over the limit per address, the pages say so in the browser's language.
func TestTooManyRequests(t *testing.T) {
	s := newServer(t, secretA)
	s.byAddress = newLimiter(Rate{Burst: 2, PerSecond: 0.001}, time.Now)
	var last *httptest.ResponseRecorder
	for range 3 {
		last = httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Language", "uk-UA,uk;q=0.9")
		s.ServeHTTP(last, r)
	}
	want, _ := s.catalog.Text("uk", "web.error.slow_title", nil, nil)
	if last.Code != http.StatusTooManyRequests || last.Header().Get("Retry-After") == "" || !strings.Contains(last.Body.String(), want) {
		t.Errorf("the third request: %d %q", last.Code, last.Body.String())
	}
}

func TestAcceptLanguage(t *testing.T) {
	for header, want := range map[string]string{
		"":                              "cs",
		"de-DE,de;q=0.9":                "cs",
		"en-US,en;q=0.9":                "en",
		"nb-NO":                         "nb",
		"no":                            "nb",
		"nn-NO,en;q=0.5":                "nb",
		"uk-UA,uk;q=0.9,ru;q=0.8":       "uk",
		"sk":                            "cs",
		"de;q=1,en;q=0.3,uk;q=0.7":      "uk",
		"en;q=0,cs;q=0.1":               "cs",
		"*":                             "cs",
		"fr-FR, en-GB;q=0.8, nb;q=0.9 ": "nb",
	} {
		if got := acceptLanguage(header); got != want {
			t.Errorf("%q: %s, want %s", header, got, want)
		}
	}
}

func TestResumeCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := newResumeCode()
		if n, ok := normalResumeCode(showResumeCode(c)); !ok || n != c {
			t.Fatalf("%s shown as %s reads as %q, %v", c, showResumeCode(c), n, ok)
		}
		seen[c] = true
	}
	if len(seen) < 200 {
		t.Error("resume codes repeat")
	}
	for typed, want := range map[string]string{
		"abcde fghjk": "ABCDEFGHJK", "ABCDE–FGHJK": "ABCDEFGHJK", "oilab-12345": "011AB12345", "АВСЕК-12345": "ABCEK12345",
	} {
		if got, ok := normalResumeCode(typed); !ok || got != want {
			t.Errorf("%q reads as %q, %v; want %s", typed, got, ok, want)
		}
	}
	for _, typed := range []string{"", "ABCDE", "ABCDE-FGHJKX", "ABCDE-FGHJU", "ABC{}-FGHJK", strings.Repeat("A", 100)} {
		if got, ok := normalResumeCode(typed); ok {
			t.Errorf("%q reads as a code: %q", typed, got)
		}
	}
}

// A photo is stored as a new JPEG: without the EXIF block (and its GPS
// position), turned upright, at most PhotoSide pixels a side.
func TestProcessPhoto(t *testing.T) {
	src := exifJPEG(t, 64, 32, 6)
	if !bytes.Contains(src, []byte("GPS")) {
		t.Fatal("the test photo has no GPS words")
	}
	out, err := processPhoto(src, 50_000_000, 1600)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("Exif")) || bytes.Contains(out, []byte("GPS")) || hasSegment(out, 0xE1) {
		t.Error("the EXIF block is still there")
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 64 {
		t.Errorf("%v: not turned a quarter right", b)
	}
	if r, _, b, _ := img.At(16, 2).RGBA(); r < b {
		t.Error("the left (red) side is not on top")
	}

	// Every orientation comes out upright: the red corner top left.
	for o := 1; o <= 8; o++ {
		out, err := processPhoto(orientedJPEG(t, o), 50_000_000, 1600)
		if err != nil {
			t.Fatal(err)
		}
		img, _ := jpeg.Decode(bytes.NewReader(out))
		if r, g, _, _ := img.At(2, 2).RGBA(); r < 0xA000 || g > 0x6000 {
			t.Errorf("orientation %d: the top left is not red: %v", o, img.At(2, 2))
		}
	}

	big := image.NewRGBA(image.Rect(0, 0, 3000, 1000))
	var buf bytes.Buffer
	if err := png.Encode(&buf, big); err != nil {
		t.Fatal(err)
	}
	out, err = processPhoto(buf.Bytes(), 50_000_000, 1600)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, format, err := image.DecodeConfig(bytes.NewReader(out)); err != nil || format != "jpeg" || cfg.Width != 1600 || cfg.Height != 533 {
		t.Errorf("a 3000×1000 PNG became %s %d×%d (%v)", format, cfg.Width, cfg.Height, err)
	}

	// A transparent PNG is on white.
	clear := image.NewNRGBA(image.Rect(0, 0, 10, 10))
	buf.Reset()
	_ = png.Encode(&buf, clear)
	out, err = processPhoto(buf.Bytes(), 50_000_000, 1600)
	if err != nil {
		t.Fatal(err)
	}
	img, _ = jpeg.Decode(bytes.NewReader(out))
	if r, g, b, _ := img.At(5, 5).RGBA(); r < 0xF000 || g < 0xF000 || b < 0xF000 {
		t.Errorf("a transparent PNG is not white: %v", img.At(5, 5))
	}
}

// A small file that claims a huge picture is refused from its header,
// before anything is decoded; what is no JPEG, PNG or WebP is refused.
func TestProcessPhotoRefuses(t *testing.T) {
	bomb := pngClaiming(t, 100_000, 100_000)
	if len(bomb) > 1000 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	start := time.Now()
	if _, err := processPhoto(bomb, 50_000_000, 1600); !errors.Is(err, errTooLarge) {
		t.Errorf("a decompression bomb: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing the bomb took %v", d)
	}
	if _, err := processPhoto(exifJPEG(t, 64, 32, 1), 1000, 1600); !errors.Is(err, errTooLarge) {
		t.Errorf("over a small pixel limit: %v", err)
	}
	var g bytes.Buffer
	_ = gif.Encode(&g, image.NewPaletted(image.Rect(0, 0, 4, 4), []color.Color{color.Black}), nil)
	jpg := exifJPEG(t, 64, 32, 1)
	for name, data := range map[string][]byte{
		"text":      []byte("hello, this is not a photo"),
		"html":      []byte("<html><script>alert(1)</script></html>"),
		"gif":       g.Bytes(),
		"empty":     nil,
		"truncated": jpg[:len(jpg)/3],
		"zero-size": pngClaiming(t, 0, 10),
	} {
		if _, err := processPhoto(data, 50_000_000, 1600); !errors.Is(err, errNotImage) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// exifJPEG is a w×h JPEG, its left half red and its right half blue, with
// an EXIF block of orientation o and GPS words.
func exifJPEG(t *testing.T, w, h, o int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{220, 20, 20, 255}
			if x >= w/2 {
				c = color.RGBA{20, 20, 220, 255}
			}
			img.Set(x, y, c)
		}
	}
	return withEXIF(t, img, o)
}

// orientedJPEG is a picture whose red corner is top left once turned as
// EXIF orientation o says.
func orientedJPEG(t *testing.T, o int) []byte {
	t.Helper()
	upright := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for y := range 20 {
		for x := range 40 {
			c := color.RGBA{20, 20, 220, 255}
			if x < 10 && y < 10 {
				c = color.RGBA{220, 20, 20, 255}
			}
			upright.Set(x, y, c)
		}
	}
	// The camera stored the picture so that orient(o) makes it upright:
	// store it turned back.
	inverse := map[int]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}
	return withEXIF(t, orient(upright, inverse[o]), o)
}

func withEXIF(t *testing.T, img image.Image, o int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, 0, 0, 0, 0}
	tiff = append(tiff, "GPS 50.0875N 14.4213E"...)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := append([]byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	raw := buf.Bytes()
	return append(append(append([]byte{}, raw[:2]...), seg...), raw[2:]...)
}

// pngClaiming is a tiny PNG whose header says w×h.
func pngClaiming(t *testing.T, w, h uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// IHDR's data starts after the signature (8), length (4) and type (4).
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func hasSegment(jpg []byte, marker byte) bool {
	for i := 2; i+4 <= len(jpg); {
		if jpg[i] != 0xFF || jpg[i+1] == 0xDA {
			return false
		}
		if jpg[i+1] == marker {
			return true
		}
		i += 2 + (int(jpg[i+2])<<8 | int(jpg[i+3]))
	}
	return false
}

// Every page word the templates use is in every language.
func TestPageWordsInEveryLanguage(t *testing.T) {
	catalog, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	files, _ := filepath.Glob("templates/*.html")
	code, _ := filepath.Glob("*.go") // the keys the Go code names, as "web.home.title"
	for _, f := range code {
		if !strings.HasSuffix(f, "_test.go") {
			files = append(files, f)
		}
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"(web\.[a-z_.]+)"`).FindAllStringSubmatch(string(src), -1) {
			if !strings.HasSuffix(m[1], ".") { // a prefix, completed in code: listed below
				keys[m[1]] = true
			}
		}
	}
	for _, n := range notices {
		keys["web.notice."+n] = true
	}
	for _, what := range []string{"forbidden", "slow", "notfound", "unavailable", "too_big", "file_gone"} {
		keys["web.error."+what] = true
		keys["web.error."+what+"_title"] = true
	}
	for _, k := range []string{"web.home.title", "web.choice.title", "web.chat.title", "web.resume.title", "web.chat.location_sent"} {
		keys[k] = true
	}
	if len(keys) < 50 {
		t.Fatalf("only %d keys found: the scan is broken", len(keys))
	}
	for _, lang := range flows.Languages {
		for k := range keys {
			if _, err := catalog.Text(lang, k, map[string]any{"MB": 8, "Name": "x.json"}, nil); err != nil {
				t.Errorf("%s: %v", lang, err)
			}
		}
	}
}

// A notification to a web chat that is gone (its transcript ran out, or
// never was) is unreachable; to one that is there, it is kept.
func TestNotificationsToWebChats(t *testing.T) {
	s := newServer(t, secretA)
	ctx := context.Background()
	sess, _ := s.sessionFor("AAAAAAAAAAAAAAAAAAAAAA")
	note := bot.Delivery{Chat: sess.chat, Lang: "en", Background: true, Replies: []flows.Reply{{Text: flows.Msg{Key: "bot.slow_down"}}}}
	if err := s.Send(ctx, note); !errors.Is(err, bot.ErrUnreachable) {
		t.Errorf("to a chat that is gone: %v", err)
	}
	if err := s.Send(ctx, bot.Delivery{Chat: 5151, Replies: note.Replies}); err == nil {
		t.Error("a Telegram chat was sent to")
	}
	answer := note
	answer.Background = false
	if err := s.Send(ctx, answer); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, note); err != nil {
		t.Fatal(err)
	}
	tr, _, err := s.load(ctx, sess.chat)
	if err != nil || len(tr.Entries) != 2 || tr.Lang != "en" || tr.Entries[1].Text == "" {
		t.Errorf("the chat: %+v, %v", tr, err)
	}
}

// downConversations is a conversation store that is down.
type downConversations struct{}

func (downConversations) Begin(context.Context, string, int64) (bot.ConversationTurn, error) {
	return nil, errors.New("redis: connection refused")
}

// While the conversations cannot be had, a message is tried a few times
// and then refused: the chat shows nothing of it (not even "I'll answer
// later", which only Telegram's redelivery makes true), and the student
// is asked to send it again.
func TestAStoreDownIsNoMessage(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rt, err := bot.New(bot.Config{ParticipantKey: []byte("k"), Logger: log}, bot.Stores{Conversations: downConversations{}})
	if err != nil {
		t.Fatal(err)
	}
	catalog, _ := locales.Load()
	db, _ := pgtest.NewStore(t)
	s, err := New(rt, catalog, Config{Secret: []byte(secretA)}, Stores{Transcripts: redistest.New(t), Photos: db.Photos()})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/c", nil))
	cookie := rec.Result().Cookies()[0]
	sess, _ := s.session(func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/c", nil)
		r.AddCookie(cookie)
		return r
	}())
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, post("text=hi&n=1&csrf="+s.csrfToken(sess), cookie, nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/c?n=retry#now" {
		t.Errorf("answered %d, to %q", rec.Code, rec.Header().Get("Location"))
	}
	if data, _, err := s.stores.Transcripts.WebTranscript(t.Context(), sess.chat); err != nil || data != nil {
		t.Errorf("the chat was written: %s, %v", data, err)
	}
}
