package locales

// What only the tests need: the keys of a locale file, for comparing the
// files, and the languages that have one.

import "fmt"

// Keys lists every message key of one language's file, flattened with dots.
func Keys(lang string) ([]string, error) {
	raw, err := files.ReadFile(lang + ".toml")
	if err != nil {
		return nil, fmt.Errorf("read locale %s: %w", lang, err)
	}
	return keysOf(raw)
}

// FormatKeys lists the keys of the [format] table, as message keys.
func FormatKeys() []string {
	keys := make([]string, len(formatKeys))
	for i, k := range formatKeys {
		keys[i] = "format." + k
	}
	return keys
}

// Languages lists the languages that have a locale file.
func (c *Catalog) Languages() []string { return c.languages }
