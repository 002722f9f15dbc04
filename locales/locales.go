// Package locales holds every sentence the bot says, one TOML file per
// language, and renders them with the right plural forms.
package locales

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/healthycities/napad/flows"
)

//go:embed *.toml
var files embed.FS

// Fallback is the language used when a student's language is unknown.
const Fallback = "cs"

// Catalog renders messages in the supported languages.
type Catalog struct {
	localizers map[string]*i18n.Localizer
	// fixed caches texts without data or count (questions, button labels:
	// most of what is rendered). go-i18n matches languages on every call,
	// which costs more than the rest of a step.
	mu    sync.RWMutex
	fixed map[fixedText]string
}

type fixedText struct{ lang, key string }

// Load reads every locale file embedded in the binary. The languages' own
// names ("lang.<code>", the language buttons) are the same in every language
// and come from flows.LanguageNames instead.
func Load() (*Catalog, error) {
	bundle := i18n.NewBundle(language.Czech)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, fmt.Errorf("list locale files: %w", err)
	}
	var names []*i18n.Message
	for _, code := range flows.Languages {
		name, ok := flows.LanguageNames[code]
		if !ok {
			return nil, fmt.Errorf("flows.LanguageNames has no name for %s", code)
		}
		names = append(names, &i18n.Message{ID: "lang." + code, Other: name})
	}
	c := &Catalog{localizers: map[string]*i18n.Localizer{}, fixed: map[fixedText]string{}}
	for _, e := range entries {
		file, err := bundle.LoadMessageFileFS(files, e.Name())
		if err != nil {
			return nil, fmt.Errorf("load locale %s: %w", e.Name(), err)
		}
		if err := bundle.AddMessages(file.Tag, names...); err != nil {
			return nil, fmt.Errorf("load locale %s: language names: %w", e.Name(), err)
		}
		lang := strings.TrimSuffix(e.Name(), ".toml")
		c.localizers[lang] = i18n.NewLocalizer(bundle, lang)
	}
	return c, nil
}

// Text renders the message key in lang. count, when not nil, picks the plural
// form and is available to the template as {{.Count}}.
func (c *Catalog) Text(lang, key string, data map[string]any, count *int) (string, error) {
	if data == nil && count == nil {
		id := fixedText{lang, key}
		c.mu.RLock()
		s, ok := c.fixed[id]
		c.mu.RUnlock()
		if ok {
			return s, nil
		}
		s, err := c.localize(lang, key, nil, nil)
		if err == nil {
			c.mu.Lock()
			c.fixed[id] = s
			c.mu.Unlock()
		}
		return s, err
	}
	return c.localize(lang, key, data, count)
}

func (c *Catalog) localize(lang, key string, data map[string]any, count *int) (string, error) {
	loc, ok := c.localizers[lang]
	if !ok {
		loc = c.localizers[Fallback]
	}
	cfg := &i18n.LocalizeConfig{MessageID: key, TemplateData: data}
	if count != nil {
		td := make(map[string]any, len(data)+1)
		for k, v := range data {
			td[k] = v
		}
		td["Count"] = *count
		cfg.TemplateData = td
		cfg.PluralCount = *count
	}
	s, err := loc.Localize(cfg)
	if err != nil {
		return "", fmt.Errorf("render %q in %s: %w", key, lang, err)
	}
	return s, nil
}

// Render renders a flow message in lang. Values that are messages themselves
// (a category name, "—") are rendered first; coordinates get five decimals.
func (c *Catalog) Render(lang string, m flows.Msg) (string, error) {
	var data map[string]any
	if len(m.Data) > 0 {
		data = make(map[string]any, len(m.Data))
		for k, v := range m.Data {
			switch v := v.(type) {
			case flows.Msg:
				s, err := c.Render(lang, v)
				if err != nil {
					return "", err
				}
				data[k] = s
			case float64:
				data[k] = strconv.FormatFloat(v, 'f', 5, 64)
			default:
				data[k] = v
			}
		}
	}
	return c.Text(lang, m.Key, data, m.Count)
}
