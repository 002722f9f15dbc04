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
	"time"

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
		keys["summary."+string(id)] = true
	}
	for _, l := range flows.Languages {
		keys["lang."+l] = true
	}
	for _, c := range flows.Commands {
		keys["command."+c.Name] = true
		if c.InMenu {
			keys["commandhelp."+c.Name] = true
		}
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
	for _, dir := range []string{"../flows", "../bot", "../bot/telegram", "../bot/web", "../cmd/napad"} {
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

// Every locale file says how its language writes dates, times and numbers.
func TestEveryLanguageDefinesTheFormats(t *testing.T) {
	for _, lang := range flows.Languages {
		keys, err := locales.Keys(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range locales.FormatKeys() {
			if !slices.Contains(keys, k) {
				t.Errorf("%s.toml lacks %s", lang, k)
			}
		}
	}
}

// The messages that show times and numbers write them in the reader's
// language, as flows hands them over: times already in the city's zone.
func TestMessagesWriteTimesAndNumbersInTheirLanguage(t *testing.T) {
	c := load(t)
	prague, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	sent := time.Date(2027, 1, 1, 0, 10, 0, 0, prague) // 31 December in UTC
	lastDay := time.Date(2026, 12, 15, 23, 59, 59, 0, prague)
	lat, lon := 50.0281, 15.2003
	want := map[string][]string{
		"cs": {"1. 1. 2027", "1. 1. 2027 00:10", "15. 12. 2026", "Připojili se: 12\u00a0345", "(50.02810, 15.20030)", "o 2000 znaků delší, než se sem vejde – limit je 2500."},
		"en": {"1 Jan 2027", "1 Jan 2027, 00:10", "15 Dec 2026", "Joined: 12,345", "(50.02810, 15.20030)", "2,000 characters too long – the limit is 2,500."},
		"nb": {"1.1.2027", "1.1.2027 kl. 00:10", "15.12.2026", "Har blitt med: 12\u00a0345", "(50.02810, 15.20030)", "2000 tegn for langt – grensen er 2500."},
		"uk": {"01.01.2027", "01.01.2027, 00:10", "15.12.2026", "Долучилися: 12\u00a0345", "(50.02810, 15.20030)", "на 2000 символів — ліміт 2500."},
	}
	for _, lang := range flows.Languages {
		w, ok := want[lang]
		if !ok {
			t.Errorf("no case for %s", lang)
			continue
		}
		render := func(m flows.Msg) string {
			t.Helper()
			s, err := c.Render(lang, m)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		has := func(what, text, part string) {
			t.Helper()
			if !strings.Contains(text, part) {
				t.Errorf("%s %s: %q lacks %q", lang, what, text, part)
			}
		}
		item := render(flows.Msg{Key: "myideas.item", Data: map[string]any{
			"Ref": "N-AAAA", "Title": "Lavičky", "Forum": "8.B", "Status": flows.Msg{Key: "status.new"}, "Answer": "", "Date": sent,
		}})
		has("my idea", item, "8.B, "+w[0]+"\n")
		card := render(flows.Msg{Key: "staffreview.card", Data: map[string]any{
			"Ref": "N-AAAA", "Forum": "8.B", "Date": sent, "Flag": "", "Title": "Lavičky", "Scope": flows.Msg{Key: "scope.school"},
			"WorksWell": "", "Improve": "", "Description": "", "Category": flows.Msg{Key: "cat.school"},
			"Place": flows.Msg{Key: "review.pin", Data: map[string]any{"Lat": lat, "Lon": lon}},
		}})
		has("staff card", card, "8.B · "+w[1]+"\n")
		has("staff card", card, w[4])
		forum := render(flows.Msg{Key: "forum.card", Data: map[string]any{
			"Forum": "8.B", "Status": flows.Msg{Key: "forum.status_open"}, "Joined": 12345, "InProgress": 0, "Submitted": 0,
			"Last": flows.Msg{Key: "forum.last_today"}, "Closes": lastDay, "Link": "https://t.me/x",
		}})
		has("forum card", forum, w[2]+"\n")
		has("forum card", forum, w[3]+"\n")
		noDate := render(flows.Msg{Key: "forum.card", Data: map[string]any{"Closes": flows.Msg{Key: "forum.no_closing_date"}}})
		has("forum card without a closing date", noDate, render(flows.Msg{Key: "forum.no_closing_date"}))
		over := 2000
		long, err := c.Text(lang, "error.too_long", map[string]any{"Max": 2500}, &over)
		if err != nil {
			t.Fatal(err)
		}
		has("count", long, w[5])
	}
}

// A language is called by its own name, whatever language the message is in.
func TestLanguagesAreCalledByTheirOwnName(t *testing.T) {
	c, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range flows.Languages {
		own, err := c.Text(code, "language.self", nil, nil)
		if err != nil || own == "" {
			t.Fatalf("%s has no language.self: %v", code, err)
		}
		for _, in := range flows.Languages {
			if got, err := c.Render(in, flows.Msg{Key: "lang." + code}); err != nil || got != own {
				t.Errorf("lang.%s in %s = %q (%v), want %q", code, in, got, err, own)
			}
		}
	}
}
