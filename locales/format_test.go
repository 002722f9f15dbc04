package locales

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const nbsp = "\u00a0"

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	return loc
}

// Each language's dates, times and numbers, as format.go's table says.
func TestFormatsPerLanguage(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	prague, oslo, kyiv := zone(t, "Europe/Prague"), zone(t, "Europe/Oslo"), zone(t, "Europe/Kyiv")
	afternoon := time.Date(2026, 1, 2, 15, 4, 0, 0, prague)
	// Ten past midnight in the city is still the previous day in UTC: what
	// is shown is the city's day, as given.
	newYear := time.Date(2027, 1, 1, 0, 10, 0, 0, oslo)
	lastDay := time.Date(2026, 12, 15, 23, 59, 59, 0, kyiv) // a forum closes after it
	september := time.Date(2026, 9, 30, 9, 5, 0, 0, prague)

	type want struct {
		date, dateTime                string
		newYear, newYearTime, lastDay string
		september                     string
		decimals, integers            []string
	}
	decimals := []float64{3.5, 0.25, 12345.678, -1.5, 2000.5, 7}
	integers := []int{7, 999, 2000, 12345, 1234567, -12345}
	// A decimal comma, and a no-break space between thousands from 10 000.
	commaDecimals := []string{"3,5", "0,25", "12" + nbsp + "345,678", "-1,5", "2000,5", "7"}
	spaceIntegers := []string{"7", "999", "2000", "12" + nbsp + "345", "1" + nbsp + "234" + nbsp + "567", "-12" + nbsp + "345"}
	cases := map[string]want{
		"cs": {
			date: "2. 1. 2026", dateTime: "2. 1. 2026 15:04",
			newYear: "1. 1. 2027", newYearTime: "1. 1. 2027 00:10", lastDay: "15. 12. 2026", september: "30. 9. 2026 09:05",
			decimals: commaDecimals, integers: spaceIntegers,
		},
		"en": {
			date: "2 Jan 2026", dateTime: "2 Jan 2026, 15:04",
			newYear: "1 Jan 2027", newYearTime: "1 Jan 2027, 00:10", lastDay: "15 Dec 2026", september: "30 Sep 2026, 09:05",
			decimals: []string{"3.5", "0.25", "12,345.678", "-1.5", "2,000.5", "7"},
			integers: []string{"7", "999", "2,000", "12,345", "1,234,567", "-12,345"},
		},
		"nb": {
			date: "2.1.2026", dateTime: "2.1.2026 kl. 15:04",
			newYear: "1.1.2027", newYearTime: "1.1.2027 kl. 00:10", lastDay: "15.12.2026", september: "30.9.2026 kl. 09:05",
			decimals: commaDecimals, integers: spaceIntegers,
		},
		"uk": {
			date: "02.01.2026", dateTime: "02.01.2026, 15:04",
			newYear: "01.01.2027", newYearTime: "01.01.2027, 00:10", lastDay: "15.12.2026", september: "30.09.2026, 09:05",
			decimals: commaDecimals, integers: spaceIntegers,
		},
	}
	// Coordinates are the same in every language.
	coordinates := map[float64]string{50.0281: "50.02810", 15.2003: "15.20030", -0.1278: "-0.12780", 0: "0.00000"}
	if len(cases) != len(c.Languages()) {
		t.Errorf("cases for %d languages, files for %v", len(cases), c.Languages())
	}
	date, dateTime, coord := funcs["date"].(func(any) string), funcs["datetime"].(func(any) string), funcs["coord"].(func(any) string)
	for _, lang := range c.Languages() {
		w, ok := cases[lang]
		if !ok {
			t.Errorf("no case for %s", lang)
			continue
		}
		f := c.formats[lang]
		check := func(what, got, want string) {
			t.Helper()
			if got != want {
				t.Errorf("%s %s: got %q, want %q", lang, what, got, want)
			}
		}
		check("date", date(f.value(afternoon)), w.date)
		check("date and time", dateTime(f.value(afternoon)), w.dateTime)
		check("bare time", fmt.Sprint(f.value(afternoon)), w.dateTime)
		check("date after midnight", date(f.value(newYear)), w.newYear)
		check("time after midnight", dateTime(f.value(newYear)), w.newYearTime)
		check("date before midnight", date(f.value(lastDay)), w.lastDay)
		check("morning", dateTime(f.value(september)), w.september)
		for i, x := range decimals {
			check(fmt.Sprint("decimal ", x), fmt.Sprint(f.value(x)), w.decimals[i])
		}
		for i, n := range integers {
			check(fmt.Sprint("integer ", n), fmt.Sprint(f.value(n)), w.integers[i])
			check(fmt.Sprint("int64 ", n), fmt.Sprint(f.value(int64(n))), w.integers[i])
		}
		for x, want := range coordinates {
			check(fmt.Sprint("coordinate ", x), coord(f.value(x)), want)
		}
		// What is not a time or a coordinate passes through: a rendered
		// "no closing date", or nothing when a caller renders without data.
		check("text as date", date("none"), "none")
		check("nothing as date", date(nil), noValue)
		check("nothing as coordinate", coord(nil), noValue)
	}
}

func TestFormatTableIsChecked(t *testing.T) {
	good := `[format]
date = "2. 1. 2006"
datetime = "2. 1. 2006 15:04"
decimal = ","
group = "\u00a0"
group_from = "10000"
`
	if _, err := readFormats("xx", []byte(good)); err != nil {
		t.Fatalf("a good table: %v", err)
	}
	bad := map[string]string{
		"no date":         strings.Replace(good, "date = \"2. 1. 2006\"\n", "", 1),
		"no group":        strings.Replace(good, "group = \"\\u00a0\"\n", "", 1),
		"empty decimal":   strings.Replace(good, `decimal = ","`, `decimal = ""`, 1),
		"group_from word": strings.Replace(good, `"10000"`, `"ten thousand"`, 1),
		"group_from 10":   strings.Replace(good, `"10000"`, `"10"`, 1),
		"year as text":    strings.Replace(good, `date = "2. 1. 2006"`, `date = "2. 1. 2026"`, 1),
		"no minutes":      strings.Replace(good, `15:04"`, `15 h"`, 1),
		"month as minute": strings.Replace(good, `date = "2. 1. 2006"`, `date = "2. 4. 2006"`, 1),
		"no table":        "[language]\nask = \"?\"\n",
	}
	for name, raw := range bad {
		if _, err := readFormats("xx", []byte(raw)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
