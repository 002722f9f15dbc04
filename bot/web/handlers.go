package web

import (
	"cmp"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
)

// joinCodePattern is what a join link's code may look like (as the
// runtime reads it: Telegram's deep-link limit).
var joinCodePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// maxText is the longest message the chat takes, as Telegram's.
const maxText = 4096

// converseTimeout bounds handling one post. The student's tab closing
// does not stop it half-way: the event is handled or not at all.
const converseTimeout = 30 * time.Second

// maxUploads photo uploads are read and processed at once (each holds up
// to PhotoBytes, and its decoded picture tens of MB); others wait up to
// uploadWait, then are asked to send again.
const (
	maxUploads = 8
	// Below the HTTP server's read timeout (15 s): the body is read after.
	uploadWait = 8 * time.Second
)

// notices are what a chat page may say about the last post (?n=).
var notices = []string{"photo_bad", "photo_big", "photo_failed", "photo_none", "text_long", "text_empty", "location_bad", "retry"}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	type body struct{ Demo string }
	var b body
	if s.cfg.DemoCode != "" {
		b.Demo = "/j/" + url.PathEscape(s.cfg.DemoCode) + "?web=1"
	}
	s.show(w, http.StatusOK, "home", s.newPage(s.pageLanguage(r), "web.home.title", nil, b))
}

// joinPage opens a forum's join link: a choice between Telegram and the
// browser when there is a bot, else the forum in the browser at once.
func (s *Server) joinPage(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if !joinCodePattern.MatchString(code) {
		s.notFound(w, r)
		return
	}
	sess := s.ensureSession(w, r)
	if s.cfg.BotUsername != "" && r.URL.Query().Get("web") != "1" {
		type body struct{ Telegram, Action string }
		b := body{Telegram: "https://t.me/" + url.PathEscape(s.cfg.BotUsername) + "?start=" + code, Action: "/j/" + code}
		s.show(w, http.StatusOK, "choice", s.newPage(s.pageLanguage(r), "web.choice.title", &sess, b))
		return
	}
	if !s.byParticipant.allow("p:" + sess.pid) {
		s.tooFast(w, r)
		return
	}
	// As Telegram's /start <code>: the runtime looks the code up.
	s.converse(w, r, sess, flows.Input{What: flows.CommandSent{Name: flows.CommandStart, Arg: code}}, "", nil, 0)
}

// joinPost is "continue in the browser" on the choice page.
func (s *Server) joinPost(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if !joinCodePattern.MatchString(code) {
		s.notFound(w, r)
		return
	}
	sess, ok := s.readForm(w, r)
	if !ok {
		return
	}
	s.converse(w, r, sess, flows.Input{What: flows.CommandSent{Name: flows.CommandStart, Arg: code}}, r.PostForm.Get("n"), nil, 0)
}

// readForm reads a posted form and checks that the student's own page
// sent it (see checkPost) and that they are within their limit; if not,
// the answer is written and ok is false.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (session, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.Limits.FormBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusRequestEntityTooLarge, "too_big")
		return session{}, false
	}
	sess, ok := s.checkPost(w, r, r.PostForm.Get("csrf"), r.PostForm.Get("n"))
	if ok && !s.byParticipant.allow("p:"+sess.pid) {
		s.tooFast(w, r)
		return session{}, false
	}
	return sess, ok
}

// checkPost makes sure a post comes from the student's own page: not
// from another site (Origin, Sec-Fetch-Site), with their session and its
// form token, and a form nonce.
func (s *Server) checkPost(w http.ResponseWriter, r *http.Request, token, nonce string) (session, bool) {
	sess, ok := s.session(r)
	if !sameOrigin(r) || !ok || !s.validCSRF(sess, token) || nonce == "" || len(nonce) > 64 {
		s.log.Info("a form post was refused: not from the student's own page", "path", r.URL.Path)
		s.errorPage(w, r, http.StatusForbidden, "forbidden")
		return session{}, false
	}
	return sess, true
}

