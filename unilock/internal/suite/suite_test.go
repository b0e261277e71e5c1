package suite

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"unilock/internal/series"
	"unilock/internal/tiers"
)

// distList is go tool dist test -list of go1.26.8-unilock.1 on linux/amd64
// (620 names, a few of them listed twice, as dist lists them).
func distList(t *testing.T) []string {
	data, err := os.ReadFile("testdata/distlist.txt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

// TestShardsCoverTheList: shards 1/n..n/n of the fixture list together hold
// every name of the unsharded list exactly as often as it holds it, and no
// name is in two shards.
func TestShardsCoverTheList(t *testing.T) {
	names := distList(t)
	if len(names) < 600 {
		t.Fatalf("fixture list has %d names", len(names))
	}
	for _, n := range []int{1, 2, 4, 7} {
		var union []string
		owner := map[string]int{}
		for i := 1; i <= n; i++ {
			sh, err := ParseShard(Shard{i, n}.String())
			if err != nil {
				t.Fatal(err)
			}
			part := sh.Select(names)
			if n > 1 && (len(part) == 0 || len(part) == len(names)) {
				t.Errorf("shard %s has %d of %d names: not a split", sh, len(part), len(names))
			}
			for _, name := range part {
				if o, ok := owner[name]; ok && o != i {
					t.Errorf("%q is in shards %d/%d and %d/%d", name, o, n, i, n)
				}
				owner[name] = i
			}
			union = append(union, part...)
		}
		want := slices.Clone(names)
		sort.Strings(want)
		sort.Strings(union)
		if !slices.Equal(union, want) {
			t.Errorf("shards of %d cover %d names, the list has %d", n, len(union), len(want))
		}
	}
}

func TestShardIsCRC32(t *testing.T) {
	// crc32.ChecksumIEEE("runtime") = 0xd5a60c7b, mod 4 = 3: shard 4/4;
	// "sync" 0x2c2bf57a, mod 4 = 2: shard 3/4.
	for _, tc := range []struct {
		name  string
		shard Shard
		want  bool
	}{
		{"runtime", Shard{4, 4}, true},
		{"runtime", Shard{1, 4}, false},
		{"sync", Shard{3, 4}, true},
		{"runtime", All, true},
	} {
		if got := tc.shard.Has(tc.name); got != tc.want {
			t.Errorf("%s.Has(%q) = %v, want %v", tc.shard, tc.name, got, tc.want)
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		err  bool
	}{
		{"", All, false},
		{"1/1", All, false},
		{"3/4", Shard{3, 4}, false},
		{"0/4", Shard{}, true},
		{"5/4", Shard{}, true},
		{"4", Shard{}, true},
		{"a/b", Shard{}, true},
	} {
		got, err := ParseShard(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestFilter(t *testing.T) {
	names := []string{"sync", "sync:cpu10", "runtime", "os"}
	for _, tc := range []struct {
		run  string
		want string
	}{
		{"", "sync sync:cpu10 runtime os"},
		{"^sync", "sync sync:cpu10"},
		{"!^sync", "runtime os"},
		{"^(os|runtime)$", "runtime os"},
	} {
		got, err := Filter(names, tc.run)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("Filter(%q) = %q, %v; want %q", tc.run, got, err, tc.want)
		}
	}
	if _, err := Filter(names, "("); err == nil {
		t.Errorf("Filter accepted a bad regexp")
	}
}

const (
	P = tiers.Pass
	F = tiers.Fail
	S = tiers.Skip
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		fork, up Attempts
		want     Class
	}{
		{Attempts{P}, Attempts{P}, Passed},
		{Attempts{S}, Attempts{S}, Skipped},
		{Attempts{S}, Attempts{P}, Skipped},
		{Attempts{F, F, F}, Attempts{P, P, P}, New},
		{Attempts{F, P, F}, Attempts{P, P, P}, Flaky},
		{Attempts{F, F, F}, Attempts{P, F, P}, Flaky},
		{Attempts{F}, Attempts{F}, Shared},
		{Attempts{P, P, P}, Attempts{F, F, F}, Fixed},
		{Attempts{P, P, P}, Attempts{F, P, F}, Flaky},
		{Attempts{F}, nil, New}, // the fork's own test, or no upstream run
		{Attempts{P}, nil, Passed},
		{nil, Attempts{P}, UpstreamOnly},
		{nil, Attempts{F}, UpstreamOnly},
	} {
		if got := Classify(tc.fork, tc.up); got != tc.want {
			t.Errorf("Classify(%v, %v) = %q, want %q", tc.fork, tc.up, got, tc.want)
		}
	}
	if !NeedsRerun(F, P) || !NeedsRerun(P, F) || NeedsRerun(F, F) || NeedsRerun(P, S) || NeedsRerun(F, "") {
		t.Errorf("NeedsRerun: a disagreement is one side failing and the other not")
	}
}

func sample(shard string, units ...string) *Report {
	r := &Report{Date: time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC), Machine: "linux/amd64, 2 cores", Series: strings.Repeat("ab", 32), Shards: []string{shard}, Reruns: 2, Compared: true, Units: units}
	r.Fork = SideInfo{Version: "go1.26.8-unilock.1", Units: len(units), Passed: 3, Failed: 2, Seconds: 60}
	r.Upstream = SideInfo{Version: "go1.26.8", Units: len(units), Passed: 4, Failed: 1, Seconds: 50}
	return r
}

func TestBuildAndMarkdown(t *testing.T) {
	r := sample("1/1", "runtime", "sync", "cmd/go")
	fork := map[string]Attempts{
		"runtime.TestA":    {P},
		"runtime.TestNew":  {F, F, F},
		"sync.TestFlaky":   {F, P, F},
		"cmd/go":           {F},
		"runtime.TestSkip": {S},
		"runtime.TestFix":  {P, P, P},
		"runtime.TestOurs": {P},
		// errors.TestAs names its cases with pointers, which differ
		// between the two sides' runs.
		"runtime.TestAs/7:As(Errorf(...,_oh_no),_0x28f394c02078)": {P},
	}
	up := map[string]Attempts{
		"runtime.TestAs/7:As(Errorf(...,_oh_no),_0x6078c088078)": {P},
		"runtime.TestA":    {P},
		"runtime.TestNew":  {P, P, P},
		"sync.TestFlaky":   {P, P, P},
		"cmd/go":           {F},
		"runtime.TestSkip": {S},
		"runtime.TestFix":  {F, F, F},
		"runtime.TestGone": {P},
	}
	fork["sync"], up["sync"] = Attempts{P}, Attempts{P} // a package's own pass is not a test
	r.Build(fork, up, map[string]string{"cmd/go": "[build failed: cmd/go [cmd/go.test]]"}, map[string]bool{"sync": true, "cmd/go": true, "runtime": true})
	want := map[Class]int{Passed: 2, New: 1, Flaky: 1, Shared: 1, Skipped: 1, Fixed: 1, UpstreamOnly: 1, ForkOnly: 1}
	for c, n := range want {
		if r.Counts[c] != n {
			t.Errorf("%s: %d, want %d", c, r.Counts[c], n)
		}
	}
	var names []string
	for _, row := range r.Rows {
		names = append(names, string(row.Class)+" "+row.Name)
	}
	wantRows := []string{"new failure runtime.TestNew", "flaky sync.TestFlaky", "shared failure cmd/go", "fixed by fork runtime.TestFix", "upstream only runtime.TestGone", "fork only runtime.TestOurs", "skipped runtime.TestSkip"}
	if strings.Join(names, "|") != strings.Join(wantRows, "|") {
		t.Errorf("rows\n%q\nwant\n%q", names, wantRows)
	}
	if n := r.NewFailures(); len(n) != 1 || n[0].Name != "runtime.TestNew" || n[0].Fork != "fail,fail,fail" || n[0].Upstream != "pass,pass,pass" {
		t.Errorf("new failures %+v", n)
	}
	md := r.Markdown()
	for _, s := range []string{
		"<!-- unilock suite: series " + r.Series + " -->",
		"| new failures (fork fails, upstream passes) | 1 |",
		"| `runtime.TestNew` | fail,fail,fail | pass,pass,pass |",
		"| `cmd/go` | fail | fail | [build failed: cmd/go [cmd/go.test]] |",
		"| time | 1m00s | 50s |",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q:\n%s", s, md)
		}
	}
	// The table is made from the JSON result alone.
	p := filepath.Join(t.TempDir(), "result.json")
	if err := r.Write(p); err != nil {
		t.Fatal(err)
	}
	back, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if back.Markdown() != md {
		t.Errorf("the table from the JSON result differs:\n%s\nwant\n%s", back.Markdown(), md)
	}
}

// TestMarkdownForkAlone: with upstream not run (-fork-only), the report
// neither names classes that need upstream's outcome nor says "on both".
func TestMarkdownForkAlone(t *testing.T) {
	r := sample("1/1", "runtime")
	r.Compared = false
	r.Upstream = SideInfo{}
	r.Build(map[string]Attempts{"runtime.TestA": {P}, "runtime.TestB": {F, F, F}, "runtime.TestS": {S}}, nil, nil, map[string]bool{"runtime": true})
	md := r.Markdown()
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"# The whole Go test suite: the fork alone", true},
		{"| passed | 1 |", true},
		{"| failed on every rerun (upstream not run) | 1 |", true},
		{"| upstream | not run |", false},
		{"| toolchain | `go1.26.8-unilock.1` | not run |", true},
		{"on both", false},
		{"fork against upstream", false},
		{"fixed by the fork", false},
		{"upstream only", false},
	} {
		if strings.Contains(md, tc.s) != tc.want {
			t.Errorf("Markdown contains %q: %v, want %v:\n%s", tc.s, !tc.want, tc.want, md)
		}
	}
}

