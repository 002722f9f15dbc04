package statschart

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/healthycities/napad/bot/internal/picture"
)

// czech is the overview of a city, as the bot words it.
func czech() Chart {
	c := Chart{
		Title:      "Nápady podle oblastí",
		Subtitle:   "Všechna fóra – stav k 12. 3. 2026",
		Summary:    "Nápady: 512 · žáci s nápadem: 210 z 340",
		PartsTitle: "Stav vyřízení",
		Footer:     "Skryté při moderování (nezapočítané): 7",
	}
	for i, l := range []string{"📚 Život ve škole", "🌳 Příroda a životní prostředí", "🚲 Doprava a bezpečnost", "⚽ Sport a volný čas",
		"🎭 Kultura a akce", "🏛️ Veřejný prostor", "🤝 Lidé a komunita", "✨ Něco jiného"} {
		n := []int{140, 120, 80, 60, 50, 40, 22, 0}[i]
		c.Bars = append(c.Bars, Bar{Label: l, Count: n, Value: strconv.Itoa(n)})
	}
	for i, l := range []string{"Nové", "Posuzované", "Vybrané", "V realizaci", "Uskutečněné", "Neproveditelné", "Duplicitní"} {
		c.Parts = append(c.Parts, Bar{Label: l, Count: []int{300, 100, 40, 30, 12, 20, 10}[i]})
	}
	return c
}

func ukrainian() Chart {
	return Chart{
		Title:      "Ідеї за сферами",
		Subtitle:   "8-Б клас, школа № 5 — станом на 12.03.2026",
		Summary:    "Ідеї: 42 · учні з ідеєю: 20 з 28",
		PartsTitle: "Статус",
		Bars: []Bar{
			{Label: "🌳 Природа й довкілля", Count: 15}, {Label: "📚 Шкільне життя", Count: 12},
			{Label: "🏛️ Громадські простори", Count: 9}, {Label: "🚲 Транспорт і безпека", Count: 6},
		},
		Parts: []Bar{{Label: "Нові", Count: 30}, {Label: "На розгляді", Count: 12}},
	}
}

// crowded has the most of everything, and labels far too long.
func crowded() Chart {
	long := strings.Repeat("Přestavba staré kotelny na klubovnu pro mladé ", 8)
	c := Chart{Title: long, Subtitle: long, Summary: long, PartsTitle: long, Footer: long}
	for i := range MaxBars {
		c.Bars = append(c.Bars, Bar{Label: long, Count: 1000000 - i, Value: "1 000 000"})
	}
	for i := range MaxParts {
		c.Parts = append(c.Parts, Bar{Label: long, Count: i})
	}
	return c
}

func mustRender(t *testing.T, c Chart) (*image.RGBA, layout) {
	t.Helper()
	img, lo, err := render(c)
	if err != nil {
		t.Fatal(err)
	}
	return img, lo
}

func isInk(c color.RGBA) bool { return color.GrayModel.Convert(c).(color.Gray).Y < 0xa0 }

func ink(img *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c := img.RGBAAt(x, y); isInk(c) && c != picture.Accent {
				n++
			}
		}
	}
	return n
}

// The PNG is the picture drawn, of the size promised, not blank, and the
// same bytes every time.
func TestPNG(t *testing.T) {
	t.Parallel()
	c := czech()
	b, err := PNG(c)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := decoded.Bounds(); got != image.Rect(0, 0, Width, Height) || Width > Height {
		t.Errorf("bounds %v, want %dx%d portrait", got, Width, Height)
	}
	img, _ := mustRender(t, c)
	if d, ok := decoded.(*image.RGBA); !ok || !bytes.Equal(d.Pix, img.Pix) {
		t.Errorf("the PNG (%T) is not the picture drawn", decoded)
	}
	dark, blue := 0, 0
	for y := range Height {
		for x := range Width {
			switch c := img.RGBAAt(x, y); {
			case c == picture.Accent:
				blue++
			case isInk(c):
				dark++
			}
		}
	}
	if dark < 20000 || blue < 50000 {
		t.Errorf("%d pixels of text and %d of bars: blank?", dark, blue)
	}
	if again, err := PNG(c); err != nil || !bytes.Equal(b, again) {
		t.Errorf("the same chart gave other bytes (%v)", err)
	}
}

