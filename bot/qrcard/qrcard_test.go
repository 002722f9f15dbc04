package qrcard

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"
	"golang.org/x/image/draw"

	"github.com/healthycities/napad/bot/internal/textfit"
)

const (
	deepLink = "https://t.me/napad_test_bot?start=Zk3xQ9mP2aLw8RtY"
	typed    = "/join K7Q2-M9XD"                                                                                         // what a student may type instead
	payload  = "https://t.me/napad_test_bot?start=" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y5z6A7b8C9d0E1f2" // 64-char payload
)

var (
	titleCZ   = "8.B – ZŠ Komenského, Žďár nad Sázavou"
	titleUK   = "Школа №5 — 7-А клас, Київ"
	titleNO   = "Ærlig talt: Østre Åsen skole"
	title200  = longTitle()
	linkCases = []string{deepLink, payload}
)

func longTitle() string {
	s := strings.Repeat("Přírodovědný kroužek ZŠ Komenského ", 6)
	r := []rune(s)[:200]
	return string(r)
}

func decode(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(gozxing.NewLuminanceSourceFromImage(img)))
	if err != nil {
		t.Fatalf("binary bitmap: %v", err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return res.GetText()
}

func decodePNG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("png decode: %v", err)
	}
	return img
}

func downscale(src image.Image, width int) image.Image {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, width, b.Dy()*width/b.Dx()))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	return dst
}

func TestPNGDecodes(t *testing.T) {
	t.Parallel()
	titles := map[string]string{
		"czech": titleCZ, "ukrainian": titleUK, "norwegian": titleNO, "200chars": title200, "empty": "",
	}
	for _, link := range linkCases {
		for name, title := range titles {
			t.Run(fmt.Sprintf("%d/%s", len(link), name), func(t *testing.T) {
				t.Parallel()
				b, err := PNG(link, title, typed)
				if err != nil {
					t.Fatal(err)
				}
				img := decodePNG(t, b)
				if got := img.Bounds().Dx(); got != Width {
					t.Errorf("width = %d, want %d", got, Width)
				}
				if h := img.Bounds().Dy(); h < Width || h > 1700 {
					t.Errorf("height = %d, want within [%d, 1700]", h, Width)
				}
				if got := decode(t, img); got != link {
					t.Errorf("decoded %q, want %q", got, link)
				}
				small := downscale(img, 360)
				if got := decode(t, small); got != link {
					t.Errorf("decoded at 360 px %q, want %q", got, link)
				}
			})
		}
	}
}

// Many link lengths, up to the maximum, must all decode (guards against
// encoder bugs for particular lengths / modes).
func TestPNGDecodesAllLengths(t *testing.T) {
	if testing.Short() {
		t.Skip("slow; skipped with -short")
	}
	t.Parallel()
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	for n := 1; n <= MaxLinkLen; n += 37 {
		link := "https://t.me/x?start="
		for i := 0; len(link) < n; i++ {
			link += string(alphabet[(i*7+n)%len(alphabet)])
		}
		link = link[:n]
		img, lo, err := render(link, "Třída", typed)
		if err != nil {
			t.Fatalf("len %d: %v", n, err)
		}
		if got := decode(t, img); got != link {
			t.Errorf("len %d: decoded %q", n, got)
		}
		t.Logf("len %3d: %d modules, %d px/module, level %d, height %d", n, lo.modules, lo.module, lo.level, img.Bounds().Dy())
	}
}

