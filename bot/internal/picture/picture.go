// Package picture is what the bot's charts share: their colours, and how
// they are encoded.
//
// White, near-black text and one dark blue: projectors wash out pale colours
// and thin light text, phones in the sun do too, and with one colour for
// every bar nobody has to tell colours apart.
package picture

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// The colours of the charts.
var (
	Background = color.RGBA{0xff, 0xff, 0xff, 0xff}
	Text       = color.RGBA{0x11, 0x11, 0x11, 0xff}
	Muted      = color.RGBA{0x3a, 0x3a, 0x3a, 0xff} // subtitles, footers
	Accent     = color.RGBA{0x1d, 0x4e, 0xd8, 0xff} // bars
)

// PNG encodes img. Charts are flat colours, which compress well even at
// the fastest level.
func PNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}