// Everything is inside the margins, in order, without overlapping, at
// sizes a phone shows readably.
func TestLayout(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Chart{
		"cs": czech(), "uk": ukrainian(), "crowded": crowded(),
		"bare":     {Bars: []Bar{{Label: "a", Count: 1}}},
		"no parts": {Title: "Nápady", Bars: czech().Bars, Footer: "x"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			img, lo := mustRender(t, c)
			if len(lo.bars) != len(c.Bars) || len(lo.parts) != len(c.Parts) {
				t.Fatalf("%d bars, %d parts drawn of %d, %d", len(lo.bars), len(lo.parts), len(c.Bars), len(c.Parts))
			}
			if lo.labelSize < labelMinSize || len(c.Parts) > 0 && lo.partSize < partMinSize {
				t.Errorf("labels %d px, parts %d px", lo.labelSize, lo.partSize)
			}
			inside := image.Rect(marginX, marginTop, Width-marginX, Height-marginBottom)
			var boxes []image.Rectangle
			for _, r := range []image.Rectangle{lo.title, lo.subtitle, lo.summary} {
				if !r.Empty() {
					boxes = append(boxes, r)
				}
			}
			for i, r := range lo.bars {
				boxes = append(boxes, r.box)
				if !r.label.In(r.box) || !r.value.In(r.box) || !r.track.In(r.box) || !r.bar.In(r.track) {
					t.Errorf("bar %d: parts outside its row %v: %+v", i+1, r.box, r)
				}
				if r.label.Max.X+valueGap > r.value.Min.X && r.text != "" {
					t.Errorf("bar %d: label %v runs into its value %v", i+1, r.label, r.value)
				}
				if ink(img, r.value) < 30 || r.text != "" && ink(img, r.label) < 30 {
					t.Errorf("bar %d: label or value not drawn", i+1)
				}
			}
			if !lo.partsTitle.Empty() {
				boxes = append(boxes, lo.partsTitle)
			}
			for i, r := range lo.parts {
				if i%2 == 0 { // a row of the breakdown: both its columns
					both := r.box
					if i+1 < len(lo.parts) {
						both = both.Union(lo.parts[i+1].box)
						if lo.parts[i+1].box.Min.Y != r.box.Min.Y || lo.parts[i+1].box.Min.X <= r.box.Max.X {
							t.Errorf("parts %d and %d are not side by side: %v %v", i+1, i+2, r.box, lo.parts[i+1].box)
						}
					}
					boxes = append(boxes, both)
				}
				if ink(img, r.value) < 20 {
					t.Errorf("part %d: value not drawn", i+1)
				}
			}
			if !lo.footer.Empty() {
				boxes = append(boxes, lo.footer)
			}
			for i, b := range boxes {
				if !b.In(inside) {
					t.Errorf("box %d (%v) outside the margins %v", i, b, inside)
				}
				if i > 0 && b.Min.Y < boxes[i-1].Max.Y {
					t.Errorf("box %d (%v) overlaps the one above (%v)", i, b, boxes[i-1])
				}
			}
			// Nothing but picture.Background in the margins.
			for y := range Height {
				for x := range Width {
					if !image.Pt(x, y).In(inside) && img.RGBAAt(x, y) != picture.Background {
						t.Fatalf("pixel (%d,%d) in the margin is %v", x, y, img.RGBAAt(x, y))
					}
				}
			}
		})
	}
}

// The charts of the bot's real texts get the largest sizes.
func TestSizes(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Chart{"cs": czech(), "uk": ukrainian()} {
		_, lo := mustRender(t, c)
		if lo.labelSize != labelMaxSize || lo.partSize != partMaxSize {
			t.Errorf("%s: labels %d px, parts %d px; want %d and %d", name, lo.labelSize, lo.partSize, labelMaxSize, partMaxSize)
		}
	}
	_, lo := mustRender(t, crowded())
	for i, r := range append(lo.bars, lo.parts...) {
		if !strings.HasSuffix(r.text, "…") {
			t.Errorf("row %d: a long label not ellipsized: %q", i+1, r.text)
		}
	}
}

// A bar's length is its count relative to the largest of its section; a
// count of 0 has no bar, only its track.
func TestBarsProportional(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Chart{"cs": czech(), "uk": ukrainian(), "crowded": crowded(),
		"huge": {Bars: []Bar{{Label: "a", Count: math.MaxInt}, {Label: "b", Count: math.MaxInt / 2}, {Label: "c", Count: 1}}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			img, lo := mustRender(t, c)
			for _, s := range []struct {
				bars []Bar
				rows []row
			}{{c.Bars, lo.bars}, {c.Parts, lo.parts}} {
				most := 0
				for _, b := range s.bars {
					most = max(most, b.Count)
				}
				for i, b := range s.bars {
					r := s.rows[i]
					mid := (r.track.Min.Y + r.track.Max.Y) / 2
					n := 0
					for x := r.track.Min.X; x < r.track.Max.X && img.RGBAAt(x, mid) == picture.Accent; x++ {
						n++
					}
					if b.Count == 0 {
						if n != 0 || !r.bar.Empty() || img.RGBAAt(r.track.Min.X, mid) != track {
							t.Errorf("%q: count 0 but a bar of %d px, or no track", b.Label, n)
						}
						continue
					}
					want := float64(b.Count) / float64(most) * float64(r.track.Dx())
					if math.Abs(float64(n)-want) > 1 && !(want < minBarLen && n == minBarLen) {
						t.Errorf("%q: %d of %d is %d px, want %.1f", b.Label, b.Count, most, n, want)
					}
				}
			}
		})
	}
}

func TestRefused(t *testing.T) {
	t.Parallel()
	many := make([]Bar, MaxBars+1)
	for name, tc := range map[string]struct {
		c    Chart
		want error
	}{
		"no bars":   {Chart{Title: "x", Parts: []Bar{{Label: "a"}}}, ErrNoBars},
		"11 bars":   {Chart{Bars: many}, ErrTooMany},
		"9 parts":   {Chart{Bars: many[:1], Parts: many[:MaxParts+1]}, ErrTooMany},
		"negative":  {Chart{Bars: []Bar{{Label: "a", Count: -1}}}, ErrNegative},
		"neg. part": {Chart{Bars: many[:1], Parts: []Bar{{Label: "a", Count: -1}}}, ErrNegative},
	} {
		if _, err := PNG(tc.c); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// TestWriteSamples writes the sample charts for looking at:
//
//	STATSCHART_SAMPLES=/tmp go test -run TestWriteSamples ./bot/statschart/
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("STATSCHART_SAMPLES")
	if dir == "" {
		t.Skip("STATSCHART_SAMPLES not set")
	}
	for name, c := range map[string]Chart{"cs": czech(), "uk": ukrainian(), "crowded": crowded()} {
		b, err := PNG(c)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "statschart-"+name+".png")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", path, len(b))
	}
}
