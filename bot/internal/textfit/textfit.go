// Package textfit fits text into boxes for the pictures the bot draws (the
// QR card, the results chart): it cleans text down to what a font can draw,
// wraps it into lines of a width, picks the largest font size that fits and
// ellipsizes what does not. It draws with the Go fonts, which need no files
// on the server and cover Latin (Czech, Norwegian) and Cyrillic (Ukrainian).
//
// There is no shaping: text is drawn rune by rune, which is right for the
// scripts above and is why runes without a glyph are removed beforehand.
package textfit

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"
)

// The Go fonts, parsed once on first use. A parsed font is read-only and
// safe to share between goroutines.
var (
	Regular  = parsed("goregular", goregular.TTF)
	Bold     = parsed("gobold", gobold.TTF)
	Mono     = parsed("gomono", gomono.TTF)
	MonoBold = parsed("gomonobold", gomonobold.TTF)
)

func parsed(name string, ttf []byte) func() (*sfnt.Font, error) {
	return sync.OnceValues(func() (*sfnt.Font, error) {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return nil, fmt.Errorf("textfit: parse %s: %w", name, err)
		}
		return f, nil
	})
}

// NewFace returns a face of f whose size is in pixels.
func NewFace(f *sfnt.Font, size int) (font.Face, error) {
	return opentype.NewFace(f, &opentype.FaceOptions{
		Size:    float64(size),
		DPI:     72, // size is in pixels
		Hinting: font.HintingNone,
	})
}

// HasGlyph reports whether f can draw r.
func HasGlyph(f *sfnt.Font, r rune) bool {
	var buf sfnt.Buffer
	gi, err := f.GlyphIndex(&buf, r)
	return err == nil && gi != 0
}

// Clean normalizes s for drawing with f: NFC (so "é" is one glyph, not
// e + combining accent), whitespace collapsed to single spaces, and runes the
// font has no glyph for (emoji, CJK, control and format characters) dropped
// instead of being drawn as boxes. It keeps at most maxRunes runes, which
// bounds the work on absurd input.
func Clean(s string, f *sfnt.Font, maxRunes int) string {
	return clean(s, f, maxRunes, false)
}

// CleanLetters is Clean, except that a letter the font lacks is replaced by
// its base letter when the font has that ("ạ" → "a"): a word missing one
// accent still reads, a word missing a letter does not.
func CleanLetters(s string, f *sfnt.Font, maxRunes int) string {
	return clean(s, f, maxRunes, true)
}

