package suite

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"unilock/internal/phase"
	"unilock/internal/tiers"
)

// Knobs are the environment variables upstream's builders use to decide
// skips and timeouts; a side runs with those that are set.
var Knobs = []string{"GO_TEST_SHORT", "GO_TEST_TIMEOUT_SCALE", "GO_BUILDER_NAME"}

// KnobEnv returns the knobs set in the environment.
func KnobEnv() map[string]string {
	m := map[string]string{}
	for _, k := range Knobs {
		if v, ok := os.LookupEnv(k); ok {
			m[k] = v
		}
	}
	return m
}

// Side is one toolchain the suite runs on.
type Side struct {
	Label  string // "fork" or "upstream"
	Goroot string
	Knobs  map[string]string
	Extra  []string  // added to the environment last (the side's own build cache)
	Log    io.Writer // every line of output
	Out    io.Writer // failures as they happen, progress
	Clock  *phase.Clock
}

func (s *Side) gobin() string {
	exe := "go"
	if filepath.Separator == '\\' {
		exe = "go.exe"
	}
	return filepath.Join(s.Goroot, "bin", exe)
}

// Env is the environment a side's commands run in: the toolchain's own
// GOROOT and bin/ first on PATH, nothing inherited that changes what is
// built, and the knobs.
func (s *Side) Env() []string {
	env := append(os.Environ(), "GOTOOLCHAIN=local", "GOROOT=", "GOFLAGS=", "GOEXPERIMENT=", "GOOS=", "GOARCH=",
		"PATH="+filepath.Join(s.Goroot, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, k := range Knobs {
		env = append(env, k+"=")
	}
	for _, k := range sortedKeys(s.Knobs) {
		env = append(env, k+"="+s.Knobs[k])
	}
	return append(env, s.Extra...)
}

// List is go tool dist test -list: every dist test name, in order.
func (s *Side) List() ([]string, error) {
	cmd := exec.Command(s.gobin(), "tool", "dist", "test", "-list")
	cmd.Dir = filepath.Join(s.Goroot, "src")
	cmd.Env = s.Env()
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("%s: %s tool dist test -list: %v %s (is it built? ./make.bash, or remove .unilock/upstream to rebuild upstream)", s.Label, s.gobin(), err, msg)
	}
	return strings.Fields(string(out)), nil
}

// Filter keeps the names that run (a regular expression as dist's -run
// takes it: a leading ! inverts it) selects.
func Filter(names []string, run string) ([]string, error) {
	if run == "" {
		return names, nil
	}
	want := true
	if strings.HasPrefix(run, "!") {
		want, run = false, run[1:]
	}
	re, err := regexp.Compile(run)
	if err != nil {
		return nil, fmt.Errorf("-run %q: %v", run, err)
	}
	var out []string
	for _, n := range names {
		if re.MatchString(n) == want {
			out = append(out, n)
		}
	}
	return out, nil
}

// Result is one side's run.
type Result struct {
	Outcomes map[string]tiers.Status // "pkg.Test" and package-level "pkg" -> outcome
	Details  map[string]string       // how each failure failed
	Units    map[string]string       // package -> the dist test it ran in
	Counts   tiers.Result
	Elapsed  time.Duration
}

// unitOf names the dist test a package of test2json output belongs to:
// "crypto/aes:purego" belongs to "crypto/...:purego".
func unitOf(units []string, pkg string) int {
	p, variant, _ := strings.Cut(pkg, ":")
	for i, u := range units {
		if u == pkg {
			return i
		}
		up, uv, _ := strings.Cut(u, ":")
		if base, ok := strings.CutSuffix(up, "/..."); ok && uv == variant && (p == base || strings.HasPrefix(p, base+"/")) {
			return i
		}
	}
	return -1
}

// Run runs go tool dist test -k -json on units, printing progress with an
// estimate of the time left; expect is how long the run took last time
// (0: estimate from the units done).
func (s *Side) Run(units []string, expect time.Duration) *Result {
	start := time.Now()
	args := append([]string{"tool", "dist", "test", "-k", "-json"}, units...)
	cmd := exec.Command(s.gobin(), args...)
	cmd.Dir = filepath.Join(s.Goroot, "src")
	cmd.Env = s.Env()
	cmd.Stderr = s.Log
	res := &Result{Outcomes: map[string]tiers.Status{}, Details: map[string]string{}, Units: map[string]string{}}
	c := tiers.NewCollector(s.Out, s.Log)
	done, last := 0, time.Now()
	c.OnPackage = func(pkg string, st tiers.Status) {
		if st == tiers.Pass {
			res.Outcomes[pkg] = tiers.Pass
		}
		i := unitOf(units, pkg)
		res.Units[pkg] = ""
		if i >= 0 {
			res.Units[pkg] = units[i]
			if i+1 > done {
				done = i + 1
			}
		}
		if time.Since(last) >= 20*time.Second || done == len(units) {
			last = time.Now()
			s.Clock.Phase("%s: %d/%d dist tests (%s) %s", s.Label, done, len(units), pkg, left(time.Since(start), done, len(units), expect))
		}
	}
	pipe, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		res.Counts = tiers.Result{Tier: s.Label, Err: fmt.Errorf("%s %s: %v", s.gobin(), strings.Join(args[:5], " "), err)}
		return res
	}
	tiers.Scan(pipe, c)
	werr := cmd.Wait()
	res.Elapsed = time.Since(start)
	res.Counts = c.Finish(s.Label, append([]string{s.gobin()}, args[:5]...), werr, res.Elapsed)
	for k, st := range c.Outcomes {
		res.Outcomes[k] = st
	}
	for _, f := range c.Failures {
		if f.Kind != tiers.KindTest {
			res.Details[f.Key()] = strings.TrimPrefix(f.String(), f.Key()+" ")
		}
		res.Outcomes[f.Key()] = tiers.Fail
	}
	return res
}

