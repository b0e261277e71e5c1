package suite

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"unilock/internal/series"
	"unilock/internal/tiers"
)

// Class is what a test's outcomes on the two sides say.
type Class string

const (
	Passed       Class = "passed"         // passed on both (or on the fork, with no upstream run)
	Skipped      Class = "skipped"        // skipped on both, or skipped on one and passed on the other
	New          Class = "new failure"    // fails on the fork every time, passes upstream every time
	Shared       Class = "shared failure" // fails on both: an environment limit of this machine
	Fixed        Class = "fixed by fork"  // passes on the fork, fails upstream every time
	Flaky        Class = "flaky"          // failed and passed on one side across reruns
	UpstreamOnly Class = "upstream only"  // ran upstream, not on the fork
	ForkOnly     Class = "fork only"      // passed on the fork, not run upstream: tests the series adds
)

// Classes in the order reports list them.
var Classes = []Class{New, Flaky, Shared, Fixed, UpstreamOnly, ForkOnly, Skipped, Passed}

// Attempts are a test's outcomes on one side: the run, then each rerun.
type Attempts []tiers.Status

func (a Attempts) all(s tiers.Status) bool {
	return len(a) > 0 && !slices.ContainsFunc(a, func(x tiers.Status) bool { return x != s })
}

func (a Attempts) none(s tiers.Status) bool { return !slices.Contains(a, s) }

func (a Attempts) String() string {
	var parts []string
	for _, s := range a {
		parts = append(parts, string(s))
	}
	return strings.Join(parts, ",")
}

// Classify says what a test's outcomes on the fork and upstream mean. A
// side that did not run the test has no attempts; with no upstream run at
// all (compared false) a failure on the fork is a new failure.
func Classify(fork, up Attempts) Class {
	switch {
	case len(fork) == 0:
		return UpstreamOnly
	case len(up) == 0:
		switch {
		case fork.all(tiers.Fail):
			return New
		case fork.none(tiers.Fail) && fork.all(tiers.Skip):
			return Skipped
		case fork.none(tiers.Fail):
			return Passed
		}
		return Flaky
	case fork.all(tiers.Fail) && up.none(tiers.Fail):
		return New
	case fork.all(tiers.Fail) && up.all(tiers.Fail):
		return Shared
	case fork.none(tiers.Fail) && up.all(tiers.Fail):
		return Fixed
	case fork.none(tiers.Fail) && up.none(tiers.Fail):
		if fork.all(tiers.Skip) || up.all(tiers.Skip) {
			return Skipped
		}
		return Passed
	}
	return Flaky
}

// NeedsRerun reports whether a test's first outcomes are a disagreement that
// reruns must confirm before the test is called a new failure or fixed.
func NeedsRerun(fork, up tiers.Status) bool {
	return (fork == tiers.Fail) != (up == tiers.Fail) && fork != "" && up != ""
}

// Row is one test that did not simply pass on both sides.
type Row struct {
	Name     string `json:"name"` // "pkg.Test", "pkg:variant.Test", or "pkg" for a package-level failure
	Class    Class  `json:"class"`
	Fork     string `json:"fork,omitempty"`     // outcomes across attempts: "fail,fail,fail"
	Upstream string `json:"upstream,omitempty"` // the same upstream
	Detail   string `json:"detail,omitempty"`   // how it failed: "build failed: ...", the binary's last words
	Shard    string `json:"shard,omitempty"`
}

// SideInfo sums up one side's run.
type SideInfo struct {
	Goroot  string  `json:"goroot"`
	Version string  `json:"version"`
	Units   int     `json:"units"` // dist tests run
	Passed  int     `json:"passed"`
	Failed  int     `json:"failed"`
	Skipped int     `json:"skipped"`
	Seconds float64 `json:"seconds"` // time the run took (shards: summed)
	Error   string  `json:"error,omitempty"`
}

// Report is the result of a run (one shard, or shards merged).
type Report struct {
	Format   int               `json:"format"`
	Date     time.Time         `json:"date"`
	Machine  string            `json:"machine"`
	Series   string            `json:"series"` // series.Digest of patches/
	Shards   []string          `json:"shards"` // "2/4"; "1/1" for an unsharded run
	Run      string            `json:"run,omitempty"`
	Env      map[string]string `json:"env,omitempty"` // GO_TEST_SHORT, GO_TEST_TIMEOUT_SCALE, GO_BUILDER_NAME as set
	Reruns   int               `json:"reruns"`
	Compared bool              `json:"compared"` // upstream ran too
	Fork     SideInfo          `json:"fork"`
	Upstream SideInfo          `json:"upstream"`
	Counts   map[Class]int     `json:"counts"`
	Units    []string          `json:"units"` // the dist test names run, in order
	Rows     []Row             `json:"rows"`  // every test not passed on both, sorted by class, then name
	Seconds  float64           `json:"seconds"`
	// LeftOut are the dist tests of the shard that neither side ran, and
	// why (a partial base has no test/, api/ or doc/). Results of format 1
	// do not say: see KnowsLeftOut.
	LeftOut []LeftOut `json:"left_out,omitempty"`
	// List is every dist test of go tool dist test -list (as -run
	// selects them) that the shards are cut from: a merge checks that
	// its shards ran or left out each of them exactly once. Results of
	// format 2 do not record it.
	List []string `json:"list,omitempty"`
}