func clean(s string, f *sfnt.Font, maxRunes int, baseLetters bool) string {
	s = norm.NFC.String(s)
	var (
		b     strings.Builder
		buf   sfnt.Buffer
		space bool
		n     int
	)
	for _, r := range s {
		if n >= maxRunes {
			break
		}
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			continue
		}
		if gi, err := f.GlyphIndex(&buf, r); err != nil || gi == 0 {
			if !baseLetters || !unicode.IsLetter(r) {
				continue
			}
			base, _ := utf8.DecodeRuneInString(norm.NFD.String(string(r)))
			if gi, err := f.GlyphIndex(&buf, base); base == r || err != nil || gi == 0 {
				continue
			}
			r = base
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// Block is text broken into lines at one font size.
type Block struct {
	Size       int // font size, px
	Lines      []string
	LineHeight int // baseline to baseline, px
	Ascent     int
	Descent    int
}

// Height is the height of the block from the top of its first line to the
// bottom of its last, px.
func (b *Block) Height() int {
	return (len(b.Lines)-1)*b.LineHeight + b.Ascent + b.Descent
}

// Width is the width of the widest line, px.
func (b *Block) Width(f *sfnt.Font) (int, error) {
	face, err := NewFace(f, b.Size)
	if err != nil {
		return 0, err
	}
	defer face.Close()
	w := fixed.I(0)
	for _, l := range b.Lines {
		w = max(w, font.MeasureString(face, l))
	}
	return w.Ceil(), nil
}

// Widest is the width of the widest of the blocks drawn with f, px.
func Widest(f *sfnt.Font, bs []*Block) (int, error) {
	w := 0
	for _, b := range bs {
		bw, err := b.Width(f)
		if err != nil {
			return 0, err
		}
		w = max(w, bw)
	}
	return w, nil
}

// Tallest is the height of the tallest of the blocks, px.
func Tallest(bs []*Block) int {
	h := 0
	for _, b := range bs {
		h = max(h, b.Height())
	}
	return h
}

// Align places each line within the box it is drawn in.
type Align int

const (
	Left Align = iota
	Center
	Right
)

// Draw draws the block with f in colour c onto dst, each line aligned within
// the box that starts at x and is width px wide; top is the top of the
// block.
func (b *Block) Draw(dst draw.Image, f *sfnt.Font, x, width, top int, align Align, c color.Color) error {
	face, err := NewFace(f, b.Size)
	if err != nil {
		return err
	}
	defer face.Close()
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face}
	for i, line := range b.Lines {
		lx := fixed.I(x)
		switch align {
		case Center:
			lx += (fixed.I(width) - d.MeasureString(line)) / 2
		case Right:
			lx += fixed.I(width) - d.MeasureString(line)
		}
		d.Dot = fixed.Point26_6{X: lx, Y: fixed.I(top + b.Ascent + i*b.LineHeight)}
		d.DrawString(line)
	}
	return nil
}

func newBlock(face font.Face, size int, lines []string, spacing float64) *Block {
	if spacing == 0 {
		spacing = DefaultLineSpacing
	}
	met := face.Metrics()
	return &Block{
		Size:       size,
		Lines:      lines,
		LineHeight: int(math.Round(float64(size) * spacing)),
		Ascent:     met.Ascent.Ceil(),
		Descent:    met.Descent.Ceil(),
	}
}

// Step is how much the font size shrinks between tries, px.
const Step = 2

// DefaultLineSpacing is the line height as a multiple of the font size
// when Spec.LineSpacing is 0.
const DefaultLineSpacing = 1.2

// WrapFunc breaks s into lines of at most width px drawn with face.
type WrapFunc func(face font.Face, s string, width int) []string

// Spec says how text may be fitted.
type Spec struct {
	Width            int // of a line, px
	MaxSize, MinSize int // font sizes tried, from MaxSize down by Step, px
	MaxLines         int
	Wrap             WrapFunc // WrapWords or WrapRunes
	// Ellipsize cuts the text with "…" at the smallest size when it does not
	// fit; without it, text that does not fit is not fitted at all.
	Ellipsize   bool
	LineSpacing float64 // line height as a multiple of the size; 0 means DefaultLineSpacing
}

// Fit wraps s into at most sp.MaxLines lines using the largest size that
// fits (see Spec). It returns nil when s does not fit and sp.Ellipsize is
// false.
func Fit(f *sfnt.Font, s string, sp Spec) *Block {
	bs := FitAll(f, []string{s}, sp)
	if bs == nil {
		return nil
	}
	return bs[0]
}

// FitAll is Fit for texts that must share one font size (the rows of a
// table, say): the largest size at which every text fits. At the smallest
// size, texts that do not fit are ellipsized if sp.Ellipsize is set;
// otherwise FitAll returns nil.
func FitAll(f *sfnt.Font, ss []string, sp Spec) []*Block {
	for size := sp.MaxSize; size >= sp.MinSize; size -= Step {
		face, err := NewFace(f, size)
		if err != nil {
			return nil
		}
		last := size-Step < sp.MinSize
		blocks := make([]*Block, len(ss))
		for i, s := range ss {
			lines := sp.Wrap(face, s, sp.Width)
			if len(lines) > sp.MaxLines {
				if !last || !sp.Ellipsize {
					blocks = nil
					break
				}
				lines = append(lines[:sp.MaxLines-1], Ellipsis(face, strings.Join(lines[sp.MaxLines-1:], " "), sp.Width))
			}
			blocks[i] = newBlock(face, size, lines, sp.LineSpacing)
		}
		face.Close()
		if blocks != nil {
			return blocks
		}
	}
	return nil
}

// Line fits s, cleaned for f (CleanLetters, at most maxRunes), into one
// line width px wide: the largest size from maxSize down to minSize, and
// ellipsized at minSize if need be. Nil when nothing of s can be drawn.
func Line(f *sfnt.Font, s string, width, maxSize, minSize, maxRunes int) *Block {
	s = CleanLetters(s, f, maxRunes)
	if s == "" {
		return nil
	}
	return Fit(f, s, Spec{Width: width, MaxSize: maxSize, MinSize: minSize, MaxLines: 1, Wrap: WrapWords, Ellipsize: true})
}

// Fits reports whether s drawn with face is at most width px wide.
func Fits(face font.Face, s string, width int) bool {
	return font.MeasureString(face, s) <= fixed.I(width)
}

// WrapWords greedily fills lines word by word; a word wider than a line is
// broken between runes.
func WrapWords(face font.Face, s string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		if cur != "" && Fits(face, cur+" "+w, width) {
			cur += " " + w
			continue
		}
		if cur != "" {
			lines = append(lines, cur)
		}
		cur = ""
		if Fits(face, w, width) {
			cur = w
			continue
		}
		parts := WrapRunes(face, w, width)
		lines = append(lines, parts[:len(parts)-1]...)
		cur = parts[len(parts)-1]
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// WrapRunes fills lines rune by rune.
func WrapRunes(face font.Face, s string, width int) []string {
	var lines []string
	start := 0
	for start < len(s) {
		end := start
		for end < len(s) {
			_, sz := utf8.DecodeRuneInString(s[end:])
			if !Fits(face, s[start:end+sz], width) {
				break
			}
			end += sz
		}
		if end == start { // a single rune wider than the line: take it anyway
			_, sz := utf8.DecodeRuneInString(s[start:])
			end += sz
		}
		lines = append(lines, s[start:end])
		start = end
	}
	return lines
}

// Ellipsis returns the longest prefix of s that fits width with "…" appended.
func Ellipsis(face font.Face, s string, width int) string {
	const dots = "…"
	best := ""
	for i := range s {
		if i == 0 {
			continue
		}
		if !Fits(face, s[:i]+dots, width) {
			break
		}
		best = s[:i]
	}
	best = strings.TrimRightFunc(best, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) && r != ')' && r != '"'
	})
	return best + dots
}
