package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"unilock/internal/build"
	"unilock/internal/emu"
	"unilock/internal/phase"
	"unilock/internal/ports"
	"unilock/internal/series"
	"unilock/internal/tiers"
)

// portsOpts are the flags of unilock ports.
type portsOpts struct {
	patterns    string
	run         string
	short       bool
	compileOnly bool
	jobs        int
	experiment  string
	timeout     time.Duration
	install     bool
	// The full mode: the whole -short suites of pkgs, timeouts scaled per
	// runner (scale 0) or by scale, disagreements rerun reruns times.
	full   bool
	pkgs   []string
	scale  int
	reruns int
	runSet bool // -run was given
	light  bool // -light: build only the ports not executed
}

func portsFlags(name, args, doc string) (*portsOpts, *flag.FlagSet) {
	fs := newFlags(name, args, doc)
	o := &portsOpts{}
	fs.StringVar(&o.patterns, "ports", "all", "comma-separated ports or patterns: linux/arm64,windows/*,*/wasm")
	fs.StringVar(&o.run, "run", tiers.LockSubset, "regexp of the runtime tests to execute (sync's run whole)")
	fs.BoolVar(&o.short, "short", true, "pass -short to the tests")
	fs.BoolVar(&o.compileOnly, "compile", false, "only compile and vet; execute nothing")
	fs.IntVar(&o.jobs, "j", 2, "ports compiled at once, and ports whose lock tests run at once (-full: one)")
	fs.StringVar(&o.experiment, "experiment", "", "GOEXPERIMENT for every build and test (e.g. staticlockranking)")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "go test -timeout for each package of a port (with -full: 30m unless given, times the runner's scale)")
	fs.BoolVar(&o.install, "install", false, "install the emulators the selected ports lack (apt-get as root, go install) first")
	fs.BoolVar(&o.light, "light", false, "vet and compile test binaries only for the ports executed here; only build runtime and sync for the others (the ports tier of ./run.bash)")
	return o, fs
}

// fullFlags adds the flags of the full mode to a ports flag set; parse
// them with o.parseFull after fs.Parse.
func fullFlags(o *portsOpts, fs *flag.FlagSet) (pkgs *string) {
	fs.BoolVar(&o.full, "full", false, "run the whole -short suites of -pkgs on every executable port, not the lock subset")
	pkgs = fs.String("pkgs", strings.Join(ports.FullPackages, ","), "with -full: the packages run; "+ports.ChanPackage+" runs GOROOT/test/chan's programs")
	fs.IntVar(&o.scale, "scale", 0, "with -full: multiply -timeout by this on every port (0: by the runner's scale: native 1, qemu 4, node and wazero 3, wine 2)")
	fs.IntVar(&o.reruns, "reruns", 2, "with -full -base: reruns of a test that fails on one side only, on each side, before it is called new")
	return pkgs
}

// fullTimeout is -timeout's default with -full.
const fullTimeout = 30 * time.Minute

// parseFull checks the full mode's flags once fs is parsed.
func (o *portsOpts) parseFull(fs *flag.FlagSet, pkgs string) error {
	pkgsSet, timeoutSet := false, false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "run":
			o.runSet = true
		case "pkgs":
			pkgsSet = true
		case "timeout":
			timeoutSet = true
		}
	})
	switch {
	case o.full && o.runSet:
		return fmt.Errorf("-full runs whole packages; -run selects runtime's lock tests without it: drop one (pick packages with -pkgs)")
	case !o.full && pkgsSet:
		return fmt.Errorf("-pkgs applies to -full: unilock ports -full -pkgs %s", pkgs)
	case o.scale < 0:
		return fmt.Errorf("-scale %d: give a timeout scale of at least 1, or 0 for the runner's own", o.scale)
	case o.reruns < 0:
		return fmt.Errorf("-reruns %d: give 0 or more reruns (e.g. -reruns 2)", o.reruns)
	}
	if !o.full {
		return nil
	}
	if !timeoutSet {
		// runtime's whole suite builds its testprog programs first: on
		// 2 loaded cores that build alone outran 15 minutes.
		o.timeout = fullTimeout
	}
	var err error
	o.pkgs, err = ports.ParsePackages(pkgs)
	return err
}

