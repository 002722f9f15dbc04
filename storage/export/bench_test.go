package export_test

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/storage/export"
)

const benchRows = 100_000

// benchPool is a thousand realistic rows the benchmarks cycle through, so
// what they measure is the writer, not building rows (holding 100,000 rows
// would itself cost ~150 MB and hide the writer's footprint).
var benchPool = func() []export.Row {
	pool := make([]export.Row, 1000)
	for i := range pool {
		pool[i] = realisticRow(i)
	}
	return pool
}()

// benchExport writes n rows in the given format to a temporary file, b.N
// times, and reports the peak heap in use and the memory the process got
// from the OS, in MB.
func benchExport(b *testing.B, format string, n int) {
	dir := b.TempDir()
	base := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	var peak, sys uint64
	var size int64
	b.ResetTimer()
	for range b.N {
		p, s := peakHeap(func() {
			file, err := os.Create(filepath.Join(dir, "ideas."+format))
			if err != nil {
				b.Fatal(err)
			}
			defer file.Close()
			w, err := export.New(format, file, nil)
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				r := benchPool[i%len(benchPool)]
				r.Date = base.Add(time.Duration(i) * 97 * time.Second)
				if err := w.Write(r); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			if st, err := file.Stat(); err == nil {
				size = st.Size()
			}
		})
		peak, sys = max(peak, p), max(sys, s)
	}
	b.StopTimer()
	const mb = 1 << 20
	b.ReportMetric(float64(peak)/mb, "peak-heap-MB")
	b.ReportMetric(float64(sys)/mb, "sys-MB")
	b.ReportMetric(float64(size)/mb, "file-MB")
	if hwm, ok := peakRSS(); ok {
		b.ReportMetric(float64(hwm)/mb, "peak-RSS-MB")
	}
}

// peakRSS is the most resident memory the process has had (Linux VmHWM):
// what the operating system saw, whatever the sampling missed. It covers
// the whole test binary since it started, so run one benchmark at a time
// for a figure that belongs to it.
func peakRSS() (uint64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

func BenchmarkXLSX100k(b *testing.B)    { benchExport(b, "xlsx", benchRows) }
func BenchmarkCSV100k(b *testing.B)     { benchExport(b, "csv", benchRows) }
func BenchmarkGeoJSON100k(b *testing.B) { benchExport(b, "geojson", benchRows) }

// BenchmarkXLSX10k is there to compare with BenchmarkXLSX100k: ten times
// the rows should take ten times as long but about the same memory.
func BenchmarkXLSX10k(b *testing.B) { benchExport(b, "xlsx", benchRows/10) }

// BenchmarkCSV100kDiscard is the CSV writer alone, without the disk.
func BenchmarkCSV100kDiscard(b *testing.B) {
	base := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for range b.N {
		w, err := export.NewCSV(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		for i := range benchRows {
			r := benchPool[i%len(benchPool)]
			r.Date = base.Add(time.Duration(i) * time.Second)
			if err := w.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadXLSX60k reads back an export of 60,000 ideas (about 7.5 MB,
// near flows.MaxImportBytes), reporting the peak heap: the rows stream, and
// formulas are looked for in the sheet's XML as it unzips.
func BenchmarkReadXLSX60k(b *testing.B) {
	const n = 60_000
	path := filepath.Join(b.TempDir(), "ideas.xlsx")
	file, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w, err := export.New("xlsx", file, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := w.Write(realisticRow(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	_ = file.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var peak uint64
	b.ResetTimer()
	for range b.N {
		p, _ := peakHeap(func() {
			ds, err := export.ReadDecisions("ideas.xlsx", data)
			if err != nil || len(ds) != n {
				b.Fatalf("%d decisions, %v", len(ds), err)
			}
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(len(data))/(1<<20), "file-MB")
}
