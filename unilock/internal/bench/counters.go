package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"unilock/internal/perfcount"
)

// Counting counts what each benchmark row costs per op beside its time:
// CPU time (user+sys, every thread), context switches, futex system calls
// and all system calls, in benchfmt units (cpu-ns/op, ctxsw/op, futex/op,
// syscalls/op) that benchstat compares as it does time/op.
//
// Each row is run again, counted, at 2 and at N iterations
// (-test.benchtime=2x and Nx, N from CountIters: the iterations of its timed
// run, or enough for CountMinTime, whichever is more), and the
// per-op cost is (count(N) - count(2)) / (N - 2). Both runs start the
// process and the benchmark harness alike: the testing package runs one
// iteration first and then the fixed count in a second round (runtime.GC
// before each), or with b.Loop the fixed count in one round, so the
// difference holds exactly N-2 iterations and nothing else.
//
// The counting itself is perf events (package perfcount), in two pairs of
// runs: CPU time and context switches (software counters, which cost the
// program nothing measurable), then futex and all system calls
// (tracepoints, which cost every system call some CPU time: counted
// together, they would inflate CPU/op most where there are most system
// calls). Where the kernel denies perf events: CPU time and context
// switches come from the child's rusage, and futex and all system calls
// from strace -f -c in a pair of runs of at most StraceMaxIters iterations
// (strace stops the program at every system call).
type Counting struct {
	Perf *perfcount.Setup
	// Strace is strace's path when it counts what perf events cannot.
	Strace string
}

// StraceMaxIters caps the iterations of a row's strace runs.
const StraceMaxIters = 2000

// CountMinTime is how long, at the timed run's time per op, a counted run
// lasts at least. What a test binary's start-up costs varies from run to
// run (the runtime's test binary: a few hundred to a few thousand futex
// calls and context switches on a busy machine), and the per-op counts
// carry that variation divided by N: a run as long as the default
// -benchtime keeps it to a few hundredths of a call per op even at
// -benchtime 100x.
const CountMinTime = 200 * time.Millisecond

// CountIters is N for a row whose timed run took iters iterations at nsPerOp
// each.
func CountIters(iters int, nsPerOp float64) int {
	n := float64(iters)
	if nsPerOp > 0 {
		n = max(n, math.Ceil(float64(CountMinTime)/nsPerOp))
	}
	return int(min(max(n, 3), 1e9))
}

// NewCounting finds out what this machine can count.
func NewCounting() *Counting {
	c := &Counting{Perf: perfcount.Probe()}
	if c.Perf.Source(perfcount.Futex) == perfcount.None || c.Perf.Source(perfcount.Syscalls) == perfcount.None {
		if p, err := exec.LookPath("strace"); err == nil {
			c.Strace = p
		}
	}
	return c
}

// Source is how c counts k.
func (c *Counting) Source(k perfcount.Counter) perfcount.Source {
	s := c.Perf.Source(k)
	if s == perfcount.None && c.Strace != "" && (k == perfcount.Futex || k == perfcount.Syscalls) {
		return perfcount.Strace
	}
	return s
}

// Describe says what is counted, how, and what is missing and why.
func (c *Counting) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "per-op counters: each row run at 2 and N iterations (N: its timed run's, or %v worth, whichever is more), (count(N) - count(2)) / (N-2);\n", CountMinTime)
	b.WriteString("CPU and context switches in one pair of runs, system calls in another (tracepoints cost CPU)\n")
	b.WriteString(c.Perf.Describe())
	for _, k := range []perfcount.Counter{perfcount.Futex, perfcount.Syscalls} {
		switch c.Source(k) {
		case perfcount.Strace:
			fmt.Fprintf(&b, "%-12s %s: strace -f -c (%s) in two more runs of at most %d iterations\n", k.Unit(), k, c.Strace, StraceMaxIters)
		case perfcount.None:
			fmt.Fprintf(&b, "%-12s %s: NOT COUNTED: no perf event, and strace is not installed (apt-get install strace)\n", k.Unit(), k)
		}
	}
	return b.String()
}

// ErrRowNotRun is Row's error for a row that a run of its own did not
// print: a benchmark whose parent skips at -test.cpu=1 alone (runtime's
// WakeupParallel* check GOMAXPROCS before their sub-benchmarks), though
// the timed run with a -cpu list ran it.
var ErrRowNotRun = errors.New("the row did not run on its own")

