package resultchart

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/healthycities/napad/bot/internal/textfit"
)

func mustRender(t testing.TB, c Chart) (*image.RGBA, layout) {
	t.Helper()
	img, lo, err := render(c)
	if err != nil {
		t.Fatal(err)
	}
	return img, lo
}

func isAccent(c color.RGBA) bool { return c == accent }

// isInk reports a pixel of text (or a bar): anything darker than the
// stripe behind every other row.
func isInk(c color.RGBA) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 0xd0
}

func isBackground(c color.RGBA) bool { return c == background || c == stripe }

// accentRun returns where the run of accent pixels on row y that starts
// first begins, and how long it is (0, 0 if there is none).
func accentRun(img *image.RGBA, y int) (start, n int) {
	for x := 0; x < Width; x++ {
		if !isAccent(img.RGBAAt(x, y)) {
			if n > 0 {
				return start, n
			}
			continue
		}
		if n == 0 {
			start = x
		}
		n++
	}
	return start, n
}

// bars returns n bars with votes from votes (repeating its last value).
func bars(n int, votes ...int) []Bar {
	bs := make([]Bar, n)
	for i := range bs {
		v := votes[min(i, len(votes)-1)]
		bs[i] = Bar{Label: "Nápad číslo " + strconv.Itoa(i+1), Votes: v, Value: strconv.Itoa(v) + " hlasů"}
	}
	return bs
}

func longLabel(n int) string {
	return string([]rune(strings.Repeat("Přestavba staré kotelny na klubovnu pro mladé ", 10))[:n])
}

// PNG encodes what render draws, the same bytes every time. (Few PNGs are
// encoded in the tests: that is slow under -race; the other tests look at
// what render draws.)
func TestPNG(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Chart{
		"1 bar":   {Title: "Výsledky hlasování", Bars: bars(1, 5)},
		"15 bars": {Title: "Výsledky", Subtitle: "8.B", Bars: bars(15, 30, 29, 20, 3), Footer: "Hlasovalo 28 z 30"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := PNG(c)
			if err != nil {
				t.Fatal(err)
			}
			decoded, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if got := decoded.Bounds(); got != image.Rect(0, 0, Width, Height) {
				t.Errorf("bounds = %v, want %dx%d", got, Width, Height)
			}
			img, _ := mustRender(t, c)
			if d, ok := decoded.(*image.RGBA); !ok || !bytes.Equal(d.Pix, img.Pix) {
				t.Errorf("the PNG (%T) is not the picture drawn", decoded)
			}
			if name != "15 bars" {
				return
			}
			again, err := PNG(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, again) {
				t.Error("same chart gave different bytes")
			}
		})
	}
}

func TestLayout(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Chart{
		"1 bar":      {Title: "Výsledky hlasování", Bars: bars(1, 5)},
		"cs 10 bars": czech(),
		"uk 6 bars":  ukrainian(),
		"nb 12 bars": norwegian(),
		"15 bars":    {Title: "Výsledky", Subtitle: "8.B", Bars: bars(15, 30, 29, 20, 3), Footer: "Hlasovalo 28 z 30"},
		"bare":       {Bars: bars(3, 1)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			img, lo := mustRender(t, c)
			if len(lo.rows) != len(c.Bars) {
				t.Fatalf("%d rows for %d bars", len(lo.rows), len(c.Bars))
			}
			checkLayout(t, img, lo)
		})
	}
}

