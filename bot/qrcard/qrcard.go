// Package qrcard renders a forum's join link as a PNG "card" meant for a
// classroom projector: a big QR code, the forum name under it and the link
// in plain text, so students can scan it from the back of the room (or type
// it if their camera refuses).
//
// Why the sizes are what they are:
//
//   - The card is Width (1080) px wide. Telegram shows photos up to 1280 px,
//     so 1080 px is not downscaled on a projector-sized screen, and it is a
//     common Telegram photo size that stays small as a file.
//   - What makes a QR code readable from far away is the size of one module
//     (one black or white square) on the screen. The module size is the
//     largest whole number of pixels that lets the code plus its 4-module
//     quiet zone fit the width; whole pixels keep every edge sharp (no
//     blurry resampling). A short join link gets modules of 20–30 px.
//   - Error correction is High when that costs no module size and Medium
//     otherwise: on a projector, bigger modules help more than spare
//     redundancy. An encoding with a finder-pattern look-alike in its data,
//     which trips up ZXing-style scanners, is swapped for one up to 1 px
//     per module smaller (see hasFalseFinder).
//   - The title is bold, 76 px shrinking to 36 px, at most 3 lines, and
//     ellipsized past that; the link is in Go Mono (0/O and 1/l/I look
//     different) so it can be typed.
package qrcard

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"
)

// Width is the width of every card in pixels.
const Width = 1080

// MaxLinkLen is the longest link (in bytes) PNG accepts.
const MaxLinkLen = 500

var (
	// ErrEmptyLink is returned for an empty (or blank) link.
	ErrEmptyLink = errors.New("qrcard: empty link")
	// ErrLinkTooLong is returned for a link longer than MaxLinkLen bytes.
	ErrLinkTooLong = fmt.Errorf("qrcard: link longer than %d bytes", MaxLinkLen)
	// ErrInvalidLink is returned for a link that is not valid UTF-8.
	ErrInvalidLink = errors.New("qrcard: link is not valid UTF-8")
)

const (
	quietModules = 4  // QR quiet zone required by the spec, in modules
	textMargin   = 64 // minimum left/right margin of the text, px

	titleMaxSize = 76
	titleMinSize = 36
	titleMaxLine = 3

	linkMaxSize  = 40
	linkMinSize  = 26
	linkMaxLines = 3

	sizeStep = 2
)

var (
	titleColor = color.Gray{Y: 0x11}
	linkColor  = color.Gray{Y: 0x44}
)

// PNG renders the card for link with title under the QR code. title may be
// empty. The output is deterministic for the same input.
func PNG(link, title string) ([]byte, error) {
	img, _, err := render(link, title)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qrcard: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// layout records where things were drawn (used by tests).
type layout struct {
	module   int // QR module size, px
	modules  int // QR size in modules, without the quiet zone
	level    qrcode.RecoveryLevel
	qr       image.Rectangle // the QR symbol, without the quiet zone
	title    image.Rectangle // title text block (empty if no title)
	link     image.Rectangle // link text block (empty if not drawn)
	titleLen int             // lines of title
}

func validate(link string) error {
	switch {
	case strings.TrimSpace(link) == "":
		return ErrEmptyLink
	case len(link) > MaxLinkLen:
		return ErrLinkTooLong
	case !utf8.ValidString(link):
		return ErrInvalidLink
	}
	return nil
}

// encodeQR picks the encoding and returns the symbol bitmap (without quiet
// zone), the module size in px and the error-correction level.
//
// Candidates are the smallest versions at levels High and Medium and the
// next two versions of each, ordered by module size (largest first), then
// High before Medium, then smaller version. The first one is used unless it
// has a look-alike finder pattern (see hasFalseFinder) and a candidate
// without one costs at most 1 px of module size.
func encodeQR(link string) (bits [][]bool, module int, level qrcode.RecoveryLevel, err error) {
	type cand struct {
		level   qrcode.RecoveryLevel
		version int
		module  int
	}
	var cands []cand
	for _, lv := range []qrcode.RecoveryLevel{qrcode.High, qrcode.Medium} {
		q, err := qrcode.New(link, lv) // cheap: picks the version, does not encode yet
		if err != nil {
			continue
		}
		for v := q.VersionNumber; v <= min(q.VersionNumber+2, 40); v++ {
			size := 17 + 4*v // modules per side of version v
			cands = append(cands, cand{lv, v, Width / (size + 2*quietModules)})
		}
	}
	if len(cands) == 0 {
		return nil, 0, 0, fmt.Errorf("qrcard: cannot encode link as QR code")
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.module != b.module {
			return cmp.Compare(b.module, a.module)
		}
		if a.level != b.level {
			return cmp.Compare(b.level, a.level) // High before Medium
		}
		return cmp.Compare(a.version, b.version)
	})
	var (
		first     [][]bool
		firstCand cand
	)
	for _, c := range cands {
		if c.module < cands[0].module-1 {
			break
		}
		q, err := qrcode.NewWithForcedVersion(link, c.version, c.level)
		if err != nil {
			continue
		}
		q.DisableBorder = true
		b := q.Bitmap()
		if !hasFalseFinder(b) {
			return b, c.module, c.level, nil
		}
		if first == nil {
			first, firstCand = b, c
		}
	}
	if first == nil {
		return nil, 0, 0, fmt.Errorf("qrcard: cannot encode link as QR code")
	}
	// Every candidate has a look-alike finder; the symbol is still valid.
	return first, firstCand.module, firstCand.level, nil
}

