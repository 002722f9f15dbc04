package locales

import (
	"bufio"
	"bytes"
	"embed"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

//go:embed profanity/*.txt
var profanityFiles embed.FS

// profanity holds every language's list: an idea may be written in any of
// them, whatever the student chose for the conversation.
var profanity struct {
	once  sync.Once
	words map[string]bool
	stems []string
}

func loadProfanity() {
	profanity.words = map[string]bool{}
	entries, _ := profanityFiles.ReadDir("profanity")
	for _, e := range entries {
		data, _ := profanityFiles.ReadFile("profanity/" + e.Name())
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := norm.NFC.String(strings.ToLower(strings.TrimSpace(sc.Text())))
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasSuffix(line, "*"):
				profanity.stems = append(profanity.stems, strings.TrimSuffix(line, "*"))
			default:
				profanity.words[line] = true
			}
		}
	}
}

// MayBeProfane reports whether any of the texts contains a word from the
// possible-profanity lists (locales/profanity): whole words, or words that
// start with a listed stem. It only puts an idea first in the review queue;
// nothing is rejected because of it.
func MayBeProfane(texts ...string) bool {
	profanity.once.Do(loadProfanity)
	for _, t := range texts {
		words := strings.FieldsFunc(norm.NFC.String(strings.ToLower(t)), func(r rune) bool {
			return !unicode.IsLetter(r) && r != '\'' && r != '’'
		})
		for _, w := range words {
			if profanity.words[w] {
				return true
			}
			for _, stem := range profanity.stems {
				if strings.HasPrefix(w, stem) {
					return true
				}
			}
		}
	}
	return false
}
