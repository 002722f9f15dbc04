package export_test

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
)

// What the map page holds, read as text (the browser test runs it).

// hostile is a comment a student could write to break out of the page's
// JSON block and run a script.
const hostile = `</script><img src=x onerror=alert(1)>`

func writeMapPage(t *testing.T, title string, pins []export.PinRow, opts ...export.Option) string {
	t.Helper()
	var buf bytes.Buffer
	if err := export.WriteMapPage(&buf, title, pins, opts...); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestMapPageKeepsStudentsTextData(t *testing.T) {
	pins := samplePins()
	pins[0].Comment = hostile
	pins[3].PlaceText = `<b onmouseover=alert(1)>park</b>`
	page := writeMapPage(t, "Praha", pins, export.WithHidden(true))
	for _, bad := range []string{hostile, "<img", "<b onmouseover", "HIDDEN-PIN-COMMENT"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	// In the JSON block, < and > are escapes.
	if !strings.Contains(page, `\u003c/script\u003e\u003cimg src=x onerror=alert(1)\u003e`) {
		t.Error("the hostile comment is not in the JSON block, escaped")
	}
	// In the table of typed places, escaped HTML.
	if !strings.Contains(page, "<td>&lt;b onmouseover=alert(1)&gt;park&lt;/b&gt;</td>") {
		t.Error("the typed place is not in the table, escaped")
	}
	// Exactly the page's own scripts, each allowed by its hash.
	if n := strings.Count(page, "<script"); n != 4 {
		t.Errorf("%d script elements, want the data and 3 scripts", n)
	}
	if !strings.Contains(page, `http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-`) {
		t.Error("no content security policy")
	}
	for _, notice := range []string{"Leaflet 1.9.4", "(c) 2010-2023 Vladimir Agafonkin", "BSD 2-Clause License", "Copyright (c) 2014, Vladimir Agafonkin", "simpleheat"} {
		if !strings.Contains(page, notice) {
			t.Errorf("the licence notice %q is missing", notice)
		}
	}
	if strings.Contains(page, "sourceMappingURL") {
		t.Error("the page points to a source map it does not have")
	}
}

func TestMapPageInItsLanguage(t *testing.T) {
	page := writeMapPage(t, "Galway", samplePins(), export.WithLanguage("en"))
	for _, want := range []string{
		`<html lang="en">`, "<title>Feelings map – Galway</title>", "<h1>Feelings map – Galway</h1>",
		">Feelings</h2>", `<option value="">All forums</option>`, "Heat view", "Places typed in words",
		"<th>Place</th><th>Feeling</th><th>Comment</th>", "OpenStreetMap contributors",
		`<span class="words">😊 I like it here</span><span class="count">1</span>`,
		`<span class="words">🌳 Too little green</span><span class="count">1</span>`,
		`<option value="UR4B7C2D">Ungdomsrådet</option>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the English page lacks %q", want)
		}
	}
	// Every language has every word: no key shows instead of one.
	keyLike := regexp.MustCompile(`\b(mappage|pincol|feeling|sheet|age)\.[a-z_]+\b`)
	for _, lang := range flows.Languages {
		page := writeMapPage(t, "", samplePins(), export.WithLanguage(lang))
		body := page[strings.Index(page, "<body>"):]
		body = body[:strings.Index(body, "<script")]
		if k := keyLike.FindString(body); k != "" {
			t.Errorf("%s: the page shows the key %q", lang, k)
		}
		if !strings.Contains(page, `<html lang="`+lang+`">`) {
			t.Errorf("%s: no lang attribute", lang)
		}
	}
	var buf bytes.Buffer
	if err := export.WriteMapPage(&buf, "", nil, export.WithLanguage("xx")); err == nil {
		t.Error("a language without a locale file was accepted")
	}
}

func TestMapPageWithoutPins(t *testing.T) {
	page := writeMapPage(t, "Kolín", nil)
	if !strings.Contains(page, `<p id="no-pins">Zatím tu nejsou žádné špendlíky.</p>`) {
		t.Error(`no visible "no pins yet"`)
	}
	if strings.Contains(page, `id="typed"`) {
		t.Error("a table of typed places without any")
	}
	// The standard feelings are in the legend all the same, with 0.
	if n := strings.Count(page, `<span class="count">0</span>`); n != 4 {
		t.Errorf("%d feelings counted 0, want the 4 standard ones", n)
	}
	if !strings.Contains(page, `"pins":[]`) {
		t.Error("the script gets no empty list of pins")
	}
	// A title is text.
	page = writeMapPage(t, `<i>Kolín</i>`, nil)
	if !strings.Contains(page, "<title>Pocitová mapa – "+html.EscapeString("<i>Kolín</i>")+"</title>") {
		t.Error("the title is not escaped")
	}
}