func render(link, title string) (*image.Gray, layout, error) {
	var lo layout
	if err := validate(link); err != nil {
		return nil, lo, err
	}
	fs, err := loadFonts()
	if err != nil {
		return nil, lo, err
	}
	bits, m, level, err := encodeQR(link)
	if err != nil {
		return nil, lo, err
	}
	n := len(bits)
	lo.module, lo.modules, lo.level = m, n, level

	qrPx := n * m
	side := (Width - qrPx) / 2 // >= quietModules*m by construction
	lo.qr = image.Rect(side, side, side+qrPx, side+qrPx)

	textWidth := Width - 2*textMargin
	y := lo.qr.Max.Y + quietModules*m // text starts after the quiet zone

	var titleBlk, linkBlk *textBlock
	if t := cleanText(title, fs.bold); t != "" {
		titleBlk = fitTitle(fs.bold, t, textWidth)
	}
	if l := cleanText(strings.TrimPrefix(link, "https://"), fs.mono); l != "" {
		maxSize := linkMaxSize
		if titleBlk != nil { // keep the link visibly smaller than the title
			maxSize = max(linkMinSize, min(maxSize, titleBlk.size*3/4))
		}
		linkBlk = fitLink(fs.mono, l, textWidth, maxSize)
	}

	// Vertical layout.
	if titleBlk != nil {
		lo.title = image.Rect(textMargin, y, Width-textMargin, y+titleBlk.height())
		lo.titleLen = len(titleBlk.lines)
		y = lo.title.Max.Y
	}
	if linkBlk != nil {
		if titleBlk != nil {
			y += linkBlk.size * 3 / 4
		}
		lo.link = image.Rect(textMargin, y, Width-textMargin, y+linkBlk.height())
		y = lo.link.Max.Y
	}
	if titleBlk == nil && linkBlk == nil {
		y = lo.qr.Max.Y // the bottom margin below provides the quiet zone
	}
	height := y + side

	img := image.NewGray(image.Rect(0, 0, Width, height))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	drawQR(img, bits, lo.qr.Min, m)
	if titleBlk != nil {
		if err := titleBlk.draw(img, fs.bold, lo.title.Min.Y, titleColor); err != nil {
			return nil, lo, err
		}
	}
	if linkBlk != nil {
		if err := linkBlk.draw(img, fs.mono, lo.link.Min.Y, linkColor); err != nil {
			return nil, lo, err
		}
	}
	return img, lo, nil
}

func drawQR(img *image.Gray, bits [][]bool, at image.Point, m int) {
	for r, row := range bits {
		for c, dark := range row {
			if !dark {
				continue
			}
			x0, y0 := at.X+c*m, at.Y+r*m
			for y := y0; y < y0+m; y++ {
				off := img.PixOffset(x0, y)
				clear(img.Pix[off : off+m])
			}
		}
	}
}

// --- fonts ---------------------------------------------------------------

type fonts struct {
	bold, mono *sfnt.Font
}

var loadFonts = sync.OnceValues(func() (*fonts, error) {
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, fmt.Errorf("qrcard: parse gobold: %w", err)
	}
	mono, err := opentype.Parse(gomono.TTF)
	if err != nil {
		return nil, fmt.Errorf("qrcard: parse gomono: %w", err)
	}
	return &fonts{bold: bold, mono: mono}, nil
})

func newFace(f *sfnt.Font, size int) (font.Face, error) {
	return opentype.NewFace(f, &opentype.FaceOptions{
		Size:    float64(size),
		DPI:     72, // size is in pixels
		Hinting: font.HintingNone,
	})
}

// maxTextRunes bounds the work on absurd input; anything beyond this could
// never fit into three lines anyway.
const maxTextRunes = 400

