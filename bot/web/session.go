package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/healthycities/napad/flows"
)

// A student on the web has no account: they are a random 128-bit web id in
// a signed cookie. Everything else comes from the web id: the participant
// (a pseudonym of "web:<id>", as Telegram's of "telegram-user:<id>"), the
// chat the replies go to, and the form tokens. Losing the cookie loses the
// chat, unless the student wrote down the resume code.

const (
	sessionCookie = "napad_web"
	langCookie    = "napad_lang"
	webIDLen      = 16
)

// Chat ids of web chats are below -(1<<52). Telegram's never are: a
// private chat is the user's id (positive, below 2^52), a group or a
// channel about -10^12 or -2·10^12.
const (
	webChatTop    = -(1 << 52) // the first id above the web chats
	webChatBottom = -(1 << 53)
)

// IsWebChat reports whether chat is a web chat, whose deliveries go to the
// web channel; any other chat id is Telegram's.
func IsWebChat(chat int64) bool { return chat < webChatTop && chat >= webChatBottom }

// session is who is at the browser.
type session struct {
	id   string // the web id, base64url
	pid  string // the participant
	chat int64
}

// chatOf is the web chat of a web id: 52 of its random bits below
// webChatTop (two web chats share one at the 2^26th web id, about).
func chatOf(raw []byte) int64 {
	return webChatTop - 1 - int64(binary.BigEndian.Uint64(raw[:8])>>12)
}

// mac is the server's keyed hash of parts, for one purpose (so that a
// cookie's signature is never a valid form token, or the reverse).
func (s *Server) mac(purpose string, parts ...string) []byte {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte(purpose))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func (s *Server) token(purpose string, parts ...string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(purpose, parts...)[:16])
}

// sessionFor is the session of a web id (from a cookie, or a resume code);
// false if it is not one.
func (s *Server) sessionFor(id string) (session, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) != webIDLen {
		return session{}, false
	}
	return session{id: id, pid: s.rt.ParticipantID("web:" + id), chat: chatOf(raw)}, true
}

// cookieValue is a web id with its signature.
func (s *Server) cookieValue(id string) string { return id + "." + s.token("cookie", id) }

// session is the browser's session, from its cookie; false when it has
// none, or the cookie's signature is wrong.
func (s *Server) session(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	id, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.token("cookie", id))) {
		return session{}, false
	}
	return s.sessionFor(id)
}

// ensureSession is the browser's session, or a new one whose cookie goes
// with the response.
func (s *Server) ensureSession(w http.ResponseWriter, r *http.Request) session {
	if sess, ok := s.session(r); ok {
		return sess
	}
	var raw [webIDLen]byte
	_, _ = rand.Read(raw[:]) // crypto/rand does not fail
	sess, _ := s.sessionFor(base64.RawURLEncoding.EncodeToString(raw[:]))
	s.setSessionCookie(w, sess)
	return sess
}

// setSessionCookie gives the browser the session's cookie, for as long as
// the chat is kept.
func (s *Server) setSessionCookie(w http.ResponseWriter, sess session) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: s.cookieValue(sess.id), Path: "/",
		MaxAge: int(s.cfg.TTL / time.Second), HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// csrfToken is what every form of a session carries: a cross-site page
// cannot read it, so it cannot post as the student.
func (s *Server) csrfToken(sess session) string { return s.token("csrf", sess.id) }

func (s *Server) validCSRF(sess session, got string) bool {
	return hmac.Equal([]byte(got), []byte(s.csrfToken(sess)))
}

// eventKey is the event key of a form posted: the same for the same form
// (its nonce) posted twice, so the second is a duplicate.
func (s *Server) eventKey(sess session, nonce string) int64 {
	return int64(binary.BigEndian.Uint64(s.mac("event", sess.id, nonce)))
}

// newNonce is a fresh form nonce, one per page shown.
func newNonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// photoID is the id of the photo a session sends with a form: the same
// for the form posted twice (one photo stored), and with a tag only the
// session's web id makes, so that only its owner is shown it.
func (s *Server) photoID(sess session, nonce string) string {
	seed := base64.RawURLEncoding.EncodeToString(s.mac("photo-seed", sess.id, nonce)[:12])
	return seed + s.photoTag(sess, seed)
}

func (s *Server) photoTag(sess session, seed string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("photo", sess.id, seed)[:9])
}

// ownsPhoto reports whether a photo id is one of the session's.
func (s *Server) ownsPhoto(sess session, id string) bool {
	const seedLen = 16 // 12 bytes in base64
	if len(id) != seedLen+12 {
		return false
	}
	return hmac.Equal([]byte(id[seedLen:]), []byte(s.photoTag(sess, id[:seedLen])))
}

// Resume codes: 10 characters of Crockford's base32 (50 random bits),
// shown as ABCDE-FGHJK.
const resumeCodeLen = 10

func newResumeCode() string {
	var b [resumeCodeLen]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = flows.JoinCodeAlphabet[b[i]&31] // 32 letters divide 256: no bias
	}
	return string(b[:])
}

// showResumeCode writes a code as it is shown: two groups of five.
func showResumeCode(code string) string {
	if len(code) != resumeCodeLen {
		return code
	}
	return code[:5] + "-" + code[5:]
}

// typedAs are what people type for a code's characters, upper-cased:
// letters read as digits, and the Cyrillic look-alikes of a Ukrainian
// keyboard (as flows reads join codes).
var typedAs = map[rune]rune{
	'O': '0', 'I': '1', 'L': '1',
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': '0',
	'Р': 'P', 'С': 'C', 'Т': 'T', 'Х': 'X', 'І': '1', 'З': '3',
}

// normalResumeCode reads a resume code as typed; false if it cannot be one.
func normalResumeCode(typed string) (string, bool) {
	if len(typed) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		if unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) {
			continue
		}
		if to, ok := typedAs[r]; ok {
			r = to
		}
		if r >= utf8.RuneSelf || !strings.ContainsRune(flows.JoinCodeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != resumeCodeLen {
		return "", false
	}
	return b.String(), true
}
