// Package tiers runs the fork's test tiers with go test -json and counts what
// passed, failed and was skipped.
//
// Every way a package can fail counts as a failure with its name: a failing
// test; a test that was running when its test binary died; a package that
// failed to build or to set up ("FAIL pkg [build failed]",
// "FAIL pkg [setup failed]", with the build output the go command reports in
// build-output events); and a test binary that failed without a failing test
// (a TestMain that exits non-zero, a crash outside any test).
package tiers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"time"
)

// LockSubset selects the runtime tests that exercise the lock layer: locks,
// notes, semaphores, channels and select, timers, parking and wakeups, and
// the lock-rank checks.
const LockSubset = `Lock|Mutex|Note|Sema|Futex|Chan|Select|Wakeup|Deadlock|Handoff|PingPong|Timer|Park|Rank|Spin`

// Tier is one invocation of a command that prints test2json events:
// go test -json, or go tool dist test -json.
type Tier struct {
	Name string
	Dir  string   // where it runs ("" for the current directory)
	Cmd  []string // the command and its arguments, -json included
	Env  []string // added to the environment, overriding it
	Desc string   // what it runs, in words
	// Check, if set, runs before the tier; an error (which says what is
	// missing and the command that installs it) fails the tier without
	// running it.
	Check func() error
	// Parts, if set, are run in turn instead of Cmd, each counted into the
	// tier's result; a part's failures are named with its prefix.
	Parts []Part
}

// Part is one command of a tier with several.
type Part struct {
	Name string // prefix for its failures, e.g. "race"
	Dir  string
	Cmd  []string
	Env  []string
}

// Result counts a tier's tests (subtests included).
type Result struct {
	Tier     string
	Passed   int
	Failed   int
	Skipped  int
	Elapsed  time.Duration
	Failures []string // what failed, by name: "pkg.Test", "pkg [build failed]", ...
	Err      error    // the command failed without a named failure, or could not run
	// Parts holds each part's own result and time, for tiers with Parts.
	Parts []Result
}

// OK reports whether the tier passed.
func (r Result) OK() bool { return r.Failed == 0 && r.Err == nil }

// Event is one test2json event, or one build event of go test -json
// (ImportPath set, Action "build-output" or "build-fail").
type Event struct {
	Time        time.Time `json:",omitzero"`
	Action      string
	Package     string  `json:",omitempty"`
	Test        string  `json:",omitempty"`
	Elapsed     float64 `json:",omitempty"`
	Output      string  `json:",omitempty"`
	FailedBuild string  `json:",omitempty"`
	ImportPath  string  `json:",omitempty"`
}

// Status is the outcome of one test, or of a package as a whole.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Kind says how something failed.
type Kind string

const (
	KindTest   Kind = "test"         // a test reported failure
	KindDied   Kind = "died"         // a test was running when its binary died
	KindBuild  Kind = "build failed" // the package (or a dependency) did not compile
	KindSetup  Kind = "setup failed" // the go command could not set the package up (import errors, ...)
	KindBinary Kind = "no test"      // the test binary failed outside any test
)

// Failure is one named failure.
type Failure struct {
	Package string // as reported: "pkg" or dist's "pkg:variant"
	Test    string // "" for a package-level failure
	Kind    Kind
	Detail  string // the failed build's package, the binary's last words, ...
	Output  string // the output that goes with it, shortened
}

// Key is the name of what failed, as the outcome maps use it: "pkg.Test" or,
// for a package-level failure, "pkg".
func (f Failure) Key() string { return Key(f.Package, f.Test) }

// Key joins a package and a test name: "pkg.Test", or "pkg" alone.
func Key(pkg, test string) string {
	if test == "" {
		return pkg
	}
	return pkg + "." + test
}

// String names the failure for a person: "sync.TestD",
// "runtime.TestC (did not finish: the test binary died)",
// "cmd/go [build failed: cmd/go [cmd/go.test]]".
func (f Failure) String() string {
	switch f.Kind {
	case KindDied:
		return f.Key() + " (did not finish: the test binary died)"
	case KindBuild, KindSetup:
		if f.Detail != "" && f.Detail != f.Package {
			return fmt.Sprintf("%s [%s: %s]", f.Package, f.Kind, f.Detail)
		}
		return fmt.Sprintf("%s [%s]", f.Package, f.Kind)
	case KindBinary:
		if f.Detail != "" {
			return fmt.Sprintf("%s (test binary failed without a failing test: %s)", f.Package, f.Detail)
		}
		return f.Package + " (test binary failed without a failing test)"
	}
	return f.Key()
}

