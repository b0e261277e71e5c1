package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"unilock/internal/base"
	"unilock/internal/fork"
	"unilock/internal/testtree"
)

// newRepo makes a fork repository on the fixture upstream (whose make.bash
// only writes a bin/go) and points the base resolver at it. It returns the
// repository and the file make.bash counts its runs in.
func newRepo(t *testing.T) (*Env, string) {
	up := testtree.Write(t, "testdata/upstream.txtar")
	files, err := base.Scan(up, false)
	if err != nil {
		t.Fatal(err)
	}
	tree, _ := base.TreeHash(files)
	src, _ := base.SrcHash(files)
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "VERSION"), []byte("go1.99.1-unilock.1\n"), 0o644)
	os.WriteFile(filepath.Join(root, "upstream.pin"), fork.FormatPin("go1.99.1", tree, src), 0o644)
	os.MkdirAll(filepath.Join(root, "patches"), 0o777)

	old := newResolver
	newResolver = func(id *fork.Identity) *base.Resolver {
		r := old(id)
		r.HostGOROOT = func() (string, error) { return up, nil }
		r.Download = func(string, string) (string, error) { return "", errors.New("offline") }
		return r
	}
	t.Cleanup(func() { newResolver = old })
	// No test asks Go's Gerrit; those that want one serve it.
	oldGerrit := defaultGerrit
	defaultGerrit = ""
	t.Cleanup(func() { defaultGerrit = oldGerrit })
	runs := filepath.Join(t.TempDir(), "make.runs")
	t.Setenv("FAKE_MAKE_RUNS", runs)
	return &Env{Root: root, Goroot: filepath.Join(root, "goroot"), Patches: filepath.Join(root, "patches"), State: filepath.Join(root, ".unilock")}, runs
}

// twoPatchFork is newRepo's fork with goroot/ materialised and a series of
// two patches extracted: 0001 sets ncpu in os_linux.go, 0002 documents
// futexsleep in lock_futex.go.
func twoPatchFork(t *testing.T) *Env {
	t.Helper()
	env, _ := newRepo(t)
	if _, err := capture(t, func() error { return runMaterialise(env, nil) }); err != nil {
		t.Fatal(err)
	}
	testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/os_linux.go"), "func osinit() {}", "func osinit() { ncpu = 1 }")
	testtree.Git(t, env.Goroot, "commit", "-q", "-a", "-m", "runtime: set ncpu\n\nOne CPU.\n")
	testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/lock_futex.go"), "// futexsleep sleeps.", "// futexsleep sleeps until woken.")
	testtree.Git(t, env.Goroot, "commit", "-q", "-a", "-m", "runtime: document futexsleep\n\nSay when it returns.\n")
	if _, err := capture(t, func() error { return runExtract(env, nil) }); err != nil {
		t.Fatal(err)
	}
	return env
}

// capture runs f with stdout captured.
func capture(t *testing.T, f func() error) (string, error) {
	var b strings.Builder
	old := stdout
	stdout = &b
	defer func() { stdout = old }()
	err := f()
	return b.String(), err
}

func makeRuns(path string) int {
	data, _ := os.ReadFile(path)
	return strings.Count(string(data), "run\n")
}