// LeftOut is a dist test that a run left out on both sides, and why.
type LeftOut struct {
	Name string `json:"name"`
	Why  string `json:"why"`
}

// reportFormat is the format Write writes. Formats 1 (before left_out) and
// 2 (before list) are still read.
const reportFormat = 3

// KnowsLeftOut reports whether r says which dist tests it left out: results
// of format 1 do not.
func (r *Report) KnowsLeftOut() bool { return r.Format >= 2 }

// Build classifies the outcomes of both sides into a report's counts and
// rows. details names how each failure failed. A package's own outcome
// (the key "pkg") is compared like a test's, but a package that passes on
// both is not counted: the counts are of tests.
func (r *Report) Build(fork, up map[string]Attempts, details map[string]string, packages map[string]bool) {
	r.Format = reportFormat
	r.Counts = map[Class]int{}
	r.Rows = nil
	fork, up, details = withoutAddrs(fork, worse), withoutAddrs(up, worse), withoutAddrs(details, nil)
	keys := map[string]bool{}
	for k := range fork {
		keys[k] = true
	}
	for k := range up {
		keys[k] = true
	}
	shard := ""
	if len(r.Shards) == 1 {
		shard = r.Shards[0]
	}
	for k := range keys {
		c := Classify(fork[k], up[k])
		if !r.Compared && len(fork[k]) == 0 {
			continue
		}
		if r.Compared && c == Passed && len(up[k]) == 0 {
			c = ForkOnly
		}
		if packages[k] && (c == Passed || c == Skipped || c == UpstreamOnly || c == ForkOnly) {
			continue
		}
		r.Counts[c]++
		if c == Passed {
			continue
		}
		r.Rows = append(r.Rows, Row{Name: k, Class: c, Fork: fork[k].String(), Upstream: up[k].String(), Detail: details[k], Shard: shard})
	}
	r.sortRows()
}

// addrInName is a pointer printed into a subtest's name, as errors.TestAs
// names its cases ("TestAs/7:As(Errorf(...,_oh_no),_0xc000012078)"): it
// differs from run to run, and between the fork and upstream, so that the
// same subtest would count once as run only upstream and once only on the
// fork.
var addrInName = regexp.MustCompile(`0x[0-9a-f]{6,16}`)

// withoutAddrs renames the keys that hold a pointer to "0x?". Of two keys
// that become one, the first in sorted order is kept, unless replace says
// the later one's value should take its place.
func withoutAddrs[V any](m map[string]V, replace func(kept, v V) bool) map[string]V {
	out := make(map[string]V, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		nk := addrInName.ReplaceAllString(k, "0x?")
		if kept, dup := out[nk]; dup && (replace == nil || !replace(kept, m[k])) {
			continue
		}
		out[nk] = m[k]
	}
	return out
}

// worse says whether attempts b show a failure that a does not: the one a
// merged name keeps, so that a failure is never hidden.
func worse(a, b Attempts) bool {
	return a.none(tiers.Fail) && !b.none(tiers.Fail)
}

func (r *Report) sortRows() {
	order := map[Class]int{}
	for i, c := range Classes {
		order[c] = i
	}
	sort.Slice(r.Rows, func(i, j int) bool {
		a, b := r.Rows[i], r.Rows[j]
		if a.Class != b.Class {
			return order[a.Class] < order[b.Class]
		}
		return a.Name < b.Name
	})
}

// NewFailures are the rows that make a run fail.
func (r *Report) NewFailures() []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Class == New {
			out = append(out, row)
		}
	}
	return out
}

// Write writes the report as indented JSON.
func (r *Report) Write(path string) error {
	data, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o666)
}

// Read reads a report Write wrote.
func Read(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a suite result: %v", path, err)
	}
	if r.Format < 1 || r.Format > reportFormat {
		return nil, fmt.Errorf("%s: suite result format %d, want %d (rerun: unilock suite)", path, r.Format, reportFormat)
	}
	return &r, nil
}