// sameOrigin says whether a post may come from this site. Our own pages
// send Origin "null" (Referrer-Policy no-referrer makes it so) or none.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// converse hands the student's input to the runtime as an event of their
// conversation, writes what it answered into the transcript after the
// student's own message (me), and sends the browser back to the chat
// (post, redirect, get). nonce is the form's: the same form posted twice
// is one event; "" makes a new one. tapped is the message whose button
// was tapped.
func (s *Server) converse(w http.ResponseWriter, r *http.Request, sess session, in flows.Input, nonce string, me *entry, tapped int) {
	if nonce == "" {
		nonce = newNonce()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), converseTimeout)
	defer cancel()
	ev := bot.Event{
		ID: s.nextEventID(), Key: s.eventKey(sess, nonce), Participant: sess.pid, Chat: sess.chat,
		LanguageHint: hintLanguage(r), Input: in, Replace: tapped,
	}
	var p *pending
	var outcome bot.Outcome
	// Telegram delivers an event again when a store was down; a browser
	// waits for its answer, so the event is tried again here, a few times.
	for attempt := 1; ; attempt++ {
		p = &pending{chat: sess.chat}
		outcome = s.rt.Converse(context.WithValue(ctx, pendingKey{}, p), s, ev)
		if outcome != bot.Retry || attempt == retries {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * retryPause):
		}
	}
	s.log.Debug("web event handled", "outcome", outcome)
	if outcome == bot.Retry {
		// Not handled: nothing goes into the chat (the runtime's "I'll
		// answer later" is not true here), and the student sends it again.
		s.backToChat(w, r, "retry")
		return
	}
	mu := s.chatLock(sess.chat)
	mu.Lock()
	err := s.finish(ctx, sess, p, me, tapped, outcome)
	mu.Unlock()
	if err != nil {
		s.log.Error("writing a web chat", "err", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	http.Redirect(w, r, "/c#now", http.StatusSeeOther)
}

// How often, and after how long, an event the runtime could not handle
// (a store down) is tried again while the browser waits.
const (
	retries    = 3
	retryPause = 400 * time.Millisecond
)

// finish writes an event's messages. A duplicate (the same form posted
// again) adds nothing, unless the first time's answer never made it into
// the transcript; then the runtime's repeat of the question does.
func (s *Server) finish(ctx context.Context, sess session, p *pending, me *entry, tapped int, outcome bot.Outcome) error {
	if outcome == bot.Duplicate {
		if len(p.deliveries) == 0 {
			return nil
		}
		t, _, err := s.load(ctx, sess.chat)
		if err != nil {
			return err
		}
		if n := len(t.Entries); n > 0 && !t.Entries[n-1].Me {
			return nil
		}
		return s.write(ctx, sess.chat, sess.id, p.lang, nil, p.deliveries, false)
	}
	// A tapped question the answer replaces needs no message of the
	// student's: the reply starts with what they tapped (✔️ …).
	for _, d := range p.deliveries {
		if tapped != 0 && d.replace == tapped && slices.ContainsFunc(d.outs, func(o outgoing) bool { return o.replace }) {
			me = nil
		}
	}
	return s.write(ctx, sess.chat, sess.id, p.lang, me, p.deliveries, false)
}

// chatBody is the chat page's own.
type chatBody struct {
	Entries []entryView
	Menu    []menuItem
	Code    string
	Wants   string
	Notice  string
	Cut     bool
	PhotoMB int64 // the largest photo taken
}

type entryView struct {
	ID           int
	Anchor, Me   bool
	Text         string
	Photo, Image string // links
	File         *fileView
	Buttons      [][]button
}

type fileView struct{ URL, Name string }

type menuItem struct{ Name, Label string }

// chatPage shows the chat: the transcript, the last messages' buttons,
// the text field, a photo and a place, and the command menu.
func (s *Server) chatPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.session(r)
	if ok {
		s.setSessionCookie(w, sess) // kept as long as the chat
	} else {
		sess = s.ensureSession(w, r)
	}
	ctx := r.Context()
	t, _, err := s.load(ctx, sess.chat)
	if err != nil {
		s.log.Error("showing a web chat", "err", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	lang := cmp.Or(t.Lang, hintLanguage(r))
	b := chatBody{Cut: t.Cut, PhotoMB: s.cfg.Limits.PhotoBytes >> 20}
	if len(t.Entries) > 0 {
		b.Code = showResumeCode(s.resumeCode(ctx, sess, &t))
	}
	if n := r.URL.Query().Get("n"); slices.Contains(notices, n) {
		b.Notice = "web.notice." + n
	}
	// The buttons of the messages after the student's last one are the
	// ones to tap; older ones are answered.
	lastMe := -1
	for i, e := range t.Entries {
		if e.Me {
			lastMe = i
		}
	}
	for i, e := range t.Entries {
		v := entryView{ID: e.ID, Me: e.Me, Text: e.Text}
		if e.Photo != "" && s.ownsPhoto(sess, e.Photo) {
			v.Photo = "/photo/" + e.Photo
		}
		if e.Image != "" {
			v.Image = "/f/" + e.Image
		}
		if e.File != nil {
			v.File = &fileView{URL: "/f/" + e.File.ID, Name: e.File.Name}
		}
		if i > lastMe {
			v.Buttons = e.Buttons
			if !e.Me && e.Wants != "" {
				b.Wants = e.Wants
			}
		}
		b.Entries = append(b.Entries, v)
	}
	if n := len(b.Entries); n > 0 {
		b.Entries[min(lastMe+1, n-1)].Anchor = true
	}
	for _, name := range flows.Menu(cmp.Or(t.Role, flows.RoleStudent)) {
		b.Menu = append(b.Menu, menuItem{Name: name, Label: s.texts.Render(lang, flows.Msg{Key: "command." + name})})
	}
	p := s.newPage(lang, "web.chat.title", &sess, b)
	p.Script = s.staticURL("location.js")
	s.show(w, http.StatusOK, "chat", p)
}

// resumeCode is the chat's resume code, made when it has none, and kept
// as long as the chat ("" if Redis would not have it).
func (s *Server) resumeCode(ctx context.Context, sess session, t *transcript) string {
	if t.Code != "" {
		saved, err := s.stores.Transcripts.SaveResumeCode(ctx, t.Code, sess.id, s.cfg.TTL)
		if err != nil {
			s.log.Warn("renewing a resume code", "err", err)
			return t.Code
		}
		if saved {
			return t.Code
		}
	}
	for range 5 {
		code := newResumeCode()
		saved, err := s.stores.Transcripts.SaveResumeCode(ctx, code, sess.id, s.cfg.TTL)
		if err != nil {
			s.log.Warn("making a resume code", "err", err)
			return ""
		}
		if !saved { // someone else's: draw again
			continue
		}
		if err := s.update(ctx, sess.chat, func(t *transcript, _ bool) error {
			t.Code = code
			return nil
		}); err != nil {
			s.log.Warn("keeping a resume code", "err", err)
		}
		t.Code = code
		return code
	}
	return ""
}

// chatPost is a message, a tapped button, a command from the menu or the
// place where the student is.
func (s *Server) chatPost(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.readForm(w, r)
	if !ok {
		return
	}
	t, _, err := s.load(r.Context(), sess.chat)
	if err != nil {
		s.log.Error("reading a web chat", "err", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	lang := cmp.Or(t.Lang, hintLanguage(r))
	f := r.PostForm
	nonce := f.Get("n")
	switch {
	case f.Has("tap"):
		data := f.Get("tap")
		tapped, _ := strconv.Atoi(f.Get("m"))
		var me *entry
		if i := t.find(tapped); i >= 0 {
			for _, row := range t.Entries[i].Buttons {
				for _, b := range row {
					if b.Data == data {
						me = &entry{Me: true, Text: b.Label}
					}
				}
			}
		}
		s.converse(w, r, sess, flows.Input{What: flows.Tap{Data: data}}, nonce, me, max(tapped, 0))
	case f.Has("command"):
		name := f.Get("command")
		if !slices.Contains(flows.Menu(cmp.Or(t.Role, flows.RoleStudent)), name) {
			s.notFound(w, r)
			return
		}
		s.converse(w, r, sess, flows.Input{What: flows.CommandSent{Name: name}}, nonce, &entry{Me: true, Text: "/" + name}, 0)
	case f.Has("lat") || f.Has("lon"):
		lat, errLat := strconv.ParseFloat(f.Get("lat"), 64)
		lon, errLon := strconv.ParseFloat(f.Get("lon"), 64)
		if errLat != nil || errLon != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
			s.backToChat(w, r, "location_bad")
			return
		}
		me := &entry{Me: true, Text: s.pageText(lang, "web.chat.location_sent")}
		s.converse(w, r, sess, flows.Input{What: flows.Location{Lat: lat, Lon: lon}}, nonce, me, 0)
	default:
		text := strings.TrimSpace(f.Get("text"))
		switch {
		case text == "":
			s.backToChat(w, r, "text_empty")
			return
		case utf8.RuneCountInString(text) > maxText:
			s.backToChat(w, r, "text_long")
			return
		}
		s.converse(w, r, sess, textInput(text), nonce, &entry{Me: true, Text: text}, 0)
	}
}

// textInput is what a typed message is: a command ("/join K7Q2-M9XD",
// any unknown one shows /help, as in Telegram) or text.
func textInput(text string) flows.Input {
	if !strings.HasPrefix(text, "/") {
		return flows.Input{What: flows.Text{Text: text}}
	}
	fields := strings.Fields(text)
	name, _, _ := strings.Cut(strings.TrimPrefix(fields[0], "/"), "@")
	name = strings.ToLower(name)
	if _, ok := flows.CommandNamed(name); !ok {
		return flows.Input{What: flows.CommandSent{Name: flows.CommandHelp}}
	}
	return flows.Input{What: flows.CommandSent{Name: name, Arg: strings.Join(fields[1:], " ")}}
}

// pageText is the page's words for key in lang.
func (s *Server) pageText(lang, key string) string {
	return (&page{Lang: lang, s: s}).T(key)
}

// backToChat shows the chat again with a notice about the post.
func (s *Server) backToChat(w http.ResponseWriter, r *http.Request, notice string) {
	http.Redirect(w, r, "/c?n="+notice+"#now", http.StatusSeeOther)
}

// photoPost takes a photo: the file is read within the limit, checked
// for what it is, and stored re-encoded (see processPhoto); the
// conversation gets it as "web:<id>". (Staff who review the idea in
// Telegram do not see it: Telegram knows no such file id, so the review
// card comes without the photo, and the bot logs that showing it failed.)
func (s *Server) photoPost(w http.ResponseWriter, r *http.Request) {
	// Uploads are read whole into memory: only so many at once, the rest
	// wait here, before their bytes are read (a class sending 3–5 MB phone
	// photos at once must not take gigabytes).
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	case <-r.Context().Done():
		return // the browser gave up
	case <-time.After(uploadWait):
		s.tooFast(w, r)
		return
	}
	lim := s.cfg.Limits
	r.Body = http.MaxBytesReader(w, r.Body, lim.PhotoBytes+lim.FormBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "forbidden")
		return
	}
	fields := map[string]string{}
	var photo []byte
	tooBig, cutShort := false, false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil { // the photo is not all there
			var limit *http.MaxBytesError
			tooBig, cutShort = errors.As(err, &limit), !errors.As(err, &limit)
			break
		}
		switch name := part.FormName(); name {
		case "photo":
			photo, err = io.ReadAll(io.LimitReader(part, lim.PhotoBytes+1))
			var limit *http.MaxBytesError
			switch {
			case int64(len(photo)) > lim.PhotoBytes, errors.As(err, &limit):
				tooBig, photo = true, nil
			case err != nil: // cut short (a slow connection, the read deadline)
				cutShort, photo = true, nil
			}
		case "csrf", "n":
			v, _ := io.ReadAll(io.LimitReader(part, 256))
			fields[name] = string(v)
		}
		_ = part.Close()
		if tooBig || cutShort {
			break
		}
	}
	sess, ok := s.checkPost(w, r, fields["csrf"], fields["n"])
	if !ok {
		return
	}
	if !s.byParticipant.allow("p:" + sess.pid) {
		s.tooFast(w, r)
		return
	}
	switch {
	case tooBig:
		s.backToChat(w, r, "photo_big")
		return
	case cutShort:
		s.backToChat(w, r, "retry")
		return
	case len(photo) == 0:
		s.backToChat(w, r, "photo_none")
		return
	}
	id := s.photoID(sess, fields["n"])
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), converseTimeout)
	defer cancel()
	// The same form sent again (a reload, a lost answer): its photo is
	// stored already, and the runtime handles its event once.
	if _, stored, err := s.stores.Photos.Get(ctx, id); err == nil && stored {
		s.converse(w, r, sess, flows.Input{What: flows.PhotoSent{FileID: photoPrefix + id}}, fields["n"], &entry{Me: true, Photo: id}, 0)
		return
	}
	jpeg, err := s.processPhoto(r.Context(), photo)
	switch {
	case errors.Is(err, context.Canceled):
		return // the browser gave up waiting: nobody to answer

	case errors.Is(err, errTooLarge):
		s.backToChat(w, r, "photo_big")
		return
	case err != nil:
		s.log.Info("an upload was refused: not a picture", "err", err)
		s.backToChat(w, r, "photo_bad")
		return
	}
	if err := s.stores.Photos.Put(ctx, id, jpeg); err != nil {
		s.log.Error("storing a web photo", "err", err)
		s.backToChat(w, r, "photo_failed")
		return
	}
	s.converse(w, r, sess, flows.Input{What: flows.PhotoSent{FileID: photoPrefix + id}}, fields["n"], &entry{Me: true, Photo: id}, 0)
}

