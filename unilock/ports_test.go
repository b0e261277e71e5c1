package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"unilock/internal/ports"
	"unilock/internal/series"
)

func TestPortsFullFlags(t *testing.T) {
	tests := []struct {
		args    []string
		full    bool
		pkgs    []string
		scale   int
		timeout time.Duration
		err     string
	}{
		{nil, false, nil, 0, 15 * time.Minute, ""},
		{[]string{"-full"}, true, ports.FullPackages, 0, 30 * time.Minute, ""},
		{[]string{"-full", "-pkgs", "sync,test/chan", "-scale", "6", "-reruns", "0", "-timeout", "5m"}, true, []string{"sync", "test/chan"}, 6, 5 * time.Minute, ""},
		{[]string{"-full", "-run", "Mutex"}, false, nil, 0, 0, "-full runs whole packages"},
		{[]string{"-pkgs", "sync"}, false, nil, 0, 0, "-pkgs applies to -full"},
		{[]string{"-full", "-scale", "-1"}, false, nil, 0, 0, "-scale -1"},
		{[]string{"-full", "-reruns", "-2"}, false, nil, 0, 0, "-reruns -2"},
		{[]string{"-full", "-pkgs", "test/fixedbugs"}, false, nil, 0, 0, "only test/chan"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			o, fs := portsFlags("ports", "", "")
			pkgs := fullFlags(o, fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := o.parseFull(fs, *pkgs)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || o.full != tt.full || !slices.Equal(o.pkgs, tt.pkgs) || o.scale != tt.scale || o.timeout != tt.timeout {
				t.Errorf("full %v pkgs %q scale %d timeout %v err %v; want %v %q %d %v", o.full, o.pkgs, o.scale, o.timeout, err, tt.full, tt.pkgs, tt.scale, tt.timeout)
			}
		})
	}
}

// fullFork is the fork's matrix of a run of ports -full -base on series
// digest that executed port; failing makes a test fail there on every
// rerun, and upstream pass it.
func fullFork(digest, port string, failing bool) *ports.Matrix {
	run := &ports.Run{How: "qemu-aarch64", Scale: 4, Passed: 10, Seconds: 600, Packages: []ports.PackageRun{{Package: "sync", Passed: 10, Seconds: 600}}}
	row := ports.Row{Port: port, Backend: "futex", Compile: ports.Compile{OK: true, What: ports.WhatFull}, Run: run,
		Upstream: &ports.Run{How: "qemu-aarch64", Scale: 4, Passed: 10, Seconds: 500}, Baseline: "ok"}
	if failing {
		run.Passed, run.Failed, run.Failures = 9, 1, []string{"sync.TestMutex"}
		row.New = []string{"sync.TestMutex"}
	}
	return &ports.Matrix{Toolchain: "go version go1.99.1-unilock.1 linux/amd64", Host: "linux/amd64, 2 CPUs", Compared: "go version go1.99.1 linux/amd64",
		Packages: []string{"sync"}, Reruns: 2, Series: digest, Started: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Seconds: 1200, Rows: []ports.Row{row}}
}