// validate checks the flags before any work starts.
func (o *portsOpts) validate() error {
	if o.jobs < 1 {
		return fmt.Errorf("-j %d: give the number of ports compiled at once, at least 1 (e.g. -j 2)", o.jobs)
	}
	if o.timeout <= 0 {
		return fmt.Errorf("-timeout %v: give a positive go test timeout (e.g. -timeout 15m)", o.timeout)
	}
	if _, err := regexp.Compile(o.run); err != nil {
		return fmt.Errorf("-run %q: %v", o.run, err)
	}
	if strings.Trim(o.patterns, ", ") == "" {
		return fmt.Errorf("-ports %q: give ports or patterns, e.g. -ports linux/arm64,windows/* (or all)", o.patterns)
	}
	return nil
}

func runPorts(env *Env, args []string) error {
	if len(args) > 0 && args[0] == "merge" {
		return runPortsMerge(env, args[1:])
	}
	o, fs := portsFlags("ports", "[flags] | merge [-o FILE] [-report] MATRIX.json...", `Compile the fork for every port in goroot/bin/go tool dist list: vet runtime and sync and
compile their test binaries. Then execute the runtime lock tests and sync's tests on every
port this machine can run: natively, under qemu-user, Node, wazero or Wine, through
go_$GOOS_$GOARCH_exec wrappers. Prints the matrix and writes it as JSON to
.unilock/ports/fork.json. Exits non-zero on any failure.

With -light, vets and compiles test binaries only for the ports it executes and only builds
runtime and sync for the others (vetting runtime compiles every package its tests import:
most of a port's time); ./run.bash ports runs that.

With -base, builds the unpatched upstream toolchain too (.unilock/upstream/), runs the same
matrix with it (.unilock/ports/upstream.json; as -light does, whatever the fork's side does),
and fails only on new failures: tests that fail with the fork and pass upstream.

With -full, runs instead the whole -short suites of the packages that exercise the lock
layer (-pkgs: runtime, sync, sync/atomic, os/signal, time, context, internal/sync) and the
programs of GOROOT/test/chan (through cmd/internal/testdir -target, the same wrappers) on
every port it executes, with -timeout scaled per runner, and prints per port the counts and
the time taken. With -base too, a test failing on one side only is rerun (-reruns) on both
before it is called new. Writes .unilock/ports/full-fork.json (and full-upstream.json).

unilock ports merge merges the full-fork.json of several -full -base runs, each on some
ports (give each its own -json FILE), into one table (see unilock ports merge -h).`)
	withBase := fs.Bool("base", false, "also run the matrix on the upstream base and report only new failures")
	jsonPath := fs.String("json", "", "where to write the fork's matrix (default .unilock/ports/fork.json, with -full full-fork.json)")
	pkgs := fullFlags(o, fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	if err := o.parseFull(fs, *pkgs); err != nil {
		return err
	}
	prefix := ""
	if o.full {
		prefix = "full-"
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (ports go in -ports: -ports %s)", fs.Args(), strings.Join(fs.Args(), ","))
	}
	ps, err := series.Load(env.Patches)
	if err != nil {
		return err
	}
	digest := series.Digest(ps)
	clock := phase.New(stdout)
	if err := checkToolchain(env, clock); err != nil {
		return err
	}
	m, err := portsMatrix(env, clock, env.Goroot, "fork", o)
	if err != nil {
		return err
	}
	m.Series = digest
	if *withBase {
		up, err := upstreamToolchain(env, clock)
		if err != nil {
			return err
		}
		bm, err := portsMatrix(env, clock, up, "upstream", o)
		if err != nil {
			return err
		}
		bm.Series = digest
		if err := bm.Write(filepath.Join(env.State, "ports", prefix+"upstream.json")); err != nil {
			return err
		}
		if o.full {
			m.CompareFull(bm, o.reruns, fullRerun(env, clock, o, m, bm))
		} else {
			m.Compare(bm)
		}
	}
	if *jsonPath == "" {
		*jsonPath = filepath.Join(env.State, "ports", prefix+"fork.json")
	}
	if err := m.Write(*jsonPath); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if o.full {
		m.PrintFull(stdout)
	} else {
		m.Print(stdout)
	}
	fmt.Fprintf(stdout, "\nmatrix: %s\n", rel(env, *jsonPath))
	if !m.OK() {
		if m.Compared != "" {
			return fmt.Errorf("the fork fails where upstream passes (NEW FAIL rows above)")
		}
		return fmt.Errorf("ports failed (FAIL rows above; logs in %s); run with -base to tell them from emulator limits", rel(env, filepath.Join(env.State, "log")))
	}
	return nil
}

// portsMatrix runs the checks of o with the toolchain at gr, labelled
// "fork" or "upstream".
func portsMatrix(env *Env, clock *phase.Clock, gr, label string, o *portsOpts) (*ports.Matrix, error) {
	start := time.Now()
	all, err := distList(env, gr)
	if err != nil {
		return nil, err
	}
	sel, err := ports.Select(all, o.patterns)
	if err != nil {
		return nil, err
	}
	version, err := goVersion(gr)
	if err != nil {
		return nil, err
	}
	host := emu.NewHost(runtime.GOOS, runtime.GOARCH, gr, env.State)
	runners := make([]emu.Runner, len(sel))
	for i, p := range sel {
		runners[i] = emu.For(host, p.GOOS, p.GOARCH)
	}
	if o.install && !o.compileOnly {
		if err := installEmulators(runners, clock); err != nil {
			return nil, err
		}
		for i, p := range sel {
			runners[i] = emu.For(host, p.GOOS, p.GOARCH)
		}
	}
	wrappers := filepath.Join(env.State, "exec", label)
	if err := os.RemoveAll(wrappers); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(wrappers, 0o777); err != nil {
		return nil, err
	}
	for i, p := range sel {
		if runners[i].Ready() {
			if err := emu.WriteWrapper(wrappers, p.GOOS, p.GOARCH, runners[i]); err != nil {
				return nil, err
			}
		}
	}
	logDir := filepath.Join(env.State, "log", "ports-"+label+"-"+start.UTC().Format("20060102-150405"))
	if err := os.MkdirAll(logDir, 0o777); err != nil {
		return nil, err
	}
	c := portsChecker(env, gr, label, o)
	// With -light, and always on upstream's side of -base (whose compile
	// results matter only where they are executed and compared), a port
	// that will not be executed is only built: vetting runtime compiles
	// every package its tests import, most of a port's compile time.
	if o.light || (label == "upstream" && !o.compileOnly) {
		executed := map[string]bool{}
		for i, p := range sel {
			executed[p.String()] = !o.compileOnly && runners[i].How != "" && runners[i].Ready()
		}
		c.BuildOnly = func(p ports.Port) bool { return !executed[p.String()] }
	}
	m := &ports.Matrix{
		Toolchain: version, Goroot: gr, Host: fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU()),
		RunRegexp: o.run, Started: start,
	}
	if o.full {
		m.RunRegexp, m.Packages = "", o.pkgs
	}
	if o.experiment != "" {
		m.Toolchain += " GOEXPERIMENT=" + o.experiment
	}
	openLog := func(p ports.Port) (*os.File, error) {
		return os.OpenFile(filepath.Join(logDir, p.GOOS+"-"+p.GOARCH+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o666)
	}

	clock.Phase("%s: compile %d ports with %s, %d at a time (logs %s)", label, len(sel), version, o.jobs, rel(env, logDir))
	m.Rows, err = c.CompileAll(sel, o.jobs, logDir, func(n int, p ports.Port, r ports.Row) {
		clock.Phase("%s: compiled %2d/%d %-16s %-15s %s (%.1fs)", label, n, len(sel), p, r.Backend, compileVerdict(r.Compile), r.Compile.Seconds)
	})
	if err != nil {
		return nil, err
	}

	var runnable []int
	for i := range sel {
		r := &m.Rows[i]
		switch {
		case !r.Compile.OK:
		case r.Compile.What == ports.WhatExternal:
			r.NotRun = "its binaries link only externally"
		case runners[i].How == "":
			r.NotRun = runners[i].Why()
		case o.compileOnly:
			r.NotRun = "-compile: not executed"
		case !runners[i].Ready():
			r.NotRun = runners[i].Why()
		case r.Compile.What != ports.WhatFull:
			r.NotRun = "only built (" + r.Compile.What + ")"
		default:
			runnable = append(runnable, i)
		}
	}
	// Set each runner up once, before any port runs.
	setups := map[string]error{}
	var ready []int
	for _, i := range runnable {
		p, rn := sel[i], runners[i]
		if rn.Setup != nil {
			key := p.String()
			if _, ok := setups[key]; !ok {
				clock.Phase("%s: set up %s for %s", label, rn.How, p)
				setups[key] = rn.Setup()
			}
			if err := setups[key]; err != nil {
				m.Rows[i].Run = &ports.Run{How: rn.How, Error: "setting up " + rn.How + ": " + err.Error()}
				continue
			}
		}
		ready = append(ready, i)
	}
	// The lock subset runs -j ports at a time: an emulated test binary
	// keeps about one core busy, and the tests bound every wait, so they
	// pass on a loaded machine. The whole suites of -full run one port at
	// a time: their timeouts are scaled for a runner alone.
	jobs := o.jobs
	if o.full {
		jobs = 1
	}
	var mu sync.Mutex // serialises the clock, progress and the rows
	progress := &lockedWriter{mu: &mu, w: stdout}
	started := 0
	runOne := func(i int) error {
		p, rn := sel[i], runners[i]
		mu.Lock()
		started++
		clock.Phase("%s: run %2d/%d %s with %s", label, started, len(runnable), p, rn.How)
		mu.Unlock()
		logf, err := openLog(p)
		if err != nil {
			return err
		}
		var run *ports.Run
		if o.full {
			scale := rn.TimeoutScale()
			if o.scale > 0 {
				scale = o.scale
			}
			run = c.ExecuteFull(p, rn.How, scale, o.pkgs, logf, progress, func(pr ports.PackageRun) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case pr.NotRun != "":
					clock.Phase("%s: %-16s %-14s not run: %s", label, p, pr.Package, pr.NotRun)
				default:
					clock.Phase("%s: %-16s %-14s %d passed, %d failed, %d skipped (%.1fs)", label, p, pr.Package, pr.Passed, pr.Failed, pr.Skipped, pr.Seconds)
				}
			})
		} else {
			run = c.Execute(p, rn.How, logf, progress)
		}
		logf.Close()
		verdict := "ok"
		if !run.OK() {
			verdict = "FAIL"
		}
		mu.Lock()
		m.Rows[i].Run = run
		clock.Phase("%s: %-16s %s: %d passed, %d failed, %d skipped (%.1fs)", label, p, verdict, run.Passed, run.Failed, run.Skipped, run.Seconds)
		mu.Unlock()
		return nil
	}
	if err := ports.ForEach(len(ready), jobs, func(k int) error { return runOne(ready[k]) }); err != nil {
		return nil, err
	}
	m.Seconds = time.Since(start).Seconds()
	return m, nil
}