// processPhoto is processPhoto, a few at a time (photoSlots).
// A photo whose browser stopped waiting is not processed at all.
func (s *Server) processPhoto(ctx context.Context, data []byte) ([]byte, error) {
	select {
	case s.photoSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.photoSlots }()
	return processPhoto(data, s.cfg.Limits.PhotoPixels, s.cfg.Limits.PhotoSide)
}

// resumePage asks for the code from the other device.
func (s *Server) resumePage(w http.ResponseWriter, r *http.Request) {
	sess := s.ensureSession(w, r)
	s.show(w, http.StatusOK, "resume", s.newPage(s.pageLanguage(r), "web.resume.title", &sess, resumeBody{}))
}

type resumeBody struct{ Wrong bool }

// resumePost takes the browser to the chat a resume code stands for.
// Guesses are limited per address: 50 random bits and a few guesses a
// minute leave nothing to find.
func (s *Server) resumePost(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.readForm(w, r)
	if !ok {
		return
	}
	if !s.resumeGuesses.allow("r:" + s.clientAddress(r)) {
		s.tooFast(w, r)
		return
	}
	if code, ok := normalResumeCode(r.PostForm.Get("code")); ok {
		webID, found, err := s.stores.Transcripts.ResumeCode(r.Context(), code)
		if err != nil {
			s.log.Error("looking a resume code up", "err", err)
			s.errorPage(w, r, http.StatusServiceUnavailable, "unavailable")
			return
		}
		if other, valid := s.sessionFor(webID); found && valid {
			s.log.Info("a web chat continues on another device")
			s.setSessionCookie(w, other)
			http.Redirect(w, r, "/c#now", http.StatusSeeOther)
			return
		}
	}
	s.show(w, http.StatusOK, "resume", s.newPage(s.pageLanguage(r), "web.resume.title", &sess, resumeBody{Wrong: true}))
}