// Merge combines shard reports into one. The shards must come from the same
// series and the same N, with no dist test in two of them; missing says which
// shards of N are absent ("" when all are there).
func Merge(rs []*Report) (merged *Report, missing string, err error) {
	if len(rs) == 0 {
		return nil, "", fmt.Errorf("no shard results to merge")
	}
	m := &Report{Format: reportFormat, Machine: rs[0].Machine, Series: rs[0].Series, Run: rs[0].Run, Env: rs[0].Env, Reruns: rs[0].Reruns, Compared: true, Counts: map[Class]int{}}
	m.Fork.Goroot, m.Fork.Version = rs[0].Fork.Goroot, rs[0].Fork.Version
	m.Upstream.Goroot, m.Upstream.Version = rs[0].Upstream.Goroot, rs[0].Upstream.Version
	owner := map[string]string{}
	seen := map[string]bool{}
	n := 0
	var machines []string
	for _, r := range rs {
		if r.Series != m.Series {
			return nil, "", fmt.Errorf("shard %s was run on series %.12s, shard %s on %.12s: rerun the stale one", strings.Join(r.Shards, ","), r.Series, strings.Join(rs[0].Shards, ","), m.Series)
		}
		if r.Date.After(m.Date) {
			m.Date = r.Date
		}
		if !slices.Contains(machines, r.Machine) {
			machines = append(machines, r.Machine)
		}
		m.Compared = m.Compared && r.Compared
		for _, s := range r.Shards {
			sh, err := ParseShard(s)
			if err != nil {
				return nil, "", err
			}
			if n == 0 {
				n = sh.N
			}
			if sh.N != n {
				return nil, "", fmt.Errorf("shards of %d and of %d cannot be merged: run every shard with the same n", n, sh.N)
			}
			if seen[s] {
				return nil, "", fmt.Errorf("shard %s given twice", s)
			}
			seen[s] = true
			m.Shards = append(m.Shards, s)
		}
		shard := strings.Join(r.Shards, ",")
		for _, u := range r.Units {
			if o, ok := owner[u]; ok && o != shard {
				return nil, "", fmt.Errorf("dist test %q ran in shard %s and in shard %s: the shards were not cut the same way", u, o, shard)
			}
			owner[u] = shard
			m.Units = append(m.Units, u)
		}
		for _, side := range []struct{ to, from *SideInfo }{{&m.Fork, &r.Fork}, {&m.Upstream, &r.Upstream}} {
			side.to.Units += side.from.Units
			side.to.Passed += side.from.Passed
			side.to.Failed += side.from.Failed
			side.to.Skipped += side.from.Skipped
			side.to.Seconds += side.from.Seconds
			if side.from.Error != "" {
				side.to.Error = strings.TrimPrefix(side.to.Error+"; ", "; ") + shard + ": " + side.from.Error
			}
		}
		for c, k := range r.Counts {
			m.Counts[c] += k
		}
		m.Rows = append(m.Rows, r.Rows...)
		if !r.KnowsLeftOut() {
			return nil, "", fmt.Errorf("shard %s is a result of format %d, which does not say which dist tests it left out: rerun it (unilock suite -shard %s)", shard, r.Format, shard)
		}
		m.LeftOut = append(m.LeftOut, r.LeftOut...)
		m.Seconds += r.Seconds
	}
	m.Machine = strings.Join(machines, "; ")
	list, err := covered(rs)
	if err != nil {
		return nil, "", err
	}
	m.sortRows()
	sort.Slice(m.LeftOut, func(i, j int) bool { return m.LeftOut[i].Name < m.LeftOut[j].Name })
	sort.Slice(m.Shards, func(i, j int) bool {
		a, _ := ParseShard(m.Shards[i])
		b, _ := ParseShard(m.Shards[j])
		return a.I < b.I
	})
	var absent []string
	for i := 1; i <= n; i++ {
		if s := (Shard{i, n}).String(); !seen[s] && n > 1 {
			absent = append(absent, s)
		}
	}
	if len(absent) == 0 && list != nil {
		// Every shard is there: together they must have run or left
		// out each dist test of the list exactly once.
		got := map[string]int{}
		for _, u := range m.Units {
			got[u]++
		}
		for _, l := range m.LeftOut {
			got[l.Name]++
		}
		var lost []string
		for _, name := range list {
			if got[name] != 1 {
				lost = append(lost, name)
			}
			delete(got, name)
		}
		if len(lost) > 0 || len(got) > 0 {
			return nil, "", fmt.Errorf("the shards together do not run the list they were cut from exactly once: %d of its %d dist tests not run (%s), %d run that it does not name (%s)",
				len(lost), len(list), strings.Join(limit(lost, 5), ", "), len(got), strings.Join(limit(sortedKeys(got), 5), ", "))
		}
		m.List = list
	}
	return m, strings.Join(absent, ", "), nil
}

