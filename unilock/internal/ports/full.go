package ports

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"unilock/internal/tiers"
)

// FullPackages are what the full mode (unilock ports -full) runs on every
// port it executes: the whole -short suites of the packages that exercise
// the lock layer, and the channel programs of GOROOT/test/chan.
var FullPackages = []string{"runtime", "sync", "sync/atomic", "os/signal", "time", "context", "internal/sync", ChanPackage}

// ChanPackage names the programs of GOROOT/test/chan. They run as upstream
// runs them on a cross port: cmd/internal/testdir on the host with
// -target=GOOS/GOARCH, which builds each program for the port, executes it
// through the go_$GOOS_$GOARCH_exec wrapper and compares its output with
// the program's .out file when there is one.
const ChanPackage = "test/chan"

// testdirPkg is the package whose Test runs GOROOT/test; its subtests are
// named "Test/chan/select.go".
const testdirPkg = "cmd/internal/testdir"

// NoTestDir says why test/chan cannot run on a toolchain without
// GOROOT/test, and how to get one.
const NoTestDir = "GOROOT/test is absent: the base is partial (the golang.org/toolchain module has no test/); " +
	"make goroot/ on a full base to run test/chan: unilock/unilock.bash rebase -from DIR (DIR a Go source tree of the pinned release), " +
	"or install the pinned release as the host Go and ./make.bash --force"

