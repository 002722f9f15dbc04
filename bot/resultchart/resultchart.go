// Package resultchart draws the results picture of a forum's class vote: a
// horizontal bar chart of the shortlist, sent to the teacher and projected
// in the classroom.
//
// Why it looks the way it does:
//
//   - 1920×1080 px, 16:9: the native size of full-HD projectors, classroom
//     TVs and interactive boards, so nothing is rescaled there, and the
//     largest 16:9 picture worth making (1600×900 would be rescaled on all of
//     those). An older 1280×800 projector shows it at 2/3, which the smallest
//     sizes below still survive. Sent as a Telegram photo it may be shrunk
//     to 1280 px wide; sent as a document it keeps every pixel.
//   - White background, near-black text and one dark blue for every bar:
//     projectors wash out pale colours and thin light text, not dark on
//     white, and with a single colour nobody has to tell colours apart.
//   - Bars are horizontal so that long titles stay on the left, in reading
//     order; a bar's length is its votes relative to the most votes, and the
//     count, as the caller words it, stands at its end (a bar with no votes
//     is left out, its count is not). Every other row has a pale stripe
//     behind it so the eye can follow a row from title to count.
//   - The title is 64 px (56 at least), item labels 30 to 44 px. On a 16:9
//     slide 1080 px high, 2 px is 1 pt: the title is a 28–32 pt heading, and
//     labels are 15–22 pt. Labels get the largest size at which every label
//     fits in two lines, or in one when rows are too low for two (from 13
//     bars on, with title, subtitle and footer); at 30 px what does not fit
//     is ellipsized. Twelve two-line labels still fit at 30 px.
//   - At most MaxBars bars: a shortlist has about ten, denser rows are hard
//     to follow across the room, and the package cannot word "and 3 more"
//     in the forum's language; so PNG refuses and the caller decides what
//     to leave out (and may say so in the Footer).
//
// The package knows nothing of forums, languages or Telegram: every text
// comes localised from the caller. Letters the Go fonts lack are drawn as
// their base letter, other runes without a glyph (emoji) and invisible ones
// are dropped (see textfit.CleanLetters).
package resultchart

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
	Width  = 1920
	Height = 1080
)

// MaxBars is the most bars a chart can have.
const MaxBars = 15

// Bar is one shortlist item.
type Bar struct {
	// Label is the item's title in the forum's language, of any length: it
	// is wrapped into at most two lines (one from 13 bars on) and
	// ellipsized beyond.
	Label string
	Votes int
	// Value is the vote count as shown, localised by the caller
	// ("12 hlasů", "1 vote"); empty means the bare number.
	Value string
}

// Chart is what PNG draws. Every text is already localised and formatted;
// an empty Title, Subtitle or Footer is left out and the rows get its room.
type Chart struct {
	Title    string // "Výsledky hlasování"
	Subtitle string // the forum's name and date: "8.B – ZŠ Komenského · 15. 12. 2026"
	// Bars in rank order, most votes first, drawn in this order. Bars with
	// as many votes as the bar above share its rank number (1, 2, 2, 4).
	Bars   []Bar
	Footer string // optional small line at the bottom: "28 of 30 students voted"
}

var (
	// ErrNoBars is returned for a chart without bars.
	ErrNoBars = errors.New("resultchart: no bars")
	// ErrTooManyBars is returned for a chart with more than MaxBars bars.
	ErrTooManyBars = fmt.Errorf("resultchart: more than %d bars", MaxBars)
	// ErrNegativeVotes is returned for a bar with fewer than 0 votes.
	ErrNegativeVotes = errors.New("resultchart: negative votes")
	// ErrNotRanked is returned when a bar has more votes than the one above
	// it: the rank numbers would contradict the bars.
	ErrNotRanked = errors.New("resultchart: bars not in rank order")
)

