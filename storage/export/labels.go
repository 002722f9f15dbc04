package export

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// DefaultLanguage is the language of an export made without WithLanguage.
const DefaultLanguage = locales.Fallback

// labels are an export's words in one language (locales/*.toml, [sheet]):
// the headers, the words for codes and the sheets' names.
type labels struct {
	lang  string
	cols  map[string]string            // header by column key
	words map[string]map[string]string // by column key: code → word
	// The sheets' names, and the summary's words.
	ideasSheet, summarySheet string
	count, total, chart      string
}

// header is column c's title.
func (l *labels) header(c *column) string {
	if h, ok := l.cols[c.key]; ok {
		return h
	}
	return c.key // a question of flows.MoreQuestions, headed by its id
}

// word is code's word in a coded column; a code without one (something
// newer than the locale files) stays as it is.
func (l *labels) word(key, code string) string {
	if w, ok := l.words[key][code]; ok {
		return w
	}
	return code
}

// statuses are the status words in the order of flows.Statuses.
func (l *labels) statuses() []string {
	out := make([]string, len(flows.Statuses))
	for i, s := range flows.Statuses {
		out[i] = l.word(colStatus, s)
	}
	return out
}

// allLabels are the labels of every language, read once from the locale
// files embedded in the binary.
var allLabels = sync.OnceValues(func() (map[string]*labels, error) {
	cat, err := locales.Load()
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	out := map[string]*labels{}
	for _, lang := range flows.Languages {
		if out[lang], err = loadLabels(cat, lang); err != nil {
			return nil, fmt.Errorf("export: labels in %s: %w", lang, err)
		}
	}
	return out, nil
})

func loadLabels(cat *locales.Catalog, lang string) (*labels, error) {
	var err error
	text := func(key string) string {
		s, e := cat.Text(lang, key, nil, nil)
		if e != nil && err == nil {
			err = e
		}
		return s
	}
	l := &labels{lang: lang, cols: map[string]string{}, words: map[string]map[string]string{}}
	for _, c := range columns {
		if !slices.ContainsFunc(flows.MoreQuestions(), func(q flows.Step) bool { return string(q.ID) == c.key }) {
			l.cols[c.key] = text("sheet.col." + c.key)
		} else if h, err := cat.Text(lang, "sheet.col."+c.key, nil, nil); err == nil {
			l.cols[c.key] = h // a further question with a header of its own
		}
	}
	codes := func(key, prefix string, list []string) {
		l.words[key] = map[string]string{}
		for _, code := range list {
			l.words[key][code] = text(prefix + code)
		}
	}
	codes(colStatus, "staffstatus.", flows.Statuses) // the same words as in the chat
	codes(colCategory, "sheet.cat.", flows.Categories)
	codes(colScope, "sheet.scope.", flows.Scopes)
	codes("hidden", "sheet.hide.", flows.HideReasons)
	codes("language", "sheet.lang.", flows.Languages)
	codes(colChannel, "sheet.channel.", flows.Channels)
	codes("photo", "sheet.", []string{"yes", "no"})
	codes("wants_to_help", "sheet.", []string{"yes", "maybe", "no"})
	l.ideasSheet, l.summarySheet = text("sheet.name.ideas"), text("sheet.name.summary")
	l.count, l.total, l.chart = text("sheet.summary.count"), text("sheet.summary.total"), text("sheet.summary.chart")
	return l, err
}

// labelsFor are lang's labels; a language without a locale file is an error.
func labelsFor(lang string) (*labels, error) {
	all, err := allLabels()
	if err != nil {
		return nil, err
	}
	l, ok := all[lang]
	if !ok {
		return nil, fmt.Errorf("export: no language %q (want %s)", lang, strings.Join(flows.Languages, ", "))
	}
	return l, nil
}

// IdeasSheetName is the name of the XLSX export's sheet of ideas in lang
// ("" for a language without a locale file).
func IdeasSheetName(lang string) string {
	if l, err := labelsFor(lang); err == nil {
		return l.ideasSheet
	}
	return ""
}

// SummarySheetName is the name of the XLSX export's first sheet, the
// counts, in lang.
func SummarySheetName(lang string) string {
	if l, err := labelsFor(lang); err == nil {
		return l.summarySheet
	}
	return ""
}

// IsLanguage reports whether exports can be written in lang.
func IsLanguage(lang string) bool {
	_, err := labelsFor(lang)
	return err == nil
}
