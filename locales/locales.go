// Package locales holds every sentence the bot says, one TOML file per
// language, and renders them with the right plural forms.
package locales

import (
	"embed"
	"fmt"
	"sort"
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
	formats    map[string]*formats
	languages  []string
	// fixed caches texts without data or count (questions, button labels:
	// most of what is rendered). go-i18n matches languages on every call,
	// which costs more than the rest of a step.
	mu    sync.RWMutex
	fixed map[fixedText]string
	keys  map[string]bool // of the fallback language
}

type fixedText struct{ lang, key string }

// keysOf lists every message key of a locale file, flattened with dots.
func keysOf(raw []byte) ([]string, error) {
	var tree map[string]any
	if err := toml.Unmarshal(raw, &tree); err != nil {
		return nil, fmt.Errorf("parse locale: %w", err)
	}
	var keys []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			switch v := v.(type) {
			case map[string]any:
				if isPlural(v) {
					keys = append(keys, prefix+k)
				} else {
					walk(prefix+k+".", v)
				}
			default:
				keys = append(keys, prefix+k)
			}
		}
	}
	walk("", tree)
	sort.Strings(keys)
	return keys, nil
}

func isPlural(m map[string]any) bool {
	_, ok := m["other"]
	return ok
}

// Has reports whether key is a message (every language has the same keys:
// see the tests).
func (c *Catalog) Has(key string) bool { return c.keys[key] }

// Load reads every locale file embedded in the binary.
func Load() (*Catalog, error) {
	bundle := i18n.NewBundle(language.Czech)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, fmt.Errorf("list locale files: %w", err)
	}
	c := &Catalog{localizers: map[string]*i18n.Localizer{}, formats: map[string]*formats{}, fixed: map[fixedText]string{}}
	for _, e := range entries {
		if _, err := bundle.LoadMessageFileFS(files, e.Name()); err != nil {
			return nil, fmt.Errorf("load locale %s: %w", e.Name(), err)
		}
		lang := strings.TrimSuffix(e.Name(), ".toml")
		raw, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, fmt.Errorf("read locale %s: %w", lang, err)
		}
		if c.formats[lang], err = readFormats(lang, raw); err != nil {
			return nil, err
		}
		c.localizers[lang] = i18n.NewLocalizer(bundle, lang)
		if lang == Fallback {
			keys, err := keysOf(raw)
			if err != nil {
				return nil, fmt.Errorf("locale %s: %w", lang, err)
			}
			c.keys = map[string]bool{}
			for _, k := range keys {
				c.keys[k] = true
			}
		}
		c.languages = append(c.languages, lang)
	}
	sort.Strings(c.languages)
	return c, nil
}

// Text renders the message key in lang. count, when not nil, picks the plural
// form and is available to the template as {{.Count}}. Times and numbers in
// data are written in the language's way (see format.go).
func (c *Catalog) Text(lang, key string, data map[string]any, count *int) (string, error) {
	if code, ok := strings.CutPrefix(key, "lang."); ok && c.localizers[code] != nil {
		// A language is called by its own name ("language.self" of its
		// file) in every language, so a new language adds only its file.
		lang, key = code, "language.self"
	}
	if data == nil && count == nil {
		id := fixedText{lang, key}
		c.mu.RLock()
		s, ok := c.fixed[id]
		c.mu.RUnlock()
		if ok {
			return s, nil
		}
		s, err := c.localize(lang, key, nil, nil, nil)
		if err == nil {
			c.mu.Lock()
			c.fixed[id] = s
			c.mu.Unlock()
		}
		return s, err
	}
	f := c.formatsFor(lang)
	td := make(map[string]any, len(data)+1)
	for k, v := range data {
		td[k] = f.value(v)
	}
	return c.localize(lang, key, f, td, count)
}

// formatsFor is how lang writes times and numbers.
func (c *Catalog) formatsFor(lang string) *formats {
	if f, ok := c.formats[lang]; ok {
		return f
	}
	return c.formats[Fallback]
}

// localize renders key with data already written for lang (td: nil, or a map
// of its own that gets the count).
func (c *Catalog) localize(lang, key string, f *formats, td map[string]any, count *int) (string, error) {
	loc, ok := c.localizers[lang]
	if !ok {
		loc = c.localizers[Fallback]
	}
	cfg := &i18n.LocalizeConfig{MessageID: key, TemplateParser: templateParser}
	if td != nil {
		cfg.TemplateData = td
	}
	if count != nil {
		td["Count"] = f.integer(int64(*count))
		cfg.PluralCount = *count
	}
	s, err := loc.Localize(cfg)
	if err != nil {
		return "", fmt.Errorf("render %q in %s: %w", key, lang, err)
	}
	return s, nil
}

// Render renders a flow message in lang. Values that are messages themselves
// (a category name, "—") are rendered first; times and numbers are written
// in the language's way (see format.go).
func (c *Catalog) Render(lang string, m flows.Msg) (string, error) {
	if len(m.Data) == 0 && m.Count == nil {
		return c.Text(lang, m.Key, nil, nil)
	}
	f := c.formatsFor(lang)
	data := make(map[string]any, len(m.Data)+1)
	for k, v := range m.Data {
		switch v := v.(type) {
		case flows.Msg:
			s, err := c.Render(lang, v)
			if err != nil {
				return "", err
			}
			data[k] = s
		case flows.Lines:
			lines := make([]string, len(v))
			for i, m := range v {
				s, err := c.Render(lang, m)
				if err != nil {
					return "", err
				}
				lines[i] = s
			}
			data[k] = strings.Join(lines, "\n")
		default:
			data[k] = f.value(v)
		}
	}
	return c.localize(lang, m.Key, f, data, m.Count)
}
