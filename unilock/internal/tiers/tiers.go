// Package tiers runs the fork's test tiers with go test -json and counts what
// passed, failed and was skipped.
package tiers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
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
}

// Result counts a tier's tests (subtests included).
type Result struct {
	Tier     string
	Passed   int
	Failed   int
	Skipped  int
	Elapsed  time.Duration
	Failures []string // Package.Test names that failed
	Err      error    // go test failed without a failing test (e.g. a build error)
}

// OK reports whether the tier passed.
func (r Result) OK() bool { return r.Failed == 0 && r.Err == nil }

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// Run runs the tier. Test output goes to log; the output of failed tests and
// build errors also goes to w.
func Run(t Tier, w, log io.Writer) Result {
	start := time.Now()
	res := Result{Tier: t.Name}
	args := t.Cmd
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = t.Dir
	cmd.Env = append(os.Environ(), t.Env...)
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		res.Err = err
		return res
	}
	if err := cmd.Start(); err != nil {
		res.Err = err
		return res
	}
	outputs := map[string][]string{} // package/test -> output lines
	pkgFailed := map[string]bool{}
	var running []string // tests started and not yet ended, in start order
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			fmt.Fprintf(log, "%s\n", line)
			continue
		}
		key := e.Package + "." + e.Test
		if e.Test != "" && (e.Action == "pass" || e.Action == "skip" || e.Action == "fail") {
			running = slices.DeleteFunc(running, func(k string) bool { return k == key })
		}
		switch e.Action {
		case "run":
			running = append(running, key)
		case "output":
			fmt.Fprint(log, e.Output)
			if len(outputs[key]) < 200 {
				outputs[key] = append(outputs[key], e.Output)
			}
		case "pass":
			if e.Test != "" {
				res.Passed++
			}
			delete(outputs, key)
		case "skip":
			if e.Test != "" {
				res.Skipped++
			}
			delete(outputs, key)
		case "fail":
			if e.Test != "" {
				res.Failed++
				res.Failures = append(res.Failures, key)
				fmt.Fprintf(w, "--- FAIL %s\n%s", key, strings.Join(outputs[key], ""))
			} else {
				pkgFailed[e.Package] = true
				if len(outputs[key]) > 0 {
					fmt.Fprintf(w, "--- FAIL package %s\n%s", e.Package, strings.Join(outputs[key], ""))
				}
			}
			delete(outputs, key)
		}
	}
	werr := cmd.Wait()
	res.Elapsed = time.Since(start)
	// A test binary that dies (a fatal error, a crash in the runtime) ends
	// no test: the tests it was running are the failing ones.
	for _, key := range running {
		pkg, _, _ := strings.Cut(key, ".")
		if !pkgFailed[pkg] {
			continue
		}
		res.Failed++
		res.Failures = append(res.Failures, key+" (did not finish: the test binary died)")
		out := outputs[key]
		if len(out) > 40 {
			out = append(out[:40], "...\n")
		}
		fmt.Fprintf(w, "--- FAIL %s (did not finish: the test binary died)\n%s", key, strings.Join(out, ""))
	}
	if werr != nil && res.Failed == 0 {
		var pkgs []string
		for p := range pkgFailed {
			pkgs = append(pkgs, p)
		}
		sort.Strings(pkgs)
		res.Err = fmt.Errorf("%s: %v (packages failing without a failing test: %s; see the log)", strings.Join(args, " "), werr, strings.Join(pkgs, ", "))
	}
	return res
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
