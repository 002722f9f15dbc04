package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/healthycities/napad/flows"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pageNames are the pages, each templates/<name>.html in
// templates/layout.html.
var pageNames = []string{"home", "choice", "chat", "resume", "error"}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// staticFile is a file under /static/, with the hash its links carry so
// that browsers may keep it for good.
type staticFile struct {
	data  []byte
	ctype string
	hash  string
}

func loadStatic() (map[string]staticFile, error) {
	files := map[string]staticFile{}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		files[path.Base(p)] = staticFile{data: data, ctype: mime.TypeByExtension(path.Ext(p)), hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	return files, nil
}

// staticURL is the link to a static file, with its hash.
func (s *Server) staticURL(name string) string {
	return "/static/" + name + "?v=" + s.static[name].hash
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.static[r.PathValue("name")]
	if !ok {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	h.Set("Content-Length", strconv.Itoa(len(f.data)))
	_, _ = w.Write(f.data)
}

// page is what every page's template gets; Body is the page's own.
type page struct {
	Lang   string
	Title  string // a key
	CSRF   string
	Nonce  string
	Langs  []langLink
	CSS    string
	Script string // a script's link, on the one page that has one
	Body   any

	s *Server
}

type langLink struct {
	Code, Name string
	Current    bool
}

// T is the page's words for key in its language; kv are the data's names
// and values, in pairs.
func (p *page) T(key string, kv ...any) string {
	var data map[string]any
	if len(kv) > 0 {
		data = map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			data[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	text, err := p.s.catalog.Text(p.Lang, key, data, nil)
	if err != nil {
		// A test fails on any missing key; a student sees the key rather than nothing.
		p.s.log.Error("missing page text", "key", key, "lang", p.Lang, "err", err)
		return key
	}
	return text
}

// newPage is a page in lang; with a session, its forms carry the
// session's token and a fresh nonce.
func (s *Server) newPage(lang, title string, sess *session, body any) *page {
	p := &page{Lang: lang, Title: title, CSS: s.staticURL("napad.css"), Body: body, s: s}
	if sess != nil {
		p.CSRF, p.Nonce = s.csrfToken(*sess), newNonce()
	}
	for _, code := range flows.Languages {
		name, err := s.catalog.Text(code, "lang."+code, nil, nil)
		if err != nil {
			name = code
		}
		p.Langs = append(p.Langs, langLink{Code: code, Name: name, Current: code == lang})
	}
	return p
}

// show writes a page. Pages are never cached: they show a chat.
func (s *Server) show(w http.ResponseWriter, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageLanguage is the language of the pages around the chat: the one
// picked on them, the conversation's, the browser's, Czech.
func (s *Server) pageLanguage(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && slices.Contains(flows.Languages, c.Value) {
		return c.Value
	}
	if sess, ok := s.session(r); ok {
		if t, _, err := s.load(r.Context(), sess.chat); err == nil && t.Lang != "" {
			return t.Lang
		}
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// hintLanguage is the language a new conversation starts in: the one
// picked on the pages, or the browser's.
func hintLanguage(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && slices.Contains(flows.Languages, c.Value) {
		return c.Value
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// acceptLanguage is the browser's most wanted language Nápad speaks
// (Norwegian of any kind is Bokmål, Slovak Czech), else Czech.
func acceptLanguage(header string) string {
	type wanted struct {
		lang string
		q    float64
	}
	var ws []wanted
	for i, part := range strings.Split(header, ",") {
		if i >= 20 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if alias, ok := flows.LanguageAliases[base]; ok {
			base = alias
		}
		if q > 0 && slices.Contains(flows.Languages, base) {
			ws = append(ws, wanted{base, q})
		}
	}
	slices.SortStableFunc(ws, func(a, b wanted) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	if len(ws) == 0 {
		return flows.Languages[0]
	}
	return ws[0].lang
}

// pickLanguage handles ?lang=xx on any page: the language is kept in a
// cookie and the page shown again without it.
func (s *Server) pickLanguage(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	lang := q.Get("lang")
	if r.Method != http.MethodGet || lang == "" {
		return false
	}
	if !slices.Contains(flows.Languages, lang) {
		return false
	}
	http.SetCookie(w, &http.Cookie{
		Name: langCookie, Value: lang, Path: "/", MaxAge: int(s.cfg.TTL.Seconds()),
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteLaxMode,
	})
	q.Del("lang")
	to := r.URL.Path
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return true
}

// errorPage tells the student what went wrong, in their language: what is
// one of the [web.error] keys.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, what string) {
	type body struct {
		Heading, Text string
		Chat          bool
	}
	_, hasSession := s.session(r)
	p := s.newPage(s.pageLanguage(r), "web.error."+what+"_title", nil,
		body{Heading: "web.error." + what + "_title", Text: "web.error." + what, Chat: hasSession})
	s.show(w, status, "error", p)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "notfound")
}

// tooFast is the answer to a browser over its limits.
func (s *Server) tooFast(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "10")
	s.errorPage(w, r, http.StatusTooManyRequests, "slow")
}
