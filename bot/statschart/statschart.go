// Package statschart draws the staff's overview as a picture to look at on
// a phone: ideas per category as horizontal bars, then a small breakdown
// (by status) under its own heading.
//
// Why it looks the way it does:
//
//   - 1080×1350 px, 4:5 portrait: the tallest picture Telegram shows whole
//     in a chat on a phone, and as wide as Telegram keeps a photo, so it is
//     not shrunk twice. Sent as a photo it is seen without opening a file.
//   - A phone shows the 1080 px in about 360 pt, a third: labels of 42 px
//     read as 14 pt, about the size of chat text, the title's 56 px as
//     19 pt, the breakdown's 30 px as 10 pt. Bigger, and 8 categories and
//     7 statuses would not fit one above the other.
//   - Each row has its label on the left and its count on the right, on one
//     line, and the bar under them across the whole width: long labels need
//     no column of their own and the bars get every pixel. A bar's length
//     is its count relative to the largest in its section; a row with none
//     has an empty track, so a missing bar still reads as zero.
//   - The colours of the results chart (bot/internal/picture): white,
//     near-black text, one dark blue for every bar, with pale tracks behind
//     them; nobody has to tell colours apart.
//   - At most MaxBars bars and MaxParts parts (in two columns): there are 8
//     categories and 7 statuses; PNG refuses more, as the sizes above hold
//     only so many rows.
//
// The package knows nothing of ideas, languages or Telegram: every text
// comes localised from the caller; letters the Go fonts lack are drawn as
// their base letter and emoji are dropped (see textfit.CleanLetters).
package statschart

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"

	"golang.org/x/image/font/sfnt"

	"github.com/healthycities/napad/bot/internal/picture"
	"github.com/healthycities/napad/bot/internal/textfit"
)

// Size of every chart, px.
const (
	Width  = 1080
	Height = 1350
)

// The most bars and parts a chart can have.
const (
	MaxBars  = 10
	MaxParts = 8
)

// Bar is one row: a category, or a status in the breakdown.
type Bar struct {
	Label string // one line, ellipsized when too long
	Count int
	// Value is the count as shown ("12"); empty means the bare number.
	Value string
}

// Chart is what PNG draws. Every text is already localised and formatted;
// an empty text is left out and what follows moves up.
type Chart struct {
	Title    string // "Nápady podle oblastí"
	Subtitle string // what is counted, and when: "Všechna fóra – stav k 12. 3. 2026"
	Summary  string // the totals: "Nápady: 512 · žáci s nápadem: 210 z 340"
	Bars     []Bar  // drawn in this order
	// PartsTitle heads the breakdown ("Stav vyřízení"), drawn smaller, in
	// two columns; no Parts, no breakdown.
	PartsTitle string
	Parts      []Bar
	Footer     string // a small line at the bottom: "Skryté nápady: 7"
}

var (
	// ErrNoBars is returned for a chart without bars.
	ErrNoBars = errors.New("statschart: no bars")
	// ErrTooMany is returned for more than MaxBars bars or MaxParts parts.
	ErrTooMany = fmt.Errorf("statschart: more than %d bars or %d parts", MaxBars, MaxParts)
	// ErrNegative is returned for a count below 0.
	ErrNegative = errors.New("statschart: negative count")
)

const (
	marginX      = 64
	marginTop    = 48
	marginBottom = 40
	content      = Width - 2*marginX

	titleMaxSize, titleMinSize     = 56, 44
	subtitleMaxSize, subtitleMin   = 32, 26
	summaryMaxSize, summaryMinSize = 34, 28
	labelMaxSize, labelMinSize     = 42, 30
	partsTitleSize                 = 34
	partMaxSize, partMinSize       = 30, 26
	footerMaxSize, footerMinSize   = 28, 24

	headerGap  = 4  // between title, subtitle and summary
	sectionGap = 32 // between the header, the bars, the breakdown and the footer
	textBarGap = 6  // between a row's text and its bar
	valueGap   = 24 // least room between a label and its count
	columnGap  = 48 // between the breakdown's columns
	barH       = 20
	partBarH   = 12
	minRowGap  = 10 // between rows
	maxRowGap  = 36 // rows of a short chart do not spread further
	minBarLen  = 6  // a bar with a count is never shorter, px

	maxTextRunes = 300
)

// track is behind each bar, as long as the longest; a shade darker than
// the results chart's stripes, as it lies on white.
var track = color.RGBA{0xe4, 0xea, 0xf4, 0xff}

// PNG draws c as a 1080×1350 PNG. It fails (with the errors above) for no
// bars, too many bars or parts, or a negative count. The output is
// deterministic for the same chart.
func PNG(c Chart) ([]byte, error) {
	img, _, err := render(c)
	if err != nil {
		return nil, err
	}
	b, err := picture.PNG(img)
	if err != nil {
		return nil, fmt.Errorf("statschart: %w", err)
	}
	return b, nil
}

