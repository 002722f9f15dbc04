package web

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // students send PNG screenshots
	"slices"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // and Android phones WebP
)

// A photo a student uploads is decoded (what it is, not what its name
// says), shrunk to at most maxSide pixels a side and encoded again as a
// JPEG. Encoding anew keeps nothing of the file but its pixels: no EXIF,
// no GPS position, no camera serial number. The orientation the camera
// wrote in EXIF is applied first, or phone photos would lie on their side.

var (
	errNotImage  = errors.New("not a JPEG, PNG or WebP picture")
	errTooLarge  = errors.New("the picture has too many pixels")
	photoFormats = []string{"jpeg", "png", "webp"}
)

// photoQuality is the stored JPEG's: a phone photo of 1600 px comes to a
// few hundred KB.
const photoQuality = 85

// processPhoto turns an uploaded file into the JPEG that is stored.
// maxPixels is checked on the header before anything is decoded, so a
// small file claiming a huge picture (a decompression bomb) costs nothing.
func processPhoto(data []byte, maxPixels int64, maxSide int) ([]byte, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || !slices.Contains(photoFormats, format) {
		return nil, errNotImage
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return nil, errNotImage
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, fmt.Errorf("%d×%d: %w", cfg.Width, cfg.Height, errTooLarge)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format, errNotImage)
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if longest := max(w, h); longest > maxSide {
		w, h = max(1, w*maxSide/longest), max(1, h*maxSide/longest)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// White under a transparent PNG: JPEG has no alpha.
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	if w == b.Dx() && h == b.Dy() {
		draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Over) // small enough: no scaling
	} else {
		// BiLinear widens its kernel when shrinking, so a 12-megapixel photo
		// comes out smooth, not aliased, at a fraction of CatmullRom's cost.
		draw.BiLinear.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	}
	if format == "jpeg" {
		dst = orient(dst, exifOrientation(data))
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: photoQuality}); err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	return out.Bytes(), nil
}

// orient turns a picture upright as EXIF orientation o says (1 or
// anything unknown: it is).
func orient(src *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 { // a quarter turn: the sides swap
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored upside down
				dx, dy = x, h-1-y
			case 5: // mirrored, a quarter turn left
				dx, dy = y, x
			case 6: // a quarter turn right
				dx, dy = h-1-y, x
			case 7: // mirrored, a quarter turn right
				dx, dy = h-1-y, w-1-x
			case 8: // a quarter turn left
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dst.PixOffset(dx, dy):][:4], src.Pix[src.PixOffset(x, y):][:4])
		}
	}
	return dst
}

// exifOrientation reads the orientation tag (0x0112) of a JPEG's EXIF
// block; 0 when there is none or it cannot be read.
func exifOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 0
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return 0
		}
		marker := data[i+1]
		if marker == 0xDA || marker == 0xD9 { // the picture itself starts: no EXIF after this
			return 0
		}
		size := int(binary.BigEndian.Uint16(data[i+2:]))
		if size < 2 || i+2+size > len(data) {
			return 0
		}
		seg := data[i+4 : i+2+size]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		i += 2 + size
	}
	return 0
}

// tiffOrientation finds the orientation in the first IFD of a TIFF block.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 0
	}
	ifd := int(order.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > len(t) {
		return 0
	}
	n := int(order.Uint16(t[ifd:]))
	for e := range n {
		at := ifd + 2 + 12*e
		if at+12 > len(t) {
			return 0
		}
		if order.Uint16(t[at:]) == 0x0112 && order.Uint16(t[at+2:]) == 3 { // SHORT
			return int(order.Uint16(t[at+8:]))
		}
	}
	return 0
}