// checkLayout checks what every chart must satisfy: sizes readable from the
// back of a classroom, parts in order and inside the picture, nothing drawn
// in the margins.
func checkLayout(t *testing.T, img *image.RGBA, lo layout) {
	t.Helper()
	if !lo.title.Empty() && lo.titleSize < titleMinSize {
		t.Errorf("title %d px, want >= %d", lo.titleSize, titleMinSize)
	}
	if lo.labelSize < labelMinSize || lo.labelSize > labelMaxSize {
		t.Errorf("labels %d px, want %d..%d", lo.labelSize, labelMinSize, labelMaxSize)
	}
	top := max(lo.title.Max.Y, lo.subtitle.Max.Y)
	for i, r := range lo.rows {
		if r.box.Min.Y < top {
			t.Errorf("row %d (%v) overlaps what is above it (down to %d)", i+1, r.box, top)
		}
		top = r.box.Max.Y
		if !r.label.In(r.box) {
			t.Errorf("row %d: label %v outside its row %v", i+1, r.label, r.box)
		}
		if !r.bar.Empty() && !r.bar.In(r.box) {
			t.Errorf("row %d: bar %v outside its row %v", i+1, r.bar, r.box)
		}
		if !r.value.In(r.box) {
			t.Errorf("row %d: value %v outside its row %v", i+1, r.value, r.box)
		}
		if len(r.lines) < 1 || len(r.lines) > 2 {
			t.Errorf("row %d: %d label lines", i+1, len(r.lines))
		}
	}
	if !lo.footer.Empty() && (lo.footer.Min.Y < top || lo.footer.Max.Y > Height-marginBottom) {
		t.Errorf("footer %v not between the rows (down to %d) and the bottom margin", lo.footer, top)
	}
	// Margins: nothing but background, and no stripe beyond its padding.
	for y := range Height {
		for x := range Width {
			inside := x >= marginX && x < Width-marginX && y >= marginTop && y < Height-marginBottom
			if inside {
				continue
			}
			c := img.RGBAAt(x, y)
			if !isBackground(c) {
				t.Fatalf("pixel (%d,%d) in the margin is %v", x, y, c)
			}
			if (x < marginX-stripePad || x >= Width-marginX+stripePad) && c != background {
				t.Fatalf("pixel (%d,%d) beyond the stripes is %v", x, y, c)
			}
		}
	}
}

func TestBarsProportional(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Chart{
		"cs":         czech(),
		"nb":         norwegian(),
		"uk":         ukrainian(),
		"one":        {Bars: bars(1, 1)},
		"15":         {Bars: bars(15, 31, 17, 13, 11, 7, 5, 3, 2, 1, 0)},
		"huge votes": {Bars: []Bar{{Label: "a", Votes: math.MaxInt}, {Label: "b", Votes: math.MaxInt / 2}, {Label: "c", Votes: 1}}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			img, lo := mustRender(t, c)
			maxVotes := c.Bars[0].Votes
			if lo.barMax < 400 {
				t.Errorf("longest bar only %d px", lo.barMax)
			}
			if lo.valueMax > Width-marginX {
				t.Errorf("a value ends at x=%d, past the right margin", lo.valueMax)
			}
			for i, b := range c.Bars {
				r := lo.rows[i]
				mid := (r.box.Min.Y + r.box.Max.Y) / 2
				start, n := accentRun(img, mid)
				if b.Votes == 0 {
					if n != 0 {
						t.Errorf("bar %d has 0 votes but %d accent pixels at y=%d", i+1, n, mid)
					}
					for y := r.box.Min.Y; y < r.box.Max.Y; y++ {
						if _, n := accentRun(img, y); n != 0 {
							t.Fatalf("bar %d has 0 votes but accent pixels at y=%d", i+1, y)
						}
					}
					if !r.bar.Empty() {
						t.Errorf("bar %d has 0 votes but a bar %v", i+1, r.bar)
					}
					continue
				}
				if start != lo.barX {
					t.Errorf("bar %d starts at x=%d, want %d", i+1, start, lo.barX)
				}
				want := float64(b.Votes) / float64(maxVotes) * float64(lo.barMax)
				if math.Abs(float64(n)-want) > 1 && !(want < minBarLen && n == minBarLen) {
					t.Errorf("bar %d (%d of %d votes) is %d px, want %.1f", i+1, b.Votes, maxVotes, n, want)
				}
				if i == 0 && n != lo.barMax {
					t.Errorf("the longest bar is %d px, want the full %d", n, lo.barMax)
				}
				// The value follows the bar, on the same row, and is drawn.
				if r.value.Min.X != start+n+valueGap {
					t.Errorf("bar %d: value at x=%d, bar ends at %d", i+1, r.value.Min.X, start+n)
				}
			}
			for i, r := range lo.rows {
				if ink(img, r.value) < 50 {
					t.Errorf("row %d: value %q not drawn in %v", i+1, r.vtext, r.value)
				}
			}
		})
	}
}

func ink(img *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c := img.RGBAAt(x, y); isInk(c) && !isAccent(c) {
				n++
			}
		}
	}
	return n
}

func TestAllZero(t *testing.T) {
	t.Parallel()
	img, lo := mustRender(t, Chart{Title: "Výsledky", Bars: bars(4, 0)})
	for y := range Height {
		if _, n := accentRun(img, y); n != 0 {
			t.Fatalf("accent pixels at y=%d with no votes at all", y)
		}
	}
	for i, r := range lo.rows {
		if r.value.Min.X != lo.barX || ink(img, r.value) < 50 {
			t.Errorf("row %d: value %q at %v, want drawn where bars start (x=%d)", i+1, r.vtext, r.value, lo.barX)
		}
	}
}