// distList is the ports of go tool dist list -json of the toolchain at gr.
func distList(env *Env, gr string) ([]ports.Port, error) {
	gobin := filepath.Join(gr, "bin", "go")
	list := exec.Command(gobin, "tool", "dist", "list", "-json")
	list.Env = append(os.Environ(), build.CacheEnv(env.State, gr)...)
	out, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("%s tool dist list -json: %v (rebuild it: ./make.bash)", gobin, err)
	}
	return ports.Parse(out)
}

// runPortsMerge merges the fork's matrices of several runs of ports -full
// -base into one table.
func runPortsMerge(env *Env, args []string) error {
	fs := newFlags("ports merge", "[-o FILE] [-report] MATRIX.json...", `Merge the fork's matrices of several runs of unilock ports -full -base, each on some of the
ports (give each run its own -json FILE: every run writes .unilock/ports/full-fork.json
otherwise), into one: print the table, write it as JSON to -o, and list the ports this
machine executes that no run executed, with the command that runs them. The runs must share
the series, the packages, and the fork's and upstream's toolchains; a port executed by two of
them is refused. Runs that reran disagreements a different number of times merge, and the
table says the fewest. A merged matrix merges again with later runs. Exits non-zero on new
failures. With -report, also writes the dated report `+ports.ReportPath+` and the merged
matrix it is made from, `+ports.ReportMatrixPath+`, which merges again with later runs:
unilock ports merge -report `+ports.ReportMatrixPath+` .unilock/ports/full-fork-P.json`)
	out := fs.String("o", filepath.Join(env.State, "ports", "full-merged.json"), "where to write the merged matrix")
	report := fs.Bool("report", false, "also write the dated report "+ports.ReportPath)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("no matrices given: unilock ports merge .unilock/ports/full-fork*.json")
	}
	var in []ports.MergeInput
	for _, f := range fs.Args() {
		m, err := ports.Load(f)
		if err != nil {
			return err
		}
		in = append(in, ports.MergeInput{File: f, Matrix: m})
	}
	current := ""
	if ps, err := series.Load(env.Patches); err == nil {
		current = series.Digest(ps)
	}
	m, notes, err := ports.Merge(in, current)
	if err != nil {
		return err
	}
	if runnable, err := executablePorts(env, &m.NoRunner); err != nil {
		m.ToRunUnknown = err.Error()
	} else {
		m.ToRun = m.StillToRun(runnable)
	}
	if err := m.Write(*out); err != nil {
		return err
	}
	m.PrintFull(stdout)
	fmt.Fprintln(stdout)
	for _, n := range notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	fmt.Fprintln(stdout, m.StillToRunLine())
	if l := m.NoRunnerLine(); l != "" {
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintf(stdout, "\nmatrix: %s\n", rel(env, *out))
	if *report {
		p := filepath.Join(env.Root, ports.ReportPath)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			return err
		}
		// The matrix first: a report names the matrix it was made from.
		if err := m.Write(filepath.Join(env.Root, ports.ReportMatrixPath)); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(m.Markdown()), 0o666); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "report: %s (from %s)\n", ports.ReportPath, ports.ReportMatrixPath)
	}
	if !m.OK() {
		return fmt.Errorf("the fork fails where upstream passes (NEW FAIL rows above)")
	}
	return nil
}