// cleanText normalizes s for drawing with f: NFC (so "é" is one glyph, not
// e + combining accent), whitespace collapsed to single spaces, and runes the
// font has no glyph for (emoji, CJK, control and format characters) dropped
// instead of being drawn as boxes.
func cleanText(s string, f *sfnt.Font) string {
	s = norm.NFC.String(s)
	var (
		b     strings.Builder
		buf   sfnt.Buffer
		space bool
		n     int
	)
	for _, r := range s {
		if n >= maxTextRunes {
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
			continue
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

// --- text layout ---------------------------------------------------------

type textBlock struct {
	size       int
	lines      []string
	lineHeight int
	ascent     int
	descent    int
}

func (t *textBlock) height() int {
	return (len(t.lines)-1)*t.lineHeight + t.ascent + t.descent
}

func (t *textBlock) draw(img *image.Gray, f *sfnt.Font, top int, c color.Gray) error {
	face, err := newFace(f, t.size)
	if err != nil {
		return err
	}
	defer face.Close()
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face}
	for i, line := range t.lines {
		w := d.MeasureString(line)
		x := (fixed.I(Width) - w) / 2
		d.Dot = fixed.Point26_6{X: x, Y: fixed.I(top + t.ascent + i*t.lineHeight)}
		d.DrawString(line)
	}
	return nil
}

func newBlock(face font.Face, size int, lines []string) *textBlock {
	met := face.Metrics()
	return &textBlock{
		size:       size,
		lines:      lines,
		lineHeight: int(math.Round(float64(size) * 1.2)),
		ascent:     met.Ascent.Ceil(),
		descent:    met.Descent.Ceil(),
	}
}

// fitTitle wraps s at word boundaries into at most titleMaxLine lines of at
// most width px, using the largest font size that fits; at the smallest size
// it ellipsizes the last line.
func fitTitle(f *sfnt.Font, s string, width int) *textBlock {
	return fit(f, s, width, titleMaxSize, titleMinSize, titleMaxLine, wrapWords, true)
}

// fitLink puts the link on one line, shrinking it from maxSize down to
// linkMinSize if needed; a longer link is broken anywhere (it has no spaces)
// into at most linkMaxLines lines at linkMinSize. A link that does not fit even then is
// not drawn at all (nobody types that much; an ellipsized link is useless).
func fitLink(f *sfnt.Font, s string, width, maxSize int) *textBlock {
	if b := fit(f, s, width, maxSize, linkMinSize, 1, wrapRunes, false); b != nil {
		return b
	}
	return fit(f, s, width, linkMinSize, linkMinSize, linkMaxLines, wrapRunes, false)
}

type wrapFunc func(face font.Face, s string, width int) []string

func fit(f *sfnt.Font, s string, width, maxSize, minSize, maxLines int, wrap wrapFunc, ellipsize bool) *textBlock {
	for size := maxSize; size >= minSize; size -= sizeStep {
		face, err := newFace(f, size)
		if err != nil {
			return nil
		}
		lines := wrap(face, s, width)
		if len(lines) <= maxLines {
			b := newBlock(face, size, lines)
			face.Close()
			return b
		}
		if size-sizeStep < minSize {
			var b *textBlock
			if ellipsize {
				lines = append(lines[:maxLines-1], ellipsis(face, strings.Join(lines[maxLines-1:], " "), width))
				b = newBlock(face, size, lines)
			}
			face.Close()
			return b
		}
		face.Close()
	}
	return nil
}

func fits(face font.Face, s string, width int) bool {
	return font.MeasureString(face, s) <= fixed.I(width)
}

// wrapWords greedily fills lines word by word; a word wider than a line is
// broken between runes.
func wrapWords(face font.Face, s string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		if cur != "" && fits(face, cur+" "+w, width) {
			cur += " " + w
			continue
		}
		if cur != "" {
			lines = append(lines, cur)
		}
		cur = ""
		if fits(face, w, width) {
			cur = w
			continue
		}
		parts := wrapRunes(face, w, width)
		lines = append(lines, parts[:len(parts)-1]...)
		cur = parts[len(parts)-1]
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// wrapRunes fills lines rune by rune.
func wrapRunes(face font.Face, s string, width int) []string {
	var lines []string
	start := 0
	for start < len(s) {
		end := start
		for end < len(s) {
			_, sz := utf8.DecodeRuneInString(s[end:])
			if !fits(face, s[start:end+sz], width) {
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

// ellipsis returns the longest prefix of s that fits width with "…" appended.
func ellipsis(face font.Face, s string, width int) string {
	const dots = "…"
	best := ""
	for i := range s {
		if i == 0 {
			continue
		}
		if !fits(face, s[:i]+dots, width) {
			break
		}
		best = s[:i]
	}
	best = strings.TrimRightFunc(best, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) && r != ')' && r != '"'
	})
	return best + dots
}
