package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"unilock/internal/bench"
	"unilock/internal/build"
	"unilock/internal/goroot"
	"unilock/internal/phase"
)

func runBench(env *Env, args []string) error {
	var suites []string
	for _, s := range bench.Suites {
		suites = append(suites, fmt.Sprintf("  %-6s %s", s.Name, s.Doc))
	}
	fs := newFlags("bench", "[flags]", `Benchmark upstream against the fork: compile each side's test binaries once, run them
interleaved round by round (old, new; then new, old), and compare with benchstat
(golang.org/x/perf): medians, 95% confidence intervals, p-values, geomean. Writes the raw
results (benchfmt), the table and a plot (SVG) into -out.

-counters also counts, for every row, CPU time (user+sys, every thread), context switches,
futex system calls and all system calls per op: CPU time from the child's rusage (the
task-clock perf event loses time on a loaded machine), the rest with the kernel's perf
events (context-switches, syscalls:sys_enter_futex, raw_syscalls:sys_enter): after its timed run,
each row runs at 2 and at N iterations (N: its timed run's, or 200ms worth) and the
difference is divided by N-2. They go into the raw results as the units cpu-sec/op,
ctxsw/op, futex/op and syscalls/op, and benchstat's table compares them as it does sec/op.
Where the kernel denies perf events, it says which and why, and falls back to the child's
rusage (context switches) and strace -f -c (system calls), or leaves the counter out.
It about triples the run time.

"old" is upstream built the same way as the fork (.unilock/upstream/, built once from
goroot/'s base commit); "new" is goroot/. Suites:
`+strings.Join(suites, "\n"))
	suiteName := fs.String("suite", "lock", "the benchmarks to run")
	count := fs.Int("count", 10, "rounds: samples per benchmark and side")
	cpu := fs.String("cpu", "1,2,4,8,16", "GOMAXPROCS values, as go test -cpu")
	benchtime := fs.String("benchtime", "0.2s", "as go test -benchtime, per benchmark per round")
	oldRoot := fs.String("old", "", "the old toolchain's GOROOT (default: upstream, built by the tool)")
	newRoot := fs.String("new", "", "the new toolchain's GOROOT (default: goroot/)")
	out := fs.String("out", "", "output directory (default .unilock/bench/TIMESTAMP)")
	alpha := fs.Float64("alpha", 0, "significance level per row; 0: 0.05 divided by the number of rows (Bonferroni), so that identical toolchains show ~ on every row")
	counters := fs.Bool("counters", false, "also count CPU time, context switches and system calls per op (perf events), on every row")
	from := fs.String("from", "", "recompute the table, plot and counters from the raw results of an earlier run in this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Every flag is checked before minutes of building and compiling.
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: unilock bench takes only flags (unilock bench -h)", fs.Args())
	}
	suite, err := bench.FindSuite(*suiteName)
	if err != nil {
		return err
	}
	if *count < 2 {
		return fmt.Errorf("-count %d: statistics need at least 2 rounds (benchstat asks for 10 or more)", *count)
	}
	if _, err := bench.ParseCPU(*cpu); err != nil {
		return err
	}
	if err := bench.CheckBenchtime(*benchtime); err != nil {
		return err
	}
	if err := bench.CheckAlpha(*alpha); err != nil {
		return err
	}
	for _, r := range []struct{ flag, dir string }{{"-old", *oldRoot}, {"-new", *newRoot}} {
		if r.dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.dir, "bin", "go")); err != nil {
			return fmt.Errorf("%s %s: not a built Go toolchain (%v): give a GOROOT holding bin/go", r.flag, r.dir, err)
		}
	}
	if *from != "" {
		if _, err := os.Stat(filepath.Join(*from, "toolchains.txt")); err != nil {
			return fmt.Errorf("-from %s: %v (not a directory unilock bench wrote; runs are in %s)", *from, err, rel(env, filepath.Join(env.State, "bench")))
		}
	}
	clock := phase.New(stdout)
	sides := []*bench.Side{{Label: "old"}, {Label: "new"}}
	if *from != "" {
		*out = *from
		if err := loadSides(*out, suite, sides); err != nil {
			return err
		}
		clock.Phase("statistics from the raw results in %s", *out)
	} else {
		if *newRoot == "" {
			if err := checkBuilt(env); err != nil {
				return err
			}
			*newRoot = env.Goroot
		}
		if *oldRoot == "" {
			if *oldRoot, err = upstreamToolchain(env, clock); err != nil {
				return err
			}
		}
		sides[0].Goroot, sides[1].Goroot = *oldRoot, *newRoot
		for _, s := range sides {
			s.Env = build.CacheEnv(env.State, s.Goroot)
			s.Dir = env.Root
		}
		if *out == "" {
			*out = filepath.Join(env.State, "bench", time.Now().UTC().Format("20060102-150405"))
		}
		plan := bench.Plan{Suite: suite, Count: *count, CPU: *cpu, Benchtime: *benchtime}
		if *counters {
			plan.Counters = bench.NewCounting()
			note := plan.Counters.Describe()
			clock.Phase("counters:\n%s", strings.TrimSuffix(indent(note), "\n"))
			if err := os.MkdirAll(*out, 0o777); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(*out, "counters.txt"), []byte(note), 0o666); err != nil {
				return err
			}
		}
		if err := measure(suite, sides, *out, plan, clock); err != nil {
			return err
		}
	}
	oldPath, newPath := filepath.Join(*out, "old.txt"), filepath.Join(*out, "new.txt")

	// Statistics.
	oldS, err := readSamples(oldPath)
	if err != nil {
		return err
	}
	newS, err := readSamples(newPath)
	if err != nil {
		return err
	}
	a := *alpha
	if a == 0 {
		a = 0.05 / float64(max(bench.Rows(oldS), 1))
	}
	table, dropped, err := benchstat(env, a, oldPath, newPath)
	if err != nil {
		return err
	}
	command := fmt.Sprintf("unilock bench -suite %s -count %d -cpu %s -benchtime %s", suite.Name, *count, *cpu, *benchtime)
	if *from != "" {
		command = "unilock bench -from " + *from
	}
	header := fmt.Sprintf("%s\nold: %s\nnew: %s\nmachine: %s/%s, %d CPUs\nalpha: %.2g per row (0.05 over %d rows)\n",
		command, sides[0].Version, sides[1].Version, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), a, bench.Rows(oldS))
	// counters.txt of a run before perf events held strace's table instead.
	if note, err := os.ReadFile(filepath.Join(*out, "counters.txt")); err == nil && bytes.HasPrefix(note, []byte("per-op counters:")) {
		header += string(note)
	}
	if len(dropped) > 0 {
		header += fmt.Sprintf("left out, no measurement (0 iterations or NaN): %s\n", strings.Join(dropped, ", "))
	}
	header += "\n"
	if err := os.WriteFile(filepath.Join(*out, "benchstat.txt"), []byte(header+table), 0o666); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s%s\n", header, table)

	points := bench.Compare(oldS, newS, a)
	var svg bytes.Buffer
	title := fmt.Sprintf("unilock bench -suite %s -count %d (%s/%s, %d CPUs)", suite.Name, *count, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if err := bench.Plot(&svg, points, title, sides[0].Version, sides[1].Version, a); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "plot.svg"), svg.Bytes(), 0o666); err != nil {
		return err
	}
	summarize(clock, "time/op", "faster", "slower", points, a)
	oldC, err := readUnit(oldPath, "cpu-sec/op")
	if err != nil {
		return err
	}
	newC, err := readUnit(newPath, "cpu-sec/op")
	if err != nil {
		return err
	}
	if len(oldC) > 0 {
		summarize(clock, "CPU/op", "less CPU", "more CPU", bench.Compare(oldC, newC, a), a)
	}
	_, err = os.Stat(filepath.Join(*out, "counters.txt"))
	clock.Phase("results in %s: old.txt new.txt (raw benchfmt), benchstat.txt, plot.svg%s, bench.log", rel(env, *out), map[bool]string{true: ", counters.txt"}[err == nil])
	return nil
}