func TestLongLabels(t *testing.T) {
	t.Parallel()
	giant := strings.Repeat("Ш", 300) // one word longer than a line
	for _, n := range []int{1, 12, 15} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			c := Chart{Title: longLabel(300), Subtitle: longLabel(300), Footer: longLabel(300), Bars: bars(n, 300, 150, 2, 0)}
			for i := range c.Bars {
				c.Bars[i].Label = longLabel(300)
				if i%3 == 1 {
					c.Bars[i].Label = giant
				}
			}
			img, lo := mustRender(t, c)
			checkLayout(t, img, lo)
			if lo.labelSize != labelMinSize {
				t.Errorf("labels %d px, want the smallest, %d", lo.labelSize, labelMinSize)
			}
			labelEnd := lo.rows[0].label.Max.X
			if lo.barX-labelEnd < 16 {
				t.Errorf("label column ends at %d, bars start at %d: too close", labelEnd, lo.barX)
			}
			for i, r := range lo.rows {
				last := r.lines[len(r.lines)-1]
				if !strings.HasSuffix(last, "…") {
					t.Errorf("row %d: 300-char label not ellipsized: %q", i+1, last)
				}
				if n <= 12 && len(r.lines) != 2 {
					t.Errorf("row %d: %d lines with %d bars, want 2", i+1, len(r.lines), n)
				}
				// Nothing of the label between its column and the bar.
				for y := r.box.Min.Y; y < r.box.Max.Y; y++ {
					for x := labelEnd + 1; x < lo.barX; x++ {
						if isInk(img.RGBAAt(x, y)) {
							t.Fatalf("row %d: ink at (%d,%d), between the label column and the bar", i+1, x, y)
						}
					}
				}
			}
			for _, r := range []image.Rectangle{lo.title, lo.subtitle, lo.footer} {
				if r.Empty() {
					t.Errorf("header or footer not drawn")
				}
			}
		})
	}
}

func TestLabelSizes(t *testing.T) {
	t.Parallel()
	// Short labels, few bars: the largest size.
	_, lo := mustRender(t, ukrainian())
	if lo.labelSize != labelMaxSize {
		t.Errorf("6 short labels at %d px, want %d", lo.labelSize, labelMaxSize)
	}
	// 12 long labels with title, subtitle and footer: still two lines at
	// the smallest size, nothing cut.
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	c := norwegian()
	_, lo = mustRender(t, c)
	if lo.labelSize < labelMinSize {
		t.Errorf("12 labels at %d px", lo.labelSize)
	}
	two := 0
	for i, r := range lo.rows {
		if got, want := strings.Join(r.lines, " "), textfit.CleanLetters(c.Bars[i].Label, fs.regular, maxTextRunes); got != want {
			t.Errorf("row %d: label drawn as %q, want all of %q", i+1, got, want)
		}
		if len(r.lines) == 2 {
			two++
		}
	}
	if two == 0 {
		t.Error("no label took two lines; the test lost its point")
	}
	// 15 bars: one line each, still at least the smallest size.
	_, lo = mustRender(t, Chart{Title: "x", Subtitle: "y", Footer: "z", Bars: bars(15, 1)})
	if lo.labelSize < labelMinSize {
		t.Errorf("15 labels at %d px", lo.labelSize)
	}
}

// The forum languages draw without losing a letter; the Go fonts have a
// glyph for every rune of the sample charts, Ukrainian і ї є ґ included.
func TestLanguages(t *testing.T) {
	t.Parallel()
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	regular, bold := fs.regular, fs.bold
	for name, c := range map[string]Chart{"cs": czech(), "nb": norwegian(), "uk": ukrainian()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			all := c.Title + c.Subtitle + c.Footer
			for _, b := range c.Bars {
				all += b.Label + b.Value
			}
			for _, r := range all {
				if r == ' ' {
					continue
				}
				if !textfit.HasGlyph(regular, r) || !textfit.HasGlyph(bold, r) {
					t.Errorf("no glyph for %q (%U)", r, r)
				}
			}
			img, lo := mustRender(t, c)
			for i, r := range lo.rows {
				if got := strings.Join(r.lines, " "); got != c.Bars[i].Label {
					t.Errorf("row %d: label drawn as %q, want %q", i+1, got, c.Bars[i].Label)
				}
				if r.vtext != c.Bars[i].Value {
					t.Errorf("row %d: value drawn as %q, want %q", i+1, r.vtext, c.Bars[i].Value)
				}
				if ink(img, r.label) < 200 {
					t.Errorf("row %d: label not drawn", i+1)
				}
			}
		})
	}
	for _, r := range "іїєґІЇЄҐ" {
		if !textfit.HasGlyph(regular, r) || !textfit.HasGlyph(bold, r) {
			t.Errorf("no glyph for %q", r)
		}
	}
}

