package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unilock/internal/build"
	"unilock/internal/statelock"
	"unilock/internal/testtree"
)

// Issue 15: nothing lost, nothing hidden. Each test injects the fault the
// issue reports, on the fixture repository, and pins what the tool does.

// TestMakeOwnBuildCache (item 3): make.bash and the caches the tool keeps
// are under .unilock/gocache/; the user's go build cache is never touched.
func TestMakeOwnBuildCache(t *testing.T) {
	env, _ := newRepo(t)
	user := t.TempDir()
	os.WriteFile(filepath.Join(user, "sentinel"), []byte("the user's cache\n"), 0o644)
	t.Setenv("GOCACHE", user)
	rec := filepath.Join(t.TempDir(), "gocache.rec")
	t.Setenv("FAKE_MAKE_GOCACHE", rec)

	out, err := capture(t, func() error { return runMake(env, nil) })
	if err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(rec)
	if want := "GOCACHE=" + build.BuildingCache(env.State) + "\n"; string(data) != want {
		t.Errorf("make.bash ran with %q, want %q", data, want)
	}
	first, err := build.CacheDir(env.State, env.Goroot)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(first, "entry")); err != nil || !strings.Contains(out, "build cache: .unilock/gocache/") {
		t.Errorf("make.bash's cache not kept as the toolchain's (%v):\n%s", err, out)
	}

	// A rebuild with other toolchain binaries gets a fresh cache of its own
	// and drops the stale one; the user's is as it was.
	os.WriteFile(filepath.Join(env.Root, "VERSION"), []byte("go1.99.1-unilock.2\n"), 0o644)
	out, err = capture(t, func() error { return runMake(env, nil) })
	if err != nil {
		t.Fatalf("second make: %v\n%s", err, out)
	}
	second, _ := build.CacheDir(env.State, env.Goroot)
	if second == first || !strings.Contains(out, "removed 1 stale cache") {
		t.Errorf("rebuild kept the stale cache %s:\n%s", first, out)
	}
	if _, err := os.Stat(first); err == nil {
		t.Errorf("stale cache %s left", first)
	}
	entries, _ := os.ReadDir(user)
	if len(entries) != 1 || entries[0].Name() != "sentinel" {
		t.Errorf("the user's GOCACHE changed: %v", entries)
	}

	// No code of the tool cleans a go build cache the go command chose.
	files, _ := filepath.Glob("*.go")
	more, _ := filepath.Glob("internal/*/*.go")
	for _, f := range append(files, more...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, _ := os.ReadFile(f)
		if strings.Contains(string(src), `"clean", "-cache"`) {
			t.Errorf("%s runs go clean -cache", f)
		}
	}
}

// TestFlagsCheckedFirst (item 5): bad numeric and list flags fail at once,
// before any build (the repository here has no goroot/, so any later check
// would complain about that instead), leaving no output folder.
func TestFlagsCheckedFirst(t *testing.T) {
	tests := []struct {
		run  func(*Env, []string) error
		args []string
		want string
	}{
		{runBench, []string{"-cpu", "0"}, `-cpu "0": "0" is not a GOMAXPROCS value`},
		{runBench, []string{"-cpu", "1,,4"}, `-cpu "1,,4"`},
		{runBench, []string{"-cpu", "2,four"}, `"four" is not a GOMAXPROCS value`},
		{runBench, []string{"-cpu", ""}, `-cpu ""`},
		{runBench, []string{"-benchtime", "0s"}, `-benchtime "0s": give a positive duration`},
		{runBench, []string{"-benchtime", "-3x"}, `-benchtime "-3x"`},
		{runBench, []string{"-benchtime", "fast"}, `-benchtime "fast"`},
		{runBench, []string{"-count", "1"}, "-count 1: statistics need at least 2 rounds"},
		{runBench, []string{"-alpha", "1.5"}, "-alpha 1.5: give a significance level"},
		{runBench, []string{"-suite", "nope"}, `no suite "nope"`},
		{runBench, []string{"-old", "/nonexistent"}, "-old /nonexistent: not a built Go toolchain"},
		{runBench, []string{"-from", "/nonexistent"}, "-from /nonexistent"},
		{runBench, []string{"lock"}, "unexpected arguments"},
		{runPorts, []string{"-j", "0"}, "-j 0: give the number of ports compiled at once"},
		{runPorts, []string{"-timeout", "0s"}, "-timeout 0s: give a positive go test timeout"},
		{runPorts, []string{"-run", "Sema("}, `-run "Sema("`},
		{runPorts, []string{"-ports", ""}, `-ports "": give ports or patterns`},
		{runEmulators, []string{"-j", "-1"}, "-j -1"},
		{runCheckSeries, []string{"-j", "0"}, "-j 0: give the number of ports"},
		{runCheckSeries, []string{"-ports", ","}, `-ports ",": give ports`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			env, runs := newRepo(t)
			out, err := capture(t, func() error { return tt.run(env, tt.args) })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q\n%s", err, tt.want, out)
			}
			if makeRuns(runs) != 0 || out != "" {
				t.Errorf("work started before the flags were checked:\n%s", out)
			}
			if _, err := os.Stat(env.State); err == nil {
				t.Errorf("%s created by a run with bad flags", env.State)
			}
		})
	}
}

