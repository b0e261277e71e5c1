// Package ports holds the port matrix: every GOOS/GOARCH the toolchain's
// `go tool dist list` names, whether the fork's runtime and sync compile and
// vet there, how this machine executes the port, and what its lock tests did.
// A matrix is printed as a table and stored as JSON; two matrices, the fork's
// and the upstream base's, compare test by test, so a failure the base shares
// (an emulator's limit) is told apart from one the fork brings.
package ports

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"unilock/internal/tiers"
)

// Port is one entry of go tool dist list -json.
type Port struct {
	GOOS         string
	GOARCH       string
	CgoSupported bool
	FirstClass   bool
}

func (p Port) String() string { return p.GOOS + "/" + p.GOARCH }

// Parse reads the output of go tool dist list -json.
func Parse(data []byte) ([]Port, error) {
	var ps []Port
	if err := json.Unmarshal(data, &ps); err != nil {
		return nil, fmt.Errorf("reading go tool dist list -json: %v", err)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("go tool dist list -json listed no ports")
	}
	return ps, nil
}

// Select keeps the ports matching any of the comma-separated patterns
// ("linux/arm64", "windows/*", "*/wasm"); "" or "all" keeps every port. A
// pattern that matches nothing is an error, so a typo does not pass as an
// empty run.
func Select(ps []Port, patterns string) ([]Port, error) {
	if patterns == "" || patterns == "all" {
		return ps, nil
	}
	keep := map[string]bool{}
	for _, pat := range strings.Split(patterns, ",") {
		pat = strings.TrimSpace(pat)
		if pat == "" {
			continue
		}
		if !strings.Contains(pat, "/") {
			pat += "/*"
		}
		n := 0
		for _, p := range ps {
			ok, err := path.Match(pat, p.String())
			if err != nil {
				return nil, fmt.Errorf("bad port pattern %q: %v", pat, err)
			}
			if ok {
				keep[p.String()] = true
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("no port matches %q (see: goroot/bin/go tool dist list)", pat)
		}
	}
	var out []Port
	for _, p := range ps {
		if keep[p.String()] {
			out = append(out, p)
		}
	}
	return out, nil
}

// Backend names the lock implementation a port's runtime compiles, from the
// runtime's Go files for the port: "futex" (lock_futex.go), "sema"
// (lock_sema.go without lock_futex.go) or "single-threaded" (neither). The
// rule holds for upstream and the fork alike.
func Backend(goFiles []string) string {
	has := func(f string) bool { return slices.Contains(goFiles, f) }
	switch {
	case has("lock_futex.go"):
		return "futex"
	case has("lock_sema.go"):
		return "sema"
	}
	return "single-threaded"
}

// Compile is what building a port did.
type Compile struct {
	OK bool `json:"ok"`
	// What says what was built: "runtime, sync, test binaries, vet", or
	// less for ports whose binaries link only externally.
	What    string  `json:"what"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Run is what executing a port's tests did.
type Run struct {
	How      string   `json:"how"`
	Passed   int      `json:"passed"`
	Failed   int      `json:"failed"`
	Skipped  int      `json:"skipped"`
	Failures []string `json:"failures,omitempty"`
	// Error is set when the tests could not run or failed without a
	// failing test (a crash at start, a build error, no tests at all).
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
	// Set by the full mode (ExecuteFull): the timeout scale the port ran
	// at, each package's counts and time, and every test's outcome (kept
	// in memory for CompareFull, not written).
	Scale    int                     `json:"timeout_scale,omitempty"`
	Packages []PackageRun            `json:"packages,omitempty"`
	Outcomes map[string]tiers.Status `json:"-"`
}

// OK reports whether the run passed.
func (r *Run) OK() bool { return r.Failed == 0 && r.Error == "" }

// Row is one port of a matrix.
type Row struct {
	Port       string  `json:"port"`
	FirstClass bool    `json:"first_class"`
	Backend    string  `json:"backend"`
	Compile    Compile `json:"compile"`
	// Run is nil when the port was not executed; NotRun says why.
	Run    *Run   `json:"run,omitempty"`
	NotRun string `json:"not_run,omitempty"`
	// Set by Compare: failures the base does not have (New), and the
	// base's result for the port.
	New      []string `json:"new_failures,omitempty"`
	Baseline string   `json:"baseline,omitempty"`
	// Set by CompareFull: what failed across reruns on one side only
	// (Flaky), on both (Shared: this machine's or the emulator's limits),
	// upstream only (Fixed), and upstream's run of the port.
	Flaky    []string `json:"flaky,omitempty"`
	Shared   []string `json:"shared_failures,omitempty"`
	Fixed    []string `json:"fixed_by_fork,omitempty"`
	Upstream *Run     `json:"upstream,omitempty"`
}

// Failing reports whether the row failed: it did not compile, or its tests
// failed.
func (r *Row) Failing() bool {
	return !r.Compile.OK || (r.Run != nil && !r.Run.OK())
}

// Matrix is one run of the port checks with one toolchain.
type Matrix struct {
	Toolchain string    `json:"toolchain"` // go version of the toolchain
	Goroot    string    `json:"goroot"`
	Host      string    `json:"host"`
	RunRegexp string    `json:"run"` // the runtime tests executed
	Started   time.Time `json:"started"`
	Seconds   float64   `json:"seconds"`
	Rows      []Row     `json:"rows"`
	// Compared names the base matrix Compare used, or "".
	Compared string `json:"compared_with,omitempty"`
	// Packages is set in the full mode: what ExecuteFull ran on every
	// executed port. Reruns is how often CompareFull reran each
	// disagreement on each side.
	Packages []string `json:"packages,omitempty"`
	Reruns   int      `json:"reruns,omitempty"`
	// Series is the series.Digest of patches/ the run was made on; ""
	// in a matrix written before it was recorded (unknown).
	Series string `json:"series,omitempty"`
	// Set by Merge: the runs a merged matrix holds; the ports this
	// machine executes that none of them executed (ToRun), or why that
	// is not known (ToRunUnknown); and the ports a runner would execute
	// whose runner is not ready here, with why ("windows/386: ...").
	Merged       []MergedRun `json:"merged,omitempty"`
	ToRun        []string    `json:"to_run,omitempty"`
	ToRunUnknown string      `json:"to_run_unknown,omitempty"`
	NoRunner     []string    `json:"no_runner,omitempty"`
}

// Write stores the matrix as indented JSON.
func (m *Matrix) Write(file string) error {
	data, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o777); err != nil {
		return err
	}
	return os.WriteFile(file, append(data, '\n'), 0o666)
}

// Load reads a matrix written by Write.
func Load(file string) (*Matrix, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var m Matrix
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return &m, nil
}

// Compare marks, in each of m's rows, what fails in m but not in base. A
// test failure is new when the same test did not fail on the base, or the
// base did not run the port; a compile failure is new when the base
// compiled.
func (m *Matrix) Compare(base *Matrix) {
	m.Compared = base.Toolchain
	byPort := map[string]*Row{}
	for i := range base.Rows {
		byPort[base.Rows[i].Port] = &base.Rows[i]
	}
	for i := range m.Rows {
		r := &m.Rows[i]
		r.New = nil
		b := byPort[r.Port]
		if b == nil {
			r.Baseline = "not checked"
		} else {
			r.Baseline = b.Result()
		}
		if !r.Compile.OK {
			if b == nil || b.Compile.OK {
				r.New = append(r.New, "compile")
			}
			continue
		}
		if r.Run == nil || r.Run.OK() {
			continue
		}
		if b == nil || b.Run == nil {
			r.New = append(r.New, r.Run.Failures...)
			if r.Run.Error != "" {
				r.New = append(r.New, "run: "+r.Run.Error)
			}
			continue
		}
		for _, f := range r.Run.Failures {
			if !slices.Contains(b.Run.Failures, f) {
				r.New = append(r.New, f)
			}
		}
		if r.Run.Error != "" && b.Run.Error == "" {
			r.New = append(r.New, "run: "+r.Run.Error)
		}
	}
}

// Result is the row's verdict in a word or two.
func (r *Row) Result() string {
	switch {
	case !r.Compile.OK:
		return "FAIL (compile)"
	case r.Run != nil && !r.Run.OK():
		return "FAIL"
	case r.Run != nil:
		return "ok"
	}
	return "ok (compiled)"
}

// OK reports whether the matrix passes: nothing fails, or, once compared
// with a base, nothing fails that the base does not.
func (m *Matrix) OK() bool {
	for i := range m.Rows {
		r := &m.Rows[i]
		if m.Compared != "" {
			if len(r.New) > 0 {
				return false
			}
		} else if r.Failing() {
			return false
		}
	}
	return true
}

// Counts totals the executed tests of the matrix; compile failures count as
// failed tests, so a summary line never hides them.
func (m *Matrix) Counts() (passed, failed, skipped int) {
	for _, r := range m.Rows {
		if !r.Compile.OK {
			failed++
		}
		if r.Run != nil {
			passed += r.Run.Passed
			failed += r.Run.Failed
			skipped += r.Run.Skipped
			if r.Run.Error != "" && r.Run.Failed == 0 {
				failed++
			}
		}
	}
	return
}

// Print writes the matrix as a table, then the failures by port and the
// ports that did not run with the reason.
func (m *Matrix) Print(w io.Writer) {
	fmt.Fprintf(w, "%s on %s; runtime tests -run '%s', sync all, -short\n\n", m.Toolchain, m.Host, m.RunRegexp)
	head := []string{"port", "first-class", "backend", "compiled", "run", "passed", "failed", "skipped", "time", "result"}
	if m.Compared != "" {
		head = append(head, "upstream")
	}
	rows := [][]string{head}
	executed := 0
	for _, r := range m.Rows {
		fc := ""
		if r.FirstClass {
			fc = "yes"
		}
		comp := "ok"
		if !r.Compile.OK {
			comp = "FAIL"
		} else if r.Compile.What != WhatFull {
			comp = "ok (" + r.Compile.What + ")"
		}
		how, p, f, s := "-", "", "", ""
		secs := r.Compile.Seconds
		if r.Run != nil {
			executed++
			how = r.Run.How
			p, f, s = fmt.Sprint(r.Run.Passed), fmt.Sprint(r.Run.Failed), fmt.Sprint(r.Run.Skipped)
			secs += r.Run.Seconds
		}
		res := r.Result()
		if m.Compared != "" && r.Failing() {
			if len(r.New) > 0 {
				res = "NEW FAIL"
			} else {
				res = "FAIL (upstream too)"
			}
		}
		line := []string{r.Port, fc, r.Backend, comp, how, p, f, s, fmt.Sprintf("%.1fs", secs), res}
		if m.Compared != "" {
			line = append(line, r.Baseline)
		}
		rows = append(rows, line)
	}
	printTable(w, rows)
	p, f, s := m.Counts()
	fmt.Fprintf(w, "\n%d ports: %d compiled, %d executed; tests %d passed, %d failed, %d skipped; %.0fs\n",
		len(m.Rows), m.compiled(), executed, p, f, s, m.Seconds)
	for _, r := range m.Rows {
		if !r.Failing() {
			continue
		}
		fmt.Fprintf(w, "\nFAIL %s", r.Port)
		if len(r.New) > 0 {
			fmt.Fprintf(w, " (new, not on upstream: %s)", strings.Join(r.New, ", "))
		} else if m.Compared != "" {
			fmt.Fprintf(w, " (fails on upstream too)")
		}
		fmt.Fprintln(w)
		if !r.Compile.OK {
			fmt.Fprintf(w, "  compile: %s\n", indent(r.Compile.Error))
		}
		if r.Run != nil {
			for _, t := range r.Run.Failures {
				fmt.Fprintf(w, "  --- FAIL: %s\n", t)
			}
			if r.Run.Error != "" {
				fmt.Fprintf(w, "  run: %s\n", indent(r.Run.Error))
			}
		}
	}
	m.printNotExecuted(w)
}

// WhatFull is Compile.What for a port built in full; WhatExternal for one
// whose binaries link only externally; WhatBuilt for one that was only
// built (Checker.BuildOnly).
const (
	WhatFull     = "runtime, sync, test binaries, vet"
	WhatExternal = "runtime, sync; links only externally"
	WhatBuilt    = "runtime, sync; built only"
)

func (m *Matrix) compiled() int {
	n := 0
	for _, r := range m.Rows {
		if r.Compile.OK {
			n++
		}
	}
	return n
}

// compactReasons folds the many "no way to execute" lines into one.
func compactReasons(lines []string) []string {
	const none = "no way to execute it on this machine"
	var out, ports []string
	for _, l := range lines {
		if strings.HasSuffix(l, none) {
			ports = append(ports, strings.Fields(l)[0])
			continue
		}
		out = append(out, l)
	}
	sort.Strings(ports)
	if len(ports) > 0 {
		out = append(out, fmt.Sprintf("  %d ports compile only (no emulator for them here): %s", len(ports), strings.Join(ports, " ")))
	}
	return out
}

func indent(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

func printTable(w io.Writer, rows [][]string) {
	printAligned(w, rows, func(i int) bool { return i >= 5 && i <= 7 })
}

// printAligned writes rows as a table, the columns right says right-aligned.
func printAligned(w io.Writer, rows [][]string, right func(col int) bool) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			if right(i) { // numbers right-aligned
				fmt.Fprintf(&b, "%*s", width[i], c)
			} else {
				fmt.Fprintf(&b, "%-*s", width[i], c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// printNotExecuted lists the ports that compiled but could not execute
// here, and why.
func (m *Matrix) printNotExecuted(w io.Writer) {
	var why []string
	for _, r := range m.Rows {
		if r.Run == nil && r.NotRun != "" && r.Compile.OK {
			why = append(why, fmt.Sprintf("  %-16s %s", r.Port, r.NotRun))
		}
	}
	if len(why) > 0 {
		fmt.Fprintf(w, "\nnot executed here:\n%s\n", strings.Join(compactReasons(why), "\n"))
	}
}