// Row counts the per-op costs of one row of a test binary: name as the
// timed run printed it, less "Benchmark" ("ChanContended-2"), at n
// iterations (at least 3; CountIters). It returns a benchfmt result line for
// the row, or "" when nothing could be counted.
func (c *Counting) Row(bin, name string, n int) (string, error) {
	base, cpu := SplitName(name)
	n = max(n, 3)
	args := func(k int) []string {
		return []string{"-test.run=^$", "-test.bench=" + BenchRegexp(base), "-test.count=1",
			fmt.Sprintf("-test.benchtime=%dx", k), fmt.Sprintf("-test.cpu=%d", cpu)}
	}
	pair := func(s *perfcount.Setup) (v [perfcount.NumCounters]float64, src [perfcount.NumCounters]perfcount.Source, err error) {
		var cnt [2]perfcount.Counts
		for i, k := range []int{2, n} {
			cmd := exec.Command(bin, args(k)...)
			cmd.Env = os.Environ()
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			cnt[i], err = s.Run(cmd)
			if err == nil && !ranRow(out.Bytes(), name) {
				err = fmt.Errorf("%w: %s", ErrRowNotRun, name)
			}
			if err != nil {
				return v, src, fmt.Errorf("counting: %s %s: %w\n%s", bin, strings.Join(args(k), " "), err, out.Bytes())
			}
		}
		v, src = perfcount.PerOp(cnt[0], cnt[1], 2, n)
		return v, src, nil
	}
	v, src, err := pair(c.Perf.Only(perfcount.CPU, perfcount.CtxSw))
	if err != nil {
		return "", err
	}
	src[perfcount.Futex], src[perfcount.Syscalls] = perfcount.None, perfcount.None
	if sys := c.Perf.Only(perfcount.Futex, perfcount.Syscalls); sys.Source(perfcount.Futex) == perfcount.Perf || sys.Source(perfcount.Syscalls) == perfcount.Perf {
		vs, ss, err := pair(sys)
		if err != nil {
			return "", err
		}
		for _, k := range []perfcount.Counter{perfcount.Futex, perfcount.Syscalls} {
			if ss[k] == perfcount.Perf {
				v[k], src[k] = vs[k], ss[k]
			}
		}
	}
	if c.Strace != "" && (src[perfcount.Futex] == perfcount.None || src[perfcount.Syscalls] == perfcount.None) {
		ns := min(n, StraceMaxIters)
		f2, a2, err := straceRun(c.Strace, bin, args(2))
		if err != nil {
			return "", err
		}
		fn, an, err := straceRun(c.Strace, bin, args(ns))
		if err != nil {
			return "", err
		}
		for _, x := range []struct {
			k        perfcount.Counter
			small, n int
		}{{perfcount.Futex, f2, fn}, {perfcount.Syscalls, a2, an}} {
			if src[x.k] == perfcount.None {
				v[x.k], src[x.k] = float64(x.n-x.small)/float64(ns-2), perfcount.Strace
			}
		}
	}
	return FormatRow(name, n, v, src), nil
}

// BenchRegexp is a -test.bench pattern that selects exactly one benchmark,
// named without "Benchmark" and the -GOMAXPROCS suffix; sub-benchmarks by
// their elements ("Wakeup/spin=1us").
func BenchRegexp(base string) string {
	parts := strings.Split(base, "/")
	for i, p := range parts {
		if i == 0 {
			p = "Benchmark" + p
		}
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// FormatRow formats per-op counts as a benchfmt result line, one value per
// counted unit; "" when none was counted.
func FormatRow(name string, iters int, v [perfcount.NumCounters]float64, src [perfcount.NumCounters]perfcount.Source) string {
	var b strings.Builder
	for _, k := range perfcount.Counters {
		if src[k] != perfcount.None {
			fmt.Fprintf(&b, "\t%s %s", perfcount.FormatValue(v[k]), k.Unit())
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return fmt.Sprintf("Benchmark%s\t%d%s", name, iters, b.String())
}

// TimedRow is one row of a timed run.
type TimedRow struct {
	Name    string // less "Benchmark": "ChanContended-2"
	Iters   int
	NsPerOp float64
}

// TimedRows returns the rows of a timed run's output that measured
// something.
func TimedRows(out []byte) []TimedRow {
	var rows []TimedRow
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		i := slices.Index(f, "ns/op")
		if i < 3 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		ns, err2 := strconv.ParseFloat(f[i-1], 64)
		if err != nil || err2 != nil || n <= 0 || math.IsNaN(ns) || math.IsInf(ns, 0) {
			continue
		}
		rows = append(rows, TimedRow{strings.TrimPrefix(f[0], "Benchmark"), n, ns})
	}
	return rows
}

// ranRow reports whether a counted run printed the row's result.
func ranRow(out []byte, name string) bool {
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "Benchmark"+name {
			return true
		}
	}
	return false
}

// straceRun runs the test binary under strace -f -c and returns its futex
// and total system call counts.
func straceRun(strace, bin string, args []string) (futex, all int, err error) {
	out, err := os.CreateTemp("", "unilock-strace-")
	if err != nil {
		return 0, 0, err
	}
	out.Close()
	defer os.Remove(out.Name())
	cmd := exec.Command(strace, append([]string{"-f", "-c", "-o", out.Name(), bin}, args...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("counting: strace -f -c %s %s: %v\n%s", bin, strings.Join(args, " "), err, msg)
	}
	f, err := os.Open(out.Name())
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return parseStraceSummary(bufio.NewScanner(f))
}

// parseStraceSummary reads strace -c's table: the futex row's and the total
// row's call counts.
func parseStraceSummary(sc *bufio.Scanner) (futex, all int, err error) {
	seen := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || strings.HasPrefix(f[0], "%") || strings.HasPrefix(f[0], "-") {
			continue
		}
		name := f[len(f)-1]
		// Rows, the total row too: % time, seconds, usecs/call, calls,
		// [errors,] syscall.
		if name == "total" {
			if all, err = strconv.Atoi(f[3]); err != nil {
				return 0, 0, fmt.Errorf("strace total row %q: %v", sc.Text(), err)
			}
			seen = true
			continue
		}
		if name == "futex" {
			if futex, err = strconv.Atoi(f[3]); err != nil {
				return 0, 0, fmt.Errorf("strace futex row %q: %v", sc.Text(), err)
			}
		}
	}
	if !seen {
		return 0, 0, fmt.Errorf("no total row in strace -c's summary")
	}
	return futex, all, sc.Err()
}