// summarize prints how many rows of a comparison went down (less), up
// (more) or stayed, and names the ones that moved.
func summarize(clock *phase.Clock, what, less, more string, points []bench.Point, a float64) {
	var down, up []string
	same := 0
	for _, p := range points {
		name := fmt.Sprintf("%s-%d", p.Bench, p.CPU)
		switch v := p.Verdict(a); {
		case v == "~":
			same++
		case strings.HasPrefix(v, "-"):
			down = append(down, name+" "+v)
		default:
			up = append(up, name+" "+v)
		}
	}
	clock.Phase("%s: %d rows %s, %d %s, %d unchanged (~) at alpha %.2g", what, len(down), less, len(up), more, same, a)
	for _, s := range down {
		fmt.Fprintf(stdout, "  %s: %s\n", less, s)
	}
	for _, s := range up {
		fmt.Fprintf(stdout, "  %s: %s\n", more, s)
	}
}

// indent indents every line of s by four spaces.
func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

func pkgList(s bench.Suite) string {
	var ps []string
	for _, p := range s.Pkgs {
		ps = append(ps, p.Path)
	}
	return strings.Join(ps, " ")
}

func readSamples(path string) (map[bench.Key][]float64, error) {
	return readUnit(path, "sec/op")
}

// readUnit reads the values of one unit (as benchstat tidies it: sec/op,
// cpu-sec/op) from raw results.
func readUnit(path, unit string) (map[bench.Key][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return bench.Samples(f, path, unit)
}

// sameBinaries reports whether both sides built byte-identical binaries.
func sameBinaries(a, b *bench.Side) bool {
	for pkg, ab := range a.Bins {
		x, err1 := os.ReadFile(ab)
		y, err2 := os.ReadFile(b.Bins[pkg])
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			return false
		}
	}
	return true
}

