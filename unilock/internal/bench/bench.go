// Package bench holds the old-vs-new benchmark harness: named suites of
// runtime and sync benchmarks, test binaries compiled once per toolchain,
// runs interleaved old and new round by round (so drift on a shared machine
// hits both alike), raw results in benchfmt, summaries with confidence
// intervals through golang.org/x/perf/benchmath, a plot, and per-op CPU
// time, context switches and system calls beside the times (perf events,
// see Counting).
package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Pkg is the benchmarks of one package in a suite.
type Pkg struct {
	// Path is either an import path of the toolchain's own packages
	// (runtime, sync), whose benchmarks each toolchain compiles from its
	// own tree, or a test file of this repository relative to its root
	// (bench/handoff/handoff_test.go): the same code compiled by both
	// toolchains, for benchmarks upstream's tree does not have.
	Path  string
	Bench string // -test.bench regexp
}

// File reports whether p is a test file of the repository rather than a
// package of the toolchain.
func (p Pkg) File() bool { return strings.HasSuffix(p.Path, "_test.go") }

// Name is what the results call p (their "pkg:" line): the import path, or
// for a file the name of its directory, where the test binary of a lone
// file prints no pkg line.
func (p Pkg) Name() string {
	if !p.File() {
		return p.Path
	}
	return filepath.Base(filepath.Dir(p.Path))
}

// nameResults makes the results of p's test binary say which package they
// are from: for a file, "pkg: NAME" replaces whatever pkg line it printed.
func (p Pkg) nameResults(out []byte) []byte {
	if !p.File() {
		return out
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "pkg: %s\n", p.Name())
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("pkg: ")) {
			b.Write(line)
		}
	}
	return b.Bytes()
}

// Suite is a named set of benchmarks.
type Suite struct {
	Name string
	Doc  string
	Pkgs []Pkg
}

// Suites are the suites unilock bench knows.
var Suites = []Suite{
	{
		Name: "lock",
		Doc:  "the lock layer: channels, select, runtime mutex, wakeups, sync.Mutex, semaphores, WaitGroup",
		Pkgs: []Pkg{
			{"runtime", `^Benchmark(ChanContended|ChanCreation|ChanSync|ChanProdCons(0|10|100)|SelectSyncContended|MutexContention|MutexCapture|MutexHandoff|WakeupParallelSpinning|WakeupParallelSyscall|PingPongHog)$`},
			{"sync", `^Benchmark(Mutex|MutexUncontended|MutexWork|SemaSyntBlock|WaitGroup.*)$`},
		},
	},
	{
		Name: "handoff",
		Doc:  "M handoffs through notesleep/notewakeup: a thread-locked goroutine's channel ping-pong (go.dev/issue/21827), idle-P wake-ups; bench/handoff, the same code on both sides",
		Pkgs: []Pkg{{"bench/handoff/handoff_test.go", "."}},
	},
	{
		Name: "seed",
		Doc:  "the two benchmarks of Go CL 5140043: ChanContended and ChanCreation",
		Pkgs: []Pkg{{"runtime", `^Benchmark(ChanContended|ChanCreation)$`}},
	},
}