func TestMakeUpToDate(t *testing.T) {
	env, runs := newRepo(t)
	out, err := capture(t, func() error { return runMake(env, nil) })
	if err != nil {
		t.Fatalf("first make: %v\n%s", err, out)
	}
	for _, s := range []string{"fork go1.99.1-unilock.1", "base: fixture", "Building Go cmd/dist", "built: go version go1.99.1-unilock.1 linux/amd64"} {
		if !strings.Contains(out, s) && !(s == "base: fixture" && strings.Contains(out, "base: host Go")) {
			t.Errorf("first make did not print %q:\n%s", s, out)
		}
	}
	if makeRuns(runs) != 1 {
		t.Fatalf("make.bash ran %d times", makeRuns(runs))
	}

	// Nothing changed: up to date, in well under the 15 s the issue allows.
	start := time.Now()
	out, err = capture(t, func() error { return runMake(env, nil) })
	if err != nil || !strings.Contains(out, "up to date") || makeRuns(runs) != 1 {
		t.Fatalf("second make: %v, %d runs\n%s", err, makeRuns(runs), out)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("up-to-date check took %v", d)
	}

	// A commit in goroot/ is built as it is, without remaking the tree.
	testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/os_linux.go"), "osinit", "osinit2")
	testtree.Git(t, env.Goroot, "commit", "-q", "-a", "-m", "runtime: rename osinit")
	out, err = capture(t, func() error { return runMake(env, nil) })
	if err != nil || makeRuns(runs) != 2 || !strings.Contains(out, "unilock extract") {
		t.Fatalf("make with a local commit: %v, %d runs\n%s", err, makeRuns(runs), out)
	}
	if _, err := capture(t, func() error { return runExtract(env, nil) }); err != nil {
		t.Fatal(err)
	}
	out, _ = capture(t, func() error { return runMake(env, nil) })
	if !strings.Contains(out, "up to date") {
		t.Errorf("make after extract rebuilt:\n%s", out)
	}

	// A new VERSION remakes and rebuilds.
	os.WriteFile(filepath.Join(env.Root, "VERSION"), []byte("go1.99.1-unilock.2\n"), 0o644)
	out, err = capture(t, func() error { return runMake(env, nil) })
	if err != nil || makeRuns(runs) != 3 || !strings.Contains(out, "go1.99.1-unilock.2 linux/amd64") {
		t.Fatalf("make after a VERSION change: %v, %d runs\n%s", err, makeRuns(runs), out)
	}
}

func TestMakeInterrupted(t *testing.T) {
	env, runs := newRepo(t)
	t.Setenv("FAKE_MAKE_FAIL", "killed")
	out, err := capture(t, func() error { return runMake(env, nil) })
	if err == nil || !strings.Contains(err.Error(), "FAKE failure: killed") || !strings.Contains(err.Error(), "full log: ") {
		t.Fatalf("failing make: %v\n%s", err, out)
	}
	// The next make builds again rather than calling the tree up to date.
	t.Setenv("FAKE_MAKE_FAIL", "")
	out, err = capture(t, func() error { return runMake(env, nil) })
	if err != nil || makeRuns(runs) != 2 || strings.Contains(out, "up to date") {
		t.Fatalf("make after a failed build: %v, %d runs\n%s", err, makeRuns(runs), out)
	}
}

func TestStatus(t *testing.T) {
	env, _ := newRepo(t)
	out, err := capture(t, func() error { return runStatus(env, nil) })
	if err != nil || !strings.Contains(out, "not materialised: run ./make.bash") {
		t.Fatalf("status before make: %v\n%s", err, out)
	}
	// The fixture repository has no docs/suite.md: status names the
	// command that makes it.
	if !strings.Contains(out, "suite    stale: no docs/suite.md: make it with unilock/unilock.bash suite -report") {
		t.Errorf("status does not say the suite report is missing:\n%s", out)
	}
	capture(t, func() error { return runMake(env, nil) })
	os.WriteFile(filepath.Join(env.Goroot, "src/runtime/new.go"), []byte("package runtime\n"), 0o644)
	out, err = capture(t, func() error { return runStatus(env, nil) })
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"fork     go1.99.1-unilock.1", "holds this series", "built    stale", "?? src/runtime/new.go"} {
		if !strings.Contains(out, s) {
			t.Errorf("status does not say %q:\n%s", s, out)
		}
	}
}

func TestTestRequiresBuild(t *testing.T) {
	env, _ := newRepo(t)
	_, err := capture(t, func() error { return runTest(env, []string{"lock"}) })
	if err == nil || !strings.Contains(err.Error(), "run ./make.bash first") {
		t.Fatalf("test before make: %v", err)
	}
}
