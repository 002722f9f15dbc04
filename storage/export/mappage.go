package export

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/healthycities/napad/flows"
)

// The map page is one HTML file that staff open in a browser: Leaflet and
// its heat plugin (vendored in assets/, see assets/README.md), the page's
// own script and style, and the pins as JSON, all inline. It needs no
// server and no network: online, OpenStreetMap's tiles show the town under
// the pins; offline, the pins, legend and filters work on a plain background.

//go:embed assets/leaflet.js assets/leaflet.css assets/leaflet-heat.js
//go:embed assets/LICENSE.leaflet assets/LICENSE.leaflet-heat
//go:embed assets/mappage.html assets/mappage.js assets/mappage.css
var assets embed.FS

// pinStyle is how the pins of a feeling look: a fill colour, and a dash
// pattern of the outline, so that two colours some eyes cannot tell apart
// still differ. The colours are after Okabe and Ito's palette for colour
// vision deficiencies.
type pinStyle struct {
	Color string
	Dash  string // SVG stroke-dasharray; "" for a solid outline
}

// pinStyles are the feelings' styles; a code not here (something newer
// than this file) is grey.
var pinStyles = map[string]pinStyle{
	"like":     {"#009e73", ""},    // bluish green
	"unsafe":   {"#d55e00", "2 2"}, // vermillion
	"change":   {"#e69f00", "5 3"}, // orange
	"freetime": {"#0072b2", ""},    // blue
	"own1":     {"#8e44ad", "1 3"}, // purple
	"own2":     {"#2a9d8f", "5 3"}, // teal
	"own3":     {"#8c510a", "2 2"}, // brown
}

var otherPinStyle = pinStyle{"#777777", "1 3"}

// mapGroup is a line of the legend: a feeling, or one of a forum's own
// feelings in its teacher's words (two forums' "own1" are different
// feelings, and one own feeling in two forums' words is one line).
type mapGroup struct {
	Index   int    `json:"-"`
	Feeling string `json:"feeling"` // the code, safe in a class name
	Words   string `json:"words"`
	Color   string `json:"color"`
	Dash    string `json:"dash,omitempty"`
	Count   int    `json:"-"`
}

// mapPin is a pin as the page's script reads it.
type mapPin struct {
	ID        int64    `json:"id"`
	Group     int      `json:"g"`
	Lat       *float64 `json:"lat,omitempty"`
	Lon       *float64 `json:"lon,omitempty"`
	Forum     string   `json:"forum"` // the forum's key, as in the forum select
	ForumName string   `json:"forumName"`
	Comment   string   `json:"comment,omitempty"`
	Date      string   `json:"date"`
	Age       string   `json:"age,omitempty"`
}

type mapForum struct{ Key, Name string }

// typedPlace is a row of the table of places typed in words.
type typedPlace struct {
	Feeling, Forum, Place, Words, Comment string
	Group                                 int
}

// mapPage is what the page's template fills in.
type mapPage struct {
	Lang, Title, CSP string
	Words            mapWords
	Total            int
	Groups           []mapGroup
	Forums           []mapForum
	Typed            []typedPlace
	Data             template.JS
	// Licences are Leaflet's and Leaflet.heat's, which their BSD licences
	// ask to go with every copy: an HTML comment.
	Licences template.HTML

	LeafletCSS, PageCSS       template.CSS
	LeafletJS, HeatJS, PageJS template.JS
}

// mapWords are the page's words in its language.
type mapWords struct {
	Pins, Legend, LegendHint, Forum, AllForums, Heat, Typed, NoPins, Offline string
	Place, Feeling, Comment                                                  string
}

// mapData is the JSON block the page's script reads.
type mapData struct {
	Groups []mapGroup        `json:"groups"`
	Pins   []mapPin          `json:"pins"`
	Words  map[string]string `json:"words"`
}