// covered returns the list of dist tests the shards rs were cut from, nil
// when one of them does not record it (format 2), and fails when two were
// cut from different lists.
func covered(rs []*Report) ([]string, error) {
	var list []string
	for i, r := range rs {
		if r.Format < 3 {
			return nil, nil
		}
		if i == 0 {
			list = r.List
			continue
		}
		if !slices.Equal(r.List, list) {
			return nil, fmt.Errorf("shard %s was cut from a list of %d dist tests, shard %s from another of %d: run every shard with the same toolchain and -run", strings.Join(r.Shards, ","), len(r.List), strings.Join(rs[0].Shards, ","), len(list))
		}
	}
	return list, nil
}

// classTitle is how the Markdown table names a class.
var classTitle = map[Class]string{
	Passed:       "passed on both",
	Skipped:      "skipped",
	New:          "new failures (fork fails, upstream passes)",
	Shared:       "shared failures (environment limits of the machine)",
	Fixed:        "fixed by the fork",
	Flaky:        "flaky (failed and passed across reruns)",
	UpstreamOnly: "upstream only (not run on the fork)",
	ForkOnly:     "fork only (passed on the fork; upstream has no such test)",
}

// forkAloneTitle is how the Markdown table names a class when upstream did
// not run (-fork-only): every failure is counted as new, and the classes
// that need upstream's outcome are left out.
var forkAloneTitle = map[Class]string{
	Passed:  "passed",
	Skipped: "skipped",
	New:     "failed on every rerun (upstream not run)",
	Flaky:   "flaky (failed and passed across reruns)",
}

// marker is the line of the Markdown report that ReportStale reads.
var marker = regexp.MustCompile(`<!-- unilock suite: series ([0-9a-f]{64}) -->`)

// Markdown is the report as a Markdown page: the sides, the classes and
// every row that is not a pass on both. It is made from the JSON result
// alone, so unilock suite table regenerates it.
func (r *Report) Markdown() string {
	var b strings.Builder
	if r.Compared {
		fmt.Fprintf(&b, "# The whole Go test suite: fork against upstream\n\n")
	} else {
		fmt.Fprintf(&b, "# The whole Go test suite: the fork alone\n\n")
	}
	fmt.Fprintf(&b, "<!-- unilock suite: series %s -->\n", r.Series)
	fmt.Fprintf(&b, "<!-- Generated by unilock suite from its JSON result; regenerate with: unilock/unilock.bash suite table RESULT.json -->\n\n")
	what := "the whole suite (`go tool dist test -k`)"
	if r.Run != "" {
		what = fmt.Sprintf("the dist tests matching `%s` (`go tool dist test -k`)", r.Run)
	}
	shards := "unsharded"
	if len(r.Shards) > 0 && !(len(r.Shards) == 1 && r.Shards[0] == "1/1") {
		shards = "shards " + strings.Join(r.Shards, ", ")
	}
	fmt.Fprintf(&b, "Run on %s, %s: %s, %s, %d reruns of each disagreement per side.\n\n", r.Date.UTC().Format("2006-01-02 15:04 UTC"), r.Machine, what, shards, r.Reruns)
	fmt.Fprintf(&b, "Series digest `%.16s` (patches/). Wall time %s.\n", r.Series, duration(r.Seconds))
	if len(r.List) > 0 && len(r.Shards) > 1 {
		fmt.Fprintf(&b, "The %d shards together ran or left out each of the %d dist tests of `go tool dist test -list` exactly once (%d run, %d left out).\n", len(r.Shards), len(r.List), len(r.Units), len(r.LeftOut))
	}
	if len(r.Env) > 0 {
		var kv []string
		for _, k := range sortedKeys(r.Env) {
			kv = append(kv, "`"+k+"="+r.Env[k]+"`")
		}
		fmt.Fprintf(&b, "Environment: %s.\n", strings.Join(kv, " "))
	}
	fmt.Fprintf(&b, "\n| | fork | upstream |\n|---|---|---|\n")
	up := func(f func(SideInfo) string) string {
		if !r.Compared {
			return "not run"
		}
		return f(r.Upstream)
	}
	row := func(name string, f func(SideInfo) string) {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, f(r.Fork), up(f))
	}
	row("toolchain", func(s SideInfo) string { return "`" + s.Version + "`" })
	row("dist tests", func(s SideInfo) string { return fmt.Sprint(s.Units) })
	row("tests passed", func(s SideInfo) string { return fmt.Sprint(s.Passed) })
	row("failed", func(s SideInfo) string { return fmt.Sprint(s.Failed) })
	row("skipped", func(s SideInfo) string { return fmt.Sprint(s.Skipped) })
	row("time", func(s SideInfo) string { return duration(s.Seconds) })
	fmt.Fprintf(&b, "\n| outcome | tests |\n|---|---|\n")
	for _, c := range Classes {
		title := classTitle[c]
		if !r.Compared {
			if title = forkAloneTitle[c]; title == "" {
				continue
			}
		}
		fmt.Fprintf(&b, "| %s | %d |\n", title, r.Counts[c])
	}
	if len(r.LeftOut) > 0 {
		if r.Compared {
			fmt.Fprintf(&b, "\n## Left out on both sides\n\nThese dist tests need what the base does not have, and neither side ran them:\n\n| dist tests | why |\n|---|---|\n")
		} else {
			fmt.Fprintf(&b, "\n## Left out\n\nThese dist tests need what the base does not have, and the fork did not run them:\n\n| dist tests | why |\n|---|---|\n")
		}
		for _, g := range groupLeftOut(r.LeftOut) {
			fmt.Fprintf(&b, "| %s | %s |\n", g.names, Cell(g.why, 160))
		}
	}
	for _, side := range []struct {
		name string
		s    SideInfo
	}{{"fork", r.Fork}, {"upstream", r.Upstream}} {
		if side.s.Error != "" {
			fmt.Fprintf(&b, "\nThe %s's run failed with nothing named: %s\n", side.name, side.s.Error)
		}
	}
	for _, c := range Classes {
		var rows []Row
		for _, row := range r.Rows {
			if row.Class == c {
				rows = append(rows, row)
			}
		}
		if len(rows) == 0 || c == Skipped {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n| test | fork | upstream | how |\n|---|---|---|---|\n", strings.ToUpper(classTitle[c][:1])+classTitle[c][1:])
		for _, row := range rows {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", row.Name, orDash(row.Fork), orDash(row.Upstream), Cell(row.Detail, 160))
		}
	}
	return b.String()
}

