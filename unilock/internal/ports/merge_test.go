package ports

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"unilock/internal/series"
	"unilock/internal/tiers"
)

const (
	seriesA = "aaaaaaaaaaaa0000000000000000000000000000000000000000000000000000"
	seriesB = "bbbbbbbbbbbb0000000000000000000000000000000000000000000000000000"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// fullRun is the fork's matrix of one run of ports -full -base that
// executed the ports exec (each passing on both sides) and only compiled
// the ports notRun, started hours after t0.
func fullRun(hours int, exec []string, notRun ...string) *Matrix {
	m := &Matrix{Toolchain: "go version go1.27.4-unilock.3 linux/amd64", Host: "linux/amd64, 2 CPUs", Compared: "go version go1.27.4 linux/amd64",
		Packages: slices.Clone(FullPackages), Series: seriesA, Reruns: 2, Started: t0.Add(time.Duration(hours) * time.Hour), Seconds: 3600}
	for _, p := range exec {
		r := fullRow(p, map[string]tiers.Status{"sync.TestA": tiers.Pass, "runtime.TestB": tiers.Pass})
		r.Upstream = fullRow(p, map[string]tiers.Status{"sync.TestA": tiers.Pass, "runtime.TestB": tiers.Pass}).Run
		r.Baseline = "ok"
		m.Rows = append(m.Rows, r)
	}
	for _, p := range notRun {
		m.Rows = append(m.Rows, Row{Port: p, Backend: "futex", Compile: Compile{OK: true, What: WhatFull}, NotRun: "no way to execute it on this machine"})
	}
	return m
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name    string
		in      []*Matrix
		change  func(ms []*Matrix) // edits the inputs before the merge
		current string             // patches/' digest now
		err     string             // what the error must say
		check   func(t *testing.T, m *Matrix, notes []string)
	}{
		{name: "two runs on other ports",
			in: []*Matrix{fullRun(3, []string{"linux/arm64", "linux/386"}), fullRun(0, []string{"linux/riscv64"})},
			check: func(t *testing.T, m *Matrix, notes []string) {
				var ps []string
				for _, r := range m.Rows {
					ps = append(ps, r.Port)
				}
				if want := []string{"linux/386", "linux/arm64", "linux/riscv64"}; !slices.Equal(ps, want) {
					t.Errorf("rows %q, want %q", ps, want)
				}
				if m.Seconds != 7200 || !m.Started.Equal(t0) || m.Series != seriesA || m.Reruns != 2 || !m.OK() {
					t.Errorf("seconds %v started %v series %.6s reruns %d ok %v", m.Seconds, m.Started, m.Series, m.Reruns, m.OK())
				}
				if len(m.Merged) != 2 || m.Merged[0].File != "a.json" || !slices.Equal(m.Merged[0].Executed, []string{"linux/arm64", "linux/386"}) {
					t.Errorf("merged runs %+v", m.Merged)
				}
				if len(notes) > 0 {
					t.Errorf("notes %q", notes)
				}
			}},
		{name: "an executed row wins over one not executed",
			in: []*Matrix{fullRun(0, []string{"linux/arm64"}, "linux/386"), fullRun(1, []string{"linux/386"}, "linux/arm64")},
			check: func(t *testing.T, m *Matrix, _ []string) {
				if len(m.Rows) != 2 || m.Rows[0].Run == nil || m.Rows[1].Run == nil {
					t.Errorf("a port executed in one run is not executed in the merge: %+v", m.Rows)
				}
			}},
		{name: "a failing row wins over a passing one when neither executed",
			in: []*Matrix{fullRun(0, nil, "linux/mips"), fullRun(1, nil, "linux/mips")},
			change: func(ms []*Matrix) {
				ms[1].Rows[0].Compile = Compile{Error: "boom"}
				ms[1].Rows[0].New = []string{"compile"}
			},
			check: func(t *testing.T, m *Matrix, _ []string) {
				if m.OK() || m.Rows[0].New[0] != "compile" {
					t.Errorf("the compile failure of b.json was lost: %+v", m.Rows)
				}
			}},
		{name: "a port executed twice",
			in:  []*Matrix{fullRun(0, []string{"linux/arm64", "linux/386"}), fullRun(1, []string{"linux/arm64"})},
			err: "linux/arm64 was executed in a.json and in b.json: merge only one of them"},
		{name: "another series: the later run is stale",
			in:     []*Matrix{fullRun(0, []string{"linux/arm64"}), fullRun(1, []string{"linux/386", "linux/s390x"})},
			change: func(ms []*Matrix) { ms[1].Series = seriesB },
			err:    "a.json was run on series aaaaaaaaaaaa, b.json on bbbbbbbbbbbb: rerun the stale ports: unilock ports -full -base -ports linux/386,linux/s390x -json .unilock/ports/full-fork-linux-386.json"},
		{name: "another series: the run not on patches/ is stale",
			in:      []*Matrix{fullRun(0, []string{"linux/arm64"}), fullRun(1, []string{"linux/386"})},
			change:  func(ms []*Matrix) { ms[1].Series = seriesB },
			current: seriesB,
			err:     "(patches/ is now bbbbbbbbbbbb): rerun the stale ports: unilock ports -full -base -ports linux/arm64 "},
		{name: "no series recorded",
			in:     []*Matrix{fullRun(0, []string{"linux/arm64"}), fullRun(1, []string{"linux/386"})},
			change: func(ms []*Matrix) { ms[1].Series = "" },
			err:    "b.json records no series (it was run before ports recorded it): rerun its ports: unilock ports -full -base -ports linux/386"},
		{name: "not the full mode",
			in:     []*Matrix{fullRun(0, []string{"linux/arm64"})},
			change: func(ms []*Matrix) { ms[0].Packages = nil },
			err:    "a.json is not of the full mode"},
		{name: "not compared",
			in:     []*Matrix{fullRun(0, []string{"linux/arm64"}), fullRun(1, []string{"linux/386"})},
			change: func(ms []*Matrix) { ms[1].Compared = "" },
			err:    "b.json is not compared with upstream (a run without -base, or upstream's own full-upstream.json)"},
		{name: "other packages",
			in:     []*Matrix{fullRun(0, []string{"linux/arm64"}), fullRun(1, []string{"linux/386"})},
			change: func(ms []*Matrix) { ms[1].Packages = []string{"sync"} },
			err:    "rerun b.json's ports with the same -pkgs: unilock ports -full -base -ports linux/386"},
		{name: "another toolchain",
			in:     []*Matrix{fullRun(0, []string{"linux/arm64"}), fullRun(1, []string{"linux/386"})},
			change: func(ms []*Matrix) { ms[1].Toolchain += " GOEXPERIMENT=staticlockranking" },
			err:    "rerun b.json's ports with the same toolchain"},
		{name: "another upstream",
			in:     []*Matrix{fullRun(0, []string{"linux/arm64"}), fullRun(1, []string{"linux/386"})},
			change: func(ms []*Matrix) { ms[1].Compared = "go version go1.27.3 linux/amd64" },
			err:    "rerun b.json's ports against the same upstream"},
		{name: "reruns differ: the fewest, said",
			in:     []*Matrix{fullRun(0, []string{"linux/arm64"}), fullRun(1, []string{"linux/386"})},
			change: func(ms []*Matrix) { ms[1].Reruns = 1 },
			check: func(t *testing.T, m *Matrix, notes []string) {
				if m.Reruns != 1 || len(notes) != 1 || !strings.Contains(notes[0], "(a.json 2): the table says 1, the fewest") {
					t.Errorf("reruns %d, notes %q", m.Reruns, notes)
				}
			}},
		{name: "runs of an older series merge, said stale",
			in:      []*Matrix{fullRun(0, []string{"linux/arm64"}), fullRun(1, []string{"linux/386"})},
			current: seriesB,
			check: func(t *testing.T, m *Matrix, notes []string) {
				if len(notes) != 1 || !strings.Contains(notes[0], "patches/ is now bbbbbbbbbbbb: the merged table is stale") {
					t.Errorf("notes %q", notes)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.change != nil {
				tt.change(tt.in)
			}
			var in []MergeInput
			for i, m := range tt.in {
				in = append(in, MergeInput{File: string(rune('a'+i)) + ".json", Matrix: m})
			}
			m, notes, err := Merge(in, tt.current)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m, notes)
		})
	}
}