// PackageRun is one package of a full run.
type PackageRun struct {
	Package string  `json:"package"`
	Passed  int     `json:"passed"`
	Failed  int     `json:"failed"`
	Skipped int     `json:"skipped"`
	Seconds float64 `json:"seconds"`
	// NotRun says why the package did not run (test/chan without
	// GOROOT/test); its counts are zero.
	NotRun string `json:"not_run,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ParsePackages reads -pkgs: comma-separated import paths, test/chan among
// them. "" is FullPackages.
func ParsePackages(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Clone(FullPackages), nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			continue
		case strings.ContainsAny(p, " \t'\"") || strings.HasPrefix(p, "-") || strings.HasSuffix(p, "..."):
			return nil, fmt.Errorf("-pkgs: %q is not a package import path (e.g. -pkgs runtime,sync,%s)", p, ChanPackage)
		case strings.HasPrefix(p, "test/") && p != ChanPackage:
			return nil, fmt.Errorf("-pkgs: %q: of GOROOT/test only %s runs here", p, ChanPackage)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-pkgs %q names no package (e.g. -pkgs %s)", s, strings.Join(FullPackages, ","))
	}
	return out, nil
}

// fullEnv is the environment of p's tests at timeout scale scale.
func (c *Checker) fullEnv(p Port, scale int) []string {
	return append(c.env(p, false), fmt.Sprintf("GO_TEST_TIMEOUT_SCALE=%d", scale))
}

// hostEnv is the environment of a command that runs on the host and
// targets p itself (cmd/internal/testdir -target): the host's GOOS and
// GOARCH, the wrappers on PATH.
func (c *Checker) hostEnv(p Port, scale int) []string {
	return append(c.fullEnv(p, scale), "GOOS=", "GOARCH=")
}

// collect runs a command that prints test2json events and returns its
// result and every test's outcome.
func collect(name string, args, env []string, w, log io.Writer) (tiers.Result, map[string]tiers.Status) {
	start := time.Now()
	fmt.Fprintf(log, "=== %s: %s\n", name, strings.Join(args, " "))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = log
	c := tiers.NewCollector(w, log)
	pkgs := map[string]tiers.Status{}
	c.OnPackage = func(pkg string, st tiers.Status) { pkgs[pkg] = st }
	pipe, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		return tiers.Result{Tier: name, Err: fmt.Errorf("%s: %v", strings.Join(args, " "), err)}, nil
	}
	tiers.Scan(pipe, c)
	werr := cmd.Wait()
	res := c.Finish(name, args, werr, time.Since(start))
	// A package that passed is an outcome too (a package-level failure
	// that reruns clean passes); a failed one fails by its failures.
	out := map[string]tiers.Status{}
	for k, st := range pkgs {
		if st == tiers.Pass {
			out[k] = st
		}
	}
	for k, st := range c.Outcomes {
		out[k] = st
	}
	return res, out
}

// timeout is the go test -timeout of p's tests at scale.
func (c *Checker) timeout(scale int) string {
	return (c.Timeout * time.Duration(max(scale, 1))).String()
}

func (c *Checker) testArgs(scale int) []string {
	args := []string{c.gobin(), "test", "-json", "-count=1", "-timeout=" + c.timeout(scale)}
	if c.Short {
		args = append(args, "-short")
	}
	return args
}

// chanArgs runs test/chan's programs (those run selects, "" for all) for
// p through cmd/internal/testdir.
func (c *Checker) chanArgs(p Port, scale int, run string) []string {
	if run == "" {
		run = ".*"
	}
	return append(c.testArgs(scale), "-run=^Test$/^chan$/"+run, testdirPkg, "-args", "-target="+p.String())
}

// hasChan reports whether the toolchain has GOROOT/test/chan.
func (c *Checker) hasChan() bool {
	fi, err := os.Stat(filepath.Join(c.Goroot, "test", "chan"))
	return err == nil && fi.IsDir()
}

// chanKey names a test/chan outcome: "test/chan/select.go" for a program,
// "test/chan" for the run as a whole (its build, the parent Test).
func chanKey(k string) string {
	if rest, ok := strings.CutPrefix(k, testdirPkg+".Test/"); ok {
		return "test/" + rest
	}
	return ChanPackage
}

// chanOutcomes renames testdir's outcomes to test/chan's, and counts them:
// the parent Test is not a program and counts only when it failed alone
// (no program failed: it could not start them).
func chanOutcomes(res tiers.Result, out map[string]tiers.Status) (tiers.Result, map[string]tiers.Status) {
	renamed := map[string]tiers.Status{}
	progFailed := false
	for k, st := range out {
		if k != testdirPkg && k != testdirPkg+".Test" {
			renamed[chanKey(k)] = st
			progFailed = progFailed || st == tiers.Fail
		}
	}
	switch parent := out[testdirPkg+".Test"]; {
	case parent == tiers.Pass:
		res.Passed--
	case parent == tiers.Skip:
		res.Skipped--
	case parent == tiers.Fail && progFailed:
		res.Failed--
	}
	switch {
	case out[testdirPkg+".Test"] == tiers.Fail && !progFailed, out[testdirPkg] == tiers.Fail && !progFailed:
		renamed[ChanPackage] = tiers.Fail
	case out[testdirPkg] == tiers.Pass:
		renamed[ChanPackage] = tiers.Pass
	}
	var fs []string
	for _, f := range res.Failures {
		switch {
		case f == testdirPkg+".Test" && progFailed:
			continue
		case f == testdirPkg+".Test":
			f = ChanPackage + " (its runner " + f + " failed)"
		case strings.HasPrefix(f, testdirPkg+".Test/"):
			f = "test/" + strings.TrimPrefix(f, testdirPkg+".Test/")
		default:
			f = strings.Replace(f, testdirPkg, ChanPackage, 1)
		}
		fs = append(fs, f)
	}
	res.Failures = fs
	return res, renamed
}

// ExecuteFull runs the whole -short suites of pkgs (ChanPackage among
// them: test/chan's programs) for p through its wrapper, with timeouts
// scaled by scale. done, if set, is called as each package ends.
func (c *Checker) ExecuteFull(p Port, how string, scale int, pkgs []string, log, w io.Writer, done func(PackageRun)) *Run {
	start := time.Now()
	run := &Run{How: how, Scale: max(scale, 1), Outcomes: map[string]tiers.Status{}}
	var errs []string
	for _, pkg := range pkgs {
		pr := PackageRun{Package: pkg}
		t0 := time.Now()
		var res tiers.Result
		var out map[string]tiers.Status
		switch {
		case pkg == ChanPackage && !c.hasChan():
			pr.NotRun = NoTestDir
			fmt.Fprintf(log, "=== %s %s: not run: %s\n", p, pkg, pr.NotRun)
		case pkg == ChanPackage:
			res, out = collect(p.String()+" "+pkg, c.chanArgs(p, scale, ""), c.hostEnv(p, scale), w, log)
			res, out = chanOutcomes(res, out)
		default:
			res, out = collect(p.String()+" "+pkg, append(c.testArgs(scale), pkg), c.fullEnv(p, scale), w, log)
		}
		pr.Seconds = time.Since(t0).Seconds()
		if pr.NotRun == "" {
			pr.Passed, pr.Failed, pr.Skipped = res.Passed, res.Failed, res.Skipped
			switch {
			case res.Err != nil:
				pr.Error = res.Err.Error()
			case res.Passed+res.Failed+res.Skipped == 0:
				// An emulator that exits 0 without running the binary (Wine
				// lacking a 32-bit loader does) must not pass as a run.
				pr.Error = p.String() + " " + pkg + ": no test ran (the binary printed no test results; its output: " + logName(log) + ")"
			}
			if pr.Error != "" {
				errs = append(errs, pr.Error)
			}
			run.Passed += res.Passed
			run.Failed += res.Failed
			run.Skipped += res.Skipped
			run.Failures = append(run.Failures, res.Failures...)
			for k, st := range out {
				run.Outcomes[k] = st
			}
		}
		run.Packages = append(run.Packages, pr)
		if done != nil {
			done(pr)
		}
	}
	run.Error = strings.Join(errs, "\n")
	run.Seconds = time.Since(start).Seconds()
	return run
}

// ownerOf returns the package of pkgs that outcome key k ("pkg.Test/sub",
// "pkg", "test/chan/x.go") belongs to, the longest that fits.
func ownerOf(pkgs []string, k string) string {
	best := ""
	for _, p := range pkgs {
		if (k == p || strings.HasPrefix(k, p+".") || (p == ChanPackage && strings.HasPrefix(k, p+"/"))) && len(p) > len(best) {
			best = p
		}
	}
	return best
}

// Rerun runs again, once, the tests keys names (keys of Run.Outcomes) for
// p and returns their outcomes. Tests rerun by top-level name with -run; a
// package-level failure reruns its whole package; test/chan programs rerun
// by file name.
func (c *Checker) Rerun(p Port, scale int, pkgs, keys []string, log io.Writer) map[string]tiers.Status {
	tops := map[string][]string{} // package -> top-level test names ("" for the whole package)
	var order []string
	for _, k := range keys {
		pkg := ownerOf(pkgs, k)
		if pkg == "" {
			continue
		}
		if _, ok := tops[pkg]; !ok {
			order = append(order, pkg)
			tops[pkg] = nil
		}
		var top string
		switch {
		case pkg == ChanPackage && k != pkg:
			top = regexp.QuoteMeta(strings.TrimPrefix(k, pkg+"/"))
		case k != pkg:
			top, _, _ = strings.Cut(strings.TrimPrefix(k, pkg+"."), "/")
			top = regexp.QuoteMeta(top)
		}
		if top == "" || slices.Contains(tops[pkg], "") {
			tops[pkg] = []string{""}
		} else if !slices.Contains(tops[pkg], top) {
			tops[pkg] = append(tops[pkg], top)
		}
	}
	got := map[string]tiers.Status{}
	for _, pkg := range order {
		run := ""
		if t := tops[pkg]; len(t) > 0 && t[0] != "" {
			run = "^(" + strings.Join(t, "|") + ")$"
		}
		var out map[string]tiers.Status
		switch {
		case pkg == ChanPackage:
			var res tiers.Result
			res, out = collect(p.String()+" rerun "+pkg, c.chanArgs(p, scale, run), c.hostEnv(p, scale), io.Discard, log)
			_, out = chanOutcomes(res, out)
		default:
			args := c.testArgs(scale)
			if run != "" {
				args = append(args, "-run="+run)
			}
			_, out = collect(p.String()+" rerun "+pkg, append(args, pkg), c.fullEnv(p, scale), io.Discard, log)
		}
		for k, st := range out {
			got[k] = st
		}
	}
	// A name the rerun did not report is left out: it did not run.
	res := map[string]tiers.Status{}
	for _, k := range keys {
		if st, ok := got[k]; ok {
			res[k] = st
		}
	}
	return res
}