func validate(c Chart) error {
	switch {
	case len(c.Bars) == 0:
		return ErrNoBars
	case len(c.Bars) > MaxBars || len(c.Parts) > MaxParts:
		return fmt.Errorf("%w: %d bars, %d parts", ErrTooMany, len(c.Bars), len(c.Parts))
	}
	for _, b := range append(append([]Bar(nil), c.Bars...), c.Parts...) {
		if b.Count < 0 {
			return fmt.Errorf("%w: %q has %d", ErrNegative, b.Label, b.Count)
		}
	}
	return nil
}

// layout records where things were drawn (used by tests).
type layout struct {
	title, subtitle, summary, partsTitle, footer image.Rectangle // empty when not drawn
	labelSize, partSize                          int
	bars, parts                                  []row
}

type row struct {
	box          image.Rectangle // the whole row: text and track
	label, value image.Rectangle
	track, bar   image.Rectangle // bar is empty for a count of 0
	text         string          // the label as drawn
}

type fonts struct{ regular, bold *sfnt.Font }

// text is one fitted line.
type text struct {
	blk  *textfit.Block
	font *sfnt.Font
	c    color.Color
}

// line fits s into one line width px wide, shrinking from maxSize to
// minSize and ellipsizing beyond; nil for empty text.
func line(f *sfnt.Font, s string, width, maxSize, minSize int, c color.Color) *text {
	if b := textfit.Line(f, s, width, maxSize, minSize, maxTextRunes); b != nil {
		return &text{b, f, c}
	}
	return nil
}

// place puts t at y, returning where it went and the y below it.
func place(t *text, x, y, width int) (image.Rectangle, int) {
	if t == nil {
		return image.Rectangle{}, y
	}
	r := image.Rect(x, y, x+width, y+t.blk.Height())
	return r, r.Max.Y
}

// section is a set of rows fitted at one size.
type section struct {
	labels, values []*textfit.Block
	rowH, pitch    int // a row's height, and from one row's top to the next
}

// height is how high the section's rows are, px.
func (s *section) height(n, columns int) int {
	rows := (n + columns - 1) / columns
	return (rows-1)*s.pitch + s.rowH
}

// fitSection fits the bars into columns width px wide, at the largest size
// from maxSize down to minSize at which every label fits in its line (at
// minSize, ellipsized) and the rows, bars barH px high, fit into height px.
// Rows further apart than their height needs get at most maxGap between
// them. Nil when nothing fits.
func fitSection(fs fonts, bars []Bar, columns, width, height, maxSize, minSize, barH, maxGap int) (*section, error) {
	rows := (len(bars) + columns - 1) / columns
	values := make([]string, len(bars))
	labels := make([]string, len(bars))
	for i, b := range bars {
		values[i] = textfit.CleanLetters(b.Value, fs.bold, maxTextRunes)
		if values[i] == "" {
			values[i] = strconv.Itoa(b.Count)
		}
		labels[i] = textfit.CleanLetters(b.Label, fs.regular, maxTextRunes)
	}
	for size := maxSize; size >= minSize; size -= textfit.Step {
		one := textfit.Spec{Width: width, MaxSize: size, MinSize: size, MaxLines: 1, Wrap: textfit.WrapWords,
			Ellipsize: size-textfit.Step < minSize}
		vs := textfit.FitAll(fs.bold, values, one)
		if vs == nil {
			continue
		}
		valueW, err := textfit.Widest(fs.bold, vs)
		if err != nil {
			return nil, err
		}
		one.Width -= valueW + valueGap
		ls := textfit.FitAll(fs.regular, labels, one)
		if ls == nil {
			continue
		}
		for _, b := range ls {
			if len(b.Lines) == 0 { // nothing drawable in the label: keep the row's shape
				b.Lines = []string{""}
			}
		}
		rowH := max(textfit.Tallest(ls), textfit.Tallest(vs)) + textBarGap + barH
		if rows*rowH+(rows-1)*minRowGap > height {
			continue
		}
		gap := maxGap
		if rows > 1 {
			gap = min(maxGap, (height-rows*rowH)/(rows-1))
		}
		return &section{labels: ls, values: vs, rowH: rowH, pitch: rowH + gap}, nil
	}
	return nil, nil
}

