package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unilock/internal/base"
	"unilock/internal/fork"
	"unilock/internal/rebase"
	"unilock/internal/series"
	"unilock/internal/testtree"
)

// rebaseRepo is a fork on the fixture go1.99.1 with two patches (0001 sets
// ncpu in os_linux.go, 0002 documents futexsleep in lock_futex.go), and a
// go1.99.2 the module proxy would serve, changed by edit.
func rebaseRepo(t *testing.T, edit func(dir string)) (*Env, string) {
	env := twoPatchFork(t)
	next := testtree.Write(t, "testdata/upstream.txtar")
	testtree.Edit(t, filepath.Join(next, "VERSION"), "go1.99.1", "go1.99.2")
	edit(next)
	// The proxy serves only go1.99.2: for the rebase and for the remake.
	fetch := func(path, version string) (string, error) {
		if version != base.ModuleVersion("go1.99.2") {
			t.Fatalf("fetched %s@%s", path, version)
		}
		return next, nil
	}
	oldDownload := download
	download = fetch
	oldResolver := newResolver
	newResolver = func(id *fork.Identity) *base.Resolver {
		r := oldResolver(id)
		r.Download = fetch
		return r
	}
	t.Cleanup(func() { download, newResolver = oldDownload, oldResolver })
	return env, next
}

// conflicting is a go1.99.2 that sets ncpu itself: patch 0001 conflicts.
func conflicting(t *testing.T) func(string) {
	return func(dir string) {
		testtree.Edit(t, filepath.Join(dir, "src/runtime/os_linux.go"), "func osinit() {}", "func osinit() { ncpu = 2 }")
	}
}

// tree reads every file and symlink under dir: path to contents, with
// directories listed too, for byte-for-byte comparisons.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			m[rel+"/"] = info.Mode().String()
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		m[rel] = info.Mode().String() + "\n" + string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if w, ok := after[k]; !ok {
			t.Errorf("%s is gone", k)
		} else if w != v {
			t.Errorf("%s changed", k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s is new", k)
		}
	}
}

func rebaseCmd(t *testing.T, env *Env, args ...string) (string, error) {
	t.Helper()
	return capture(t, func() error { return runRebase(env, args) })
}

func journal(t *testing.T, env *Env) *rebase.Journal {
	t.Helper()
	j, err := rebase.Load(rebaseFork(env))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestRebase(t *testing.T) {
	env, _ := rebaseRepo(t, func(dir string) {
		testtree.Edit(t, filepath.Join(dir, "test/chan.go"), "package main", "package main // go1.99.2")
	})
	out, err := rebaseCmd(t, env, "-module", "go1.99.2")
	if err != nil {
		t.Fatalf("rebase: %v\n%s", err, out)
	}
	id, err := fork.Load(env.Root)
	if err != nil {
		t.Fatal(err)
	}
	if id.Version != "go1.99.2-unilock.1" || id.TreeHash != base.NoTree || !strings.HasPrefix(id.SrcHash, "h1:") {
		t.Errorf("after rebase: %+v", id)
	}
	if tag := testtree.Git(t, env.Goroot, "describe", "--tags", "--abbrev=0"); tag != "go1.99.2\n" {
		t.Errorf("goroot/ base tag %q", tag)
	}
	if got, _ := os.ReadFile(filepath.Join(env.Goroot, "src/runtime/os_linux.go")); !strings.Contains(string(got), "ncpu = 1") {
		t.Errorf("the patch is not in the remade goroot/:\n%s", got)
	}
	for _, gone := range []string{env.Goroot + ".rebase", filepath.Join(env.State, "rebase")} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s left behind after a clean rebase", gone)
		}
	}
}