func TestMerge(t *testing.T) {
	a := sample("1/3", "runtime", "sync")
	a.Build(map[string]Attempts{"runtime.TestX": {F, F, F}, "sync.TestY": {P}}, map[string]Attempts{"runtime.TestX": {P, P, P}, "sync.TestY": {P}}, nil, nil)
	b := sample("3/3", "os")
	b.Build(map[string]Attempts{"os.TestZ": {F}}, map[string]Attempts{"os.TestZ": {F}}, nil, nil)
	a.LeftOut = []LeftOut{{"cmd/internal/testdir:2_3", "base has no test/"}}
	b.LeftOut = []LeftOut{{"cmd/relnote", "base has no doc/"}, {"cmd/internal/testdir:0_3", "base has no test/"}}
	m, missing, err := Merge([]*Report{b, a})
	if err != nil {
		t.Fatal(err)
	}
	if missing != "2/3" {
		t.Errorf("missing %q, want 2/3", missing)
	}
	if strings.Join(m.Shards, ",") != "1/3,3/3" || len(m.Units) != 3 || m.Fork.Passed != 6 || m.Fork.Seconds != 120 {
		t.Errorf("merged %+v", m)
	}
	if m.Counts[New] != 1 || m.Counts[Shared] != 1 || m.Counts[Passed] != 1 || len(m.Rows) != 2 || m.Rows[0].Name != "runtime.TestX" {
		t.Errorf("merged counts %v rows %+v", m.Counts, m.Rows)
	}
	wantLeft := []LeftOut{{"cmd/internal/testdir:0_3", "base has no test/"}, {"cmd/internal/testdir:2_3", "base has no test/"}, {"cmd/relnote", "base has no doc/"}}
	if !slices.Equal(m.LeftOut, wantLeft) {
		t.Errorf("merged left out %v, want %v", m.LeftOut, wantLeft)
	}
	md := m.Markdown()
	for _, s := range []string{
		"## Left out on both sides",
		"| `cmd/internal/testdir:0_3`, `cmd/internal/testdir:2_3` | base has no test/ |",
		"| `cmd/relnote` | base has no doc/ |",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("merged Markdown lacks %q:\n%s", s, md)
		}
	}
	old := sample("2/3", "net")
	old.Format = 1
	for _, tc := range []struct {
		name string
		rs   []*Report
		err  string
	}{
		{"same shard twice", []*Report{a, a}, "given twice"},
		{"a dist test in two shards", []*Report{a, sample("2/3", "sync")}, `"sync" ran in shard 1/3 and in shard 2/3`},
		{"other n", []*Report{a, sample("1/4", "os")}, "shards of 3 and of 4"},
		{"other series", []*Report{a, func() *Report { r := sample("2/3", "os"); r.Series = strings.Repeat("cd", 32); return r }()}, "was run on series"},
		{"nothing", nil, "no shard results"},
		{"format 1, which does not say what it left out", []*Report{a, old}, "shard 2/3 is a result of format 1, which does not say which dist tests it left out: rerun it"},
	} {
		if _, _, err := Merge(tc.rs); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestWithoutAddrs(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]Attempts
		want map[string]Attempts
	}{
		{"no pointer", map[string]Attempts{"p.TestA/0x12": {P}}, map[string]Attempts{"p.TestA/0x12": {P}}},
		{"pointer", map[string]Attempts{"p.TestAs/1:As(x,_0xc000012078)": {P}}, map[string]Attempts{"p.TestAs/1:As(x,_0x?)": {P}}},
		{"two become one, the failure kept", map[string]Attempts{"p.T/0xc000012078": {P}, "p.T/0xc000099999": {F, F}}, map[string]Attempts{"p.T/0x?": {F, F}}},
		{"two become one, both passed", map[string]Attempts{"p.T/0xc000012078": {P}, "p.T/0xc000099999": {P, P}}, map[string]Attempts{"p.T/0x?": {P}}},
	} {
		got := withoutAddrs(tc.in, worse)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestGroupLeftOut(t *testing.T) {
	testdir := func(n int) []LeftOut {
		var l []LeftOut
		for i := range n {
			l = append(l, LeftOut{fmt.Sprintf("cmd/internal/testdir:%d_%d", i, n), "base has no test/"})
		}
		return l
	}
	for _, tc := range []struct {
		name string
		left []LeftOut
		want []string
	}{
		{"one", []LeftOut{{"cmd/api", "base has no api/"}}, []string{"`cmd/api`: base has no api/"}},
		{"two of a package", testdir(2), []string{"`cmd/internal/testdir:0_2`, `cmd/internal/testdir:1_2`: base has no test/"}},
		{"many of a package", testdir(10), []string{"`cmd/internal/testdir` (10: `cmd/internal/testdir:0_10` ... `cmd/internal/testdir:9_10`): base has no test/"}},
		{"package and reason", append(testdir(1), LeftOut{"cmd/relnote", "base has no doc/"}, LeftOut{"cmd/relnote:check", "base has no doc/"}),
			[]string{"`cmd/internal/testdir:0_1`: base has no test/", "`cmd/relnote`, `cmd/relnote:check`: base has no doc/"}},
	} {
		var got []string
		for _, g := range groupLeftOut(tc.left) {
			got = append(got, g.names+": "+g.why)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

func TestUnitOf(t *testing.T) {
	units := []string{"archive/tar", "crypto/...:purego", "runtime:cpu2", "cmd/internal/testdir:0_1"}
	for _, tc := range []struct {
		pkg  string
		want int
	}{
		{"archive/tar", 0},
		{"crypto/aes:purego", 1},
		{"crypto:purego", 1},
		{"crypto/aes", -1},
		{"cryptox/aes:purego", -1},
		{"runtime:cpu2", 2},
		{"runtime", -1},
		{"cmd/internal/testdir:0_1", 3},
	} {
		if got := unitOf(units, tc.pkg); got != tc.want {
			t.Errorf("unitOf(%q) = %d, want %d", tc.pkg, got, tc.want)
		}
	}
}

func TestSplitKey(t *testing.T) {
	units := map[string]string{"runtime": "runtime", "vendor/golang.org/x/net/http2": "", "sync:cpu10": "sync:cpu10"}
	for _, tc := range []struct{ key, pkg, test string }{
		{"runtime.TestA/sub.x/y", "runtime", "TestA/sub.x/y"},
		{"runtime", "runtime", ""},
		{"vendor/golang.org/x/net/http2.TestB", "vendor/golang.org/x/net/http2", "TestB"},
		{"sync:cpu10.TestC", "sync:cpu10", "TestC"},
		{"os/exec.TestD/a/b", "os/exec", "TestD/a/b"},
	} {
		if pkg, test := splitKey(tc.key, units); pkg != tc.pkg || test != tc.test {
			t.Errorf("splitKey(%q) = %q, %q; want %q, %q", tc.key, pkg, test, tc.pkg, tc.test)
		}
	}
}

func TestReportStale(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "patches"), 0o777)
	os.MkdirAll(filepath.Join(root, "docs"), 0o777)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	write("patches/0001-runtime-a.patch", "From: a\nSubject: [PATCH] runtime: a\n\n---\n")
	if stale, why := ReportStale(root); !stale || !strings.Contains(why, "suite -report") {
		t.Errorf("no report: stale %v, %q", stale, why)
	}
	ps, err := series.Load(filepath.Join(root, "patches"))
	if err != nil {
		t.Fatal(err)
	}
	r := sample("1/1", "runtime")
	r.Series = series.Digest(ps)
	r.Build(nil, nil, nil, nil)
	write(ReportPath, r.Markdown())
	if stale, why := ReportStale(root); stale {
		t.Errorf("fresh report called stale: %s", why)
	}
	write("patches/0002-runtime-b.patch", "From: b\nSubject: [PATCH] runtime: b\n\n---\n")
	if stale, why := ReportStale(root); !stale || !strings.Contains(why, "was run on series") {
		t.Errorf("after a new patch: stale %v, %q", stale, why)
	}
}

// TestMergeCoversTheList: a merge of every shard checks that together they
// ran or left out each dist test of the list they were cut from exactly
// once, and says so in the report.
func TestMergeCoversTheList(t *testing.T) {
	list := []string{"cmd/go", "cmd/relnote", "os", "runtime", "sync"}
	shard := func(s string, list []string, left []LeftOut, units ...string) *Report {
		r := sample(s, units...)
		r.Build(nil, nil, nil, nil)
		r.List, r.LeftOut = list, left
		return r
	}
	relnote := []LeftOut{{"cmd/relnote", "base has no doc/"}}
	for _, tc := range []struct {
		name string
		rs   []*Report
		err  string // "" merges
	}{
		{"exactly once", []*Report{shard("1/2", list, nil, "runtime", "sync"), shard("2/2", list, relnote, "cmd/go", "os")}, ""},
		{"a dist test no shard ran", []*Report{shard("1/2", list, nil, "runtime", "sync"), shard("2/2", list, nil, "cmd/go", "os")}, "1 of its 5 dist tests not run (cmd/relnote)"},
		{"a dist test the list does not name", []*Report{shard("1/2", list, nil, "runtime", "sync", "net"), shard("2/2", list, relnote, "cmd/go", "os")}, "1 run that it does not name (net)"},
		{"cut from other lists", []*Report{shard("1/2", list, nil, "runtime", "sync"), shard("2/2", list[1:], relnote, "os")}, "cut from a list of 4 dist tests, shard 1/2 from another of 5"},
	} {
		m, missing, err := Merge(tc.rs)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || missing != "" {
			t.Fatalf("%s: %v (missing %q)", tc.name, err, missing)
		}
		want := "The 2 shards together ran or left out each of the 5 dist tests of `go tool dist test -list` exactly once (4 run, 1 left out)."
		if md := m.Markdown(); !strings.Contains(md, want) {
			t.Errorf("%s: Markdown lacks %q:\n%s", tc.name, want, md)
		}
	}
	// A shard missing: nothing to check the list against yet.
	if _, missing, err := Merge([]*Report{shard("1/2", list, nil, "runtime", "sync")}); err != nil || missing != "2/2" {
		t.Errorf("one shard of 2: %v, missing %q", err, missing)
	}
}