const (
	marginX      = 80 // left and right, px; also clear of a TV's overscan
	marginTop    = 36
	marginBottom = 28

	titleMaxSize, titleMinSize       = 64, 56
	subtitleMaxSize, subtitleMinSize = 34, 28
	footerMaxSize, footerMinSize     = 28, 24
	labelMaxSize, labelMinSize       = 44, 30

	titleGap   = 4  // between title and subtitle
	headerGap  = 20 // between the header and the first row
	footerGap  = 12 // between the last row and the footer
	rankGap    = 16 // between the rank number and the label
	labelGap   = 28 // between the label and the bar
	valueGap   = 16 // between the bar's end and its value
	stripePad  = 16 // how far a row's stripe reaches past the margins
	maxPitch   = 120
	minBarLen  = 4    // a bar with votes is never thinner than this, px
	barShare   = 0.6  // of a row's height that the bar takes
	maxBarH    = 64   // so that a few bars do not look like blocks
	labelShare = 0.52 // of the content width that labels may take at most
	valueShare = 0.22 // likewise the value texts

	labelSpacing = 1.1 // line height of labels; tighter than text's 1.2, as a label is at most 2 lines

	maxTextRunes = 400 // beyond this nothing could fit in two lines anyway
)

var (
	background = picture.Background
	textColor  = picture.Text
	mutedColor = picture.Muted
	accent     = picture.Accent
	// stripe is behind every other row.
	stripe = color.RGBA{0xee, 0xf2, 0xf8, 0xff}
)

// PNG draws c as a 1920×1080 PNG. It fails (with the errors above) for no
// bars, too many, negative votes, or votes that grow down the list. The
// output is deterministic for the same chart.
func PNG(c Chart) ([]byte, error) {
	img, _, err := render(c)
	if err != nil {
		return nil, err
	}
	b, err := picture.PNG(img)
	if err != nil {
		return nil, fmt.Errorf("resultchart: %w", err)
	}
	return b, nil
}

func validate(bars []Bar) error {
	switch {
	case len(bars) == 0:
		return ErrNoBars
	case len(bars) > MaxBars:
		return fmt.Errorf("%w: %d", ErrTooManyBars, len(bars))
	}
	for i, b := range bars {
		if b.Votes < 0 {
			return fmt.Errorf("%w: bar %d has %d", ErrNegativeVotes, i+1, b.Votes)
		}
		if i > 0 && b.Votes > bars[i-1].Votes {
			return fmt.Errorf("%w: bar %d has %d votes, bar %d only %d", ErrNotRanked, i+1, b.Votes, i, bars[i-1].Votes)
		}
	}
	return nil
}

// ranks numbers the bars by standard competition ranking: a tie shares the
// number and the next distinct count skips as many (1, 2, 2, 4).
func ranks(bars []Bar) []int {
	r := make([]int, len(bars))
	for i, b := range bars {
		if i > 0 && b.Votes == bars[i-1].Votes {
			r[i] = r[i-1]
		} else {
			r[i] = i + 1
		}
	}
	return r
}

// layout records where things were drawn (used by tests).
type layout struct {
	title, subtitle, footer image.Rectangle // empty when not drawn
	titleSize, labelSize    int
	pitch                   int // row height, px
	barX, barMax            int // where bars start and the longest bar's length
	valueMax                int // right edge of the widest value after the longest bar
	rows                    []row
}

type row struct {
	rank  int
	box   image.Rectangle // the whole row
	label image.Rectangle // the label's block, as wide as the label column
	lines []string
	bar   image.Rectangle // empty for 0 votes
	value image.Rectangle
	vtext string // the value as drawn
}

type fonts struct{ regular, bold *sfnt.Font }

func loadFonts() (fonts, error) {
	r, err := textfit.Regular()
	if err != nil {
		return fonts{}, err
	}
	b, err := textfit.Bold()
	return fonts{r, b}, err
}

// text is one fitted line of the header or footer.
type text struct {
	blk  *textfit.Block
	font *sfnt.Font
	c    color.Color
}