// TestRebaseConflictContinue: the rebase stops at the conflicting patch with
// the conflict in goroot.rebase/, changes nothing of the fork, refuses to go
// on while the conflict is unresolved, and with it resolved commits the
// patch as it was (author, message) and writes the new fork.
func TestRebaseConflictContinue(t *testing.T) {
	env, _ := rebaseRepo(t, conflicting(t))
	before := tree(t, env.Root)
	out, err := rebaseCmd(t, env, "go1.99.2")
	if err == nil || !strings.Contains(err.Error(), "stopped at 0001-runtime-set-ncpu.patch") || !strings.Contains(err.Error(), "rebase -continue") {
		t.Fatalf("rebase onto a conflicting release: %v\n%s", err, out)
	}
	for _, want := range []string{
		"patch 1 of 2, 0001-runtime-set-ncpu.patch, does not apply to go1.99.2",
		"src/runtime/os_linux.go: lines ",
		"git -C goroot.rebase add src/runtime/os_linux.go",
		"git -C goroot.rebase diff go1.99.1 go1.99.2 -- src/runtime/os_linux.go",
		"rebase -continue", "rebase -skip", "rebase -abort",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	trial := env.Goroot + ".rebase"
	conflicted := filepath.Join(trial, "src/runtime/os_linux.go")
	data, _ := os.ReadFile(conflicted)
	if !strings.Contains(string(data), "<<<<<<< ") || !strings.Contains(string(data), "ncpu = 2") {
		t.Errorf("no conflict markers in goroot.rebase/:\n%s", data)
	}
	// Nothing of the fork changed (the journal is under .unilock/).
	now := tree(t, env.Root)
	for k := range now {
		if strings.HasPrefix(k, "goroot.rebase") || strings.HasPrefix(k, ".unilock") {
			delete(now, k)
		}
	}
	sameTree(t, before, now)
	if j := journal(t, env); j == nil || !j.Stopped || j.Next != 0 || j.Release != "go1.99.2" {
		t.Fatalf("journal: %+v", j)
	}
	st, _ := capture(t, func() error { return runStatus(env, nil) })
	if !strings.Contains(st, "rebase   in progress") || strings.Contains(st, "rm -rf goroot.rebase") {
		t.Errorf("status does not say a rebase is in progress:\n%s", st)
	}

	// Unresolved: refused, naming the file.
	if out, err := rebaseCmd(t, env, "-continue"); err == nil || !strings.Contains(err.Error(), "src/runtime/os_linux.go") {
		t.Fatalf("-continue with the conflict unresolved: %v\n%s", err, out)
	}
	// Markers left in a file that was added: refused.
	testtree.Git(t, trial, "add", "src/runtime/os_linux.go")
	if out, err := rebaseCmd(t, env, "-continue"); err == nil || !strings.Contains(err.Error(), "conflict markers left in src/runtime/os_linux.go") {
		t.Fatalf("-continue with markers left: %v\n%s", err, out)
	}
	// Resolved: both CPUs' worth.
	resolved := strings.Replace(string(data), string(data[strings.Index(string(data), "<<<<<<< "):strings.Index(string(data), ">>>>>>> ")]), "func osinit() { ncpu = 1 } // and go1.99.2's 2\n", 1)
	resolved = resolved[:strings.Index(resolved, ">>>>>>> ")] + resolved[strings.Index(resolved, ">>>>>>> ")+strings.Index(resolved[strings.Index(resolved, ">>>>>>> "):], "\n")+1:]
	os.WriteFile(conflicted, []byte(resolved), 0o644)
	testtree.Git(t, trial, "add", "src/runtime/os_linux.go")
	out, err = rebaseCmd(t, env, "-continue")
	if err != nil {
		t.Fatalf("-continue: %v\n%s", err, out)
	}
	if !strings.Contains(out, "resolved by hand") || !strings.Contains(out, "0002-runtime-document-futexsleep.patch") {
		t.Errorf("-continue report:\n%s", out)
	}
	id, _ := fork.Load(env.Root)
	if id.Version != "go1.99.2-unilock.1" {
		t.Errorf("VERSION %s", id.Version)
	}
	ps, _ := series.Load(env.Patches)
	if len(ps) != 2 || !strings.Contains(string(ps[0].Data), "From: Gopher <gopher@example.com>") ||
		!strings.Contains(string(ps[0].Data), "Subject: [PATCH] runtime: set ncpu\n\nOne CPU.") || !strings.Contains(string(ps[0].Data), "and go1.99.2's 2") {
		t.Errorf("new series: %d patches; first:\n%s", len(ps), ps[0].Data)
	}
	got, _ := os.ReadFile(filepath.Join(env.Goroot, "src/runtime/os_linux.go"))
	if !strings.Contains(string(got), "and go1.99.2's 2") {
		t.Errorf("goroot/ lacks the resolution:\n%s", got)
	}
	if _, err := os.Stat(trial); err == nil || journal(t, env) != nil {
		t.Errorf("goroot.rebase/ or the journal left after the rebase")
	}
}

// TestRebaseSkip: -skip leaves the conflicting patch out; the rest goes on.
func TestRebaseSkip(t *testing.T) {
	env, _ := rebaseRepo(t, conflicting(t))
	if _, err := rebaseCmd(t, env, "go1.99.2"); err == nil {
		t.Fatal("no conflict")
	}
	out, err := rebaseCmd(t, env, "-skip")
	if err != nil {
		t.Fatalf("-skip: %v\n%s", err, out)
	}
	ps, _ := series.Load(env.Patches)
	if len(ps) != 1 || ps[0].Name != "0001-runtime-document-futexsleep.patch" {
		t.Errorf("series after -skip: %v", ps)
	}
	if !strings.Contains(out, "skipped (-skip)") {
		t.Errorf("report:\n%s", out)
	}
	got, _ := os.ReadFile(filepath.Join(env.Goroot, "src/runtime/os_linux.go"))
	if !strings.Contains(string(got), "ncpu = 2") || strings.Contains(string(got), "ncpu = 1") {
		t.Errorf("goroot/ os_linux.go:\n%s", got)
	}
}

// TestRebaseAbortRestores: -abort leaves the repository byte for byte as it
// was, after a stop, with edits made in goroot.rebase/.
func TestRebaseAbortRestores(t *testing.T) {
	env, _ := rebaseRepo(t, conflicting(t))
	before := tree(t, env.Root)
	if _, err := rebaseCmd(t, env, "go1.99.2"); err == nil {
		t.Fatal("no conflict")
	}
	os.WriteFile(filepath.Join(env.Goroot+".rebase", "src/runtime/os_linux.go"), []byte("half resolved\n"), 0o644)
	out, err := rebaseCmd(t, env, "-abort")
	if err != nil || !strings.Contains(out, "aborted") {
		t.Fatalf("-abort: %v\n%s", err, out)
	}
	sameTree(t, before, tree(t, env.Root))
	if _, err := rebaseCmd(t, env, "-continue"); !errors.Is(err, rebase.ErrNoRebase) {
		t.Errorf("-continue after -abort: %v", err)
	}
	// Aborting while the new fork was being written puts the old one back.
	if _, err := rebaseCmd(t, env, "go1.99.2"); err == nil {
		t.Fatal("no conflict")
	}
	j := journal(t, env)
	j.Finishing = true
	writeJournal(t, env, j)
	os.WriteFile(filepath.Join(env.Root, "VERSION"), []byte("go1.99.2-unilock.1\n"), 0o644)
	os.WriteFile(filepath.Join(env.Patches, "0001-runtime-set-ncpu.patch"), []byte("half written"), 0o644)
	os.Remove(filepath.Join(env.Patches, "0002-runtime-document-futexsleep.patch"))
	if out, err := rebaseCmd(t, env, "-abort"); err != nil {
		t.Fatalf("-abort while finishing: %v\n%s", err, out)
	}
	sameTree(t, before, tree(t, env.Root))
}

func writeJournal(t *testing.T, env *Env, j *rebase.Journal) {
	t.Helper()
	data, _ := json.Marshal(j)
	if err := os.WriteFile(filepath.Join(env.State, "rebase", "state.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRebaseInterrupted: a rebase killed at any step is resumed with
// -continue; a new rebase is refused while one is in progress.
func TestRebaseInterrupted(t *testing.T) {
	env, _ := rebaseRepo(t, func(dir string) {
		// go1.99.2 moved futexsleep's comment: patch 0002 conflicts.
		testtree.Edit(t, filepath.Join(dir, "src/runtime/lock_futex.go"), "// futexsleep sleeps.", "// futexsleep sleeps (go1.99.2).")
	})
	out, err := rebaseCmd(t, env, "go1.99.2")
	if err == nil || !strings.Contains(err.Error(), "0002-runtime-document-futexsleep.patch") {
		t.Fatalf("rebase: %v\n%s", err, out)
	}
	// Refused while in progress, naming both ways out.
	if _, err := rebaseCmd(t, env, "go1.99.2"); err == nil || !strings.Contains(err.Error(), "a rebase is in progress") ||
		!strings.Contains(err.Error(), "rebase -continue") || !strings.Contains(err.Error(), "rebase -abort") {
		t.Errorf("second rebase: %v", err)
	}

	// Killed before the trial tree was made.
	trial := env.Goroot + ".rebase"
	j := journal(t, env)
	os.RemoveAll(trial)
	j.Base, j.Head, j.Next, j.Stopped = "", "", 0, false
	for i := range j.Patches {
		j.Patches[i] = rebase.Step{Name: j.Patches[i].Name}
	}
	writeJournal(t, env, j)
	out, err = rebaseCmd(t, env, "-continue")
	if err == nil || !strings.Contains(err.Error(), "stopped at 0002") || !strings.Contains(out, "1/2 0001-runtime-set-ncpu.patch: applied") {
		t.Fatalf("-continue after a kill at the start: %v\n%s", err, out)
	}

	// Killed after git am committed patch 1, before the journal said so.
	j = journal(t, env)
	testtree.Git(t, trial, "am", "--abort")
	j.Patches[0].Outcome, j.Next, j.Stopped, j.Head = "", 0, false, j.Base
	writeJournal(t, env, j)
	out, err = rebaseCmd(t, env, "-continue")
	if err == nil || !strings.Contains(err.Error(), "stopped at 0002") || !strings.Contains(out, "1/2 0001-runtime-set-ncpu.patch: applied") {
		t.Fatalf("-continue after a kill between patches: %v\n%s", err, out)
	}
	if n := strings.Count(testtree.Git(t, trial, "log", "--oneline"), "\n"); n != 2 {
		t.Errorf("goroot.rebase/ has %d commits, want the base and patch 1", n)
	}

	// The person resolves by committing with git, then -continue.
	testtree.Git(t, trial, "checkout", "--theirs", "src/runtime/lock_futex.go")
	testtree.Git(t, trial, "add", "src/runtime/lock_futex.go")
	testtree.Git(t, trial, "am", "--continue")
	out, err = rebaseCmd(t, env, "-continue")
	if err != nil {
		t.Fatalf("-continue after git am --continue: %v\n%s", err, out)
	}
	if id, _ := fork.Load(env.Root); id.Version != "go1.99.2-unilock.1" {
		t.Errorf("VERSION %s", id.Version)
	}
}

// TestRebaseRefusesUnsavedWork: work in goroot/ or uncommitted changes in
// patches/ stop a rebase before it starts.
func TestRebaseRefusesUnsavedWork(t *testing.T) {
	env, _ := rebaseRepo(t, conflicting(t))
	testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/os_linux.go"), "ncpu = 1", "ncpu = 3")
	if _, err := rebaseCmd(t, env, "go1.99.2"); err == nil || !strings.Contains(err.Error(), "unilock extract") {
		t.Errorf("rebase with edits in goroot/: %v", err)
	}
	testtree.Git(t, env.Goroot, "checkout", "--", ".")
	testtree.Git(t, env.Root, "init", "-q")
	os.WriteFile(filepath.Join(env.Root, ".gitignore"), []byte("/goroot/\n/.unilock/\n"), 0o644)
	testtree.Git(t, env.Root, "add", "-A")
	testtree.Git(t, env.Root, "commit", "-q", "-m", "fork")
	// A new patch extracted into patches/ but not committed.
	testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/lock_futex.go"), "func futexwakeup() {}", "func futexwakeup() { /* new */ }")
	testtree.Git(t, env.Goroot, "commit", "-q", "-a", "-m", "runtime: new")
	if _, err := capture(t, func() error { return runExtract(env, nil) }); err != nil {
		t.Fatal(err)
	}
	if _, err := rebaseCmd(t, env, "go1.99.2"); err == nil || !strings.Contains(err.Error(), "patches/0003-runtime-new.patch") || !strings.Contains(err.Error(), "not committed") {
		t.Errorf("rebase with a patch not committed: %v", err)
	}
	if journal(t, env) != nil {
		t.Errorf("a refused rebase left a journal")
	}
}

// TestRebaseMovesWorkAside: work made in goroot/ while the rebase waited is
// moved aside at the end, never deleted.
func TestRebaseMovesWorkAside(t *testing.T) {
	env, _ := rebaseRepo(t, conflicting(t))
	if _, err := rebaseCmd(t, env, "go1.99.2"); err == nil {
		t.Fatal("no conflict")
	}
	testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/lock_futex.go"), "func futexwakeup() {}", "func futexwakeup() { /* work */ }")
	testtree.Git(t, env.Goroot, "commit", "-q", "-a", "-m", "runtime: work in progress")
	out, err := rebaseCmd(t, env, "-skip")
	if err != nil {
		t.Fatalf("-skip: %v\n%s", err, out)
	}
	aside, _ := filepath.Glob(env.Goroot + ".discarded-*")
	if len(aside) != 1 || !strings.Contains(testtree.Git(t, aside[0], "log", "-1", "--format=%s"), "work in progress") {
		t.Fatalf("goroot/'s work not moved aside (%v):\n%s", aside, out)
	}
}

// TestRebaseFrom: -from takes a full tree the user has, verified against the
// toolchain module; a tampered tree is refused with both hashes.
func TestRebaseFrom(t *testing.T) {
	env, next := rebaseRepo(t, func(string) {})
	// The module form of go1.99.2 is what the proxy serves; the user's tree
	// is the full one (with test/), built once (a file cmd/dist wrote) and
	// a git checkout (.gitignore).
	full := testtree.Write(t, "testdata/upstream.txtar")
	testtree.Edit(t, filepath.Join(full, "VERSION"), "go1.99.1", "go1.99.2")
	os.WriteFile(filepath.Join(full, ".gitignore"), []byte("/bin/\n"), 0o644)
	for _, d := range []string{"api", "test"} {
		os.RemoveAll(filepath.Join(next, d))
	}
	for _, m := range []string{"src/go.mod", "src/cmd/go.mod"} {
		os.Rename(filepath.Join(next, m), filepath.Join(next, filepath.Dir(m), "_go.mod"))
	}

	tampered := testtree.Write(t, "testdata/upstream.txtar")
	testtree.Edit(t, filepath.Join(tampered, "VERSION"), "go1.99.1", "go1.99.2")
	testtree.Edit(t, filepath.Join(tampered, "src/runtime/os_linux.go"), "func osinit() {}", "func osinit() { evil() }")
	before := tree(t, env.Root)
	_, err := rebaseCmd(t, env, "-from", tampered, "go1.99.2")
	var me *base.MismatchError
	if !errors.As(err, &me) || !strings.HasPrefix(me.Tree, "h1:") || !strings.HasPrefix(me.Want, "h1:") || me.Tree == me.Want ||
		!strings.Contains(err.Error(), me.Tree) || !strings.Contains(err.Error(), me.Want) || !strings.Contains(err.Error(), "src/runtime/os_linux.go (changed)") {
		t.Fatalf("rebase -from a tampered tree: %v", err)
	}
	sameTree(t, before, tree(t, env.Root))

	out, err := rebaseCmd(t, env, "-from", full, "go1.99.2")
	if err != nil {
		t.Fatalf("rebase -from: %v\n%s", err, out)
	}
	id, _ := fork.Load(env.Root)
	if id.TreeHash == base.NoTree {
		t.Errorf("pin after -from: %+v", id)
	}
	for _, f := range []string{"test/chan.go", "api/go1.txt"} {
		if _, err := os.Stat(filepath.Join(env.Goroot, f)); err != nil {
			t.Errorf("goroot/ from the full tree lacks %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(env.Goroot, ".gitignore")); err == nil {
		t.Errorf("goroot/ took the checkout's .gitignore")
	}
	// Later runs take the same tree.
	if out, err := capture(t, func() error { return runBase(env, nil) }); err != nil || !strings.Contains(out, "tree at "+full) || strings.Contains(out, "partial") {
		t.Errorf("base after rebase -from: %v\n%s", err, out)
	}
}
