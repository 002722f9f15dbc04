package export_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/healthycities/napad/internal/browsertest"
	"github.com/healthycities/napad/storage/export"
)

// palette is the pins' fill colours the page must use, by feeling.
var palette = map[string]string{
	"like": "#009e73", "unsafe": "#d55e00", "change": "#e69f00", "freetime": "#0072b2",
	"own1": "#8e44ad", "own2": "#2a9d8f", "own3": "#8c510a",
}

// browserPins are 12 pins of two forums in Prague: 10 on the map (one of
// them with the hostile comment, one of them a forum's own feeling), a
// typed place, and a hidden pin.
func browserPins() []export.PinRow {
	day := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	pin := func(id int64, forum, feeling string, lat, lon float64, comment string) export.PinRow {
		p := export.PinRow{
			ID: id, Forum: "8.B – ZŠ Komenského", ForumCode: "K7Q2M9XD", Town: "Praha", Date: day,
			Latitude: ptr(lat), Longitude: ptr(lon), Feeling: feeling, Comment: comment, AgeBand: "13-14", Language: "cs",
		}
		if forum == "B" {
			p.Forum, p.ForumCode, p.AgeBand = "Gymnázium Na Zatlance", "GZ5X8P2Q", "16-17"
		}
		return p
	}
	pins := []export.PinRow{
		pin(1, "A", "like", 50.0875, 14.4213, "Nejlepší lavičky"),
		pin(2, "A", "like", 50.0810, 14.4280, ""),
		pin(3, "A", "unsafe", 50.0790, 14.4300, "Tma v podchodu"),
		pin(4, "A", "change", 50.0840, 14.4150, hostile),
		pin(5, "A", "freetime", 50.0860, 14.4100, "Skatepark"),
		pin(6, "B", "like", 50.0700, 14.4030, ""),
		pin(7, "B", "unsafe", 50.0720, 14.4060, "Auta jezdí rychle"),
		pin(8, "B", "unsafe", 50.0740, 14.3990, ""),
		pin(9, "B", "freetime", 50.0760, 14.4010, "Knihovna"),
		pin(10, "B", "own1", 50.0730, 14.4080, "Tady chybí stín"),
	}
	pins[9].FeelingLabel = "🌳 Chybí tu zeleň"
	typed := pin(11, "A", "change", 0, 0, "Víc košů")
	typed.Latitude, typed.Longitude, typed.PlaceText = nil, nil, "Park u nádraží"
	hidden := pin(12, "B", "like", 50.0750, 14.4020, "HIDDEN-PIN-COMMENT")
	hidden.Hidden = true
	return append(pins, typed, hidden)
}

// browserEvents is what the page did that the test listens for.
type browserEvents struct {
	mu         sync.Mutex
	responses  []string // URLs that answered
	dialogs    []string // alert, confirm, prompt
	exceptions []string // uncaught script errors
	console    []string // console errors
}

func (e *browserEvents) add(list *[]string, s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	*list = append(*list, s)
}

func (e *browserEvents) get(list *[]string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(*list)
}