// WriteMapPage writes the map page of pins, titled "<the page's name in
// the WithLanguage language> – title": each pin on the map as a dot in its
// feeling's colour, with a popup (feeling, comment, forum, date, age group);
// a legend of the feelings with their counts and a tick box each to show
// or hide them; a select of the forums; a heat view; and under the map the
// places students typed in words. Hidden pins are never on the page,
// whatever WithHidden says. Students' text is data, never markup: it is in
// a JSON block the script reads and writes as text, or escaped HTML.
func WriteMapPage(w io.Writer, title string, pins []PinRow, opts ...Option) error {
	o := buildOptions(opts)
	l, err := pinLabelsFor(o.lang)
	if err != nil {
		return fmt.Errorf("export map page: %w", err)
	}
	a, err := pageAssets()
	if err != nil {
		return fmt.Errorf("export map page: %w", err)
	}
	page := a.page
	page.Lang = l.lang
	page.Title = l.text("mappage.title")
	if title = strings.TrimSpace(title); title != "" {
		page.Title += " – " + title
	}
	col := func(key string) string { return l.header(columnByKey(key)) }
	page.Words = mapWords{
		Pins: l.text("mappage.pins"), Legend: l.text("mappage.legend"), LegendHint: l.text("mappage.legend_hint"),
		Forum: l.text("mappage.forum"), AllForums: l.text("mappage.all_forums"), Heat: l.text("mappage.heat"),
		Typed: l.text("mappage.typed"), NoPins: l.text("mappage.no_pins"), Offline: l.text("mappage.offline"),
		Place: col("place"), Feeling: l.text("pincol.feeling"), Comment: l.text("pincol.comment"),
	}
	data := mapData{Words: map[string]string{
		"forum": col(colForum), "date": col("date"), "age": col(colAge),
		"attribution": l.text("mappage.attribution"),
	}}
	dateLayout := l.text("format.date")
	if o.withTime {
		dateLayout = l.text("format.datetime")
	}

	for _, code := range flows.Feelings {
		addGroup(&data.Groups, &PinRow{Feeling: code}, l) // the standard feelings always have a line
	}
	forums := map[string]string{}
	for _, p := range visiblePins(pins, false) {
		g := addGroup(&data.Groups, p, l)
		data.Groups[g].Count++
		key := cmp.Or(p.ForumCode, p.Forum)
		forums[key] = p.Forum
		mp := mapPin{
			ID: p.ID, Group: g, Forum: key, ForumName: p.Forum, Comment: p.Comment,
			Age: l.age(p.AgeBand),
		}
		if !p.Date.IsZero() {
			mp.Date = p.Date.In(o.loc).Format(dateLayout)
		}
		if lat, lon, ok := pinPosition(p); ok {
			mp.Lat, mp.Lon = &lat, &lon
		} else {
			page.Typed = append(page.Typed, typedPlace{
				Feeling: data.Groups[g].Feeling, Group: g, Forum: key,
				Place: p.PlaceText, Words: data.Groups[g].Words, Comment: p.Comment,
			})
		}
		data.Pins = append(data.Pins, mp)
		page.Total++
	}
	for key, name := range forums {
		page.Forums = append(page.Forums, mapForum{Key: key, Name: name})
	}
	slices.SortFunc(page.Forums, func(a, b mapForum) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), strings.Compare(a.Key, b.Key))
	})
	page.Groups = data.Groups
	if data.Pins == nil {
		data.Pins = []mapPin{}
	}
	// json.Marshal writes <, > and & as \u003c, \u003e and \u0026: no
	// comment can end the <script> block or start a comment in it.
	js, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("export map page: %w", err)
	}
	page.Data = template.JS(js)
	if err := a.tmpl.Execute(w, &page); err != nil {
		return fmt.Errorf("export map page: %w", err)
	}
	return nil
}

