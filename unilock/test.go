package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"unilock/internal/build"
	"unilock/internal/goroot"
	"unilock/internal/phase"
	"unilock/internal/tiers"
)

// tierNames are the default tiers, in order. Every tier runs with
// -count=1: a toolchain's test command must run its tests, not replay results
// from the go command's test cache.
var tierNames = []string{"tool", "lock", "staticlockranking"}

// sanitizersTier runs the C sanitizer tests, the runtime's cgo tests and
// -race runs of runtime and sync (see tiers.SanitizerTier). It runs only
// when named: it takes several minutes on 2 cores and needs the C sanitizer
// runtimes installed (as root); .ci/run installs them and runs it.
const sanitizersTier = "sanitizers"

// namedTiers run only when named, with what they cost.
var namedTiers = []struct{ name, desc string }{
	{sanitizersTier, "C TSAN/ASAN/MSAN cgo tests, the runtime's cgo tests, -race runtime and sync"},
	{portsTier, "unilock ports -light: every port built; vetted, its test binaries compiled and the lock tests executed where this machine can"},
	{distTier, "unilock dist for the host, then the upstream go command switches to it (GOTOOLCHAIN, GOPROXY=file://, the team's checksum database)"},
}

// portsTier is the tier that runs unilock ports -light: every port built;
// vetted, its test binaries compiled and the lock tests executed where this
// machine can. The ports it cannot execute are only built: vetting runtime
// for a port compiles the ~200 packages its tests import, which made the
// tier take half of CI's time; unilock ports (no -light) and check-series
// still vet every port. About 15 minutes on 2 cores, so it runs only when
// named.
const portsTier = "ports"

func lockTiers(env *Env) map[string]tiers.Tier {
	gobin := filepath.Join(env.Goroot, "bin", "go")
	// The fork's tests build with the tool's own build cache for goroot/
	// (.unilock/gocache/), never the user's.
	clean := append([]string{"GOTOOLCHAIN=local", "GOEXPERIMENT=", "GOOS=", "GOARCH=", "GOFLAGS=", "GOROOT="}, build.CacheEnv(env.State, env.Goroot)...)
	return map[string]tiers.Tier{
		"tool": {
			Name: "tool", Dir: filepath.Join(env.Root, "unilock"),
			Cmd:  []string{"go", "test", "-json", "-count=1", "-timeout=20m", "./..."},
			Env:  []string{"GOTOOLCHAIN=local"},
			Desc: "the unilock tool's own tests (host go test ./... in unilock/)",
		},
		"lock": {
			Name: "lock", Cmd: []string{gobin, "test", "-json", "-short", "-count=1", "-timeout=20m", "runtime", "sync"},
			Env:  clean,
			Desc: "go test -short runtime sync",
		},
		"staticlockranking": {
			Name: "staticlockranking",
			// -cpu=1,2,4: at GOMAXPROCS=1 an M handoff goes through
			// stoplockedm and startm's notes, paths the default
			// GOMAXPROCS of a 2-core machine does not take (the whole
			// suite's runtime:cpu1 found a test leaving a wakeup on an
			// M that then parked in stoplockedm).
			Cmd:  []string{gobin, "test", "-json", "-short", "-count=1", "-timeout=20m", "-cpu=1,2,4", "-run=" + tiers.LockSubset, "runtime"},
			Env:  append(clean, "GOEXPERIMENT=staticlockranking"),
			Desc: "GOEXPERIMENT=staticlockranking go test -short -cpu=1,2,4 -run='" + tiers.LockSubset + "' runtime",
		},
		sanitizersTier: tiers.SanitizerTier(gobin, clean),
	}
}

