package export_test

import (
	"io"
	"testing"
	"time"

	"github.com/healthycities/napad/storage/export"
)

// The writers alone on a typical forum's export, 1,000 ideas, written to
// io.Discard (bench_test.go has the 100,000-row runs to a file, with their
// memory). Run with
//
//	go test ./storage/export -run '^$' -bench 1k -benchmem

const rows1k = 1000

// bench1k writes the thousand rows of benchPool in format, b.N times, and
// reports the bytes written per export.
func bench1k(b *testing.B, format string) {
	base := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	rows := make([]export.Row, rows1k)
	for i := range rows {
		rows[i] = benchPool[i%len(benchPool)]
		rows[i].Date = base.Add(time.Duration(i) * 97 * time.Second)
	}
	var out countingWriter
	b.ReportAllocs()
	for b.Loop() {
		out = 0
		w, err := export.New(format, &out, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rows {
			if err := w.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out), "bytes/export")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows1k, "ns/row")
}

// countingWriter discards what is written and counts it.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)

func BenchmarkCSV1k(b *testing.B)     { bench1k(b, "csv") }
func BenchmarkXLSX1k(b *testing.B)    { bench1k(b, "xlsx") }
func BenchmarkGeoJSON1k(b *testing.B) { bench1k(b, "geojson") }
