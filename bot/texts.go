package bot

import (
	"log/slog"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// Links writes out the links a message refers to: only the channel knows
// what a join link looks like there.
type Links interface {
	JoinLink(code string) string
	InviteLink(code string) string
}

// Texts renders the flow's messages for one channel.
type Texts struct {
	catalog *locales.Catalog
	links   Links
	log     *slog.Logger
	// variant: the channel's own wording of a sentence, the key
	// "<key>_<variant>", is said where there is one (the web's "tap 📍" for
	// Telegram's "📎 → Location").
	variant string
}

// Texts is the renderer for a channel whose links are written by links.
func (rt *Runtime) Texts(links Links) *Texts {
	return &Texts{catalog: rt.catalog, links: links, log: rt.log}
}

// TextsIn is Texts for a channel that words some sentences its own way:
// the keys "<key>_<variant>".
func (rt *Runtime) TextsIn(links Links, variant string) *Texts {
	return &Texts{catalog: rt.catalog, links: links, log: rt.log, variant: variant}
}

// fallbackLang is used when a sentence is missing in a language: better
// English than nothing.
const fallbackLang = "en"

// Render is m in lang.
func (t *Texts) Render(lang string, m flows.Msg) string {
	m = t.withLinks(m)
	s, err := t.catalog.Render(lang, m)
	if err == nil {
		return s
	}
	// A test fails on any missing key; in production say something rather than nothing.
	t.log.Error("missing translation", "key", m.Key, "lang", lang, "err", err)
	if s, err := t.catalog.Render(fallbackLang, m); err == nil {
		return s
	}
	return m.Key
}

func (t *Texts) withLinks(m flows.Msg) flows.Msg {
	if t.variant != "" && t.catalog.Has(m.Key+"_"+t.variant) {
		m.Key += "_" + t.variant
	}
	if len(m.Data) == 0 {
		return m
	}
	data := make(map[string]any, len(m.Data))
	for k, v := range m.Data {
		switch v := v.(type) {
		case flows.JoinLink:
			data[k] = t.links.JoinLink(v.Code)
		case flows.InviteLink:
			data[k] = t.links.InviteLink(v.Code)
		case flows.Msg:
			data[k] = t.withLinks(v)
		case flows.Lines:
			lines := make(flows.Lines, len(v))
			for i, m := range v {
				lines[i] = t.withLinks(m)
			}
			data[k] = lines
		default:
			data[k] = v
		}
	}
	m.Data = data
	return m
}