// left estimates the time left after done of total units in elapsed.
func left(elapsed time.Duration, done, total int, expect time.Duration) string {
	switch {
	case done >= total:
		return "done"
	case expect > 0 && expect > elapsed:
		return "about " + phase.Format(expect-elapsed) + " left (as long as last time)"
	case done == 0:
		return ""
	}
	return "about " + phase.Format(elapsed*time.Duration(total-done)/time.Duration(done)) + " left"
}

// Rerun runs again what names (keys of Result.Outcomes) need, once, and
// returns their outcomes. A test of a package dist runs without a variant
// reruns alone, with go test -run; anything else (a variant, a package-level
// failure) reruns its whole dist test.
func (s *Side) Rerun(names []string, units map[string]string) map[string]tiers.Status {
	byPkg := map[string][]string{} // package -> top-level tests
	byUnit := map[string]bool{}
	for _, k := range names {
		pkg, test := splitKey(k, units)
		switch {
		case test != "" && !strings.Contains(pkg, ":"):
			top, _, _ := strings.Cut(test, "/")
			if !slices.Contains(byPkg[pkg], top) {
				byPkg[pkg] = append(byPkg[pkg], top)
			}
		case units[pkg] != "":
			byUnit[units[pkg]] = true
		default:
			byUnit[pkg] = true
		}
	}
	out := map[string]tiers.Status{}
	collect := func(args []string) {
		cmd := exec.Command(s.gobin(), args...)
		cmd.Dir = filepath.Join(s.Goroot, "src")
		cmd.Env = s.Env() // dist test and the reruns' go test run with -count=1: no cached results
		cmd.Stderr = s.Log
		fmt.Fprintf(s.Log, "=== %s rerun: go %s\n", s.Label, strings.Join(args, " "))
		c := tiers.NewCollector(io.Discard, s.Log)
		pkgs := map[string]tiers.Status{}
		c.OnPackage = func(pkg string, st tiers.Status) { pkgs[pkg] = st }
		pipe, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			fmt.Fprintf(s.Log, "rerun: %v\n", err)
			return
		}
		tiers.Scan(pipe, c)
		cmd.Wait()
		for k, st := range pkgs {
			out[k] = st
		}
		for k, st := range c.Outcomes {
			out[k] = st
		}
	}
	short := s.Knobs["GO_TEST_SHORT"] == "" || s.Knobs["GO_TEST_SHORT"] == "1" || s.Knobs["GO_TEST_SHORT"] == "true"
	timeout := 10 * time.Minute
	if sc, err := strconv.Atoi(s.Knobs["GO_TEST_TIMEOUT_SCALE"]); err == nil && sc > 1 {
		timeout *= time.Duration(sc)
	}
	for _, pkg := range sortedKeys(byPkg) {
		args := []string{"test", "-json", "-count=1", "-timeout=" + timeout.String(), "-run=^(" + strings.Join(byPkg[pkg], "|") + ")$"}
		if short {
			args = append(args, "-short")
		}
		collect(append(args, pkg))
	}
	for _, u := range sortedKeys(byUnit) {
		collect([]string{"tool", "dist", "test", "-k", "-json", u})
	}
	// A name the rerun did not report is left out: it did not run.
	res := map[string]tiers.Status{}
	for _, k := range names {
		if st, ok := out[k]; ok {
			res[k] = st
		}
	}
	return res
}

var testStart = regexp.MustCompile(`\.(Test|Example|Fuzz|Benchmark)`)

// splitKey splits "pkg.Test/sub" into its package and test. A package path
// may hold dots ("vendor/golang.org/x/net/..."), so the package is the
// longest prefix that ran as a package.
func splitKey(k string, units map[string]string) (pkg, test string) {
	if _, ok := units[k]; ok {
		return k, ""
	}
	for i := len(k) - 1; i > 0; i-- {
		if k[i] == '.' {
			if _, ok := units[k[:i]]; ok {
				return k[:i], k[i+1:]
			}
		}
	}
	// Not seen as a package: the test name starts the test.
	if m := testStart.FindStringIndex(k); m != nil {
		return k[:m[0]], k[m[0]+1:]
	}
	return k, ""
}
