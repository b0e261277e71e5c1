package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unilock/internal/base"
	"unilock/internal/fork"
	"unilock/internal/testtree"
)

// rebaseRepo is a fork on the fixture go1.99.1 with one patch, and a
// go1.99.2 the module proxy would serve, changed by edit.
func rebaseRepo(t *testing.T, edit func(dir string)) (*Env, string) {
	env, _ := newRepo(t)
	if _, err := capture(t, func() error { return runMaterialise(env, nil) }); err != nil {
		t.Fatal(err)
	}
	testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/os_linux.go"), "func osinit() {}", "func osinit() { ncpu = 1 }")
	testtree.Git(t, env.Goroot, "commit", "-q", "-a", "-m", "runtime: set ncpu\n\nOne CPU.\n")
	if _, err := capture(t, func() error { return runExtract(env, nil) }); err != nil {
		t.Fatal(err)
	}
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

func snapshot(t *testing.T, env *Env) string {
	var b strings.Builder
	for _, f := range []string{"VERSION", "upstream.pin", "patches/0001-runtime-set-ncpu.patch"} {
		data, err := os.ReadFile(filepath.Join(env.Root, f))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	b.WriteString(testtree.Git(t, env.Goroot, "rev-parse", "HEAD"))
	return b.String()
}

func TestRebase(t *testing.T) {
	env, _ := rebaseRepo(t, func(dir string) {
		testtree.Edit(t, filepath.Join(dir, "test/chan.go"), "package main", "package main // go1.99.2")
	})
	out, err := capture(t, func() error { return runRebase(env, []string{"-module", "go1.99.2"}) })
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
	if _, err := os.Stat(env.Goroot + ".rebase"); err == nil {
		t.Errorf("goroot.rebase/ left behind after a clean rebase")
	}
}

func TestRebaseConflictChangesNothing(t *testing.T) {
	env, _ := rebaseRepo(t, func(dir string) {
		testtree.Edit(t, filepath.Join(dir, "src/runtime/os_linux.go"), "func osinit() {}", "func osinit() { ncpu = 2 }")
	})
	before := snapshot(t, env)
	out, err := capture(t, func() error { return runRebase(env, []string{"go1.99.2"}) })
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("rebase onto a conflicting release: %v", err)
	}
	if !strings.Contains(out, "0001-runtime-set-ncpu.patch") || !strings.Contains(out, "CONFLICT") || !strings.Contains(out, "src/runtime/os_linux.go: lines ") {
		t.Errorf("report does not name the patch, file and hunk:\n%s", out)
	}
	if snapshot(t, env) != before {
		t.Errorf("VERSION, upstream.pin, patches/ or goroot/ changed")
	}
}
