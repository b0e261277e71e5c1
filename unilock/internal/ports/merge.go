package ports

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"unilock/internal/series"
	"unilock/internal/suite"
)

// MergeInput is a matrix to merge and the file it was read from.
type MergeInput struct {
	File   string
	Matrix *Matrix
}

// MergedRun is one run of unilock ports -full -base that a merged matrix
// holds.
type MergedRun struct {
	File     string    `json:"file"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Host     string    `json:"host"`
	Reruns   int       `json:"reruns"`
	Executed []string  `json:"executed"` // the ports it executed
}

// Executed lists the ports the matrix executed (Run set), in its order.
func (m *Matrix) Executed() []string {
	var out []string
	for _, r := range m.Rows {
		if r.Run != nil {
			out = append(out, r.Port)
		}
	}
	return out
}

// rerunCommand is the command that runs ports again in the full mode with
// pkgs, into a file of its own so that it overwrites no other run.
func rerunCommand(pkgs, ports []string) string {
	cmd := "unilock ports -full -base"
	if len(pkgs) > 0 && !slices.Equal(pkgs, FullPackages) {
		cmd += " -pkgs " + strings.Join(pkgs, ",")
	}
	if len(ports) == 0 {
		return cmd + " -ports LIST -json .unilock/ports/full-fork-NAME.json"
	}
	return cmd + " -ports " + strings.Join(ports, ",") + " -json .unilock/ports/full-fork-" + strings.ReplaceAll(ports[0], "/", "-") + ".json"
}

// portsOf is what to name when in must be run again: the ports it
// executed, or every port it holds when it executed none.
func portsOf(m *Matrix) []string {
	if ps := m.Executed(); len(ps) > 0 {
		return ps
	}
	var out []string
	for _, r := range m.Rows {
		out = append(out, r.Port)
	}
	return out
}

// Merge combines the fork's matrices of several runs of unilock ports
// -full -base, each on some of the ports (its full-fork.json, which holds
// upstream's run of every row), into one, as one run of them all would
// have written it. current is the series.Digest of patches/ now ("" if
// unknown): it tells which of two runs on different series is the stale
// one.
//
// Every input must be of the full mode, compared with upstream, and share
// the packages, the fork's and upstream's toolchains and a recorded
// series. Rows are merged by port: an executed row wins over one that was
// not executed; a port executed by two inputs is an error (merge one of
// them); of two rows executed by neither, one that fails wins, else the
// first. Seconds add up, Started is the earliest. Runs that reran
// disagreements a different number of times merge, and the matrix says
// the fewest (every row was rerun at least that often); a note says so.
// A merged matrix merges again: its runs are carried over.
func Merge(in []MergeInput, current string) (merged *Matrix, notes []string, err error) {
	if len(in) == 0 {
		return nil, nil, fmt.Errorf("no matrices to merge: unilock ports merge .unilock/ports/full-fork*.json")
	}
	for _, x := range in {
		m := x.Matrix
		switch {
		case len(m.Packages) == 0:
			return nil, nil, fmt.Errorf("%s is not of the full mode (it names no packages): merge the matrices of unilock ports -full -base runs (.unilock/ports/full-fork*.json)", x.File)
		case m.Compared == "":
			return nil, nil, fmt.Errorf("%s is not compared with upstream (a run without -base, or upstream's own full-upstream.json): merge the fork's matrices of -full -base runs, or rerun its ports: %s", x.File, rerunCommand(m.Packages, portsOf(m)))
		case m.Series == "":
			return nil, nil, fmt.Errorf("%s records no series (it was run before ports recorded it): rerun its ports: %s", x.File, rerunCommand(m.Packages, portsOf(m)))
		}
	}
	first := in[0]
	for _, x := range in[1:] {
		// Of two inputs that differ, the one to run again: the one
		// not on the current series, else the later one.
		stale, other := x, first
		if current != "" && x.Matrix.Series == current && first.Matrix.Series != current {
			stale, other = first, x
		}
		fix := rerunCommand(other.Matrix.Packages, portsOf(stale.Matrix))
		a, b := first.Matrix, x.Matrix
		switch {
		case a.Series != b.Series:
			now := ""
			if current != "" {
				now = fmt.Sprintf(" (patches/ is now %.12s)", current)
			}
			return nil, nil, fmt.Errorf("%s was run on series %.12s, %s on %.12s%s: rerun the stale ports: %s", first.File, a.Series, x.File, b.Series, now, fix)
		case !slices.Equal(a.Packages, b.Packages):
			return nil, nil, fmt.Errorf("%s ran the packages %s, %s ran %s: rerun %s's ports with the same -pkgs: %s", first.File, strings.Join(a.Packages, ","), x.File, strings.Join(b.Packages, ","), stale.File, fix)
		case a.Toolchain != b.Toolchain:
			return nil, nil, fmt.Errorf("%s was run with %s, %s with %s: rerun %s's ports with the same toolchain (./make.bash, the same -experiment): %s", first.File, a.Toolchain, x.File, b.Toolchain, stale.File, fix)
		case a.Compared != b.Compared:
			return nil, nil, fmt.Errorf("%s was compared with %s, %s with %s: rerun %s's ports against the same upstream: %s", first.File, a.Compared, x.File, b.Compared, stale.File, fix)
		}
	}

	a := first.Matrix
	m := &Matrix{Toolchain: a.Toolchain, Goroot: a.Goroot, Compared: a.Compared, Packages: slices.Clone(a.Packages), Series: a.Series, Reruns: a.Reruns, Started: a.Started}
	type owned struct {
		row  Row
		file string
	}
	byPort := map[string]*owned{}
	var hosts []string
	for _, x := range in {
		b := x.Matrix
		if !slices.Contains(hosts, b.Host) {
			hosts = append(hosts, b.Host)
		}
		m.Seconds += b.Seconds
		if b.Started.Before(m.Started) {
			m.Started = b.Started
		}
		if b.Reruns != m.Reruns {
			m.Reruns = min(m.Reruns, b.Reruns)
		}
		if len(b.Merged) > 0 {
			m.Merged = append(m.Merged, b.Merged...)
		} else {
			m.Merged = append(m.Merged, MergedRun{File: x.File, Started: b.Started, Seconds: b.Seconds, Host: b.Host, Reruns: b.Reruns, Executed: b.Executed()})
		}
		for _, r := range b.Rows {
			o := byPort[r.Port]
			switch {
			case o == nil:
				byPort[r.Port] = &owned{r, x.File}
			case o.row.Run != nil && r.Run != nil:
				return nil, nil, fmt.Errorf("%s was executed in %s and in %s: merge only one of them (leave the other out)", r.Port, o.file, x.File)
			case r.Run != nil:
				*o = owned{r, x.File}
			case o.row.Run == nil && !failed(o.row) && failed(r):
				*o = owned{r, x.File}
			}
		}
	}
	m.Host = strings.Join(hosts, "; ")
	for _, port := range slices.Sorted(maps.Keys(byPort)) {
		m.Rows = append(m.Rows, byPort[port].row)
	}
	var reruns []string
	for _, x := range in {
		if x.Matrix.Reruns != m.Reruns {
			reruns = append(reruns, fmt.Sprintf("%s %d", x.File, x.Matrix.Reruns))
		}
	}
	if len(reruns) > 0 {
		notes = append(notes, fmt.Sprintf("the runs reran disagreements a different number of times (%s): the table says %d, the fewest", strings.Join(reruns, ", "), m.Reruns))
	}
	if current != "" && m.Series != current {
		notes = append(notes, fmt.Sprintf("the runs were made on series %.12s, patches/ is now %.12s: the merged table is stale (rerun every port: %s)", m.Series, current, rerunCommand(m.Packages, m.Executed())))
	}
	return m, notes, nil
}

// failed reports whether a row failed: it did not compile, its tests
// failed, or it has new failures.
func failed(r Row) bool { return r.Failing() || len(r.New) > 0 }

// StillToRun returns the ports of executable (those this machine can run)
// that m did not execute, in executable's order.
func (m *Matrix) StillToRun(executable []string) []string {
	done := m.Executed()
	var out []string
	for _, p := range executable {
		if !slices.Contains(done, p) {
			out = append(out, p)
		}
	}
	return out
}

// StillToRunLine is the line that lists the ports still to run and the
// command that runs them.
func (m *Matrix) StillToRunLine() string {
	switch {
	case m.ToRunUnknown != "":
		return "still to run here: unknown: " + m.ToRunUnknown
	case len(m.ToRun) == 0:
		return "still to run here: none; every port this machine executes has run"
	}
	return fmt.Sprintf("still to run here: %s (%s)", strings.Join(m.ToRun, ", "), rerunCommand(m.Packages, m.ToRun))
}

// NoRunnerLine says which ports have no ready runner here, and why; "" if
// none.
func (m *Matrix) NoRunnerLine() string {
	if len(m.NoRunner) == 0 {
		return ""
	}
	return "no runner ready here (unilock emulators says what installs one): " + strings.Join(m.NoRunner, "; ")
}

// ReportPath is the last merged report of the full mode, relative to the
// repository's root; ReportMatrixPath, the merged matrix it was made from,
// kept beside it so that a clone can make the report again and merge later
// runs into it (the runs' own matrices stay in .unilock/, which is not
// committed).
const (
	ReportPath       = "docs/ports-full.md"
	ReportMatrixPath = "docs/ports-full.json"
)

// reportMarker is the line of the Markdown report ReportStale reads.
var reportMarker = regexp.MustCompile(`<!-- unilock ports: series ([0-9a-f]{64}) -->`)

// Markdown is a merged full-mode matrix as a dated Markdown page: the
// runs, the table PrintFull prints, the time by package, the failures,
// and the ports not yet run here. It is made from the matrix alone, so
// unilock ports merge -report on the same files makes it again.
func (m *Matrix) Markdown() string {
	var b strings.Builder
	compared := m.Compared != ""
	fmt.Fprintf(&b, "# The lock packages' whole suites on every port: fork against upstream\n\n")
	fmt.Fprintf(&b, "<!-- unilock ports: series %s -->\n", m.Series)
	var files []string
	for _, r := range m.Merged {
		files = append(files, r.File)
	}
	if len(files) == 0 {
		files = []string{"FILES"}
	}
	fmt.Fprintf(&b, "<!-- Generated by unilock ports merge -report from %s, the merged matrix of %s; regenerate with: unilock/unilock.bash ports merge -report %s; add the runs of more ports with: unilock/unilock.bash ports merge -report %s MATRIX.json... -->\n\n", ReportMatrixPath, strings.Join(files, " "), ReportMatrixPath, ReportMatrixPath)
	last := m.Started.Add(time.Duration(m.Seconds * float64(time.Second)))
	for _, r := range m.Merged {
		if end := r.Started.Add(time.Duration(r.Seconds * float64(time.Second))); end.After(last) {
			last = end
		}
	}
	fmt.Fprintf(&b, "Last run %s; %d runs of `unilock ports -full -base` merged, on %s: the whole `-short` suites of %s with `%s`",
		last.UTC().Format("2006-01-02 15:04 UTC"), max(1, len(m.Merged)), m.Host, quoteAll(m.Packages), m.Toolchain)
	if compared {
		fmt.Fprintf(&b, " against `%s`, every disagreement rerun %d times on each side", m.Compared, m.Reruns)
	}
	fmt.Fprintf(&b, ".\n\nSeries digest `%.16s` (patches/). Machine time %s.\n\n", m.Series, secs(m.Seconds))

	t := m.fullTable()
	markdownTable(&b, t.rows, t.numeric)
	fmt.Fprintf(&b, "\n%s.\n", m.fullSummary(t))

	if t.executed > 0 {
		fmt.Fprintf(&b, "\n## Time by package (fork)\n\n")
		markdownTable(&b, m.packageTimes(), map[int]bool{})
	}
	if nr := m.packagesNotRun(); len(nr) > 0 {
		fmt.Fprintf(&b, "\n## Packages not run\n\n")
		for _, l := range nr {
			fmt.Fprintf(&b, "- %s\n", mdCell(l))
		}
	}
	section := func(title string, f func(r Row) []string) {
		var lines []string
		for _, r := range m.Rows {
			if items := f(r); len(items) > 0 {
				lines = append(lines, fmt.Sprintf("- %s: %s", r.Port, strings.Join(items, ", ")))
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\n## %s\n\n%s\n", title, strings.Join(lines, "\n"))
		}
	}
	code := func(s []string) []string {
		var out []string
		for _, k := range s {
			out = append(out, "`"+mdCell(k)+"`")
		}
		return out
	}
	section("New failures (fail on the fork every time, never upstream)", func(r Row) []string {
		items := code(r.New)
		if !r.Compile.OK {
			items = append(items, "compile: "+mdCell(firstLineOf(r.Compile.Error)))
		}
		return items
	})
	section("Flaky (failed and passed across reruns)", func(r Row) []string { return code(r.Flaky) })
	section("Failures upstream shares (this machine's or the emulator's limits)", func(r Row) []string { return code(r.Shared) })
	section("Fixed by the fork (fail upstream every time)", func(r Row) []string { return code(r.Fixed) })

	var why []string
	for _, r := range m.Rows {
		if r.Run == nil && r.NotRun != "" && r.Compile.OK {
			why = append(why, fmt.Sprintf("  %-16s %s", r.Port, r.NotRun))
		}
	}
	if len(why) > 0 {
		fmt.Fprintf(&b, "\n## Not executed\n\n")
		for _, l := range compactReasons(why) {
			fmt.Fprintf(&b, "- %s\n", mdCell(strings.TrimSpace(l)))
		}
	}

	fmt.Fprintf(&b, "\n## Not yet run here\n\n")
	switch {
	case m.ToRunUnknown != "":
		fmt.Fprintf(&b, "Not known: %s\n", mdCell(m.ToRunUnknown))
	case len(m.ToRun) == 0:
		fmt.Fprintf(&b, "None: every port this machine executes has run.\n")
	default:
		fmt.Fprintf(&b, "%d ports this machine executes that no merged run executed: %s. Run them, then merge again:\n\n    unilock/unilock.bash %s\n",
			len(m.ToRun), strings.Join(m.ToRun, ", "), strings.TrimPrefix(rerunCommand(m.Packages, m.ToRun), "unilock "))
	}
	if len(m.NoRunner) > 0 {
		fmt.Fprintf(&b, "\nNo runner ready here (`unilock/unilock.bash emulators` says what installs one):\n\n")
		for _, l := range m.NoRunner {
			fmt.Fprintf(&b, "- %s\n", mdCell(l))
		}
	}

	if len(m.Merged) > 0 {
		fmt.Fprintf(&b, "\n## Runs merged\n\n| file | started | time | machine | reruns | ports executed |\n|---|---|---:|---|---:|---|\n")
		for _, r := range m.Merged {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %d | %s |\n", mdCell(r.File), r.Started.UTC().Format("2006-01-02 15:04 UTC"), secs(r.Seconds), mdCell(r.Host), r.Reruns, strings.Join(r.Executed, ", "))
		}
	}
	return b.String()
}

func quoteAll(s []string) string {
	var out []string
	for _, x := range s {
		out = append(out, "`"+x+"`")
	}
	return strings.Join(out, ", ")
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// mdCell makes s fit in a Markdown table cell or list item.
func mdCell(s string) string { return suite.Cell(s, 200) }

// markdownTable writes rows (the first the header) as a Markdown table,
// the numeric columns right-aligned.
func markdownTable(b *strings.Builder, rows [][]string, numeric map[int]bool) {
	for i, r := range rows {
		cells := make([]string, len(r))
		for j, c := range r {
			cells[j] = mdCell(c)
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
		if i == 0 {
			var seps []string
			for j := range r {
				if numeric[j] {
					seps = append(seps, "---:")
				} else {
					seps = append(seps, "---")
				}
			}
			fmt.Fprintf(b, "|%s|\n", strings.Join(seps, "|"))
		}
	}
}

// ReportStale reads the full mode's report in root's docs/: exists says
// whether there is one; stale whether it was made on another series than
// patches/ holds now; why says which, with the command that remakes it.
func ReportStale(root string) (exists, stale bool, why string) {
	const remake = "unilock/unilock.bash ports -full -base -ports LIST -json FILE, then ports merge -report FILES"
	data, err := os.ReadFile(filepath.Join(root, ReportPath))
	if err != nil {
		return false, false, fmt.Sprintf("no %s yet (make it with: %s)", ReportPath, remake)
	}
	mk := reportMarker.FindSubmatch(data)
	if mk == nil {
		return true, true, fmt.Sprintf("%s names no series digest: remake it with %s", ReportPath, remake)
	}
	ps, err := series.Load(filepath.Join(root, "patches"))
	if err != nil {
		return true, true, fmt.Sprintf("cannot read patches/: %v", err)
	}
	if d := series.Digest(ps); d != string(mk[1]) {
		return true, true, fmt.Sprintf("%s was run on series %.12s, patches/ is now %.12s: rerun the ports and merge again (%s)", ReportPath, mk[1], d, remake)
	}
	return true, false, fmt.Sprintf("%s was run on this series", ReportPath)
}
