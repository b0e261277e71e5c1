package bench

import (
	"math"
	"slices"
	"strings"
	"testing"

	"unilock/internal/perfcount"
)

func TestBenchRegexp(t *testing.T) {
	for _, tt := range []struct{ base, want string }{
		{"ChanContended", `^BenchmarkChanContended$`},
		{"WakeupParallelSpinning/0s", `^BenchmarkWakeupParallelSpinning$/^0s$`},
		{"Sub/size=10/a.b", `^BenchmarkSub$/^size=10$/^a\.b$`},
		{"Dup/x#01", `^BenchmarkDup$/^x#01$`},
	} {
		if got := BenchRegexp(tt.base); got != tt.want {
			t.Errorf("BenchRegexp(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}

func TestFormatRow(t *testing.T) {
	all := [perfcount.NumCounters]perfcount.Source{perfcount.Perf, perfcount.Perf, perfcount.Perf, perfcount.Perf}
	some := [perfcount.NumCounters]perfcount.Source{perfcount.Rusage, perfcount.Rusage, perfcount.None, perfcount.Strace}
	for _, tt := range []struct {
		name  string
		iters int
		v     [perfcount.NumCounters]float64
		src   [perfcount.NumCounters]perfcount.Source
		want  string
	}{
		{"ChanContended-2", 1000, [perfcount.NumCounters]float64{2500, 1.5, 3, 4.25}, all,
			"BenchmarkChanContended-2\t1000\t2500 cpu-ns/op\t1.5 ctxsw/op\t3 futex/op\t4.25 syscalls/op"},
		{"Mutex", 12345678, [perfcount.NumCounters]float64{20.5, -0.001, 0, 0.0625}, some,
			"BenchmarkMutex\t12345678\t20.5 cpu-ns/op\t-0.001 ctxsw/op\t0.0625 syscalls/op"},
		{"Nothing-4", 10, [perfcount.NumCounters]float64{1, 2, 3, 4}, [perfcount.NumCounters]perfcount.Source{}, ""},
	} {
		if got := FormatRow(tt.name, tt.iters, tt.v, tt.src); got != tt.want {
			t.Errorf("FormatRow(%s) =\n%q, want\n%q", tt.name, got, tt.want)
		}
	}
}

func TestTimedRows(t *testing.T) {
	out := `goos: linux
pkg: runtime
BenchmarkChanContended-2   	    1000	      4000 ns/op
BenchmarkMutexHandoff/Solo-2 	 5000	 300 ns/op	 0 B/op
BenchmarkBroken-2 	 0	 NaN ns/op
BenchmarkChanContended-2	1000	2500 cpu-ns/op
--- FAIL: BenchmarkX
PASS
`
	got := TimedRows([]byte(out))
	want := []TimedRow{{"ChanContended-2", 1000, 4000}, {"MutexHandoff/Solo-2", 5000, 300}}
	if !slices.Equal(got, want) {
		t.Errorf("TimedRows = %v, want %v", got, want)
	}
}

func TestCountIters(t *testing.T) {
	for _, tt := range []struct {
		iters   int
		nsPerOp float64
		want    int
	}{
		{1000, 4000, 50000},    // -benchtime 1000x: 4ms; 200ms is 50000
		{40000, 5000, 40000},   // -benchtime 0.2s: the timed count
		{100, 0.5, 400000000},  // 200ms of a 0.5ns op
		{1, 1e9, 3},            // a 1s op: at least 3 (2 and N differ)
		{1e9, 0.1, 1000000000}, // never more than 1e9, as go test
		{100, 0, 100},          // no time: the timed count
		{5, 2e8, 5},            // 5 ops of 200ms are 1s already
	} {
		if got := CountIters(tt.iters, tt.nsPerOp); got != tt.want {
			t.Errorf("CountIters(%d, %g) = %d, want %d", tt.iters, tt.nsPerOp, got, tt.want)
		}
	}
}

// TestCounterUnits checks that benchstat's reader takes the counters'
// lines beside the timed ones: cpu-ns/op tidied to cpu-sec/op, and sec/op
// untouched by the counter lines.
func TestCounterUnits(t *testing.T) {
	v := [perfcount.NumCounters]float64{2500, 1.5, 3, 4}
	src := [perfcount.NumCounters]perfcount.Source{perfcount.Perf, perfcount.Perf, perfcount.Perf, perfcount.Perf}
	in := "pkg: runtime\nBenchmarkChanContended-2 \t 1000\t 4000 ns/op\n" + FormatRow("ChanContended-2", 1000, v, src) + "\n"
	k := Key{"runtime", "ChanContended", 2}
	for _, tt := range []struct {
		unit string
		want float64
	}{{"sec/op", 4000e-9}, {"cpu-sec/op", 2500e-9}, {"ctxsw/op", 1.5}, {"futex/op", 3}, {"syscalls/op", 4}} {
		s, err := Samples(strings.NewReader(in), "x", tt.unit)
		if err != nil || len(s[k]) != 1 || math.Abs(s[k][0]-tt.want) > 1e-9*tt.want {
			t.Errorf("%s: %v (%v), want one sample %g", tt.unit, s, err, tt.want)
		}
	}
	if out, dropped := Valid([]byte(in)); string(out) != in || len(dropped) != 0 {
		t.Errorf("Valid drops counter lines: %q, %q", out, dropped)
	}
}