// fakeGoroot is a toolchain whose go command compiles a "test binary" of
// 3 MB that fails at once.
func fakeGoroot(t *testing.T) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o777)
	script := `#!/bin/sh
case "$1" in
version) echo "go version go1.99.1 linux/amd64" ;;
test) printf '#!/bin/sh\necho "benchmark binary crashed" >&2\nexit 3\n' > "$4"; head -c 3000000 /dev/zero >> "$4"; chmod +x "$4" ;;
esac
`
	os.WriteFile(filepath.Join(dir, "bin", "go"), []byte(script), 0o755)
	return dir
}

// TestBenchFailedRun (item 5): a run that fails names its log's path and
// leaves no test binaries or empty results behind.
func TestBenchFailedRun(t *testing.T) {
	env, _ := newRepo(t)
	out := filepath.Join(t.TempDir(), "bench")
	_, err := capture(t, func() error {
		return runBench(env, []string{"-old", fakeGoroot(t), "-new", fakeGoroot(t), "-count", "2", "-cpu", "1", "-out", out})
	})
	logPath := filepath.Join(out, "bench.log")
	if err == nil || !strings.Contains(err.Error(), "full log: "+logPath) || !strings.Contains(err.Error(), "(its output: "+logPath+")") {
		t.Fatalf("failed bench: %v; want it to name %s", err, logPath)
	}
	if !strings.Contains(err.Error(), "removed the test binaries and empty results (11 MB)") {
		t.Errorf("does not say what it removed: %v", err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || entries[0].Name() != "bench.log" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left in %s: %v, want only bench.log", out, names)
	}
	if log, _ := os.ReadFile(logPath); !strings.Contains(string(log), "benchmark binary crashed") {
		t.Errorf("the log lacks the binary's output:\n%s", log)
	}
}

// TestForceAndLeftovers (items 1 and 6): make --force over work moves it
// aside and says how to get it back; status lists every leftover tree with
// its size and the command that removes it; make notes them too.
func TestForceAndLeftovers(t *testing.T) {
	env, _ := newRepo(t)
	if out, err := capture(t, func() error { return runMake(env, nil) }); err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/os_linux.go"), "osinit", "osinit2")
	out, err := capture(t, func() error { return runMake(env, []string{"--force"}) })
	if err != nil {
		t.Fatalf("make --force: %v\n%s", err, out)
	}
	for _, s := range []string{"moved it aside, nothing deleted: goroot.discarded-", "M src/runtime/os_linux.go", "git -C goroot.discarded-", "rm -rf goroot.discarded-"} {
		if !strings.Contains(out, s) {
			t.Errorf("make --force did not say %q:\n%s", s, out)
		}
	}
	aside, _ := filepath.Glob(env.Goroot + ".discarded-*")
	if len(aside) != 1 {
		t.Fatalf("discarded trees: %v", aside)
	}
	if data, _ := os.ReadFile(filepath.Join(aside[0], "src/runtime/os_linux.go")); !strings.Contains(string(data), "osinit2") {
		t.Errorf("the edit is not in %s", aside[0])
	}

	// A stale goroot.failed/ and goroot.rebase/.
	for _, d := range []string{".failed", ".rebase"} {
		os.MkdirAll(filepath.Join(env.Goroot+d, "src"), 0o777)
		os.WriteFile(filepath.Join(env.Goroot+d, "src", "big"), make([]byte, 2<<20), 0o644)
	}
	out, err = capture(t, func() error { return runStatus(env, nil) })
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"left     3 trees beside goroot/", "goroot.failed/ (2.0 MB)", "rm -rf goroot.failed", "goroot.rebase/ (2.0 MB)", "rm -rf goroot.rebase", filepath.Base(aside[0]) + "/ (", "rm -rf " + filepath.Base(aside[0])} {
		if !strings.Contains(out, s) {
			t.Errorf("status does not say %q:\n%s", s, out)
		}
	}
	out, _ = capture(t, func() error { return runMake(env, nil) })
	if !strings.Contains(out, "note: goroot.failed/ (2.0 MB)") {
		t.Errorf("make does not note goroot.failed/:\n%s", out)
	}
}

