package main

import (
	"fmt"
	"strings"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// Message keys a student recognises by their text, like a student reading
// the question. Buttons tell the rest (their data names the question).
var (
	// questionKeys are asked with only Back/Skip/Cancel buttons: the text
	// says which question it is. They are the idea's questions that take no
	// choice.
	questionKeys, questionSteps = typedQuestions()
	// doneKeys come with only the "Add another idea" button.
	doneKeys = []string{"submit.thanks", "submit.queued", "submit.already", "done.hint", "idle.hint", "cancel.done", "cancel.nothing"}
	// noteKeys are messages without buttons that the report counts: the bot
	// refusing or failing something.
	noteKeys = []string{
		"error.stale_button", "error.tap_button", "error.text_expected", "error.place_expected", "error.photo_expected",
		"error.live_location", "error.empty", "error.store", "error.edited", "error.too_long",
		"bot.try_again_later", "bot.slow_down", "bot.unsupported", "bot.private_only", "submit.code_later",
		"join.unknown", "join.closed", "start.how_to_join", "submit.failed",
	}
)

type prefixKey struct {
	key    string
	prefix string
}

// classifier recognises the bot's messages by the fixed text before the
// first value filled in.
type classifier struct {
	langs map[string]*langPrefixes
}

type langPrefixes struct {
	questions, done, notes []prefixKey
}

func newClassifier() (*classifier, error) {
	cat, err := locales.Load()
	if err != nil {
		return nil, fmt.Errorf("load the bot's texts: %w", err)
	}
	c := &classifier{langs: map[string]*langPrefixes{}}
	for _, lang := range flows.Languages {
		lp := &langPrefixes{}
		for _, set := range []struct {
			keys []string
			dst  *[]prefixKey
		}{{questionKeys, &lp.questions}, {doneKeys, &lp.done}, {noteKeys, &lp.notes}} {
			for _, key := range set.keys {
				p, err := textPrefix(cat, lang, key)
				if err != nil {
					return nil, err
				}
				*set.dst = append(*set.dst, prefixKey{key: key, prefix: p})
				// In the browser a sentence may be worded its own way.
				if cat.Has(key + "_web") {
					p, err := textPrefix(cat, lang, key+"_web")
					if err != nil {
						return nil, err
					}
					*set.dst = append(*set.dst, prefixKey{key: key, prefix: p})
				}
			}
		}
		// Within a set no prefix may start another: the longest match
		// would still win, but a clash means the texts changed under us.
		for _, set := range [][]prefixKey{lp.questions, lp.done} {
			for i, a := range set {
				for j, b := range set {
					if i != j && a.key != b.key && strings.HasPrefix(a.prefix, b.prefix) {
						return nil, fmt.Errorf("texts %s and %s (%s) cannot be told apart", a.key, b.key, lang)
					}
				}
			}
		}
		c.langs[lang] = lp
	}
	return c, nil
}

// textPrefix is the text of key up to the first value filled in; for a
// message with plural forms, the part all forms share.
func textPrefix(cat *locales.Catalog, lang, key string) (string, error) {
	var texts []string
	if t, err := cat.Text(lang, key, nil, nil); err == nil {
		texts = append(texts, t)
	} else {
		for _, n := range []int{1, 2, 5} {
			count := n
			t, err := cat.Text(lang, key, nil, &count)
			if err != nil {
				return "", fmt.Errorf("text %s in %s: %w", key, lang, err)
			}
			texts = append(texts, t)
		}
	}
	var common string
	for i, t := range texts {
		t, _, _ = strings.Cut(t, "<no value>")
		t = strings.TrimSpace(t)
		if i == 0 {
			common = t
			continue
		}
		k := 0
		for k < len(common) && k < len(t) && common[k] == t[k] {
			k++
		}
		common = common[:k]
	}
	if common == "" {
		return "", fmt.Errorf("text %s in %s starts with a value: cannot recognise it", key, lang)
	}
	return common, nil
}

// match returns the key whose prefix text starts with (the longest), or "".
func match(set []prefixKey, text string) string { return longest(set, text, strings.HasPrefix) }

// within returns the key whose prefix text contains (the longest), or "":
// a question may come after what the student answered, when the bot edits
// the answered question into the next one.
func within(set []prefixKey, text string) string { return longest(set, text, strings.Contains) }

// longest is the key of the longest prefix for which has(text, prefix).
func longest(set []prefixKey, text string, has func(text, prefix string) bool) string {
	best, n := "", 0
	for _, pk := range set {
		if len(pk.prefix) > n && has(text, pk.prefix) {
			best, n = pk.key, len(pk.prefix)
		}
	}
	return best
}

// lookup tries the student's language first, then the others, with find.
func (c *classifier) lookup(lang, text string, set func(*langPrefixes) []prefixKey, find func([]prefixKey, string) string) string {
	if lp := c.langs[lang]; lp != nil {
		if k := find(set(lp), text); k != "" {
			return k
		}
	}
	for l, lp := range c.langs {
		if l == lang {
			continue
		}
		if k := find(set(lp), text); k != "" {
			return k
		}
	}
	return ""
}

// asked is the key of a message with buttons: the text it starts with, or
// else the text it contains.
func (c *classifier) asked(lang, text string, set func(*langPrefixes) []prefixKey) string {
	if k := c.lookup(lang, text, set, match); k != "" {
		return k
	}
	return c.lookup(lang, text, set, within)
}

func (c *classifier) question(lang, text string) string {
	return c.asked(lang, text, func(lp *langPrefixes) []prefixKey { return lp.questions })
}

func (c *classifier) done(lang, text string) string {
	return c.asked(lang, text, func(lp *langPrefixes) []prefixKey { return lp.done })
}

// note is the key of a message without buttons, by the text it starts with.
func (c *classifier) note(lang, text string) string {
	return c.lookup(lang, text, func(lp *langPrefixes) []prefixKey { return lp.notes }, match)
}

// typedQuestions are the keys of the idea's questions a student answers by
// writing, pinning or sending a photo, and the question behind each key.
func typedQuestions() ([]string, map[string]flows.Step) {
	var keys []string
	steps := map[string]flows.Step{}
	for _, step := range flows.IdeaSteps {
		if step.Answer.Kind == flows.ChoiceAnswer {
			continue
		}
		keys = append(keys, step.Question)
		steps[step.Question] = step
		if step.ByScope { // put in words for the chosen scope
			for _, scope := range flows.Scopes {
				keys = append(keys, step.Question+"_"+scope)
				steps[step.Question+"_"+scope] = step
			}
		}
	}
	return keys, steps
}

// choiceSteps are the steps of the idea's choice questions, as their
// buttons' data names them, and of the language picker.
var choiceSteps = func() []string {
	steps := []string{"pl"}
	for _, step := range flows.IdeaSteps {
		if step.Answer.Kind == flows.ChoiceAnswer {
			steps = append(steps, string(step.ID))
		}
	}
	return steps
}()