// photo shows a photo the student sent, to them only.
func (s *Server) photo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	sess, ok := s.session(r)
	if !ok || !s.ownsPhoto(sess, id) {
		s.notFound(w, r)
		return
	}
	jpeg, found, err := s.stores.Photos.Get(r.Context(), id)
	if err != nil {
		s.log.Error("reading a web photo", "err", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	if !found {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("Content-Length", strconv.Itoa(len(jpeg)))
	_, _ = w.Write(jpeg)
}

// file hands out a file or picture a reply carried, to its chat only: a
// picture is shown, anything else downloaded.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	sess, ok := s.session(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	data, found, err := s.stores.Transcripts.WebFile(r.Context(), sess.chat, id)
	if err != nil {
		s.log.Error("reading a web file", "err", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	if !found {
		s.errorPage(w, r, http.StatusNotFound, "file_gone")
		return
	}
	t, _, _ := s.load(r.Context(), sess.chat)
	name, picture := "napad", false
	for _, e := range t.Entries {
		if e.File != nil && e.File.ID == id {
			name = e.File.Name
		}
		if e.Image == id {
			picture = true
		}
	}
	h := w.Header()
	if picture && http.DetectContentType(data) == "image/png" {
		h.Set("Content-Type", "image/png")
	} else {
		ctype := mime.TypeByExtension(strings.ToLower(pathExt(name)))
		h.Set("Content-Type", cmp.Or(ctype, "application/octet-stream"))
		h.Set("Content-Disposition", cmp.Or(mime.FormatMediaType("attachment", map[string]string{"filename": name}), "attachment"))
	}
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

func pathExt(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}
