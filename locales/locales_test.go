package locales_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

func load(t *testing.T) *locales.Catalog {
	t.Helper()
	c, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEveryLanguageHasAFile(t *testing.T) {
	files, err := filepath.Glob("*.toml") // what Load embeds
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, strings.TrimSuffix(f, ".toml"))
	}
	want := slices.Clone(flows.Languages)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("locale files %v, flow languages %v", got, want)
	}
}

// Every language has exactly the keys of every other.
func TestNoKeyMissingInAnyLanguage(t *testing.T) {
	reference, err := locales.Keys("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range flows.Languages {
		keys, err := locales.Keys(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range reference {
			if !slices.Contains(keys, k) {
				t.Errorf("%s.toml lacks %q", lang, k)
			}
		}
		for _, k := range keys {
			if !slices.Contains(reference, k) {
				t.Errorf("%s.toml has %q, which en.toml does not", lang, k)
			}
		}
	}
}

// Every key the code can ask for renders in every language.
func TestEveryKeyTheCodeUsesExists(t *testing.T) {
	c := load(t)
	used := keysUsedByCode(t)
	if len(used) < 40 {
		t.Fatalf("found only %d keys in the code; the scan is broken", len(used))
	}
	for _, lang := range flows.Languages {
		for _, key := range used {
			one := 1
			if _, err := c.Text(lang, key, map[string]any{}, &one); err != nil {
				if _, err2 := c.Text(lang, key, map[string]any{}, nil); err2 != nil {
					t.Errorf("%s: %v", lang, err2)
				}
			}
		}
	}
}

// keysUsedByCode lists the keys built from the flow's data, plus every string
// literal in the non-test Go code that starts with a table of en.toml.
func keysUsedByCode(t *testing.T) []string {
	keys := map[string]bool{}
	for _, s := range flows.IdeaSteps {
		keys[s.Question] = true
		for _, c := range s.Answer.Choices {
			keys[string(s.ID)+"."+c] = true
		}
	}
	for _, id := range flows.Editable {
		keys["edit."+string(id)] = true
	}
	for _, l := range flows.Languages {
		keys["lang."+l] = true
	}
	for _, c := range []string{flows.CommandStart, flows.CommandNew, flows.CommandCancel, flows.CommandLanguage, flows.CommandHelp} {
		keys["command."+c] = true
	}

	all, err := locales.Keys("en")
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{}
	for _, k := range all {
		tables[strings.SplitN(k, ".", 2)[0]] = true
	}
	keyLike := regexp.MustCompile(`^[a-z]+(\.[a-z_]+)+$`)
	for _, dir := range []string{"../flows", "../bot", "../cmd/napad"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err == nil && keyLike.MatchString(s) && tables[strings.SplitN(s, ".", 2)[0]] {
					keys[s] = true
				}
				return true
			})
		}
	}
	var out []string
	for k := range keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestPluralForms(t *testing.T) {
	c := load(t)
	cases := []struct {
		lang  string
		count int
		want  string
	}{
		{"cs", 1, "o 1 znak "}, {"cs", 2, "o 2 znaky "}, {"cs", 4, "o 4 znaky "}, {"cs", 5, "o 5 znaků "},
		{"cs", 22, "o 22 znaků "}, {"cs", 0, "o 0 znaků "},
		{"uk", 1, "на 1 символ "}, {"uk", 2, "на 2 символи "}, {"uk", 5, "на 5 символів "},
		{"uk", 11, "на 11 символів "}, {"uk", 21, "на 21 символ "}, {"uk", 22, "на 22 символи "}, {"uk", 14, "на 14 символів "},
		{"en", 1, "1 character too long"}, {"en", 3, "3 characters too long"},
		{"nb", 1, "1 tegn"}, {"nb", 7, "7 tegn"},
	}
	for _, tc := range cases {
		got, err := c.Text(tc.lang, "error.too_long", map[string]any{"Max": 100}, &tc.count)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s %d: %q does not contain %q", tc.lang, tc.count, got, tc.want)
		}
	}
	ideas := []struct {
		lang  string
		count int
		want  string
	}{
		{"cs", 2, "už 2 nápady"}, {"cs", 5, "už 5 nápadů"}, {"uk", 3, "вже 3 ідеї"}, {"uk", 5, "вже 5 ідей"}, {"uk", 21, "вже 21 ідея"},
	}
	for _, tc := range ideas {
		got, err := c.Text(tc.lang, "submit.thanks", map[string]any{"Ref": "N-AAAA"}, &tc.count)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s %d: %q does not contain %q", tc.lang, tc.count, got, tc.want)
		}
	}
}

func TestRenderNestedMessages(t *testing.T) {
	c := load(t)
	got, err := c.Render("cs", flows.Msg{Key: "done.hint", Data: map[string]any{"Ref": flows.Msg{Key: "review.none"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "—") || strings.Contains(got, "review.none") {
		t.Errorf("nested message not rendered: %q", got)
	}
	if _, err := c.Text("cs", "no.such_key", nil, nil); err == nil {
		t.Error("a missing key rendered without error")
	}
}

func TestMayBeProfane(t *testing.T) {
	flagged := []string{
		"This is shit", "SHITTY idea", "ty kurvo", "Kurvy všude", "je to na hovno", "Debilní škola",
		"faen i helvete", "хуйня якась", "Пиздець", "сука", "you bitches", "Zmrde!",
	}
	for _, s := range flagged {
		if !locales.MayBeProfane(s) {
			t.Errorf("%q not flagged", s)
		}
	}
	clean := []string{
		"Lavičky na dvoře", "Scunthorpe", "Dickens in the library", "Hoveniers", "сукня для вистави",
		"class assessment", "mrkev", "kukkerbusk", "kokosový dort", "", "🌳🌳",
	}
	for _, s := range clean {
		if locales.MayBeProfane(s) {
			t.Errorf("%q flagged", s)
		}
	}
	if !locales.MayBeProfane("fine title", "but a shit description") {
		t.Error("only the first text was checked")
	}
}

func TestFixedTextsAreCachedPerLanguage(t *testing.T) {
	c, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second round comes from the cache
		cs, err1 := c.Text("cs", "button.skip", nil, nil)
		en, err2 := c.Text("en", "button.skip", nil, nil)
		if err1 != nil || err2 != nil || cs == en || cs == "" || en == "" {
			t.Fatalf("cs %q (%v), en %q (%v)", cs, err1, en, err2)
		}
	}
	if _, err := c.Text("cs", "no.such.key", nil, nil); err == nil {
		t.Fatal("a missing key rendered")
	}
	if _, err := c.Text("cs", "no.such.key", nil, nil); err == nil {
		t.Fatal("a missing key rendered the second time")
	}
}