func TestLayout(t *testing.T) {
	t.Parallel()
	for _, title := range []string{titleCZ, titleUK, title200, ""} {
		img, lo, err := render(deepLink, title, typed)
		if err != nil {
			t.Fatal(err)
		}
		// Module size as large as fits with the quiet zone.
		if want := Width / (lo.modules + 2*quietModules); lo.module != want {
			t.Errorf("module = %d, want %d", lo.module, want)
		}
		if lo.module < 20 {
			t.Errorf("module = %d px, too small for a short deep link", lo.module)
		}
		if lo.level != qrcode.Medium && lo.level != qrcode.High {
			t.Errorf("level = %v", lo.level)
		}
		// Quiet zone of 4 modules around the symbol is pure white.
		qz := lo.qr.Inset(-quietModules * lo.module)
		if !qz.In(img.Bounds()) {
			t.Fatalf("quiet zone %v outside image %v", qz, img.Bounds())
		}
		for y := qz.Min.Y; y < qz.Max.Y; y++ {
			for x := qz.Min.X; x < qz.Max.X; x++ {
				if image.Pt(x, y).In(lo.qr) {
					continue
				}
				if v := img.GrayAt(x, y).Y; v != 0xff {
					t.Fatalf("title %q: quiet zone pixel (%d,%d) = %d", title, x, y, v)
				}
			}
		}
		// QR pixels are pure black or white (no scaling blur).
		for y := lo.qr.Min.Y; y < lo.qr.Max.Y; y++ {
			for x := lo.qr.Min.X; x < lo.qr.Max.X; x++ {
				if v := img.GrayAt(x, y).Y; v != 0 && v != 0xff {
					t.Fatalf("QR pixel (%d,%d) = %d, want 0 or 255", x, y, v)
				}
			}
		}
		// Nothing touches the image border (text not clipped).
		b := img.Bounds()
		for x := 0; x < b.Dx(); x++ {
			for _, y := range []int{0, b.Dy() - 1} {
				if img.GrayAt(x, y).Y != 0xff {
					t.Fatalf("dark pixel on border at (%d,%d)", x, y)
				}
			}
		}
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < textMargin/2; x++ {
				if img.GrayAt(x, y).Y != 0xff || img.GrayAt(b.Dx()-1-x, y).Y != 0xff {
					t.Fatalf("title %q: dark pixel in side margin at row %d", title, y)
				}
			}
		}
		if title == "" {
			if !lo.title.Empty() {
				t.Errorf("empty title got a title area %v", lo.title)
			}
		} else {
			if lo.titleLen < 1 || lo.titleLen > titleMaxLine {
				t.Errorf("title %q: %d lines", title, lo.titleLen)
			}
			if d := darkPixels(img, lo.title); d < 500 {
				t.Errorf("title %q: only %d dark pixels in title area %v", title, d, lo.title)
			}
		}
		if lo.link.Empty() || darkPixels(img, lo.link) < 300 {
			t.Errorf("link text not drawn (area %v)", lo.link)
		}
		// What to type comes between the title and the link, larger than
		// either: it is what a student copies from the back row.
		if lo.typed.Empty() || darkPixels(img, lo.typed) < 3000 {
			t.Errorf("title %q: the code is not drawn (area %v)", title, lo.typed)
		}
		if lo.typedSize < 96 || lo.typedSize > typedMaxSize {
			t.Errorf("the code is drawn at %d px, want 96 to %d", lo.typedSize, typedMaxSize)
		}
		if lo.typed.Min.Y < max(lo.qr.Max.Y, lo.title.Max.Y) || lo.link.Min.Y < lo.typed.Max.Y {
			t.Errorf("title %q: the code at %v, the title at %v, the link at %v", title, lo.typed, lo.title, lo.link)
		}
	}
	// Without anything to type, the link follows the title.
	_, lo, err := render(deepLink, titleCZ, "")
	if err != nil {
		t.Fatal(err)
	}
	if !lo.typed.Empty() || lo.link.Empty() {
		t.Errorf("without a code: code at %v, link at %v", lo.typed, lo.link)
	}
}

func darkPixels(img *image.Gray, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.GrayAt(x, y).Y < 0x80 {
				n++
			}
		}
	}
	return n
}

func TestTitleFitting(t *testing.T) {
	t.Parallel()
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	w := Width - 2*textMargin
	short := fitTitle(fs.bold, "8.B", w)
	if short.Size != titleMaxSize || len(short.Lines) != 1 {
		t.Errorf("short title: size %d, %d lines", short.Size, len(short.Lines))
	}
	long := fitTitle(fs.bold, cleanText(title200, fs.bold), w)
	if long.Size != titleMinSize || len(long.Lines) != titleMaxLine {
		t.Errorf("200-char title: size %d, %d lines", long.Size, len(long.Lines))
	}
	if last := long.Lines[len(long.Lines)-1]; !strings.HasSuffix(last, "…") {
		t.Errorf("200-char title not ellipsized: %q", last)
	}
	// One giant word is broken, never wider than the line.
	word := fitTitle(fs.bold, strings.Repeat("Ш", 300), w)
	face, _ := textfit.NewFace(fs.bold, word.Size)
	defer face.Close()
	for _, l := range word.Lines {
		if !textfit.Fits(face, l, w) {
			t.Errorf("line too wide: %q", l)
		}
	}
	if len(word.Lines) != titleMaxLine {
		t.Errorf("giant word: %d lines", len(word.Lines))
	}
}