func TestPortsMerge(t *testing.T) {
	env, _ := newRepo(t)
	ps, _ := series.Load(env.Patches)
	digest := series.Digest(ps)
	dir := t.TempDir()
	write := func(name string, m *ports.Matrix) string {
		p := filepath.Join(dir, name)
		if err := m.Write(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("full-fork-arm64.json", fullFork(digest, "linux/arm64", false))
	b := write("full-fork-386.json", fullFork(digest, "linux/386", false))
	out, err := capture(t, func() error { return runPorts(env, []string{"merge", "-report", a, b}) })
	if err != nil {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	for _, want := range []string{
		"linux/386    qemu-aarch64     x4  1",
		"linux/arm64  qemu-aarch64     x4  1",
		"2 ports: 2 compiled, 2 executed in full: fork 20m00s, upstream 16m40s; 0 new failures; 40m00s in all",
		"still to run here: unknown: goroot/ is not built, so the ports this machine executes are not listed: ./make.bash, then merge again",
		"matrix: .unilock/ports/full-merged.json",
		"report: docs/ports-full.md (from docs/ports-full.json)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("merge output lacks %q:\n%s", want, out)
		}
	}
	m, err := ports.Load(filepath.Join(env.State, "ports", "full-merged.json"))
	if err != nil || len(m.Rows) != 2 || len(m.Merged) != 2 || m.Series != digest {
		t.Fatalf("merged matrix: %v %+v", err, m)
	}
	md, err := os.ReadFile(filepath.Join(env.Root, ports.ReportPath))
	if err != nil || !strings.Contains(string(md), "<!-- unilock ports: series "+digest+" -->") || !strings.Contains(string(md), "the merged matrix of "+a+" "+b+"; regenerate with: unilock/unilock.bash ports merge -report docs/ports-full.json;") {
		t.Fatalf("report: %v\n%s", err, md)
	}

	// A clone has docs/ but not the runs' matrices: the report is made
	// again from docs/ports-full.json alone, the same page, and later runs
	// merge into it.
	os.Remove(a)
	os.Remove(b)
	kept := filepath.Join(env.Root, ports.ReportMatrixPath)
	if out, err := capture(t, func() error { return runPorts(env, []string{"merge", "-report", kept}) }); err != nil {
		t.Fatalf("merge -report %s: %v\n%s", ports.ReportMatrixPath, err, out)
	}
	if again, _ := os.ReadFile(filepath.Join(env.Root, ports.ReportPath)); string(again) != string(md) {
		t.Errorf("the report made again from %s differs:\n%s\nwas:\n%s", ports.ReportMatrixPath, again, md)
	}
	c := write("full-fork-s390x.json", fullFork(digest, "linux/s390x", false))
	if out, err := capture(t, func() error { return runPorts(env, []string{"merge", "-report", kept, c}) }); err != nil || !strings.Contains(out, "3 ports: 3 compiled, 3 executed in full") {
		t.Fatalf("merge -report %s with a later run: %v\n%s", ports.ReportMatrixPath, err, out)
	}
	if m, err := ports.Load(kept); err != nil || len(m.Rows) != 3 || len(m.Merged) != 3 {
		t.Fatalf("%s after a later run: %v %+v", ports.ReportMatrixPath, err, m)
	}
	write("full-fork-arm64.json", fullFork(digest, "linux/arm64", false))

	// status: the report is of this series; then, with a new patch, stale.
	out, err = capture(t, func() error { return runStatus(env, nil) })
	if err != nil || !strings.Contains(out, "ports    docs/ports-full.md was run on this series\n") {
		t.Errorf("status with a fresh report: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(env.Patches, "0001-runtime-x.patch"), []byte("x\n"), 0o666)
	out, _ = capture(t, func() error { return runStatus(env, nil) })
	if !strings.Contains(out, "ports    stale: docs/ports-full.md was run on series "+digest[:12]+", patches/ is now") {
		t.Errorf("status does not say the ports report is stale:\n%s", out)
	}
	os.Remove(filepath.Join(env.Patches, "0001-runtime-x.patch"))

	// A port executed twice is refused; a new failure fails the command.
	again := write("full-fork-arm64-again.json", fullFork(digest, "linux/arm64", false))
	if _, err := capture(t, func() error { return runPorts(env, []string{"merge", a, again}) }); err == nil || !strings.Contains(err.Error(), "linux/arm64 was executed in "+a+" and in "+again) {
		t.Errorf("a port executed twice: %v", err)
	}
	bad := write("full-fork-riscv64.json", fullFork(digest, "linux/riscv64", true))
	out, err = capture(t, func() error { return runPorts(env, []string{"merge", "-o", filepath.Join(dir, "m.json"), a, bad}) })
	if err == nil || !strings.Contains(err.Error(), "the fork fails where upstream passes") || !strings.Contains(out, "NEW FAIL linux/riscv64\n  new: sync.TestMutex") {
		t.Errorf("merge with a new failure: %v\n%s", err, out)
	}
	if _, err := capture(t, func() error { return runPorts(env, []string{"merge"}) }); err == nil || !strings.Contains(err.Error(), "unilock ports merge .unilock/ports/full-fork*.json") {
		t.Errorf("merge of nothing: %v", err)
	}
}
