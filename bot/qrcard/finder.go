package qrcard

import "math"

// Some symbols contain, inside their data area, a spot that looks exactly
// like a finder pattern (dark-light-dark-light-dark in the ratio 1:1:3:1:1
// horizontally, vertically and diagonally). ZXing-style decoders, used by
// many phone scanner apps, scan rows from the top and stop as soon as they
// have three look-alike finder patterns of the same size; a fake one above
// the real bottom-left finder makes them sample the wrong grid and fail,
// although the symbol itself is valid (seen with gozxing, a ZXing port, in
// this package's tests; Telegram's Android scanner is ZXing-based too).
// hasFalseFinder spots such symbols so encodeQR can pick another encoding.
// It is a model of one decoder family, not a proof: it lowers the odds, and
// the tests decode the real output.

// hasFalseFinder reports whether bits (a symbol without quiet zone, true =
// dark) has a finder-like pattern anywhere other than the three real
// finder patterns. The checks mirror ZXing's FinderPatternFinder at one
// sample per module; outside the symbol is light (the quiet zone).
func hasFalseFinder(bits [][]bool) bool {
	return falseFinderRows(bits) || falseFinderRows(transpose(bits))
}

func transpose(bits [][]bool) [][]bool {
	t := make([][]bool, len(bits))
	for c := range t {
		t[c] = make([]bool, len(bits))
		for r := range bits {
			t[c][r] = bits[r][c]
		}
	}
	return t
}

// falseFinderRows looks for a false finder whose row (scan direction) is an
// exact 1:1:3:1:1 run: the decoder estimates the module size from that row,
// and only an exact match has the same estimated module size as the real
// finder patterns (within ZXing's 5 %), which is what stops its search early.
// The cross checks (vertical, diagonal) use ZXing's tolerances.
func falseFinderRows(bits [][]bool) bool {
	n := len(bits)
	at := func(r, c int) bool {
		return r >= 0 && c >= 0 && r < n && c < n && bits[r][c]
	}
	type run struct{ start, len int }
	var runs []run // dark runs of the current row, with the light gaps between them implied
	for r := range n {
		runs = runs[:0]
		for c := 0; c < n; {
			if !bits[r][c] {
				c++
				continue
			}
			s := c
			for c < n && bits[r][c] {
				c++
			}
			runs = append(runs, run{s, c - s})
		}
		for i := 0; i+2 < len(runs); i++ {
			a, b, d := runs[i], runs[i+1], runs[i+2]
			counts := [5]int{a.len, b.start - (a.start + a.len), b.len, d.start - (b.start + b.len), d.len}
			if counts != [5]int{1, 1, 3, 1, 1} {
				continue
			}
			c := b.start + b.len/2
			if isRealFinder(r, c, n) {
				continue
			}
			if crossCheck(at, r, c, 1, 0, 2) && crossCheck(at, r, c, 1, 1, 1.333) {
				return true
			}
		}
	}
	return false
}

// isRealFinder reports whether module (r, c) lies in one of the three real
// 7×7 finder patterns of an n×n symbol.
func isRealFinder(r, c, n int) bool {
	return (r < 7 && c < 7) || (r < 7 && c >= n-7) || (r >= n-7 && c < 7)
}

// crossCheck walks from (r, c) in direction ±(dr, dc) and tests the five
// runs dark-light-dark-light-dark centred on (r, c).
func crossCheck(at func(r, c int) bool, r, c, dr, dc int, div float64) bool {
	if !at(r, c) {
		return false
	}
	var counts [5]int
	// Backwards: centre run, light, outer dark.
	k := 0
	for ; at(r-k*dr, c-k*dc); k++ {
		counts[2]++
	}
	for ; !at(r-k*dr, c-k*dc) && counts[1] <= 8; k++ {
		counts[1]++
	}
	for ; at(r-k*dr, c-k*dc); k++ {
		counts[0]++
	}
	// Forwards.
	k = 1
	for ; at(r+k*dr, c+k*dc); k++ {
		counts[2]++
	}
	for ; !at(r+k*dr, c+k*dc) && counts[3] <= 8; k++ {
		counts[3]++
	}
	for ; at(r+k*dr, c+k*dc); k++ {
		counts[4]++
	}
	return patternRatio(counts, div)
}

// patternRatio is ZXing's 1:1:3:1:1 test with tolerance moduleSize/div.
func patternRatio(counts [5]int, div float64) bool {
	total := 0
	for _, c := range counts {
		if c == 0 {
			return false
		}
		total += c
	}
	m := float64(total) / 7
	v := m / div
	return math.Abs(m-float64(counts[0])) < v &&
		math.Abs(m-float64(counts[1])) < v &&
		math.Abs(3*m-float64(counts[2])) < 3*v &&
		math.Abs(m-float64(counts[3])) < v &&
		math.Abs(m-float64(counts[4])) < v
}
