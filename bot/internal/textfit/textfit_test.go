package textfit

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"golang.org/x/image/font/sfnt"
)

func regular(t testing.TB) *sfnt.Font {
	t.Helper()
	f, err := Regular()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFontsCoverTheForumLanguages(t *testing.T) {
	t.Parallel()
	const letters = "ÁČĎÉĚÍŇÓŘŠŤÚŮÝŽáčďéěíňóřšťúůýž" + // Czech
		"ÆØÅæøå" + // Norwegian
		"АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯабвгґдеєжзиіїйклмнопрстуфхцчшщьюя’" + // Ukrainian
		"–—…·„“”‘’«»№"
	for name, load := range map[string]func() (*sfnt.Font, error){"regular": Regular, "bold": Bold} {
		f, err := load()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range letters {
			if !HasGlyph(f, r) {
				t.Errorf("%s has no glyph for %q (%U)", name, r, r)
			}
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	f := regular(t)
	for _, tc := range []struct{ in, clean, letters string }{
		{"  8.B\t–\n ZŠ  Komenského ", "8.B – ZŠ Komenského", "8.B – ZŠ Komenského"},
		{"Z\u030cS\u030c", "ŽŠ", "ŽŠ"}, // NFD → NFC
		{"🎨 Výtvarka", "Výtvarka", "Výtvarka"},
		{"a\u200db\x00c\u202e", "abc", "abc"},
		{"Ґанок і їдальня", "Ґанок і їдальня", "Ґанок і їдальня"},
		// Vietnamese letters the Go fonts lack: dropped by Clean, drawn as
		// their base letter by CleanLetters.
		{"Trường đẹp", "Trng đp", "Truong đep"},
		{"🎨", "", ""},
	} {
		if got := Clean(tc.in, f, 400); got != tc.clean {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.clean)
		}
		if got := CleanLetters(tc.in, f, 400); got != tc.letters {
			t.Errorf("CleanLetters(%q) = %q, want %q", tc.in, got, tc.letters)
		}
	}
	if got := Clean(strings.Repeat("ab ", 100), f, 10); got != "ab ab ab a" {
		t.Errorf("maxRunes: got %q", got)
	}
}

func TestFitAllSharesOneSize(t *testing.T) {
	t.Parallel()
	f := regular(t)
	sp := Spec{Width: 300, MaxSize: 40, MinSize: 20, MaxLines: 1, Wrap: WrapWords}
	bs := FitAll(f, []string{"Pítko", "Lavičky v parku u nádraží"}, sp)
	if len(bs) != 2 {
		t.Fatalf("got %d blocks", len(bs))
	}
	if bs[0].Size != bs[1].Size || bs[0].Size == sp.MaxSize {
		t.Errorf("sizes %d and %d: want one size, smaller than %d for the long text", bs[0].Size, bs[1].Size, sp.MaxSize)
	}
	if bs := FitAll(f, []string{"Pítko", strings.Repeat("dlouhý ", 40)}, sp); bs != nil {
		t.Error("text that cannot fit without ellipsis was fitted")
	}
	sp.Ellipsize, sp.MaxLines = true, 2
	bs = FitAll(f, []string{"Pítko", strings.Repeat("dlouhý ", 40)}, sp)
	if bs == nil || bs[1].Size != sp.MinSize || len(bs[1].Lines) != 2 || !strings.HasSuffix(bs[1].Lines[1], "…") {
		t.Fatalf("long text not ellipsized at the smallest size: %+v", bs)
	}
	face, err := NewFace(f, sp.MinSize)
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	for _, l := range bs[1].Lines {
		if !Fits(face, l, sp.Width) {
			t.Errorf("line %q wider than %d px", l, sp.Width)
		}
	}
	if bs[0].LineHeight != 24 {
		t.Errorf("default line height at 20 px = %d, want 24", bs[0].LineHeight)
	}
	sp.LineSpacing = 1.1
	if b := Fit(f, "Pítko", sp); b.LineHeight != int(float64(b.Size)*1.1+0.5) {
		t.Errorf("line spacing 1.1 at %d px gave line height %d", b.Size, b.LineHeight)
	}
}

func TestDrawAlign(t *testing.T) {
	t.Parallel()
	f := regular(t)
	b := Fit(f, "Ab", Spec{Width: 200, MaxSize: 30, MinSize: 30, MaxLines: 1, Wrap: WrapWords})
	w, err := b.Width(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		align    Align
		from, to int // the ink must lie within [from, to)
	}{
		{Left, 100, 100 + w + 2},
		{Center, 200 - w/2 - 2, 200 + w/2 + 2},
		{Right, 300 - w - 2, 300},
	} {
		img := image.NewGray(image.Rect(0, 0, 400, 60))
		if err := b.Draw(img, f, 100, 200, 5, tc.align, color.White); err != nil {
			t.Fatal(err)
		}
		minX, maxX := 400, -1
		for y := range 60 {
			for x := range 400 {
				if img.GrayAt(x, y).Y > 0x80 {
					minX, maxX = min(minX, x), max(maxX, x)
				}
			}
		}
		if minX < tc.from || maxX >= tc.to {
			t.Errorf("align %d: ink in [%d, %d], want within [%d, %d)", tc.align, minX, maxX, tc.from, tc.to)
		}
	}
}
