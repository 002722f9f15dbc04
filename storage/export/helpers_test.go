package export_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/storage/export"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func ptr(f float64) *float64 { return &f }

var prague = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		panic(err)
	}
	return loc
}()

// sampleRows cover what students really write: Czech, Ukrainian and
// Norwegian text, text that looks like a formula, quotes, commas and
// newlines, ideas with and without a pin, and dates on both sides of a
// daylight-saving change.
func sampleRows() []export.Row {
	return []export.Row{
		{
			Reference: "N-7K2Q", Forum: "8.B – ZŠ Komenského", School: "ZŠ Komenského", Town: "Kolín",
			Date: time.Date(2026, 1, 14, 9, 30, 15, 123456000, time.UTC), Language: "cs", Scope: "school",
			Category: "public_space", WorksWell: "Hřiště je super.", Improve: "Málo laviček",
			Title: "Lavičky na dvoře", Description: "Pět laviček, ať si máme kde sednout.\nIdeálně u stromů.",
			PlaceText: "Školní dvůr", Latitude: ptr(50.0280631), Longitude: ptr(15.2001154), HasPhoto: true,
			WantsToHelp: "yes", Status: "new", Participant: "3f9a0c1d2e4b", Channel: "telegram",
		},
		{
			Reference: "N-ABCD", Forum: "9.A – Gymnázium", School: "Gymnázium", Town: "Kolín",
			Date: time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC), Language: "uk", Scope: "town",
			Category: "transport", Improve: "Автобуси їздять рідко", Title: "Більше автобусів увечері",
			Description: `Потрібен автобус о 22:00, "нічний", бо тренування закінчуються пізно.`,
			WantsToHelp: "maybe", Status: "under_review", StaffAnswer: "Díky, řešíme s dopravcem.",
			Participant: "a1b2c3d4e5f6", Channel: "web",
		},
		{
			Reference: "N-EQ11", Forum: "Ungdomsrådet", School: "", Town: "Bergen",
			Date: time.Date(2026, 7, 1, 23, 59, 59, 0, time.UTC), Language: "nb", Scope: "both",
			Category: "leisure", Improve: "=1+1", Title: "+SUM(A1:A9)", Description: "-2+3",
			PlaceText: "@cmd", Latitude: ptr(60.39299), Longitude: ptr(-5.32415), WantsToHelp: "no",
			Status: "selected", StaffAnswer: "\t=x", Participant: "ffee00112233", Channel: "telegram",
		},
		{
			Reference: "N-QUOT", Forum: `Forum "A", 7.C`, School: "ZŠ, Brno", Town: "Brno",
			Date: time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), Language: "en", Scope: "school",
			Category: "misc", WorksWell: "\r=x", Improve: "a \"quoted\" word, and a comma",
			Title: "Line one\nline two", Description: "CRLF\r\ninside", PlaceText: "-",
			Latitude: ptr(-33.8688), Longitude: ptr(-151.2093), WantsToHelp: "yes", Status: "done",
			Participant: "000000000000", Channel: "web",
		},
		{
			// The smallest idea the bot accepts: everything optional empty.
			Reference: "N-MIN5", Forum: "7.B", Town: "Brno", Date: time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC),
			Language: "cs", Scope: "school", Category: "school", Improve: "x", Title: "x",
			WantsToHelp: "no", Status: "not_feasible", Participant: "0123456789ab", Channel: "telegram",
		},
	}
}

// enHeaders are the English headers of an export without hidden ideas.
var enHeaders = func() []string {
	h, err := export.Headers(export.WithLanguage("en"))
	if err != nil {
		panic(err)
	}
	return h
}()

// col is the position of the column titled header in English in the CSV
// and XLSX exports (in any language, without hidden ideas), so that tests
// do not break when a column is added before it.
func col(header string) int {
	for i, h := range enHeaders {
		if h == header {
			return i
		}
	}
	panic("no column " + header)
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./storage/export -update` to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update and review the diff)\ngot:\n%s\nwant:\n%s",
			name, got, want)
	}
}

// realisticRow is idea number i of a large export: text lengths like
// real answers, diacritics, two ideas in three with a pin.
func realisticRow(i int) export.Row {
	r := export.Row{
		Reference:   fmt.Sprintf("N-%05X", i),
		Forum:       fmt.Sprintf("%d.B – ZŠ Komenského", 6+i%4),
		School:      "ZŠ Komenského",
		Town:        []string{"Kolín", "Brno", "Bergen", "Kristiansand"}[i%4],
		Date:        time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 97 * time.Second),
		Language:    []string{"cs", "en", "nb", "uk"}[i%4],
		Scope:       []string{"school", "town", "both"}[i%3],
		Category:    []string{"school", "environment", "transport", "leisure", "culture"}[i%5],
		WorksWell:   strings.Repeat("Líbí se mi naše knihovna. ", 3),
		Improve:     strings.Repeat("Chybí místo na sezení o přestávkách. ", 4),
		Title:       fmt.Sprintf("Více laviček a zeleně u školy č. %d", i),
		Description: strings.Repeat("Навколо школи мало тіні; хочемо посадити дерева і поставити лавки. ", 5),
		PlaceText:   "Náměstí Republiky",
		HasPhoto:    i%3 == 0,
		WantsToHelp: []string{"yes", "maybe", "no"}[i%3],
		Status:      []string{"new", "under_review", "selected", "done"}[i%4],
		Participant: fmt.Sprintf("%012x", i*7919),
	}
	if i%3 != 2 {
		r.Latitude, r.Longitude = ptr(50.02+float64(i%1000)/1e4), ptr(15.2+float64(i%777)/1e4)
	}
	return r
}

// peakHeap runs fn while sampling the heap, and returns the highest
// HeapInuse seen and how much the process got from the OS (Sys) at the end.
// Sampling every few milliseconds may miss a short spike, so the bench also
// reports Sys, which never shrinks.
func peakHeap(fn func()) (peak, sys uint64) {
	var (
		mu   sync.Mutex
		high uint64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		if ms.HeapInuse > high {
			high = ms.HeapInuse
		}
		mu.Unlock()
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	fn()
	close(stop)
	<-done
	sample()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return high, ms.Sys
}

// The English words of the codes in sampleRows.
var (
	enScope    = map[string]string{"school": "School", "town": "Town", "both": "School and town"}
	enCategory = map[string]string{"public_space": "Public spaces", "transport": "Transport and safety",
		"leisure": "Sport and free time", "misc": "Other", "school": "School life"}
	enStatus = map[string]string{"new": "New", "under_review": "Under review", "selected": "Selected",
		"done": "Done", "not_feasible": "Not feasible"}
	enLanguage = map[string]string{"cs": "Czech", "en": "English", "nb": "Norwegian", "uk": "Ukrainian"}
	enYesNo    = map[string]string{"yes": "Yes", "no": "No", "maybe": "Maybe"}
	enChannel  = map[string]string{"telegram": "Telegram", "web": "Web (browser)"}
	// Czech, the default language, for the channel.
	csChannel = map[string]string{"telegram": "Telegram", "web": "Web (prohlížeč)"}
)