// line fits s into one line of the content width, shrinking from maxSize to
// minSize and ellipsizing beyond; nil for empty text.
func line(f *sfnt.Font, s string, maxSize, minSize int, c color.Color) *text {
	if b := textfit.Line(f, s, Width-2*marginX, maxSize, minSize, maxTextRunes); b != nil {
		return &text{b, f, c}
	}
	return nil
}

func render(c Chart) (*image.RGBA, layout, error) {
	var lo layout
	if err := validate(c.Bars); err != nil {
		return nil, lo, err
	}
	fs, err := loadFonts()
	if err != nil {
		return nil, lo, err
	}
	content := Width - 2*marginX

	// Header and footer, then the rows get what is left.
	title := line(fs.bold, c.Title, titleMaxSize, titleMinSize, textColor)
	subtitle := line(fs.regular, c.Subtitle, subtitleMaxSize, subtitleMinSize, mutedColor)
	footer := line(fs.regular, c.Footer, footerMaxSize, footerMinSize, mutedColor)
	y := marginTop
	if title != nil {
		lo.title = image.Rect(marginX, y, Width-marginX, y+title.blk.Height())
		lo.titleSize = title.blk.Size
		y = lo.title.Max.Y + titleGap
	}
	if subtitle != nil {
		lo.subtitle = image.Rect(marginX, y, Width-marginX, y+subtitle.blk.Height())
		y = lo.subtitle.Max.Y
	}
	if title != nil || subtitle != nil {
		y += headerGap
	}
	rowsTop, rowsBottom := y, Height-marginBottom
	if footer != nil {
		rowsBottom -= footer.blk.Height() + footerGap
	}
	n := len(c.Bars)
	lo.pitch = min(maxPitch, (rowsBottom-rowsTop)/n)
	if footer != nil { // right under the rows, where it is read with them
		y := rowsTop + n*lo.pitch + footerGap
		lo.footer = image.Rect(marginX, y, Width-marginX, y+footer.blk.Height())
	}

	// Labels: one size for all, the largest at which they fit.
	labels := make([]string, n)
	for i, b := range c.Bars {
		labels[i] = textfit.CleanLetters(b.Label, fs.regular, maxTextRunes)
	}
	labelBlks := fitLabels(fs.regular, labels, int(labelShare*float64(content)), lo.pitch)
	if labelBlks == nil {
		return nil, lo, errors.New("resultchart: labels do not fit") // cannot happen with MaxBars rows
	}
	for _, b := range labelBlks {
		if len(b.Lines) == 0 { // nothing drawable in the label: keep the row's shape
			b.Lines = []string{""}
		}
	}
	size := labelBlks[0].Size
	lo.labelSize = size

	// Ranks and values in bold at the labels' size.
	rk := ranks(c.Bars)
	rankTexts := make([]string, n)
	values := make([]string, n)
	for i, b := range c.Bars {
		rankTexts[i] = strconv.Itoa(rk[i]) + "."
		v := textfit.CleanLetters(b.Value, fs.bold, maxTextRunes)
		if v == "" {
			v = strconv.Itoa(b.Votes)
		}
		values[i] = v
	}
	one := textfit.Spec{Width: content, MaxSize: size, MinSize: size, MaxLines: 1, Wrap: textfit.WrapWords, Ellipsize: true}
	rankBlks := textfit.FitAll(fs.bold, rankTexts, one)
	one.Width = int(valueShare * float64(content))
	valueBlks := textfit.FitAll(fs.bold, values, one)
	if rankBlks == nil || valueBlks == nil {
		return nil, lo, errors.New("resultchart: cannot fit ranks or values")
	}

	// Columns: rank | label | bar … value.
	rankW, err := textfit.Widest(fs.bold, rankBlks)
	if err != nil {
		return nil, lo, err
	}
	labelW, err := textfit.Widest(fs.regular, labelBlks)
	if err != nil {
		return nil, lo, err
	}
	valueW, err := textfit.Widest(fs.bold, valueBlks)
	if err != nil {
		return nil, lo, err
	}
	labelX := marginX + rankW + rankGap
	lo.barX = labelX + labelW + labelGap
	lo.barMax = Width - marginX - valueW - valueGap - lo.barX
	maxVotes := c.Bars[0].Votes
	barH := min(maxBarH, int(barShare*float64(lo.pitch)))

	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	draw.Draw(img, img.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)

	for i, b := range c.Bars {
		top := rowsTop + i*lo.pitch
		r := row{rank: rk[i], box: image.Rect(marginX, top, Width-marginX, top+lo.pitch), lines: labelBlks[i].Lines, vtext: valueBlks[i].Lines[0]}
		mid := top + lo.pitch/2
		if i%2 == 0 { // the first row too, which sets the rows apart from the header
			draw.Draw(img, r.box.Inset(-stripePad).Intersect(image.Rect(0, top, Width, top+lo.pitch)), image.NewUniform(stripe), image.Point{}, draw.Src)
		}
		lh := labelBlks[i].Height()
		r.label = image.Rect(labelX, mid-lh/2, labelX+labelW, mid-lh/2+lh)
		// The rank sits on the label's first line.
		if err := rankBlks[i].Draw(img, fs.bold, marginX, rankW, r.label.Min.Y, textfit.Right, textColor); err != nil {
			return nil, lo, err
		}
		if err := labelBlks[i].Draw(img, fs.regular, labelX, labelW, r.label.Min.Y, textfit.Left, textColor); err != nil {
			return nil, lo, err
		}
		valueX := lo.barX
		if b.Votes > 0 {
			n := int(math.Round(float64(b.Votes) * float64(lo.barMax) / float64(maxVotes)))
			r.bar = image.Rect(lo.barX, mid-barH/2, lo.barX+max(n, minBarLen), mid-barH/2+barH)
			draw.Draw(img, r.bar, image.NewUniform(accent), image.Point{}, draw.Src)
			valueX = r.bar.Max.X + valueGap
		}
		vb := valueBlks[i]
		vw, err := vb.Width(fs.bold)
		if err != nil {
			return nil, lo, err
		}
		r.value = image.Rect(valueX, mid-vb.Height()/2, valueX+vw, mid-vb.Height()/2+vb.Height())
		if err := vb.Draw(img, fs.bold, valueX, vw, r.value.Min.Y, textfit.Left, textColor); err != nil {
			return nil, lo, err
		}
		lo.valueMax = max(lo.valueMax, r.value.Max.X)
		lo.rows = append(lo.rows, r)
	}

	for _, t := range []struct {
		t *text
		r image.Rectangle
	}{{title, lo.title}, {subtitle, lo.subtitle}, {footer, lo.footer}} {
		if t.t == nil {
			continue
		}
		if err := t.t.blk.Draw(img, t.t.font, t.r.Min.X, t.r.Dx(), t.r.Min.Y, textfit.Left, t.t.c); err != nil {
			return nil, lo, err
		}
	}
	return img, lo, nil
}

// fitLabels fits the labels into width at one size, the largest from
// labelMaxSize down to labelMinSize at which each fits in two lines, or in
// one where two lines would be taller than a row; at labelMinSize the rest
// is ellipsized.
func fitLabels(f *sfnt.Font, labels []string, width, pitch int) []*textfit.Block {
	for size := labelMaxSize; size >= labelMinSize; size -= textfit.Step {
		last := size-textfit.Step < labelMinSize
		for _, lines := range []int{2, 1} {
			bs := textfit.FitAll(f, labels, textfit.Spec{
				Width: width, MaxSize: size, MinSize: size, MaxLines: lines,
				Wrap: textfit.WrapWords, Ellipsize: last, LineSpacing: labelSpacing,
			})
			if bs != nil && textfit.Tallest(bs) <= pitch {
				return bs
			}
		}
	}
	return nil
}
