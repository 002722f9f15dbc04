package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// apiParams are the Bot API parameters the fake looks at. The byte slices
// point into the request body and are valid only while it is being handled.
type apiParams struct {
	chatID     []byte
	messageID  []byte
	text       []byte // text, or a caption
	markup     []byte // reply_markup, JSON
	url        []byte // setWebhook
	secret     []byte // setWebhook secret_token
	maxConns   []byte // setWebhook max_connections
	latitude   []byte // sendLocation
	longitude  []byte
	hasPayload bool // the request carried a file or a file reference (photo, document)
}

func (p *apiParams) set(name, value []byte) {
	switch string(name) { // no allocation: the compiler compares in place
	case "chat_id":
		p.chatID = unquote(value)
	case "message_id":
		p.messageID = value
	case "text", "caption":
		p.text = value
	case "reply_markup":
		p.markup = value
	case "url":
		p.url = value
	case "secret_token":
		p.secret = value
	case "max_connections":
		p.maxConns = value
	case "latitude":
		p.latitude = value
	case "longitude":
		p.longitude = value
	case "photo", "document":
		p.hasPayload = true
	}
}

// unquote strips the quotes go-telegram/bot puts around a chat_id given as a
// string ("@channel").
func unquote(v []byte) []byte {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

var errBadForm = errors.New("malformed multipart/form-data")

// parseMultipart reads a multipart/form-data body as go-telegram/bot writes
// it (every value in memory, one part per field) without allocating per
// field. File parts are recognised by name only; their content is ignored.
func parseMultipart(body, contentType []byte, p *apiParams) error {
	i := bytes.Index(contentType, []byte("boundary="))
	if i < 0 {
		return errBadForm
	}
	boundary := contentType[i+len("boundary="):]
	if j := bytes.IndexByte(boundary, ';'); j >= 0 {
		boundary = boundary[:j]
	}
	if len(boundary) >= 2 && boundary[0] == '"' {
		boundary = boundary[1 : len(boundary)-1]
	}
	if len(boundary) == 0 {
		return errBadForm
	}
	// "\r\n--boundary" ends a part; the first delimiter has no CRLF before it.
	delim := make([]byte, 0, len(boundary)+4)
	delim = append(delim, "\r\n--"...)
	delim = append(delim, boundary...)
	start := bytes.Index(body, delim[2:])
	if start < 0 {
		return errBadForm
	}
	rest := body[start+len(delim)-2:]
	for {
		if bytes.HasPrefix(rest, []byte("--")) {
			return nil // the closing delimiter
		}
		rest = bytes.TrimPrefix(rest, []byte("\r\n"))
		headerEnd := bytes.Index(rest, []byte("\r\n\r\n"))
		if headerEnd < 0 {
			return errBadForm
		}
		name := partName(rest[:headerEnd])
		rest = rest[headerEnd+4:]
		end := bytes.Index(rest, delim)
		if end < 0 {
			return errBadForm
		}
		if name != nil {
			p.set(name, rest[:end])
		}
		rest = rest[end+len(delim):]
	}
}

// partName finds name="..." in a part's headers.
func partName(header []byte) []byte {
	i := bytes.Index(header, []byte(` name="`))
	if i < 0 {
		return nil
	}
	v := header[i+len(` name="`):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return nil
	}
	return v[:j]
}

// parseJSONParams reads a JSON object body (other Bot API clients use it).
func parseJSONParams(body []byte, p *apiParams) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	for k, raw := range m {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			p.set([]byte(k), []byte(s))
		} else {
			p.set([]byte(k), raw)
		}
	}
	return nil
}

// parseFormParams reads an application/x-www-form-urlencoded body or query.
func parseFormParams(raw string, p *apiParams) error {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return err
	}
	for k, v := range vals {
		if len(v) > 0 {
			p.set([]byte(k), []byte(v[0]))
		}
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		var r rune
		var size int
		switch v := any(s).(type) {
		case string:
			r, size = utf8.DecodeRuneInString(v[i:])
		case []byte:
			r, size = utf8.DecodeRune(v[i:])
		}
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// parseInt reads a decimal integer without allocating.
func parseInt(v []byte) (int64, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return 0, false
	}
	neg := v[0] == '-'
	if neg {
		v = v[1:]
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' || n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, len(v) > 0
}

// callbackData lists the callback_data values of an inline keyboard, as
// slices of markup, into buf. Button data never contains escapes: the bot
// only uses [A-Za-z0-9_:|-].
func callbackData(markup []byte, buf [][]byte) [][]byte {
	const key = `"callback_data":"`
	for {
		i := bytes.Index(markup, []byte(key))
		if i < 0 {
			return buf
		}
		markup = markup[i+len(key):]
		j := bytes.IndexByte(markup, '"')
		if j < 0 {
			return buf
		}
		buf = append(buf, markup[:j])
		markup = markup[j+1:]
	}
}

// isInline reports whether reply_markup is an inline keyboard: only those
// carry the buttons a student taps, and only those Telegram returns with the
// message.
func isInline(markup []byte) bool {
	return bytes.Contains(markup, []byte(`"inline_keyboard"`))
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }
