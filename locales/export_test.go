package locales

import (
	"fmt"
	"sort"

	"github.com/BurntSushi/toml"
)

// Keys lists every message key of one language's file, flattened with dots.
func Keys(lang string) ([]string, error) {
	raw, err := files.ReadFile(lang + ".toml")
	if err != nil {
		return nil, fmt.Errorf("read locale %s: %w", lang, err)
	}
	var tree map[string]any
	if err := toml.Unmarshal(raw, &tree); err != nil {
		return nil, fmt.Errorf("parse locale %s: %w", lang, err)
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