// groupLeftOut groups the left-out dist tests of one package and reason
// ("cmd/internal/testdir:0_10" ... "cmd/internal/testdir:9_10") into one row.
func groupLeftOut(left []LeftOut) []struct{ names, why string } {
	type key struct{ pkg, why string }
	var order []key
	members := map[key][]string{}
	for _, l := range left {
		pkg, _, _ := strings.Cut(l.Name, ":")
		k := key{pkg, l.Why}
		if _, ok := members[k]; !ok {
			order = append(order, k)
		}
		members[k] = append(members[k], l.Name)
	}
	var rows []struct{ names, why string }
	for _, k := range order {
		ms := members[k]
		names := "`" + ms[0] + "`"
		switch {
		case len(ms) == 2:
			names += ", `" + ms[1] + "`"
		case len(ms) > 2:
			names = fmt.Sprintf("`%s` (%d: `%s` ... `%s`)", k.pkg, len(ms), ms[0], ms[len(ms)-1])
		}
		rows = append(rows, struct{ names, why string }{names, k.why})
	}
	return rows
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Cell makes s fit in a Markdown table cell or list item: one line, pipes
// escaped, at most max bytes of it kept.
func Cell(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

func duration(sec float64) string {
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
	return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// ReportPath is the dated report in the repository, relative to its root.
const ReportPath = "docs/suite.md"

// ReportStale reports whether the suite report in docs/ was made on another
// series than patches/ holds now, and why, with the command that remakes it.
// A missing report is stale.
func ReportStale(root string) (stale bool, why string) {
	data, err := os.ReadFile(filepath.Join(root, ReportPath))
	if err != nil {
		return true, fmt.Sprintf("no %s: make it with unilock/unilock.bash suite -report", ReportPath)
	}
	m := marker.FindSubmatch(data)
	if m == nil {
		return true, fmt.Sprintf("%s names no series digest: remake it with unilock/unilock.bash suite -report", ReportPath)
	}
	ps, err := series.Load(filepath.Join(root, "patches"))
	if err != nil {
		return true, fmt.Sprintf("cannot read patches/: %v", err)
	}
	if d := series.Digest(ps); d != string(m[1]) {
		return true, fmt.Sprintf("%s was run on series %.12s, patches/ is now %.12s: remake it with unilock/unilock.bash suite -report", ReportPath, m[1], d)
	}
	return false, fmt.Sprintf("%s was run on this series", ReportPath)
}