// benchstat runs golang.org/x/perf/cmd/benchstat, the tool unilock's go.mod
// pins, on the raw results less the lines that hold no measurement, which
// it returns by name.
func benchstat(env *Env, alpha float64, oldPath, newPath string) (table string, dropped []string, err error) {
	tmp, err := os.MkdirTemp("", "unilock-benchstat-")
	if err != nil {
		return "", nil, err
	}
	defer os.RemoveAll(tmp)
	var inputs []string
	seen := map[string]bool{}
	for _, f := range []struct{ label, path string }{{"old", oldPath}, {"new", newPath}} {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return "", nil, err
		}
		valid, d := bench.Valid(data)
		for _, n := range d {
			if !seen[n] {
				seen[n] = true
				dropped = append(dropped, n)
			}
		}
		p := filepath.Join(tmp, f.label+".txt")
		if err := os.WriteFile(p, valid, 0o666); err != nil {
			return "", nil, err
		}
		inputs = append(inputs, f.label+"="+p)
	}
	cmd := exec.Command("go", append([]string{"tool", "benchstat", "-alpha", strconv.FormatFloat(alpha, 'g', 4, 64)}, inputs...)...)
	cmd.Dir = filepath.Join(env.Root, "unilock")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go tool benchstat: %v\n%s(the raw results are kept: %s %s; recompute with: unilock bench -from %s)", err, stderr.String(), oldPath, newPath, filepath.Dir(oldPath))
	}
	return string(out), dropped, nil
}

// measure compiles both sides' test binaries into out and runs the plan,
// writing old.txt and new.txt (raw benchfmt) and toolchains.txt.
func measure(suite bench.Suite, sides []*bench.Side, out string, plan bench.Plan, clock *phase.Clock) (err error) {
	if err := os.MkdirAll(out, 0o777); err != nil {
		return err
	}
	logPath := filepath.Join(out, "bench.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	defer func() {
		if err == nil {
			return
		}
		// A failed run leaves its log and whatever it measured, not
		// megabytes of test binaries and empty result files.
		freed, cerr := bench.CleanFailed(out)
		msg := fmt.Sprintf("full log: %s", logPath)
		if cerr != nil {
			msg += fmt.Sprintf("; cleaning up %s: %v (remove it: rm -rf %s)", out, cerr, out)
		} else if freed > 0 {
			msg += fmt.Sprintf("; removed the test binaries and empty results (%s) from %s", goroot.FormatSize(freed), out)
		}
		err = fmt.Errorf("%v\n%s", err, msg)
	}()

	for _, s := range sides {
		if s.Version, err = goVersion(s.Goroot); err != nil {
			return fmt.Errorf("%s/bin/go does not run: %v", s.Goroot, err)
		}
		clock.Phase("%s: %s (%s): compile the test binaries of %s", s.Label, s.Version, s.Goroot, pkgList(suite))
		if err := s.Compile(suite, out, logf); err != nil {
			return err
		}
	}
	same := sameBinaries(sides[0], sides[1])
	if same {
		clock.Phase("old and new test binaries are identical: an A/A run, every row should be ~")
	}
	oldPath, newPath := filepath.Join(out, "old.txt"), filepath.Join(out, "new.txt")
	oldF, err := os.Create(oldPath)
	if err != nil {
		return err
	}
	newF, err := os.Create(newPath)
	if err != nil {
		return err
	}
	clock.Phase("run %d rounds of suite %s, -cpu %s, -benchtime %s, old and new interleaved", plan.Count, suite.Name, plan.CPU, plan.Benchtime)
	err = bench.Run(plan, sides[0], sides[1], oldF, newF, logf, func(round, rounds int, side, pkg string, elapsed, left time.Duration) {
		est := "estimating"
		if left > 0 {
			est = "about " + phase.Format(left) + " left"
		}
		clock.Phase("round %d/%d: %s %s (%s)", round, rounds, side, pkg, est)
	})
	oldF.Close()
	newF.Close()
	if err != nil {
		return err
	}

	return os.WriteFile(filepath.Join(out, "toolchains.txt"), []byte(sides[0].Version+"\n"+sides[1].Version+"\n"), 0o666)
}

// loadSides finds the versions and test binaries an earlier run left in dir.
func loadSides(dir string, suite bench.Suite, sides []*bench.Side) error {
	data, err := os.ReadFile(filepath.Join(dir, "toolchains.txt"))
	if err != nil {
		return fmt.Errorf("-from %s: %v (not a directory unilock bench wrote)", dir, err)
	}
	vs := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i, s := range sides {
		if i < len(vs) {
			s.Version = vs[i]
		}
		s.Bins = map[string]string{}
		for _, p := range suite.Pkgs {
			s.Bins[p.Path] = filepath.Join(dir, s.Label+"."+strings.ReplaceAll(p.Path, "/", "_")+".test")
		}
	}
	return nil
}
