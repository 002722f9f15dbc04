package telegramtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
)

// Limits enforced by the Bot API, counted in UTF-16 code units (text) or bytes
// (callback data).
const (
	maxTextLen         = 4096
	maxCaptionLen      = 1024
	maxCallbackDataLen = 64
)

// normParseMode maps a parse_mode parameter to its canonical spelling; the Bot
// API accepts it case-insensitively.
func normParseMode(pm string) (string, error) {
	switch strings.ToLower(pm) {
	case "":
		return "", nil
	case "html":
		return "HTML", nil
	case "markdownv2":
		return "MarkdownV2", nil
	case "markdown":
		return "Markdown", nil
	}
	return "", botapi.BadRequest("unsupported parse_mode")
}

// plainText returns the text as the user will see it (markup removed), which
// is what Telegram measures, or the entity parse error Telegram would give.
// Only clear-cut errors are reported so that valid markup never fails here.
func plainText(text, parseMode string) (string, error) {
	var plain, problem string
	switch parseMode {
	case "HTML":
		plain, problem = parseHTML(text)
	case "MarkdownV2":
		plain, problem = parseMarkdownV2(text)
	default:
		return text, nil
	}
	if problem != "" {
		return "", botapi.BadRequest("can't parse entities: %s", problem)
	}
	return plain, nil
}

var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "tg-emoji": true, "code": true, "pre": true, "blockquote": true,
	"tg-time": true,
}

// parseHTML follows tdlib's parse_html: only the supported tags, properly
// nested; an undecodable "&" sequence is kept literally. A raw "<" in user
// supplied text is the classic way to get this error in production.
// It returns the visible text, or Telegram's description of the problem.
func parseHTML(text string) (string, string) {
	var out strings.Builder
	var stack []string
	for i := 0; i < len(text); {
		c := text[i]
		if c == '&' {
			if r, n := htmlEntity(text[i:]); n > 0 {
				out.WriteRune(r)
				i += n
				continue
			}
		}
		if c != '<' {
			out.WriteByte(c)
			i++
			continue
		}
		begin := i
		i++
		if i < len(text) && text[i] == '/' {
			j := i + 1
			for j < len(text) && text[j] != '>' && !isSpace(text[j]) {
				j++
			}
			name := strings.ToLower(text[i+1 : j])
			for j < len(text) && isSpace(text[j]) {
				j++
			}
			if len(stack) == 0 {
				return "", fmt.Sprintf("Unexpected end tag at byte offset %d", begin)
			}
			if j == len(text) {
				return "", fmt.Sprintf("Unclosed end tag at byte offset %d", begin)
			}
			top := stack[len(stack)-1]
			if name != "" && name != top {
				return "", fmt.Sprintf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top, name)
			}
			stack = stack[:len(stack)-1]
			i = j + 1
			continue
		}
		j := i
		for j < len(text) && text[j] != '>' && !isSpace(text[j]) {
			j++
		}
		name := strings.ToLower(text[i:j])
		if !htmlTags[name] {
			return "", fmt.Sprintf("Unsupported start tag \"%s\" at byte offset %d", name, begin)
		}
		var quote byte
		for ; j < len(text); j++ {
			if quote != 0 {
				if text[j] == quote {
					quote = 0
				}
			} else if text[j] == '"' || text[j] == '\'' {
				quote = text[j]
			} else if text[j] == '>' {
				break
			}
		}
		if j == len(text) {
			return "", fmt.Sprintf("Unclosed start tag at byte offset %d", begin)
		}
		stack = append(stack, name)
		i = j + 1
	}
	if len(stack) > 0 {
		return "", fmt.Sprintf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1])
	}
	return out.String(), ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// htmlEntity decodes the entities tdlib knows at the start of s.
func htmlEntity(s string) (rune, int) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 10 {
		return 0, 0
	}
	name := s[1:end]
	switch name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	}
	if name[0] == '#' {
		var v uint64
		var err error
		if len(name) > 1 && (name[1] == 'x' || name[1] == 'X') {
			v, err = strconv.ParseUint(name[2:], 16, 32)
		} else {
			v, err = strconv.ParseUint(name[1:], 10, 32)
		}
		if err == nil && v > 0 && v <= unicode.MaxRune {
			return rune(v), end + 1
		}
	}
	return 0, 0
}