func TestCleanText(t *testing.T) {
	t.Parallel()
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"  8.B\t–\n ZŠ  Komenského ": "8.B – ZŠ Komenského",
		"Z\u030cS\u030c":             "ŽŠ", // NFD → NFC
		"🎨 Výtvarka":                 "Výtvarka",
		"a\u200db\x00c":              "abc",
		"Школа":                      "Школа",
		"Øst Åsen":                   "Øst Åsen",
		"🎨":                          "",
	} {
		if got := cleanText(in, fs.bold); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a, err := PNG(deepLink, titleCZ, typed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := PNG(deepLink, titleCZ, typed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("same input gave different bytes")
	}
	c, err := PNG(deepLink, titleUK, typed)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Error("different titles gave the same bytes")
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		link string
		want error
	}{
		{"", ErrEmptyLink},
		{"   ", ErrEmptyLink},
		{"https://t.me/x?start=" + strings.Repeat("a", MaxLinkLen), ErrLinkTooLong},
		{"https://t.me/\xff", ErrInvalidLink},
	} {
		b, err := PNG(tc.link, "x", typed)
		if !errors.Is(err, tc.want) || b != nil {
			t.Errorf("PNG(%.20q) = %d bytes, %v; want %v", tc.link, len(b), err, tc.want)
		}
	}
	// Exactly MaxLinkLen is fine and still decodes.
	link := "https://t.me/x?start=" + strings.Repeat("b", MaxLinkLen-len("https://t.me/x?start="))
	img, lo, err := render(link, titleCZ, typed)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, img); got != link {
		t.Errorf("max-length link decoded to %q", got)
	}
	if !lo.link.Empty() {
		t.Errorf("a %d-byte link should not be printed as text", len(link))
	}
	if got := decode(t, downscale(img, 360)); got != link {
		t.Logf("note: %d-byte link (%d px modules) does not decode at 360 px", len(link), lo.module)
	}
}

// TestWriteSample writes a sample card for eyeballing:
//
//	QRCARD_SAMPLE=/tmp/qrcard-sample.png go test -run TestWriteSample ./bot/qrcard/
func TestWriteSample(t *testing.T) {
	path := os.Getenv("QRCARD_SAMPLE")
	if path == "" {
		t.Skip("QRCARD_SAMPLE not set")
	}
	title := os.Getenv("QRCARD_TITLE")
	if title == "" {
		title = titleCZ
	}
	b, err := PNG(deepLink, title, typed)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, lo, _ := render(deepLink, title, typed)
	t.Logf("wrote %s: %d bytes, %v, module %d px, %d modules", path, len(b), decodePNG(t, b).Bounds().Size(), lo.module, lo.modules)
}

func BenchmarkPNG(b *testing.B) {
	for b.Loop() {
		if _, err := PNG(deepLink, titleCZ, typed); err != nil {
			b.Fatal(err)
		}
	}
}

func TestHasFalseFinder(t *testing.T) {
	t.Parallel()
	const n = 29
	blank := func() [][]bool {
		b := make([][]bool, n)
		for i := range b {
			b[i] = make([]bool, n)
		}
		return b
	}
	finder := func(b [][]bool, r0, c0 int) { // 7×7 finder pattern, top-left at (r0, c0)
		for r := range 7 {
			for c := range 7 {
				ring := r == 0 || r == 6 || c == 0 || c == 6
				core := r >= 2 && r <= 4 && c >= 2 && c <= 4
				b[r0+r][c0+c] = ring || core
			}
		}
	}
	real := blank()
	finder(real, 0, 0)
	finder(real, 0, n-7)
	finder(real, n-7, 0)
	if hasFalseFinder(real) {
		t.Error("the three real finder patterns were reported as false")
	}
	fake := blank()
	finder(fake, 0, 0)
	finder(fake, 0, n-7)
	finder(fake, n-7, 0)
	finder(fake, 12, 14) // a look-alike in the data area
	if !hasFalseFinder(fake) {
		t.Error("look-alike finder pattern not found")
	}
	// The encodings PNG picks for the test links have none.
	for _, link := range linkCases {
		bits, _, _, err := encodeQR(link)
		if err != nil {
			t.Fatal(err)
		}
		if hasFalseFinder(bits) {
			t.Errorf("%s: chosen encoding has a look-alike finder", link)
		}
	}
}