// addGroup is the index of p's line in the legend, added when new.
func addGroup(groups *[]mapGroup, p *PinRow, l *pinLabels) int {
	words := l.feeling(p)
	i := slices.IndexFunc(*groups, func(g mapGroup) bool { return g.Feeling == classSafe(p.Feeling) && g.Words == words })
	if i >= 0 {
		return i
	}
	style, ok := pinStyles[p.Feeling]
	if !ok {
		style = otherPinStyle
	}
	*groups = append(*groups, mapGroup{Index: len(*groups), Feeling: classSafe(p.Feeling), Words: words, Color: style.Color, Dash: style.Dash})
	return len(*groups) - 1
}

var notClassSafe = regexp.MustCompile(`[^a-z0-9_-]`)

// classSafe is a feeling's code as it can be part of a class name.
func classSafe(code string) string {
	if s := notClassSafe.ReplaceAllString(strings.ToLower(code), "_"); s != "" {
		return s
	}
	return "other"
}

// pageAssets are the page's template and the parts every page shares,
// read once.
var pageAssets = sync.OnceValues(loadPageAssets)

func loadPageAssets() (*mapAssets, error) {
	files := map[string]string{}
	for _, name := range []string{
		"mappage.html", "mappage.css", "mappage.js", "leaflet.css", "leaflet.js", "leaflet-heat.js",
		"LICENSE.leaflet", "LICENSE.leaflet-heat",
	} {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			return nil, err
		}
		s := string(b)
		if strings.HasSuffix(name, ".js") {
			// The source map is not in the page: a browser's developer
			// tools would look for it next to the file.
			s = sourceMapComment.ReplaceAllString(s, "")
		}
		if name != "mappage.html" {
			if err := inlineSafe(name, s); err != nil {
				return nil, err
			}
		}
		files[name] = s
	}
	tmpl, err := template.New("mappage").Parse(files["mappage.html"])
	if err != nil {
		return nil, err
	}
	licences := fmt.Sprintf("<!--\nLeaflet's licence (LICENSE.leaflet):\n\n%s-->\n"+
		"<!--\nThe licence of Leaflet.heat and simpleheat (LICENSE.leaflet-heat):\n\n%s-->\n",
		files["LICENSE.leaflet"], files["LICENSE.leaflet-heat"])
	leafletJS, heatJS, pageJS := files["leaflet.js"], files["leaflet-heat.js"], files["mappage.js"]
	return &mapAssets{tmpl: tmpl, page: mapPage{
		Licences:   template.HTML(licences),
		LeafletCSS: template.CSS(files["leaflet.css"]), PageCSS: template.CSS(files["mappage.css"]),
		LeafletJS: template.JS(leafletJS), HeatJS: template.JS(heatJS), PageJS: template.JS(pageJS),
		CSP: contentSecurityPolicy(leafletJS, heatJS, pageJS),
	}}, nil
}

type mapAssets struct {
	tmpl *template.Template
	page mapPage // the parts every page shares
}

var sourceMapComment = regexp.MustCompile(`(?m)^//# sourceMappingURL=.*$`)

// inlineSafe checks that a file can go inside a <script> or <style>
// element, or an HTML comment, as it is: nothing in it may end the element
// or change how the browser reads it.
func inlineSafe(name, s string) error {
	low := strings.ToLower(s)
	for _, bad := range []string{"</script", "</style", "<!--", "-->", "<script"} {
		if strings.Contains(low, bad) {
			return fmt.Errorf("assets/%s holds %q and cannot be inlined", name, bad)
		}
	}
	return nil
}

// contentSecurityPolicy lets the page run only its own scripts (by their
// hashes: no injected script or event handler would run), load images only
// from OpenStreetMap's tile server, and send nothing anywhere.
func contentSecurityPolicy(scripts ...string) string {
	var b bytes.Buffer
	b.WriteString("default-src 'none'; script-src")
	for _, s := range scripts {
		sum := sha256.Sum256([]byte(s))
		b.WriteString(" 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'")
	}
	b.WriteString("; style-src 'unsafe-inline'; img-src https://tile.openstreetmap.org data:; base-uri 'none'; form-action 'none'")
	return b.String()
}