// parseMarkdownV2 reports the most common MarkdownV2 mistake, an unescaped
// reserved character such as "." or "!" in ordinary text, and approximates
// the visible text. Unbalanced emphasis markers are not diagnosed. Results
// as parseHTML.
func parseMarkdownV2(text string) (string, string) {
	var out strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\\':
			if i+1 < len(text) {
				i++
				out.WriteByte(text[i])
			}
		case c == '`':
			delim := "`"
			if strings.HasPrefix(text[i:], "```") {
				delim = "```"
			}
			end := indexUnescaped(text, i+len(delim), delim)
			if end < 0 {
				// Unclosed code: Telegram fails, but the exact message depends
				// on details not modelled here, so don't guess.
				out.WriteString(text[i:])
				return out.String(), ""
			}
			code := text[i+len(delim) : end]
			if lang, rest, ok := strings.Cut(code, "\n"); ok && delim == "```" && !strings.ContainsAny(lang, " \t") {
				code = rest // the first line names the language
			}
			out.WriteString(code)
			i = end + len(delim) - 1
		case c == ']' && i+1 < len(text) && text[i+1] == '(':
			end := indexUnescaped(text, i+2, ")")
			if end < 0 {
				return out.String(), ""
			}
			i = end
		case strings.IndexByte("_*~|[]", c) >= 0:
			// Formatting markers, invisible.
		case c == '!' && i+1 < len(text) && text[i+1] == '[':
			// Custom emoji: ![👍](tg://emoji?id=...).
		case c == '>' && markdownLineStart(text, i):
			// Block quotation.
		case strings.IndexByte(".!#+-={}()>", c) >= 0:
			return "", fmt.Sprintf("Character '%c' is reserved and must be escaped with the preceding '\\'", c)
		default:
			out.WriteByte(c)
		}
	}
	return out.String(), ""
}

func indexUnescaped(s string, from int, delim string) int {
	for i := from; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(s[i:], delim) {
			return i
		}
	}
	return -1
}

func markdownLineStart(s string, i int) bool {
	if i >= 2 && s[i-2:i] == "**" {
		i -= 2 // expandable block quotation "**>"
	}
	return i == 0 || s[i-1] == '\n'
}

// markup is a parsed reply_markup parameter.
type markup struct {
	inline     *models.InlineKeyboardMarkup // echoed back in the message, as Telegram does
	inlineRows [][]InlineButton
	reply      [][]KeyboardButton
	remove     bool
	forceReply bool
	key        string // canonical inline keyboard, to detect "message is not modified"
}

// parseMarkup parses and validates a reply_markup JSON object.
func parseMarkup(raw string) (*markup, error) {
	if strings.TrimSpace(raw) == "" {
		return &markup{}, nil
	}
	var probe struct {
		InlineKeyboard json.RawMessage `json:"inline_keyboard"`
		Keyboard       json.RawMessage `json:"keyboard"`
		RemoveKeyboard bool            `json:"remove_keyboard"`
		ForceReply     bool            `json:"force_reply"`
	}
	if err := json.Unmarshal([]byte(raw), &probe); err != nil {
		return nil, botapi.BadRequest("can't parse reply keyboard markup JSON object")
	}
	mk := &markup{remove: probe.RemoveKeyboard, forceReply: probe.ForceReply}
	switch {
	case probe.InlineKeyboard != nil:
		var rows [][]models.InlineKeyboardButton
		if err := json.Unmarshal(probe.InlineKeyboard, &rows); err != nil {
			return nil, botapi.BadRequest("can't parse inline keyboard button: %v", err)
		}
		for _, row := range rows {
			var out []InlineButton
			for _, b := range row {
				if len(b.CallbackData) > maxCallbackDataLen {
					return nil, botapi.BadRequest("BUTTON_DATA_INVALID")
				}
				if !hasButtonAction(b) {
					return nil, botapi.BadRequest("text buttons are unallowed in the inline keyboard")
				}
				out = append(out, InlineButton{Text: b.Text, CallbackData: b.CallbackData, URL: b.URL})
			}
			mk.inlineRows = append(mk.inlineRows, out)
		}
		mk.inline = &models.InlineKeyboardMarkup{InlineKeyboard: rows}
		key, _ := json.Marshal(rows)
		mk.key = string(key)
	case probe.Keyboard != nil:
		var rows [][]json.RawMessage
		if err := json.Unmarshal(probe.Keyboard, &rows); err != nil {
			return nil, botapi.BadRequest("can't parse keyboard button: %v", err)
		}
		for _, row := range rows {
			var out []KeyboardButton
			for _, raw := range row {
				var b models.KeyboardButton
				// A plain string is allowed for a simple text button.
				if err := json.Unmarshal(raw, &b.Text); err != nil {
					if err := json.Unmarshal(raw, &b); err != nil {
						return nil, botapi.BadRequest("can't parse keyboard button: %v", err)
					}
				}
				out = append(out, KeyboardButton{Text: b.Text, RequestLocation: b.RequestLocation, RequestContact: b.RequestContact})
			}
			mk.reply = append(mk.reply, out)
		}
	}
	return mk, nil
}

func hasButtonAction(b models.InlineKeyboardButton) bool {
	return b.URL != "" || b.CallbackData != "" || b.WebApp != nil || b.LoginURL != nil ||
		b.SwitchInlineQuery != nil || b.SwitchInlineQueryCurrentChat != nil ||
		b.SwitchInlineQueryChosenChat != nil || b.CopyText != nil || b.CallbackGame != nil ||
		b.Pay || b.Disabled != nil
}