// FindSuite returns the suite called name.
func FindSuite(name string) (Suite, error) {
	var names []string
	for _, s := range Suites {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Suite{}, fmt.Errorf("no suite %q (suites: %s)", name, strings.Join(names, ", "))
}

// Side is one toolchain being measured.
type Side struct {
	Label   string // "old" or "new"
	Goroot  string
	Version string
	Bins    map[string]string // package path to its test binary
	// Env is added to the environment of its go commands: the tool's own
	// build cache (build.CacheEnv).
	Env []string
	// Dir is where its go commands run: the repository root, against which
	// a Pkg's file Path resolves.
	Dir string
}

// Compile builds the side's test binaries for the suite into dir, once.
func (s *Side) Compile(suite Suite, dir string, log io.Writer) error {
	s.Bins = map[string]string{}
	for _, p := range suite.Pkgs {
		bin := filepath.Join(dir, s.Label+"."+strings.ReplaceAll(p.Path, "/", "_")+".test")
		cmd := exec.Command(filepath.Join(s.Goroot, "bin", "go"), "test", "-c", "-o", bin, p.Path)
		cmd.Env = append(append(os.Environ(), "GOROOT=", "GOFLAGS=", "GOTOOLCHAIN=local", "GOOS=", "GOARCH=", "GOEXPERIMENT=", "CGO_ENABLED="), s.Env...)
		if p.File() {
			cmd.Dir = s.Dir
		}
		out, err := cmd.CombinedOutput()
		log.Write(out)
		if err != nil {
			return fmt.Errorf("%s: go test -c %s: %v\n%s", s.Goroot, p.Path, err, out)
		}
		s.Bins[p.Path] = bin
	}
	return nil
}

// Plan is what to run.
type Plan struct {
	Suite     Suite
	Count     int    // rounds; each round runs every benchmark once per side
	CPU       string // -test.cpu list
	Benchtime string
	// Counters, when set, counts every row's per-op costs after its timed
	// run, appending them to the same results as more units.
	Counters *Counting
}

// Progress reports one step of a run: which, how far, and an estimate of
// the time left.
type Progress func(round, rounds int, side, pkg string, elapsed, left time.Duration)

// Run runs the plan, old and new interleaved: in each round every package
// runs once per side, old first in odd rounds and new first in even ones,
// appending benchfmt to oldOut and newOut.
func Run(plan Plan, old, new *Side, oldOut, newOut io.Writer, log io.Writer, progress Progress) error {
	start := time.Now()
	steps := plan.Count * len(plan.Suite.Pkgs) * 2
	if plan.Counters != nil {
		steps *= 2
	}
	done := 0
	skipped := map[string]bool{} // rows left uncounted, by side
	tick := func(round int, side, pkg string) {
		elapsed := time.Since(start)
		var left time.Duration
		if done > 0 {
			left = elapsed / time.Duration(done) * time.Duration(steps-done)
		}
		progress(round, plan.Count, side, pkg, elapsed, left)
	}
	for round := 1; round <= plan.Count; round++ {
		for _, p := range plan.Suite.Pkgs {
			order := []*Side{old, new}
			if round%2 == 0 {
				order = []*Side{new, old}
			}
			for _, s := range order {
				tick(round, s.Label, p.Path)
				out := oldOut
				if s == new {
					out = newOut
				}
				args := []string{"-test.run=^$", "-test.bench=" + p.Bench, "-test.count=1", "-test.benchtime=" + plan.Benchtime}
				if plan.CPU != "" {
					args = append(args, "-test.cpu="+plan.CPU)
				}
				cmd := exec.Command(s.Bins[p.Path], args...)
				cmd.Env = os.Environ()
				var timed bytes.Buffer
				cmd.Stdout = io.MultiWriter(log, &timed)
				cmd.Stderr = log
				err := cmd.Run()
				out.Write(p.nameResults(timed.Bytes()))
				if err != nil {
					return fmt.Errorf("%s %s benchmarks, round %d: %v (its output: %s)", s.Label, p.Path, round, err, LogName(log))
				}
				done++
				if plan.Counters == nil {
					continue
				}
				tick(round, s.Label, p.Path+" counters")
				for _, row := range TimedRows(timed.Bytes()) {
					line, err := plan.Counters.Row(s.Bins[p.Path], row.Name, CountIters(row.Iters, row.NsPerOp))
					if errors.Is(err, ErrRowNotRun) {
						// Left uncounted on this side; benchstat shows
						// no counter row where neither side has one.
						if !skipped[s.Label+" "+row.Name] {
							skipped[s.Label+" "+row.Name] = true
							fmt.Fprintf(io.MultiWriter(os.Stderr, log), "%s %s: %s not counted: it does not run on its own at its -cpu (%s)\n", s.Label, p.Path, row.Name, LogName(log))
						}
						fmt.Fprintf(log, "%v\n", err)
						continue
					}
					if err != nil {
						fmt.Fprintf(log, "%v\n", err)
						return fmt.Errorf("%s %s counters, round %d: %v (its output: %s)", s.Label, p.Path, round, firstLine(err), LogName(log))
					}
					if line != "" {
						fmt.Fprintf(io.MultiWriter(out, log), "%s\n", line)
					}
				}
				done++
			}
		}
	}
	return nil
}

// firstLine is the first line of an error's text.
func firstLine(err error) string {
	l, _, _ := strings.Cut(err.Error(), "\n")
	return l
}

// LogName is the path of a log written to a file, or "the log".
func LogName(w io.Writer) string {
	if f, ok := w.(interface{ Name() string }); ok && f.Name() != "" {
		return f.Name()
	}
	return "the log"
}

// CleanFailed removes from dir, the output folder of a run that failed, the
// test binaries and the result files that hold nothing, so that a failed run
// leaves only its log (and raw results, if any were measured). It returns
// how many bytes it removed.
func CleanFailed(dir string) (int64, error) {
	var freed int64
	bins, _ := filepath.Glob(filepath.Join(dir, "*.test"))
	for _, name := range []string{"old.txt", "new.txt", "toolchains.txt"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Size() == 0 {
			bins = append(bins, filepath.Join(dir, name))
		}
	}
	for _, b := range bins {
		fi, err := os.Stat(b)
		if err != nil {
			continue
		}
		if err := os.Remove(b); err != nil {
			return freed, err
		}
		freed += fi.Size()
	}
	return freed, nil
}