// executablePorts are the ports of goroot/'s go tool dist list that this
// machine executes, as portsMatrix finds them; those with a runner that is
// not ready here (windows/386 without wine32) go to noRunner, with why.
func executablePorts(env *Env, noRunner *[]string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(env.Goroot, "bin", "go")); err != nil {
		return nil, fmt.Errorf("goroot/ is not built, so the ports this machine executes are not listed: ./make.bash, then merge again")
	}
	all, err := distList(env, env.Goroot)
	if err != nil {
		return nil, err
	}
	host := emu.NewHost(runtime.GOOS, runtime.GOARCH, env.Goroot, env.State)
	var out []string
	for _, p := range all {
		if r := emu.For(host, p.GOOS, p.GOARCH); r.How != "" {
			if !r.Ready() {
				*noRunner = append(*noRunner, p.String()+": "+r.Why())
				continue
			}
			out = append(out, p.String())
		}
	}
	return out, nil
}

// portsChecker is the checker of the toolchain at gr, labelled "fork" or
// "upstream", with the wrappers portsMatrix writes for it.
func portsChecker(env *Env, gr, label string, o *portsOpts) *ports.Checker {
	return &ports.Checker{Goroot: gr, Wrappers: filepath.Join(env.State, "exec", label), RunRegexp: o.run, Short: o.short,
		Experiment: o.experiment, Timeout: o.timeout, Env: build.CacheEnv(env.State, gr)}
}