// Invisible and control characters are removed; a letter the fonts lack is
// drawn as its base letter; emoji and other symbols without a glyph are
// dropped; a label left empty still gets its row.
func TestCleaning(t *testing.T) {
	t.Parallel()
	c := Chart{Bars: []Bar{
		{Label: "Pítko\u200b na\tškolním\n\ndvoře\x00\u202e", Votes: 3, Value: "3\u00a0hlasy\u200d"},
		{Label: "🌳 Více zeleně 🌳", Votes: 2},
		{Label: "Sân trường đẹp", Votes: 1},
		{Label: "🎉🎉", Votes: 0, Value: "\u200b"},
	}}
	img, lo := mustRender(t, c)
	for i, want := range []struct{ label, value string }{
		{"Pítko na školním dvoře", "3 hlasy"},
		{"Více zeleně", "2"},
		{"Sân truong đep", "1"},
		{"", "0"},
	} {
		r := lo.rows[i]
		if got := strings.Join(r.lines, " "); got != want.label {
			t.Errorf("row %d: label %q, want %q", i+1, got, want.label)
		}
		if r.vtext != want.value {
			t.Errorf("row %d: value %q, want %q", i+1, r.vtext, want.value)
		}
	}
	if r := lo.rows[3]; ink(img, r.label) != 0 || ink(img, r.value) < 20 || r.rank != 4 {
		t.Errorf("empty label: row %+v not drawn as rank and value only", r)
	}
}

func TestRanks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ votes, want []int }{
		{[]int{5, 3, 3, 1}, []int{1, 2, 2, 4}},
		{[]int{4, 4, 4}, []int{1, 1, 1}},
		{[]int{9, 8, 0, 0}, []int{1, 2, 3, 3}},
		{[]int{0}, []int{1}},
	} {
		var bs []Bar
		for _, v := range tc.votes {
			bs = append(bs, Bar{Votes: v})
		}
		if got := ranks(bs); !slices.Equal(got, tc.want) {
			t.Errorf("ranks(%v) = %v, want %v", tc.votes, got, tc.want)
		}
	}
	_, lo := mustRender(t, czech())
	var got []int
	for _, r := range lo.rows {
		got = append(got, r.rank)
	}
	if want := []int{1, 2, 2, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(got, want) {
		t.Errorf("czech ranks %v, want %v", got, want)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		bars []Bar
		want error
	}{
		{"nil", nil, ErrNoBars},
		{"empty", []Bar{}, ErrNoBars},
		{"16 bars", bars(MaxBars+1, 1), ErrTooManyBars},
		{"negative", []Bar{{Label: "a", Votes: 2}, {Label: "b", Votes: -1}}, ErrNegativeVotes},
		{"negative first", []Bar{{Label: "a", Votes: -1}}, ErrNegativeVotes},
		{"ascending", []Bar{{Label: "a", Votes: 2}, {Label: "b", Votes: 3}}, ErrNotRanked},
	} {
		b, err := PNG(Chart{Title: "x", Bars: tc.bars})
		if !errors.Is(err, tc.want) || b != nil {
			t.Errorf("%s: %d bytes, %v; want %v", tc.name, len(b), err, tc.want)
		}
	}
	if _, _, err := render(Chart{Bars: bars(MaxBars, 1)}); err != nil {
		t.Errorf("%d bars: %v", MaxBars, err)
	}
}

func TestVotesChangeThePicture(t *testing.T) {
	t.Parallel()
	a, _ := mustRender(t, czech())
	c := czech()
	c.Bars[3].Votes = 8
	b, _ := mustRender(t, c)
	if bytes.Equal(a.Pix, b.Pix) {
		t.Error("different votes gave the same picture")
	}
}

func BenchmarkPNG(b *testing.B) {
	c := norwegian()
	var size int
	for b.Loop() {
		p, err := PNG(c)
		if err != nil {
			b.Fatal(err)
		}
		size = len(p)
	}
	b.ReportMetric(float64(size), "png-bytes")
}
