package ports

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"unilock/internal/phase"
	"unilock/internal/suite"
	"unilock/internal/tiers"
)

// RerunFunc runs keys (tests of Run.Outcomes) of port again once on a side
// (0 the fork, 1 upstream) and returns the outcomes it saw.
type RerunFunc func(side int, port string, keys []string) map[string]tiers.Status

// CompareFull compares a full run with the base's test by test, with the
// rule of the whole suite (unilock suite): a test whose outcomes disagree
// (it fails on one side only) is rerun reruns times on both sides, and is
// a new failure only when it failed every time on the fork and never
// upstream. A package that errs on the fork (no test ran, the go command
// failed with nothing named) and not upstream is new too, and so is a
// compile failure upstream does not share.
func (m *Matrix) CompareFull(base *Matrix, reruns int, rerun RerunFunc) {
	m.Compared = base.Toolchain
	m.Reruns = reruns
	byPort := map[string]*Row{}
	for i := range base.Rows {
		byPort[base.Rows[i].Port] = &base.Rows[i]
	}
	for i := range m.Rows {
		r := &m.Rows[i]
		r.New, r.Flaky, r.Shared, r.Fixed, r.Upstream = nil, nil, nil, nil, nil
		b := byPort[r.Port]
		r.Baseline = "not checked"
		if b != nil {
			r.Baseline = b.Result()
			r.Upstream = b.Run
		}
		if !r.Compile.OK {
			if b == nil || b.Compile.OK {
				r.New = append(r.New, "compile")
			}
			continue
		}
		if r.Run == nil {
			continue
		}
		var up map[string]tiers.Status
		if r.Upstream != nil {
			up = r.Upstream.Outcomes
		}
		att := [2]map[string]suite.Attempts{{}, {}}
		for k, st := range r.Run.Outcomes {
			att[0][k] = suite.Attempts{st}
		}
		for k, st := range up {
			att[1][k] = suite.Attempts{st}
		}
		var again []string
		for _, k := range slices.Sorted(maps.Keys(r.Run.Outcomes)) {
			if u, ok := up[k]; ok && suite.NeedsRerun(r.Run.Outcomes[k], u) {
				again = append(again, k)
			}
		}
		for n := 0; n < reruns && len(again) > 0 && rerun != nil; n++ {
			for side := range 2 {
				got := rerun(side, r.Port, again)
				for _, k := range again {
					if st, ok := got[k]; ok {
						att[side][k] = append(att[side][k], st)
					}
				}
			}
		}
		keys := slices.Sorted(maps.Keys(att[0]))
		for _, k := range keys {
			switch suite.Classify(att[0][k], att[1][k]) {
			case suite.New:
				r.New = append(r.New, k)
			case suite.Flaky:
				r.Flaky = append(r.Flaky, fmt.Sprintf("%s (fork %s; upstream %s)", k, att[0][k], orNone(att[1][k])))
			case suite.Shared:
				r.Shared = append(r.Shared, k)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(att[1])) {
			if len(att[0][k]) > 0 && suite.Classify(att[0][k], att[1][k]) == suite.Fixed {
				r.Fixed = append(r.Fixed, k)
			}
		}
		for _, p := range r.Run.Packages {
			switch {
			case p.Error == "":
			case r.Upstream == nil || packageError(r.Upstream, p.Package) == "":
				r.New = append(r.New, "run: "+p.Error)
			default:
				// Both sides: the port's limit (os/signal on js/wasm
				// runs no test), listed so that the row's FAIL
				// (upstream too) names what failed.
				r.Shared = append(r.Shared, "run: "+p.Error)
			}
		}
	}
}

func orNone(a suite.Attempts) string {
	if len(a) == 0 {
		return "did not run"
	}
	return a.String()
}

// packageError is the error of package pkg in run ("" if none or absent).
func packageError(run *Run, pkg string) string {
	for _, p := range run.Packages {
		if p.Package == pkg {
			return p.Error
		}
	}
	return ""
}

// FullResult is a full-mode row's verdict: with a base, only new failures
// fail it.
func (r *Row) FullResult(compared bool) string {
	switch {
	case len(r.New) > 0:
		return "NEW FAIL"
	case !compared:
		return r.Result()
	case !r.Failing():
		return r.Result()
	case len(r.Flaky) > 0 && len(r.Shared) == 0:
		return "ok (flaky)"
	}
	return "FAIL (upstream too)"
}

// packagesCell says how many of the packages a run ran: "8", or "7 of 8"
// when some could not run.
func packagesCell(run *Run) string {
	ran := 0
	for _, p := range run.Packages {
		if p.NotRun == "" {
			ran++
		}
	}
	if ran == len(run.Packages) {
		return fmt.Sprint(ran)
	}
	return fmt.Sprintf("%d of %d", ran, len(run.Packages))
}

// secs prints seconds as the phase lines do: 12.3s, 3m05s.
func secs(s float64) string { return phase.Format(time.Duration(s * float64(time.Second))) }

// fullTable is the table of a full-mode matrix, PrintFull's and
// Markdown's: a header, then a line per port that executed or failed; the
// columns numeric says hold numbers; and the totals under it.
type fullTable struct {
	rows             [][]string
	numeric          map[int]bool
	executed         int
	newFails         int
	forkSecs, upSecs float64
}

func (m *Matrix) fullTable() fullTable {
	compared := m.Compared != ""
	head := []string{"port", "run", "scale", "packages", "passed", "failed", "skipped"}
	if compared {
		head = append(head, "up passed", "up failed", "up skipped", "new", "flaky")
	}
	head = append(head, "time")
	if compared {
		head = append(head, "up time")
	}
	head = append(head, "result")
	t := fullTable{rows: [][]string{head}, numeric: map[int]bool{}}
	for i, h := range head {
		if h != "port" && h != "run" && h != "packages" && h != "result" {
			t.numeric[i] = true
		}
	}
	for _, r := range m.Rows {
		if r.Run == nil && r.Compile.OK && len(r.New) == 0 {
			continue // not executed here: listed below
		}
		line := []string{r.Port, "-", "", "", "", "", ""}
		if r.Run != nil {
			t.executed++
			t.forkSecs += r.Run.Seconds
			line = []string{r.Port, r.Run.How, fmt.Sprintf("x%d", r.Run.Scale), packagesCell(r.Run), fmt.Sprint(r.Run.Passed), fmt.Sprint(r.Run.Failed), fmt.Sprint(r.Run.Skipped)}
		}
		if compared {
			if u := r.Upstream; u != nil {
				line = append(line, fmt.Sprint(u.Passed), fmt.Sprint(u.Failed), fmt.Sprint(u.Skipped))
			} else {
				line = append(line, "-", "-", "-")
			}
			line = append(line, fmt.Sprint(len(r.New)), fmt.Sprint(len(r.Flaky)))
			t.newFails += len(r.New)
		}
		tm := "-"
		if r.Run != nil {
			tm = secs(r.Run.Seconds)
		}
		line = append(line, tm)
		if compared {
			tm = "-"
			if r.Upstream != nil {
				tm = secs(r.Upstream.Seconds)
				t.upSecs += r.Upstream.Seconds
			}
			line = append(line, tm)
		}
		t.rows = append(t.rows, append(line, r.FullResult(compared)))
	}
	return t
}

// summary is the line under the table.
func (m *Matrix) fullSummary(t fullTable) string {
	s := fmt.Sprintf("%d ports: %d compiled, %d executed in full: fork %s", len(m.Rows), m.compiled(), t.executed, secs(t.forkSecs))
	if m.Compared != "" {
		s += fmt.Sprintf(", upstream %s; %d new failures", secs(t.upSecs), t.newFails)
	}
	return s + fmt.Sprintf("; %s in all", secs(m.Seconds))
}

// packageTimes is the table of each executed port's time by package, the
// fork's run: where an emulator is slow.
func (m *Matrix) packageTimes() [][]string {
	byPkg := [][]string{append([]string{"port"}, m.Packages...)}
	for _, r := range m.Rows {
		if r.Run == nil {
			continue
		}
		line := []string{r.Port}
		for _, pkg := range m.Packages {
			cell := "-"
			for _, p := range r.Run.Packages {
				if p.Package == pkg {
					cell = secs(p.Seconds)
					if p.NotRun != "" {
						cell = "not run"
					}
				}
			}
			line = append(line, cell)
		}
		byPkg = append(byPkg, line)
	}
	return byPkg
}

// packagesNotRun are the distinct "package: why" of the packages that
// could not run on some port (test/chan without GOROOT/test).
func (m *Matrix) packagesNotRun() []string {
	var out []string
	for _, r := range m.Rows {
		if r.Run != nil {
			for _, p := range r.Run.Packages {
				if l := p.Package + ": " + p.NotRun; p.NotRun != "" && !slices.Contains(out, l) {
					out = append(out, l)
				}
			}
		}
	}
	return out
}

// PrintFull writes a full-mode matrix: per port the packages run, the
// counts on each side, the new failures and the time each side took; then
// each executed port's time by package, the failures, and what did not run.
func (m *Matrix) PrintFull(w io.Writer) {
	compared := m.Compared != ""
	fmt.Fprintf(w, "%s on %s; the whole -short suites of %s", m.Toolchain, m.Host, strings.Join(m.Packages, ", "))
	if compared {
		fmt.Fprintf(w, "; against %s, disagreements rerun %d times on each side", m.Compared, m.Reruns)
	}
	fmt.Fprint(w, "\n\n")
	t := m.fullTable()
	printAligned(w, t.rows, func(i int) bool { return t.numeric[i] })
	fmt.Fprintf(w, "\n%s\n", m.fullSummary(t))

	if t.executed > 0 {
		fmt.Fprintf(w, "\ntime by package (fork):\n")
		printAligned(w, m.packageTimes(), func(i int) bool { return i > 0 })
	}
	for _, l := range m.packagesNotRun() {
		fmt.Fprintf(w, "\nnot run: %s\n", l)
	}
	for _, r := range m.Rows {
		if !r.Failing() && len(r.New) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s %s\n", r.FullResult(compared), r.Port)
		if !r.Compile.OK {
			fmt.Fprintf(w, "  compile: %s\n", indent(r.Compile.Error))
		}
		switch {
		case compared:
			for _, k := range r.New {
				fmt.Fprintf(w, "  new: %s\n", indent(k))
			}
			for _, k := range r.Flaky {
				fmt.Fprintf(w, "  flaky: %s\n", k)
			}
			for _, k := range r.Shared {
				fmt.Fprintf(w, "  fails upstream too: %s\n", k)
			}
		case r.Run != nil:
			for _, t := range r.Run.Failures {
				fmt.Fprintf(w, "  --- FAIL: %s\n", t)
			}
			if r.Run.Error != "" {
				fmt.Fprintf(w, "  run: %s\n", indent(r.Run.Error))
			}
		}
	}
	for _, r := range m.Rows {
		if len(r.Fixed) > 0 {
			fmt.Fprintf(w, "\nfixed by the fork on %s (fail upstream every time): %s\n", r.Port, strings.Join(r.Fixed, ", "))
		}
	}
	m.printNotExecuted(w)
}