// A merged matrix merges again with a later run: its runs are carried over,
// and a port it executed cannot be executed again.
func TestMergeAgain(t *testing.T) {
	first, _, err := Merge([]MergeInput{{"a.json", fullRun(0, []string{"linux/arm64"})}, {"b.json", fullRun(1, []string{"linux/386"})}}, seriesA)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "full-merged.json")
	if err := first.Write(file); err != nil {
		t.Fatal(err)
	}
	back, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := Merge([]MergeInput{{"full-merged.json", back}, {"c.json", fullRun(2, []string{"linux/riscv64"})}}, seriesA)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Merged) != 3 || m.Merged[2].File != "c.json" || len(m.Rows) != 3 || m.Seconds != 3*3600 {
		t.Errorf("merged %d runs, %d rows, %vs", len(m.Merged), len(m.Rows), m.Seconds)
	}
	if _, _, err := Merge([]MergeInput{{"full-merged.json", back}, {"c.json", fullRun(2, []string{"linux/386"})}}, seriesA); err == nil || !strings.Contains(err.Error(), "linux/386 was executed in full-merged.json and in c.json") {
		t.Errorf("a port of the merged matrix executed again: %v", err)
	}
	if got := m.StillToRun([]string{"linux/amd64", "linux/386", "linux/arm64", "linux/mips", "linux/riscv64"}); !slices.Equal(got, []string{"linux/amd64", "linux/mips"}) {
		t.Errorf("StillToRun = %q", got)
	}
}