// fullRerun reruns tests of a port of the full mode on the fork (side 0)
// or upstream (side 1), each at the timeout scale its first run had,
// logging to .unilock/log/ports-full-rerun-*.log.
func fullRerun(env *Env, clock *phase.Clock, o *portsOpts, fork, up *ports.Matrix) ports.RerunFunc {
	checkers := []*ports.Checker{portsChecker(env, fork.Goroot, "fork", o), portsChecker(env, up.Goroot, "upstream", o)}
	logPath := filepath.Join(env.State, "log", "ports-full-rerun-"+time.Now().UTC().Format("20060102-150405")+".log")
	return func(side int, port string, keys []string) map[string]tiers.Status {
		goos, goarch, _ := strings.Cut(port, "/")
		scale := 1
		for _, r := range fork.Rows {
			if r.Port == port && r.Run != nil {
				scale = r.Run.Scale
			}
		}
		label := []string{"fork", "upstream"}[side]
		clock.Phase("%s: %s: rerun %d tests failing on one side only: %s", label, port, len(keys), strings.Join(limitNames(keys, 6), ", "))
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o666)
		if err != nil {
			clock.Phase("rerun: %v", err)
			return nil
		}
		defer logf.Close()
		fmt.Fprintf(logf, "### %s %s\n", label, port)
		return checkers[side].Rerun(ports.Port{GOOS: goos, GOARCH: goarch}, scale, o.pkgs, keys, logf)
	}
}

