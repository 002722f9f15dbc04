// Package qrcard renders a forum's join link as a PNG "card" meant for a
// classroom projector: a big QR code, the forum name under it, what to type
// instead (/join and the forum's short code) in large letters, and the link
// in plain text, so students can scan it from the back of the room (or type
// the code if their camera refuses).
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
//   - What to type ("/join K7Q2-M9XD") is Go Mono Bold, one line, as large
//     as fits up to 120 px: about 104 px for a short code, letters some
//     7 cm tall when the card fills a classroom screen 1.5 m high, to be
//     read from the back row. It is the darkest, largest text after the QR
//     code because it is what a student whose camera fails copies.
package qrcard

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font/sfnt"

	"github.com/healthycities/napad/bot/internal/textfit"
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

	typedMaxSize = 120
	typedMinSize = 40
)

var (
	titleColor = color.Gray{Y: 0x11}
	linkColor  = color.Gray{Y: 0x44}
)

// PNG renders the card for link with title under the QR code, and typed
// (what students may type instead, e.g. "/join K7Q2-M9XD") under the
// title. title and typed may be empty. The output is deterministic for the
// same input.
func PNG(link, title, typed string) ([]byte, error) {
	img, _, err := render(link, title, typed)
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
	module    int // QR module size, px
	modules   int // QR size in modules, without the quiet zone
	level     qrcode.RecoveryLevel
	qr        image.Rectangle // the QR symbol, without the quiet zone
	title     image.Rectangle // title text block (empty if no title)
	typed     image.Rectangle // what to type instead (empty if not drawn)
	typedSize int             // its font size, px
	link      image.Rectangle // link text block (empty if not drawn)
	titleLen  int             // lines of title
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

func render(link, title, typed string) (*image.Gray, layout, error) {
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

	var titleBlk, typedBlk, linkBlk *textfit.Block
	if t := cleanText(title, fs.bold); t != "" {
		titleBlk = fitTitle(fs.bold, t, textWidth)
	}
	if t := cleanText(typed, fs.monoBold); t != "" {
		typedBlk = textfit.Fit(fs.monoBold, t, textfit.Spec{
			Width: textWidth, MaxSize: typedMaxSize, MinSize: typedMinSize, MaxLines: 1, Wrap: textfit.WrapRunes,
		})
	}
	if l := cleanText(strings.TrimPrefix(link, "https://"), fs.mono); l != "" {
		maxSize := linkMaxSize
		if titleBlk != nil { // keep the link visibly smaller than the title
			maxSize = max(linkMinSize, min(maxSize, titleBlk.Size*3/4))
		}
		linkBlk = fitLink(fs.mono, l, textWidth, maxSize)
	}

	// Vertical layout.
	if titleBlk != nil {
		lo.title = image.Rect(textMargin, y, Width-textMargin, y+titleBlk.Height())
		lo.titleLen = len(titleBlk.Lines)
		y = lo.title.Max.Y
	}
	if typedBlk != nil {
		if titleBlk != nil {
			y += typedBlk.Size / 3
		}
		lo.typed = image.Rect(textMargin, y, Width-textMargin, y+typedBlk.Height())
		lo.typedSize = typedBlk.Size
		y = lo.typed.Max.Y
	}
	if linkBlk != nil {
		if titleBlk != nil || typedBlk != nil {
			y += linkBlk.Size * 3 / 4
		}
		lo.link = image.Rect(textMargin, y, Width-textMargin, y+linkBlk.Height())
		y = lo.link.Max.Y
	}
	if titleBlk == nil && typedBlk == nil && linkBlk == nil {
		y = lo.qr.Max.Y // the bottom margin below provides the quiet zone
	}
	height := y + side

	img := image.NewGray(image.Rect(0, 0, Width, height))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	drawQR(img, bits, lo.qr.Min, m)
	if titleBlk != nil {
		if err := titleBlk.Draw(img, fs.bold, 0, Width, lo.title.Min.Y, textfit.Center, titleColor); err != nil {
			return nil, lo, err
		}
	}
	if typedBlk != nil {
		if err := typedBlk.Draw(img, fs.monoBold, 0, Width, lo.typed.Min.Y, textfit.Center, titleColor); err != nil {
			return nil, lo, err
		}
	}
	if linkBlk != nil {
		if err := linkBlk.Draw(img, fs.mono, 0, Width, lo.link.Min.Y, textfit.Center, linkColor); err != nil {
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

// --- fonts and text ------------------------------------------------------

type fonts struct {
	bold, mono, monoBold *sfnt.Font
}

func loadFonts() (*fonts, error) {
	bold, err := textfit.Bold()
	if err != nil {
		return nil, err
	}
	mono, err := textfit.Mono()
	if err != nil {
		return nil, err
	}
	monoBold, err := textfit.MonoBold()
	if err != nil {
		return nil, err
	}
	return &fonts{bold: bold, mono: mono, monoBold: monoBold}, nil
}

// maxTextRunes bounds the work on absurd input; anything beyond this could
// never fit into three lines anyway.
const maxTextRunes = 400

func cleanText(s string, f *sfnt.Font) string {
	return textfit.Clean(s, f, maxTextRunes)
}

// fitTitle wraps s at word boundaries into at most titleMaxLine lines of at
// most width px, using the largest font size that fits; at the smallest size
// it ellipsizes the last line.
func fitTitle(f *sfnt.Font, s string, width int) *textfit.Block {
	return textfit.Fit(f, s, textfit.Spec{
		Width: width, MaxSize: titleMaxSize, MinSize: titleMinSize, MaxLines: titleMaxLine,
		Wrap: textfit.WrapWords, Ellipsize: true,
	})
}

// fitLink puts the link on one line, shrinking it from maxSize down to
// linkMinSize if needed; a longer link is broken anywhere (it has no spaces)
// into at most linkMaxLines lines at linkMinSize. A link that does not fit even then is
// not drawn at all (nobody types that much; an ellipsized link is useless).
func fitLink(f *sfnt.Font, s string, width, maxSize int) *textfit.Block {
	sp := textfit.Spec{Width: width, MaxSize: maxSize, MinSize: linkMinSize, MaxLines: 1, Wrap: textfit.WrapRunes}
	if b := textfit.Fit(f, s, sp); b != nil {
		return b
	}
	sp.MaxSize, sp.MaxLines = linkMinSize, linkMaxLines
	return textfit.Fit(f, s, sp)
}