// Collector reads a stream of go test -json (or dist test -json) lines and
// keeps the counts, the failures and every test's outcome.
type Collector struct {
	w, log io.Writer

	Passed, Failed, Skipped int
	Failures                []Failure
	// Outcomes maps "pkg.Test" (and "pkg" for a package-level failure) to
	// its outcome; a name seen twice keeps a failure.
	Outcomes map[string]Status
	// OnPackage, if set, is called when a package ends (its pass, fail or
	// skip event without a test).
	OnPackage func(pkg string, s Status)

	outputs   map[string][]string // key -> output lines
	buildOut  map[string][]string // ImportPath -> build output
	running   map[string][]string // package -> tests started and not ended, in start order
	pkgFailed map[string]int      // package -> failures already named in it
}

// NewCollector returns a collector that writes every line of output to log,
// and the output of each failure to w as it happens.
func NewCollector(w, log io.Writer) *Collector {
	return &Collector{
		w: w, log: log,
		Outcomes:  map[string]Status{},
		outputs:   map[string][]string{},
		buildOut:  map[string][]string{},
		running:   map[string][]string{},
		pkgFailed: map[string]int{},
	}
}

const maxOutputLines = 200

// Line takes one line of the stream. Lines that are not JSON events go to
// the log as they are.
func (c *Collector) Line(line []byte) {
	var e Event
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
		fmt.Fprintf(c.log, "%s\n", line)
		return
	}
	c.Event(e)
}

// Event takes one event.
func (c *Collector) Event(e Event) {
	if e.ImportPath != "" && e.Package == "" {
		switch e.Action {
		case "build-output":
			fmt.Fprint(c.log, e.Output)
			if len(c.buildOut[e.ImportPath]) < maxOutputLines {
				c.buildOut[e.ImportPath] = append(c.buildOut[e.ImportPath], e.Output)
			}
		}
		return
	}
	key := Key(e.Package, e.Test)
	if e.Test != "" && (e.Action == "pass" || e.Action == "skip" || e.Action == "fail") {
		c.running[e.Package] = slices.DeleteFunc(c.running[e.Package], func(t string) bool { return t == e.Test })
	}
	switch e.Action {
	case "run":
		c.running[e.Package] = append(c.running[e.Package], e.Test)
	case "output":
		fmt.Fprint(c.log, e.Output)
		if len(c.outputs[key]) < maxOutputLines {
			c.outputs[key] = append(c.outputs[key], e.Output)
		}
	case "pass", "skip":
		s := Status(e.Action)
		if e.Test != "" {
			if s == Pass {
				c.Passed++
			} else {
				c.Skipped++
			}
			c.set(key, s)
		} else {
			delete(c.running, e.Package)
			if c.OnPackage != nil {
				c.OnPackage(e.Package, s)
			}
		}
		delete(c.outputs, key)
	case "fail":
		if e.Test != "" {
			c.fail(Failure{Package: e.Package, Test: e.Test, Kind: KindTest, Output: strings.Join(c.outputs[key], "")})
		} else {
			c.packageFailed(e)
			if c.OnPackage != nil {
				c.OnPackage(e.Package, Fail)
			}
		}
		delete(c.outputs, key)
	}
}

func (c *Collector) set(key string, s Status) {
	if c.Outcomes[key] != Fail {
		c.Outcomes[key] = s
	}
}

func (c *Collector) fail(f Failure) {
	c.Failed++
	c.Failures = append(c.Failures, f)
	c.set(f.Key(), Fail)
	c.pkgFailed[f.Package]++
	head := "--- FAIL " + f.String()
	fmt.Fprintf(c.w, "%s\n%s", head, f.Output)
	if f.Output != "" && !strings.HasSuffix(f.Output, "\n") {
		fmt.Fprintln(c.w)
	}
}

// packageFailed names a package's failure that no failing test explains:
// the tests that were running when its binary died, a build or setup
// failure, or a binary that failed outside any test.
func (c *Collector) packageFailed(e Event) {
	out := c.outputs[e.Package]
	running := c.running[e.Package]
	delete(c.running, e.Package)
	switch {
	case e.FailedBuild != "" || hasLine(out, "[build failed]") || hasLine(out, "[setup failed]"):
		kind := KindBuild
		if hasLine(out, "[setup failed]") {
			kind = KindSetup
		}
		var text []string
		if e.FailedBuild != "" {
			text = c.buildOut[e.FailedBuild]
		}
		if len(text) == 0 {
			text = out
		}
		c.fail(Failure{Package: e.Package, Kind: kind, Detail: e.FailedBuild, Output: shorten(text, 40)})
	case len(running) > 0:
		for _, t := range running {
			k := Key(e.Package, t)
			c.fail(Failure{Package: e.Package, Test: t, Kind: KindDied, Output: shorten(append(c.outputs[k], out...), 40)})
		}
	case c.pkgFailed[e.Package] == 0:
		c.fail(Failure{Package: e.Package, Kind: KindBinary, Detail: lastWords(out), Output: shorten(out, 40)})
	}
}