func TestMarkdown(t *testing.T) {
	a := fullRun(0, []string{"linux/arm64"}, "darwin/arm64")
	b := fullRun(2, []string{"linux/386"})
	a.Rows[0].New = []string{"runtime.TestB"}
	a.Rows[0].Run.Failed, a.Rows[0].Run.Passed = 1, 1
	a.Rows[0].Flaky = []string{"sync.TestA (fork fail pass; upstream pass)"}
	b.Rows[0].Shared = []string{"os/signal.TestStop"}
	b.Rows[0].Run.How = "native"
	b.Rows[0].Run.Packages = []PackageRun{{Package: "runtime", Passed: 1, Seconds: 200}, {Package: ChanPackage, NotRun: NoTestDir}}
	m, _, err := Merge([]MergeInput{{".unilock/ports/full-fork-a.json", a}, {".unilock/ports/full-fork-b.json", b}}, seriesA)
	if err != nil {
		t.Fatal(err)
	}
	m.ToRun = []string{"linux/mips", "linux/ppc64le"}
	m.NoRunner = []string{"windows/386: wine32 is not installed"}
	md := m.Markdown()
	if l := m.NoRunnerLine(); !strings.Contains(l, "windows/386: wine32 is not installed") {
		t.Errorf("NoRunnerLine = %q", l)
	}
	for _, want := range []string{
		"No runner ready here (`unilock/unilock.bash emulators` says what installs one):\n\n- windows/386: wine32 is not installed\n",
		"# The lock packages' whole suites on every port: fork against upstream\n",
		"<!-- unilock ports: series " + seriesA + " -->",
		"<!-- Generated by unilock ports merge -report from docs/ports-full.json, the merged matrix of .unilock/ports/full-fork-a.json .unilock/ports/full-fork-b.json; regenerate with: unilock/unilock.bash ports merge -report docs/ports-full.json; add the runs of more ports with: unilock/unilock.bash ports merge -report docs/ports-full.json MATRIX.json... -->",
		"Last run 2026-03-01 13:00 UTC; 2 runs of `unilock ports -full -base` merged, on linux/amd64, 2 CPUs",
		"with `go version go1.27.4-unilock.3 linux/amd64` against `go version go1.27.4 linux/amd64`, every disagreement rerun 2 times on each side.",
		"Series digest `aaaaaaaaaaaa0000` (patches/). Machine time 120m00s.",
		"| port | run | scale | packages | passed | failed | skipped | up passed | up failed | up skipped | new | flaky | time | up time | result |\n|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
		"| linux/386 | native | x4 | 1 of 2 | 2 | 0 | 0 | 2 | 0 | 0 | 0 | 0 | 1m30s | 1m30s | ok |",
		"| linux/arm64 | qemu-aarch64 | x4 | 0 | 1 | 1 | 0 | 2 | 0 | 0 | 1 | 1 | 1m30s | 1m30s | NEW FAIL |",
		"3 ports: 3 compiled, 2 executed in full: fork 3m00s, upstream 3m00s; 1 new failures; 120m00s in all.",
		"## Time by package (fork)",
		"- test/chan: GOROOT/test is absent",
		"## New failures (fail on the fork every time, never upstream)\n\n- linux/arm64: `runtime.TestB`\n",
		"## Flaky (failed and passed across reruns)\n\n- linux/arm64: `sync.TestA (fork fail pass; upstream pass)`\n",
		"## Failures upstream shares (this machine's or the emulator's limits)\n\n- linux/386: `os/signal.TestStop`\n",
		"- 1 ports compile only (no emulator for them here): darwin/arm64",
		"2 ports this machine executes that no merged run executed: linux/mips, linux/ppc64le.",
		"    unilock/unilock.bash ports -full -base -ports linux/mips,linux/ppc64le -json .unilock/ports/full-fork-linux-mips.json\n",
		"| `.unilock/ports/full-fork-b.json` | 2026-03-01 12:00 UTC | 60m00s | linux/amd64, 2 CPUs | 2 | linux/386 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	m.ToRun, m.ToRunUnknown = nil, "goroot/ is not built"
	if md := m.Markdown(); !strings.Contains(md, "## Not yet run here\n\nNot known: goroot/ is not built\n") {
		t.Errorf("Markdown does not say the ports to run are unknown:\n%s", md)
	}
	m.ToRunUnknown = ""
	if md := m.Markdown(); !strings.Contains(md, "None: every port this machine executes has run.") {
		t.Errorf("Markdown does not say every port has run:\n%s", md)
	}
}

func TestReportStale(t *testing.T) {
	root := t.TempDir()
	if exists, stale, why := ReportStale(root); exists || stale || !strings.Contains(why, "no docs/ports-full.md yet") {
		t.Errorf("no report: exists %v stale %v %q", exists, stale, why)
	}
	os.MkdirAll(filepath.Join(root, "patches"), 0o777)
	os.MkdirAll(filepath.Join(root, "docs"), 0o777)
	os.WriteFile(filepath.Join(root, "patches", "0001-runtime-x.patch"), []byte("one\n"), 0o666)
	ps, _ := series.Load(filepath.Join(root, "patches"))
	m := fullRun(0, []string{"linux/arm64"})
	m.Series = series.Digest(ps)
	report := filepath.Join(root, ReportPath)
	os.WriteFile(report, []byte(m.Markdown()), 0o666)
	if exists, stale, why := ReportStale(root); !exists || stale || why != "docs/ports-full.md was run on this series" {
		t.Errorf("fresh report: exists %v stale %v %q", exists, stale, why)
	}
	os.WriteFile(filepath.Join(root, "patches", "0001-runtime-x.patch"), []byte("two\n"), 0o666)
	if exists, stale, why := ReportStale(root); !exists || !stale || !strings.Contains(why, "docs/ports-full.md was run on series "+m.Series[:12]+", patches/ is now") {
		t.Errorf("report of another series: exists %v stale %v %q", exists, stale, why)
	}
	os.WriteFile(report, []byte("# hand-written\n"), 0o666)
	if _, stale, why := ReportStale(root); !stale || !strings.Contains(why, "names no series digest") {
		t.Errorf("report without a marker: stale %v %q", stale, why)
	}
}
