package bench

import (
	"bufio"
	"bytes"
	"io"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"
)

const oldTxt = `goos: linux
goarch: amd64
pkg: runtime
cpu: Test CPU
BenchmarkChanContended     	    1000	      4000 ns/op
BenchmarkChanContended-2   	    1000	      5000 ns/op
pkg: sync
BenchmarkMutex-2           	    1000	        20 ns/op
`

func TestSamplesAndCompare(t *testing.T) {
	var old, new strings.Builder
	for i := 0; i < 10; i++ {
		old.WriteString(oldTxt)
		// new: ChanContended-2 is faster, everything else the same.
		new.WriteString(strings.Replace(oldTxt, "      5000 ns/op", "      4000 ns/op", 1))
	}
	// Vary the values a little, as a real machine would.
	jitter := func(s string) string {
		var b strings.Builder
		for i, l := range strings.Split(s, "\n") {
			if strings.HasSuffix(l, "0 ns/op") && i%3 == 0 {
				l = strings.Replace(l, "0 ns/op", "1 ns/op", 1)
			}
			b.WriteString(l + "\n")
		}
		return b.String()
	}
	os, err := Samples(strings.NewReader(jitter(old.String())), "old", "sec/op")
	if err != nil {
		t.Fatal(err)
	}
	ns, err := Samples(strings.NewReader(jitter(new.String())), "new", "sec/op")
	if err != nil {
		t.Fatal(err)
	}
	if Rows(os) != 3 || len(os[Key{"runtime", "ChanContended", 2}]) != 10 || len(os[Key{"runtime", "ChanContended", 1}]) != 10 {
		t.Fatalf("samples: %v", os)
	}
	ps := Compare(os, ns, 0.05)
	got := map[string]string{}
	for _, p := range ps {
		got[p.Pkg+"."+p.Bench+"-"+string(rune('0'+p.CPU))] = p.Verdict(0.05)
	}
	want := map[string]string{"runtime.ChanContended-1": "~", "runtime.ChanContended-2": "-20.0%", "sync.Mutex-2": "~"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	// The same data on both sides is never a change.
	for _, p := range Compare(os, os, 0.05) {
		if p.Verdict(0.05) != "~" {
			t.Errorf("same samples compare as %s for %v", p.Verdict(0.05), p.Key)
		}
	}
	var svg strings.Builder
	if err := Plot(&svg, ps, "t", "old", "new", 0.05); err != nil {
		t.Fatal(err)
	}
	if s := svg.String(); !strings.HasPrefix(s, "<svg") || !strings.Contains(s, "runtime.ChanContended") || !strings.Contains(s, "-20.0%") {
		t.Errorf("plot lacks a panel or the change mark:\n%s", s)
	}
}

func TestSplitName(t *testing.T) {
	for _, tt := range []struct {
		in   string
		base string
		cpu  int
	}{
		{"ChanContended-8", "ChanContended", 8},
		{"ChanContended", "ChanContended", 1},
		{"BenchmarkMutexCapture-2", "MutexCapture", 2},
		{"ChanProdCons0-16", "ChanProdCons0", 16},
		{"Sub/size=10-4", "Sub/size=10", 4},
	} {
		b, c := SplitName(tt.in)
		if b != tt.base || c != tt.cpu {
			t.Errorf("SplitName(%q) = %q, %d; want %q, %d", tt.in, b, c, tt.base, tt.cpu)
		}
	}
}

func TestParseStraceSummary(t *testing.T) {
	const out = `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ------------------
 60.00    0.000600          10        60        12 futex
 40.00    0.000400           3       114           rt_sigaction
------ ----------- ----------- --------- --------- ------------------
100.00    0.001000           5       174        12 total
`
	f, a, err := parseStraceSummary(bufio.NewScanner(strings.NewReader(out)))
	if err != nil || f != 60 || a != 174 {
		t.Errorf("parse = %d futex, %d total, %v; want 60, 174", f, a, err)
	}
	if _, _, err := parseStraceSummary(bufio.NewScanner(strings.NewReader("garbage\n"))); err == nil {
		t.Errorf("no error for a summary without a total")
	}
}

func TestValid(t *testing.T) {
	in := "pkg: runtime\nBenchmarkA-2 \t 100\t 5 ns/op\nBenchmarkB \t 0\t NaN ns/op\nBenchmarkC-4 \t 10\t +Inf ns/op\nBenchmarkB \t 0\t NaN ns/op\n"
	out, dropped := Valid([]byte(in))
	if string(out) != "pkg: runtime\nBenchmarkA-2 \t 100\t 5 ns/op\n" || strings.Join(dropped, " ") != "B C-4" {
		t.Errorf("Valid = %q, dropped %q", out, dropped)
	}
	s, err := Samples(strings.NewReader(in), "x", "sec/op")
	if err != nil || len(s) != 1 {
		t.Errorf("Samples kept %v (%v); want only A", s, err)
	}
}

func TestPkgFile(t *testing.T) {
	for _, tt := range []struct {
		path, name string
		file       bool
		out, want  string
	}{
		{"runtime", "runtime", false, "goos: linux\npkg: runtime\nBenchmarkX-2 \t 1\t 5 ns/op\n", "goos: linux\npkg: runtime\nBenchmarkX-2 \t 1\t 5 ns/op\n"},
		{"bench/handoff/handoff_test.go", "handoff", true, "goos: linux\nBenchmarkX-2 \t 1\t 5 ns/op\nPASS\n", "pkg: handoff\ngoos: linux\nBenchmarkX-2 \t 1\t 5 ns/op\nPASS\n"},
		{"bench/handoff/handoff_test.go", "handoff", true, "pkg: command-line-arguments\nBenchmarkX-2 \t 1\t 5 ns/op\n", "pkg: handoff\nBenchmarkX-2 \t 1\t 5 ns/op\n"},
	} {
		p := Pkg{Path: tt.path}
		if p.File() != tt.file || p.Name() != tt.name {
			t.Errorf("%s: File %v, Name %q; want %v, %q", tt.path, p.File(), p.Name(), tt.file, tt.name)
		}
		if got := string(p.nameResults([]byte(tt.out))); got != tt.want {
			t.Errorf("%s: results\n%s\nwant\n%s", tt.path, got, tt.want)
		}
	}
}

// TestHandoffSuite compiles and runs the handoff suite, the repository's
// bench/handoff, with the go command running the test: its results parse,
// under the package name handoff, with every benchmark of the file.
func TestHandoffSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a test binary")
	}
	suite, err := FindSuite("handoff")
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var sides [2]*Side
	for i, label := range []string{"old", "new"} {
		sides[i] = &Side{Label: label, Goroot: goruntime.GOROOT(), Dir: root}
		if err := sides[i].Compile(suite, dir, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	var oldOut, newOut bytes.Buffer
	plan := Plan{Suite: suite, Count: 2, CPU: "2", Benchtime: "3x"}
	if err := Run(plan, sides[0], sides[1], &oldOut, &newOut, io.Discard, func(int, int, string, string, time.Duration, time.Duration) {}); err != nil {
		t.Fatal(err)
	}
	s, err := Samples(&newOut, "new", "sec/op")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"LockedThreadPingPong", "LockedThreadPingPongBoth", "UnlockedPingPong", "WakeIdleP"} {
		if n := len(s[Key{"handoff", b, 2}]); n != 2 {
			t.Errorf("handoff.%s-2: %d samples, want 2 (all: %v)", b, n, s)
		}
	}
}