func runTest(env *Env, args []string) error {
	doc := "Run the test tiers on the built fork: " + strings.Join(tierNames, ", ") + " (the default), and these only when named:\n"
	for _, t := range namedTiers {
		doc += "  " + t.name + ": " + t.desc + "\n"
	}
	doc += "With -all, run the whole upstream suite instead, fork against upstream: unilock suite (go tool dist test -k)."
	fs := newFlags("test", "[-all] [tier ...]", doc)
	fs.Bool("all", false, "run the whole upstream suite, fork against upstream: unilock suite, with the flags that follow (see unilock suite -h)")
	if len(args) > 0 && (args[0] == "-all" || args[0] == "--all") {
		return runSuite(env, args[1:])
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	clock := phase.New(stdout)
	if err := os.MkdirAll(filepath.Join(env.State, "log"), 0o777); err != nil {
		return err
	}
	logPath := filepath.Join(env.State, "log", "test-"+time.Now().UTC().Format("20060102-150405")+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()

	var run []tiers.Tier
	names := fs.Args()
	if len(names) == 0 {
		names = tierNames
	}
	known := lockTiers(env)
	for _, n := range names {
		t, ok := known[n]
		switch n {
		case portsTier:
			t, ok = tiers.Tier{Name: portsTier, Desc: "unilock ports -light (every port in go tool dist list built; vetted and executed where this machine can)"}, true
		case distTier:
			t, ok = tiers.Tier{Name: distTier, Desc: "unilock dist -ports host, then TestToolchainSwitch (internal/dist) on what it laid out"}, true
		}
		if !ok {
			return fmt.Errorf("unknown tier %q (tiers: %s, %s, %s, %s; the whole suite: ./run.bash -all)", n, strings.Join(tierNames, ", "), sanitizersTier, portsTier, distTier)
		}
		if n != "tool" && n != distTier { // dist builds from goroot/'s HEAD itself
			if err := checkBuilt(env); err != nil {
				return err
			}
		}
		run = append(run, t)
	}
	clock.Phase("test log: %s", rel(env, logPath))
	var results []tiers.Result
	for _, t := range run {
		clock.Phase("tier %s: %s", t.Name, t.Desc)
		fmt.Fprintf(logf, "=== tier %s: %s\n", t.Name, strings.Join(t.Cmd, " "))
		var r tiers.Result
		switch t.Name {
		case portsTier:
			r = portsResult(env, clock)
		case distTier:
			r = distResult(env, clock, logf)
		default:
			r = tiers.Run(t, stdout, logf)
		}
		results = append(results, r)
		clock.Phase("tier %s: %d passed, %d failed, %d skipped in %s", t.Name, r.Passed, r.Failed, r.Skipped, phase.Format(r.Elapsed))
		if r.Err != nil {
			fmt.Fprintf(stdout, "tier %s: %v\n", t.Name, r.Err)
		}
	}
	if len(fs.Args()) == 0 {
		var names []string
		for _, t := range namedTiers {
			names = append(names, t.name)
		}
		fmt.Fprintf(stdout, "\nnot run (name them; CI runs them): ./run.bash %s\n", strings.Join(names, " "))
	}
	printResults(stdout, results)
	for _, r := range results {
		if !r.OK() {
			return fmt.Errorf("tier %s failed; full output: %s", r.Tier, logPath)
		}
	}
	return nil
}

func printResults(w io.Writer, rs []tiers.Result) {
	fmt.Fprintf(w, "\n%-20s %8s %8s %8s %10s\n", "tier", "passed", "failed", "skipped", "time")
	for _, r := range rs {
		fmt.Fprintf(w, "%-20s %8d %8d %8d %10s\n", r.Tier, r.Passed, r.Failed, r.Skipped, phase.Format(r.Elapsed))
		for _, p := range r.Parts {
			fmt.Fprintf(w, "  %-18s %8d %8d %8d %10s\n", strings.TrimPrefix(p.Tier, r.Tier+"/"), p.Passed, p.Failed, p.Skipped, phase.Format(p.Elapsed))
		}
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  FAIL %s\n", f)
		}
	}
	fmt.Fprintf(w, "total: %s\n", tiers.Summary(rs))
}

// checkBuilt makes sure goroot/ is built from what it holds.
func checkBuilt(env *Env) error {
	t := goroot.Tree{Dir: env.Goroot}
	if !t.Exists() {
		return fmt.Errorf("goroot/ does not exist: run ./make.bash first")
	}
	st, err := t.LoadState()
	if err != nil {
		return err
	}
	key, err := buildKey(t)
	if err != nil {
		return err
	}
	if st.Built == "" || (key != "" && st.Built != key) {
		return fmt.Errorf("goroot/ is not built from what it holds: run ./make.bash first")
	}
	if _, err := goVersion(env.Goroot); err != nil {
		return fmt.Errorf("goroot/bin/go does not run (%v): run ./make.bash", err)
	}
	return nil
}

// partialSkips are the dist tests that need a directory the toolchain module
// does not carry.
var partialSkips = []struct{ prefix, dir string }{
	{"cmd/internal/testdir", "test/"},
	{"cmd/api", "api/"},
	{"cmd/relnote", "doc/"},
}

// partialSkip says why a dist test cannot run on a partial base: the
// directory it needs is not in the toolchain module.
func partialSkip(name string) string {
	for _, s := range partialSkips {
		if strings.HasPrefix(name, s.prefix) {
			return "base has no " + s.dir
		}
	}
	return ""
}

// portsResult runs the ports tier: unilock ports with its defaults, counted
// like a test tier (a port that does not compile counts as a failed test).
func portsResult(env *Env, clock *phase.Clock) tiers.Result {
	start := time.Now()
	o, fs := portsFlags("ports", "", "")
	fs.Parse([]string{"-light"})
	res := tiers.Result{Tier: portsTier}
	m, err := portsMatrix(env, clock, env.Goroot, "fork", o)
	res.Elapsed = time.Since(start)
	if err != nil {
		res.Err = err
		return res
	}
	fmt.Fprintln(stdout)
	m.Print(stdout)
	res.Passed, res.Failed, res.Skipped = m.Counts()
	for _, r := range m.Rows {
		if !r.Compile.OK {
			res.Failures = append(res.Failures, r.Port+": compile")
		}
		if r.Run != nil {
			for _, f := range r.Run.Failures {
				res.Failures = append(res.Failures, r.Port+": "+f)
			}
			if r.Run.Error != "" && r.Run.Failed == 0 {
				res.Failures = append(res.Failures, r.Port+": "+firstLine(r.Run.Error))
			}
		}
	}
	return res
}