// Finish closes the stream: the command's exit error (nil if it succeeded)
// and its time. A command that failed with nothing named is an error.
func (c *Collector) Finish(name string, cmdline []string, werr error, elapsed time.Duration) Result {
	res := Result{Tier: name, Passed: c.Passed, Failed: c.Failed, Skipped: c.Skipped, Elapsed: elapsed}
	// Tests still running when the stream ended: their binary never
	// reported (the go command itself was killed).
	for _, pkg := range sortedKeys(c.running) {
		for _, t := range c.running[pkg] {
			if werr != nil {
				c.fail(Failure{Package: pkg, Test: t, Kind: KindDied, Output: shorten(c.outputs[Key(pkg, t)], 40)})
			}
		}
	}
	res.Failed = c.Failed
	for _, f := range c.Failures {
		res.Failures = append(res.Failures, f.String())
	}
	// Build failures with no package to carry them (go vet, or a build
	// of a package no test asked for) still have build-fail events: the
	// command's failure names them.
	if werr != nil && res.Failed == 0 {
		var names []string
		for p := range c.buildOut {
			names = append(names, p)
		}
		sort.Strings(names)
		why := ""
		if len(names) > 0 {
			why = " (build output for: " + strings.Join(names, ", ") + ")"
		}
		res.Err = fmt.Errorf("%s: %v with no failing test or package named%s; see the log", strings.Join(cmdline, " "), werr, why)
	}
	return res
}

// Run runs the tier. Test output goes to log; the output of failures and
// build errors also goes to w.
func Run(t Tier, w, log io.Writer) Result {
	start := time.Now()
	if t.Check != nil {
		if err := t.Check(); err != nil {
			return Result{Tier: t.Name, Err: err, Elapsed: time.Since(start)}
		}
	}
	if len(t.Parts) > 0 {
		res := Result{Tier: t.Name}
		for i, p := range t.Parts {
			fmt.Fprintf(log, "=== part %s: %s\n", p.Name, strings.Join(p.Cmd, " "))
			fmt.Fprintf(w, "  part %d/%d %s: %s\n", i+1, len(t.Parts), p.Name, strings.Join(append(append(envOf(p.Env, "CC"), "go"), p.Cmd[1:]...), " "))
			r := RunCmd(t.Name+"/"+p.Name, p.Dir, p.Cmd, p.Env, w, log)
			fmt.Fprintf(w, "  part %s: %d passed, %d failed, %d skipped in %s\n", p.Name, r.Passed, r.Failed, r.Skipped, r.Elapsed.Round(100*time.Millisecond))
			res.Passed += r.Passed
			res.Failed += r.Failed
			res.Skipped += r.Skipped
			for _, f := range r.Failures {
				res.Failures = append(res.Failures, p.Name+": "+f)
			}
			if r.Err != nil && res.Err == nil {
				res.Err = fmt.Errorf("part %s: %w", p.Name, r.Err)
			}
			res.Parts = append(res.Parts, r)
		}
		res.Elapsed = time.Since(start)
		return res
	}
	return RunCmd(t.Name, t.Dir, t.Cmd, t.Env, w, log)
}

// RunCmd runs one command that prints test2json events and counts them.
func RunCmd(name, dir string, args, env []string, w, log io.Writer) Result {
	start := time.Now()
	res := Result{Tier: name}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		res.Err = err
		return res
	}
	if err := cmd.Start(); err != nil {
		res.Err = fmt.Errorf("%s: %v", strings.Join(args, " "), err)
		return res
	}
	c := NewCollector(w, log)
	Scan(stdout, c)
	werr := cmd.Wait()
	return c.Finish(name, args, werr, time.Since(start))
}

// envOf returns the settings of the named variables in env, for showing a
// command line.
func envOf(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				out = append(out, kv)
			}
		}
	}
	return out
}

// Scan feeds every line of r to c.
func Scan(r io.Reader, c *Collector) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		c.Line(sc.Bytes())
	}
}

// Summary is the closing line for results: "N passed, N failed, N skipped".
func Summary(rs []Result) string {
	var p, f, s int
	for _, r := range rs {
		p += r.Passed
		f += r.Failed
		s += r.Skipped
	}
	return fmt.Sprintf("%d passed, %d failed, %d skipped", p, f, s)
}

func hasLine(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// lastWords is the last line of output that says something, leaving out the
// go command's own "FAIL pkg 0.1s" and "exit status N" lines when there is
// more.
func lastWords(lines []string) string {
	var said []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || l == "FAIL" || strings.HasPrefix(l, "FAIL\t") {
			continue
		}
		said = append(said, l)
	}
	if len(said) == 0 {
		return ""
	}
	last := said[len(said)-1]
	if strings.HasPrefix(last, "exit status") && len(said) > 1 {
		return said[len(said)-2] + "; " + last
	}
	return last
}

func shorten(lines []string, n int) string {
	if len(lines) > n {
		lines = append(slices.Clip(lines[:n]), "...\n")
	}
	return strings.Join(lines, "")
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