// The map page in a real browser without network: the pins show in their
// feelings' colours, the legend counts them, the filters and the heat view
// work, and a student's hostile comment stays text.
func TestMapPageInABrowser(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mapa.html")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.WriteMapPage(f, "Praha", browserPins(), export.WithLanguage("cs")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	bctx := browsertest.Start(t, 1280, 900, 60*time.Second)
	var ev browserEvents
	err = chromedp.Listen(bctx, func(e any) {
		// This runs in the tab's loop: no command here.
		switch e := e.(type) {
		case *network.EventResponseReceived:
			ev.add(&ev.responses, e.Response.URL)
		case *page.EventJavascriptDialogOpening:
			ev.add(&ev.dialogs, string(e.Type)+": "+e.Message)
			go func() {
				_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			ev.add(&ev.exceptions, fmt.Sprintf("%s (line %d)", msg, d.LineNumber))
		case *runtime.EventConsoleAPICalled:
			if e.Type == "error" {
				var args []string
				for _, a := range e.Args {
					args = append(args, fmt.Sprintf("%s%s", a.Value, a.Description))
				}
				ev.add(&ev.console, strings.Join(args, " "))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}

	pageURL := (&url.URL{Scheme: "file", Path: file}).String()
	if err := chromedp.Do(bctx,
		chromedp.EmulateViewport(1280, 1000),
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.CSS("path.pin")),
	); err != nil {
		t.Fatalf("loading %s: %v", pageURL, err)
	}

	run := func(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	// eval runs js in the page and decodes its JSON result into out.
	eval := func(t *testing.T, js string, out any) {
		t.Helper()
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[[]byte](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %s: %v", js, raw, err)
		}
	}
	click := func(t *testing.T, sel string) {
		t.Helper()
		run(t, chromedp.Click(chromedp.CSS(sel)))
	}
	screenshot := func(t *testing.T, name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(browsertest.ScreenshotDir(t), name)
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", shot)
	}
	countPins := func(t *testing.T) map[string]int {
		t.Helper()
		var n map[string]int
		eval(t, `(() => {
			const n = {total: 0};
			for (const p of document.querySelectorAll('path.pin')) {
				n.total++;
				const f = [...p.classList].find(c => c.startsWith('pin-')).slice(4);
				n[f] = (n[f] || 0) + 1;
			}
			return n;
		})()`, &n)
		return n
	}
	all := map[string]int{"total": 10, "like": 3, "unsafe": 3, "change": 1, "freetime": 2, "own1": 1}
	// B's pins: like 6, unsafe 7 and 8, freetime 9, own1 10.
	forumB := map[string]int{"total": 5, "like": 1, "unsafe": 2, "freetime": 1, "own1": 1}
	sameCounts := func(t *testing.T, what string, want map[string]int) {
		t.Helper()
		got := countPins(t)
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("%s: %d %s markers, want %d (all: %v)", what, got[k], k, want[k], got)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: %d %s markers, want none", what, got[k], k)
			}
		}
	}

	t.Run("markers", func(t *testing.T) {
		sameCounts(t, "on load", all)
		var hidden int
		eval(t, `document.querySelectorAll('path[data-pin="12"]').length + (document.documentElement.outerHTML.includes('HIDDEN-PIN-COMMENT') ? 100 : 0)`, &hidden)
		if hidden != 0 {
			t.Errorf("the hidden pin is on the page (%d)", hidden)
		}
	})

	t.Run("palette", func(t *testing.T) {
		var fills map[string][]string
		eval(t, `(() => {
			const m = {};
			for (const p of document.querySelectorAll('path.pin')) {
				const f = [...p.classList].find(c => c.startsWith('pin-')).slice(4);
				(m[f] = m[f] || []).push(p.getAttribute('fill').toLowerCase());
			}
			return m;
		})()`, &fills)
		if len(fills) == 0 {
			t.Fatal("no markers")
		}
		for feeling, got := range fills {
			for _, c := range got {
				if c != palette[feeling] {
					t.Errorf("a %s marker is filled %s, want %s", feeling, c, palette[feeling])
				}
			}
		}
	})

	t.Run("legend", func(t *testing.T) {
		var items [][3]string
		eval(t, `[...document.querySelectorAll('#legend .legend-item')].map(li => [
			li.dataset.feeling, li.querySelector('.words').textContent, li.querySelector('.count').textContent])`, &items)
		want := [][3]string{
			{"like", "😊 Líbí se mi tu", "3"},
			{"unsafe", "😟 Necítím se tu bezpečně", "3"},
			{"change", "🛠️ Chtělo by to změnu", "2"}, // the typed place too
			{"freetime", "🏀 Trávím tu volný čas", "2"},
			{"own1", "🌳 Chybí tu zeleň", "1"},
		}
		if !slices.Equal(items, want) {
			t.Errorf("legend\n%q\nwant\n%q", items, want)
		}
		var swatches map[string]string
		eval(t, `Object.fromEntries([...document.querySelectorAll('#legend .legend-item')].map(li => [
			li.dataset.feeling, li.querySelector('circle').getAttribute('fill')]))`, &swatches)
		for feeling, c := range swatches {
			if c != palette[feeling] {
				t.Errorf("the legend's %s is %s, want %s", feeling, c, palette[feeling])
			}
		}
	})

	t.Run("feeling filter", func(t *testing.T) {
		for _, feeling := range []string{"unsafe", "own1", "like"} {
			box := fmt.Sprintf(`input[data-feeling=%q]`, feeling)
			click(t, box)
			want := map[string]int{}
			for k, v := range all {
				want[k] = v
			}
			want["total"] -= want[feeling]
			delete(want, feeling)
			sameCounts(t, "without "+feeling, want)
			click(t, box)
			sameCounts(t, "with "+feeling+" again", all)
		}
		// Unticking "change" hides the typed place's row too.
		var rowHidden bool
		click(t, `input[data-feeling="change"]`)
		eval(t, `document.querySelector('#typed tbody tr').hidden`, &rowHidden)
		click(t, `input[data-feeling="change"]`)
		if !rowHidden {
			t.Error("the typed place's row stays with its feeling unticked")
		}
	})

	selectForum := func(t *testing.T, value string) {
		t.Helper()
		eval(t, fmt.Sprintf(`(() => { const s = document.querySelector('#forum'); s.value = %q;
			s.dispatchEvent(new Event('change')); return s.value; })()`, value), new(string))
	}

	t.Run("forum filter", func(t *testing.T) {
		var options []string
		eval(t, `[...document.querySelectorAll('#forum option')].map(o => o.value + '=' + o.textContent)`, &options)
		want := []string{"=Všechna fóra", "K7Q2M9XD=8.B – ZŠ Komenského", "GZ5X8P2Q=Gymnázium Na Zatlance"}
		if !slices.Equal(options, want) {
			t.Errorf("forum options %q, want %q", options, want)
		}
		selectForum(t, "GZ5X8P2Q")
		sameCounts(t, "forum B", forumB)
		var ids []string
		eval(t, `[...document.querySelectorAll('path.pin')].map(p => p.dataset.pin).sort()`, &ids)
		if want := []string{"10", "6", "7", "8", "9"}; !slices.Equal(ids, want) {
			t.Errorf("forum B shows pins %v, want %v", ids, want)
		}
		var counts []string
		eval(t, `[...document.querySelectorAll('#legend .count')].map(c => c.textContent)`, &counts)
		if want := []string{"1", "2", "0", "1", "1"}; !slices.Equal(counts, want) {
			t.Errorf("legend counts in forum B %v, want %v", counts, want)
		}
		selectForum(t, "")
		sameCounts(t, "all forums again", all)
	})

	t.Run("heat view", func(t *testing.T) {
		var canvases int
		eval(t, `document.querySelectorAll('canvas.leaflet-heatmap-layer').length`, &canvases)
		if canvases != 0 {
			t.Fatalf("%d heat canvases before the heat view is on", canvases)
		}
		click(t, "#heat")
		var painted int
		eval(t, `(() => {
			const c = document.querySelector('canvas.leaflet-heatmap-layer');
			if (!c) return -1;
			const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			let n = 0;
			for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
			return n;
		})()`, &painted)
		if painted <= 0 {
			t.Errorf("heat view: canvas missing or blank (%d painted pixels)", painted)
		}
		sameCounts(t, "heat view", all) // the pins stay over the heat
		screenshot(t, "mappage-heat.png")
		click(t, "#heat")
		eval(t, `document.querySelectorAll('canvas.leaflet-heatmap-layer').length`, &canvases)
		if canvases != 0 {
			t.Errorf("%d heat canvases after the heat view is off", canvases)
		}
	})

	t.Run("hostile comment", func(t *testing.T) {
		// A mouse click where the pin is, as staff click it.
		var at struct{ X, Y float64 }
		eval(t, `(() => { const r = document.querySelector('path[data-pin="4"]').getBoundingClientRect();
			return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()`, &at)
		run(t,
			chromedp.MouseClickXY(at.X, at.Y),
			chromedp.WaitVisible(chromedp.CSS(".leaflet-popup-content .comment")),
		)
		var popup struct {
			Comment string `json:"comment"`
			Text    string `json:"text"`
			Images  int    `json:"images"`
		}
		eval(t, `(() => ({
			comment: document.querySelector('.leaflet-popup-content .comment').textContent,
			text: document.querySelector('.leaflet-popup-content').textContent,
			images: document.querySelectorAll('img:not(.leaflet-tile)').length,
		}))()`, &popup)
		if popup.Comment != hostile {
			t.Errorf("the popup's comment is %q, want the text %q", popup.Comment, hostile)
		}
		for _, want := range []string{"🛠️ Chtělo by to změnu", "8.B – ZŠ Komenského", "12. 5. 2026", "13–14"} {
			if !strings.Contains(popup.Text, want) {
				t.Errorf("the popup %q lacks %q", popup.Text, want)
			}
		}
		if popup.Images != 0 {
			t.Errorf("%d img elements besides the tiles: the comment was injected as HTML", popup.Images)
		}
		var typed []string
		eval(t, `[...document.querySelectorAll('#typed tbody td')].map(td => td.textContent)`, &typed)
		if want := []string{"Park u nádraží", "🛠️ Chtělo by to změnu", "Víc košů"}; !slices.Equal(typed, want) {
			t.Errorf("typed places %q, want %q", typed, want)
		}
		// The popup fades in; the screenshot waits for it.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var opacity string
			eval(t, `getComputedStyle(document.querySelector('.leaflet-popup')).opacity`, &opacity)
			if opacity == "1" {
				break
			}
		}
		screenshot(t, "mappage.png")
	})

	// Last: what the whole visit did.
	t.Run("no network, no script errors", func(t *testing.T) {
		if d := ev.get(&ev.dialogs); len(d) > 0 {
			t.Errorf("dialogs opened: %q", d)
		}
		if x := ev.get(&ev.exceptions); len(x) > 0 {
			t.Errorf("script errors: %q", x)
		}
		if c := ev.get(&ev.console); len(c) > 0 {
			t.Errorf("console errors: %q", c)
		}
		responses := ev.get(&ev.responses)
		if !slices.Contains(responses, pageURL) {
			t.Errorf("the page's own response %s not seen in %q", pageURL, responses)
		}
		for _, u := range responses {
			if !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") {
				t.Errorf("a request went out and was answered: %s", u)
			}
		}
	})
}