func limitNames(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

func compileVerdict(c ports.Compile) string {
	if c.OK {
		return "ok"
	}
	return "FAIL: " + firstLine(c.Error)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// installEmulators installs what the runners lack: as root it runs the
// apt-get, dpkg, mount and update-binfmts commands; otherwise it runs only
// the go install commands and says which commands need root.
func installEmulators(rs []emu.Runner, clock *phase.Clock) error {
	run := func(c string) error {
		clock.Phase("install: %s", c)
		cmd := exec.Command("sh", "-c", c)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "GOTOOLCHAIN=local")
		cmd.Stdout, cmd.Stderr = stdout, stdout
		return cmd.Run()
	}
	notRun, err := emu.Install(rs, run, os.Geteuid() == 0)
	if len(notRun) > 0 {
		clock.Phase("install: not root; run these as root, then again: %s", strings.Join(notRun, " && "))
	}
	if err != nil {
		// What did install still runs; the matrix says what did not.
		clock.Phase("install: some commands failed: %v", err)
	}
	return nil
}

// runEmulators shows, or with -install installs, the emulators the ports
// need on this machine.
func runEmulators(env *Env, args []string) error {
	o, fs := portsFlags("emulators", "[-install] [-ports LIST]", "Say how this machine executes each port unilock ports runs, and what is missing with the\ncommand that installs it. With -install, install it.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	clock := phase.New(stdout)
	if err := checkToolchain(env, clock); err != nil {
		return err
	}
	distList := exec.Command(filepath.Join(env.Goroot, "bin", "go"), "tool", "dist", "list", "-json")
	distList.Env = append(os.Environ(), build.CacheEnv(env.State, env.Goroot)...)
	out, err := distList.Output()
	if err != nil {
		return fmt.Errorf("go tool dist list: %v (run ./make.bash)", err)
	}
	all, err := ports.Parse(out)
	if err != nil {
		return err
	}
	sel, err := ports.Select(all, o.patterns)
	if err != nil {
		return err
	}
	host := emu.NewHost(runtime.GOOS, runtime.GOARCH, env.Goroot, env.State)
	list := func() (rs []emu.Runner, missing int) {
		for _, p := range sel {
			r := emu.For(host, p.GOOS, p.GOARCH)
			if r.How == "" {
				continue
			}
			rs = append(rs, r)
			state := "ready"
			if !r.Ready() {
				state = r.Why()
				missing++
			}
			fmt.Fprintf(stdout, "%-16s %-18s %s\n", p, r.How, state)
		}
		return rs, missing
	}
	rs, missing := list()
	if missing == 0 || !o.install {
		if missing > 0 {
			return fmt.Errorf("%d ports cannot execute yet: unilock emulators -install", missing)
		}
		return nil
	}
	if err := installEmulators(rs, clock); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if _, missing = list(); missing > 0 {
		return fmt.Errorf("%d ports still cannot execute (see above)", missing)
	}
	return nil
}

// checkToolchain is checkBuilt for commands that compile runtime and sync
// from goroot/'s sources with its toolchain: a runtime edit made since the
// build is what they should check, so it only needs goroot/bin/go to run,
// and says when the sources moved on since the build.
func checkToolchain(env *Env, clock *phase.Clock) error {
	if err := checkBuilt(env); err == nil {
		return nil
	}
	v, err := goVersion(env.Goroot)
	if err != nil {
		return fmt.Errorf("goroot/bin/go does not run (%v): run ./make.bash", err)
	}
	clock.Phase("goroot/ changed since %s was built: its commands stay, runtime and sync are compiled from the sources as they are now (./make.bash rebuilds all)", v)
	return nil
}

// lockedWriter serialises writes from the ports running at once.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