// TestExtractRefusesPatchEdits (item 2): the fault of the issue: make
// refuses (patches/ changed under goroot/ work) and advises extract, which
// must not then overwrite the hand edits in patches/.
func TestExtractRefusesPatchEdits(t *testing.T) {
	env, _ := newRepo(t)
	capture(t, func() error { return runMake(env, nil) })
	testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/os_linux.go"), "osinit", "osinit2")
	testtree.Git(t, env.Goroot, "commit", "-q", "-am", "runtime: rename osinit")
	if _, err := capture(t, func() error { return runExtract(env, nil) }); err != nil {
		t.Fatal(err)
	}
	testtree.Git(t, env.Root, "init", "-q")
	testtree.Git(t, env.Root, "add", "patches", "VERSION", "upstream.pin")
	testtree.Git(t, env.Root, "commit", "-q", "-m", "fork")
	// Work on both sides: a hand edit of the patch, a new commit in goroot/.
	patches, _ := filepath.Glob(filepath.Join(env.Patches, "0001-*.patch"))
	testtree.Edit(t, patches[0], "runtime: rename osinit", "runtime: rename osinit to osinit2")
	edited, _ := os.ReadFile(patches[0])
	testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/lock_futex.go"), "// futexsleep sleeps.", "// futexsleep sleeps a while.")
	testtree.Git(t, env.Goroot, "commit", "-q", "-am", "runtime: document futexsleep")

	_, err := capture(t, func() error { return runMake(env, nil) })
	if err == nil || !strings.Contains(err.Error(), "unilock extract") {
		t.Fatalf("make over both: %v", err)
	}
	_, err = capture(t, func() error { return runExtract(env, nil) })
	if err == nil || !strings.Contains(err.Error(), " M "+filepath.Base(patches[0])) || !strings.Contains(err.Error(), "git stash push -- patches/") {
		t.Fatalf("extract over hand edits: %v", err)
	}
	if now, _ := os.ReadFile(patches[0]); string(now) != string(edited) {
		t.Errorf("extract changed the hand-edited %s", patches[0])
	}
}

// TestDistLocked: a unilock dist that finds another one working in the same
// clone, or on the same checksum database, stops before it touches either.
func TestDistLocked(t *testing.T) {
	env, _ := newRepo(t)
	work := filepath.Join(env.State, "dist")
	shared := filepath.Join(t.TempDir(), "team-sumdb")
	for _, tc := range []struct {
		name string
		held string // the directory another command holds
		args []string
	}{
		{"the clone's dist directory", work, nil},
		{"a checksum database outside it", shared, []string{"-sumdb", shared}},
	} {
		lk, err := statelock.Acquire(tc.held, "unilock dist")
		if err != nil {
			t.Fatal(err)
		}
		_, err = capture(t, func() error { return runDist(env, tc.args) })
		lk.Release()
		if err == nil || !strings.Contains(err.Error(), tc.held+" is in use by another command (unilock dist, pid ") {
			t.Errorf("%s: dist while it is held: %v", tc.name, err)
		}
		if _, err := os.Stat(filepath.Join(work, "tree")); !os.IsNotExist(err) {
			t.Errorf("%s: dist made its build tree while locked out (%v)", tc.name, err)
		}
	}
}