func render(c Chart) (*image.RGBA, layout, error) {
	var lo layout
	if err := validate(c); err != nil {
		return nil, lo, err
	}
	r, err := textfit.Regular()
	if err != nil {
		return nil, lo, err
	}
	b, err := textfit.Bold()
	if err != nil {
		return nil, lo, err
	}
	fs := fonts{r, b}

	// The header from the top, the footer at the bottom; the breakdown as
	// small as it may be, and the bars get what is left.
	title := line(fs.bold, c.Title, content, titleMaxSize, titleMinSize, picture.Text)
	subtitle := line(fs.regular, c.Subtitle, content, subtitleMaxSize, subtitleMin, picture.Muted)
	summary := line(fs.bold, c.Summary, content, summaryMaxSize, summaryMinSize, picture.Text)
	footer := line(fs.regular, c.Footer, content, footerMaxSize, footerMinSize, picture.Muted)
	y := marginTop
	for _, h := range []struct {
		t *text
		r *image.Rectangle
	}{{title, &lo.title}, {subtitle, &lo.subtitle}, {summary, &lo.summary}} {
		if h.t == nil {
			continue
		}
		if y > marginTop {
			y += headerGap
		}
		*h.r, y = place(h.t, marginX, y, content)
	}
	if y > marginTop {
		y += sectionGap
	}
	bottom := Height - marginBottom
	if footer != nil {
		bottom -= footer.blk.Height() + sectionGap
	}

	var partsTitle *text
	var parts *section
	colW := (content - columnGap) / 2
	if len(c.Parts) > 0 {
		if partsTitle = line(fs.bold, c.PartsTitle, content, partsTitleSize, partsTitleSize, picture.Text); partsTitle != nil {
			bottom -= partsTitle.blk.Height() + minRowGap
		}
		if parts, err = fitSection(fs, c.Parts, 2, colW, Height, partMaxSize, partMinSize, partBarH, minRowGap); err != nil {
			return nil, lo, err
		}
		if parts == nil {
			return nil, lo, errors.New("statschart: the breakdown does not fit") // cannot happen with MaxParts
		}
		bottom -= parts.height(len(c.Parts), 2) + sectionGap
		lo.partSize = parts.labels[0].Size
	}
	bars, err := fitSection(fs, c.Bars, 1, content, bottom-y, labelMaxSize, labelMinSize, barH, maxRowGap)
	if err != nil {
		return nil, lo, err
	}
	if bars == nil {
		return nil, lo, errors.New("statschart: the bars do not fit") // cannot happen with MaxBars
	}
	lo.labelSize = bars.labels[0].Size

	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	draw.Draw(img, img.Bounds(), image.NewUniform(picture.Background), image.Point{}, draw.Src)

	if lo.bars, err = drawRows(img, fs, c.Bars, bars, 1, content, y, barH); err != nil {
		return nil, lo, err
	}
	y += bars.height(len(c.Bars), 1) + sectionGap
	if parts != nil {
		if partsTitle != nil {
			lo.partsTitle, y = place(partsTitle, marginX, y, content)
			y += minRowGap
		}
		if lo.parts, err = drawRows(img, fs, c.Parts, parts, 2, colW, y, partBarH); err != nil {
			return nil, lo, err
		}
	}
	if footer != nil {
		lo.footer, _ = place(footer, marginX, Height-marginBottom-footer.blk.Height(), content)
	}

	for _, t := range []struct {
		t *text
		r image.Rectangle
	}{{title, lo.title}, {subtitle, lo.subtitle}, {summary, lo.summary}, {partsTitle, lo.partsTitle}, {footer, lo.footer}} {
		if t.t == nil {
			continue
		}
		if err := t.t.blk.Draw(img, t.t.font, t.r.Min.X, t.r.Dx(), t.r.Min.Y, textfit.Left, t.t.c); err != nil {
			return nil, lo, err
		}
	}
	return img, lo, nil
}

// drawRows draws a section's rows from top, filling columns of width left
// to right, then down.
func drawRows(img *image.RGBA, fs fonts, bars []Bar, s *section, columns, width, top, barH int) ([]row, error) {
	most := 0
	for _, b := range bars {
		most = max(most, b.Count)
	}
	rows := make([]row, 0, len(bars))
	for i, b := range bars {
		x := marginX + (i%columns)*(width+columnGap)
		y := top + (i/columns)*s.pitch
		lb, vb := s.labels[i], s.values[i]
		textH := max(lb.Height(), vb.Height())
		r := row{box: image.Rect(x, y, x+width, y+s.rowH)}
		if len(lb.Lines) > 0 {
			r.text = lb.Lines[0]
			lw, err := lb.Width(fs.regular)
			if err != nil {
				return nil, err
			}
			r.label = image.Rect(x, y+textH-lb.Height(), x+lw, y+textH)
			if err := lb.Draw(img, fs.regular, x, width, r.label.Min.Y, textfit.Left, picture.Text); err != nil {
				return nil, err
			}
		}
		vw, err := vb.Width(fs.bold)
		if err != nil {
			return nil, err
		}
		r.value = image.Rect(x+width-vw, y+textH-vb.Height(), x+width, y+textH)
		if err := vb.Draw(img, fs.bold, x, width, r.value.Min.Y, textfit.Right, picture.Text); err != nil {
			return nil, err
		}
		r.track = image.Rect(x, y+textH+textBarGap, x+width, y+textH+textBarGap+barH)
		draw.Draw(img, r.track, image.NewUniform(track), image.Point{}, draw.Src)
		if b.Count > 0 {
			n := int(math.Round(float64(b.Count) * float64(width) / float64(most)))
			r.bar = image.Rect(x, r.track.Min.Y, x+max(n, minBarLen), r.track.Max.Y)
			draw.Draw(img, r.bar, image.NewUniform(picture.Accent), image.Point{}, draw.Src)
		}
		rows = append(rows, r)
	}
	return rows, nil
}
