package goroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unilock/internal/base"
	"unilock/internal/series"
	"unilock/internal/testtree"
)

// newRelease writes a copy of the fixture base as release go1.99.2, with
// edit applied to it.
func newRelease(t *testing.T, edit func(dir string)) *base.Base {
	dir := testtree.Write(t, fixture)
	testtree.Edit(t, filepath.Join(dir, "VERSION"), "go1.99.1", "go1.99.2")
	edit(dir)
	files, err := base.Scan(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	return &base.Base{Release: "go1.99.2", Dir: dir, Source: "fixture go1.99.2", Files: files, Hash: "h1:new"}
}

// threePatches materialises the fixture and extracts a series of three.
func threePatches(t *testing.T) *fixtureRepo {
	f := newFixture(t)
	f.mustMaterialise(Made)
	f.commit("src/runtime/lock_futex.go", "// futexsleep sleeps.", "// futexsleep sleeps until woken or ns elapse.", "runtime: document futexsleep\n\nSay what ns means.\n")
	f.commit("src/runtime/os_linux.go", "func osinit() {}", "func osinit() { ncpu = 1 }", "runtime: set ncpu\n\nOne CPU.\n")
	f.commit("src/runtime/os_linux.go", "func futex() {}\n", "", "runtime: remove futex from os_linux.go\n\nUnused.\n")
	f.extract()
	return f
}

func (f *fixtureRepo) rebase(b *base.Base) *RebaseResult {
	f.t.Helper()
	ps, err := series.Load(f.patches)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := Rebase(RebaseRequest{Old: f.tree, Patches: ps, NewBase: b, Dir: f.tree.Dir + ".rebase"})
	if err != nil {
		f.t.Fatalf("Rebase: %v", err)
	}
	return res
}

func outcomes(res *RebaseResult) string {
	var s []string
	for _, p := range res.Patches {
		s = append(s, p.Outcome)
	}
	return strings.Join(s, ", ")
}

func TestRebaseClean(t *testing.T) {
	f := threePatches(t)
	// The new release changed lock_futex.go near the first patch, and
	// another file.
	b := newRelease(t, func(dir string) {
		testtree.Edit(t, filepath.Join(dir, "src/runtime/lock_futex.go"), "func futexwakeup() {}\n", "func futexwakeup() {}\n\n// New in go1.99.2.\nfunc futexNew() {}\n")
		testtree.Edit(t, filepath.Join(dir, "test/chan.go"), "package main", "package main // go1.99.2")
	})
	res := f.rebase(b)
	if !res.OK() || outcomes(res) != "applied, applied, applied" {
		t.Fatalf("Rebase: %s, want all applied", outcomes(res))
	}
	if len(res.Names) != 3 || res.Names[0] != "0001-runtime-document-futexsleep.patch" {
		t.Fatalf("new series %v", res.Names)
	}
	// The new series materialises on the new base.
	root := t.TempDir()
	if _, _, err := series.Write(filepath.Join(root, "patches"), res.Files); err != nil {
		t.Fatal(err)
	}
	ps, _ := series.Load(filepath.Join(root, "patches"))
	id := *f.id
	id.Version, id.Release = "go1.99.2-unilock.1", "go1.99.2"
	if _, err := Materialise(Request{Tree: Tree{Dir: filepath.Join(root, "goroot")}, Identity: &id, Patches: ps, Base: func() (*base.Base, error) { return b, nil }}); err != nil {
		t.Fatalf("Materialise of the rebased series: %v", err)
	}
	got, _ := os.ReadFile(filepath.Join(root, "goroot", "src/runtime/lock_futex.go"))
	if !strings.Contains(string(got), "// New in go1.99.2.") || !strings.Contains(string(got), "until woken or ns elapse") {
		t.Errorf("rebased lock_futex.go lacks the release's or the patch's change:\n%s", got)
	}
}

func TestRebaseConflictAndDropped(t *testing.T) {
	f := threePatches(t)
	before, _ := series.Load(f.patches)
	head := mustState(t, f.tree).Head
	// The new release sets ncpu differently (conflicts with patch 2) and
	// removed futex itself (patch 3 is upstream).
	b := newRelease(t, func(dir string) {
		testtree.Edit(t, filepath.Join(dir, "src/runtime/os_linux.go"), "func osinit() {}", "func osinit() { ncpu = 2 }")
		testtree.Edit(t, filepath.Join(dir, "src/runtime/os_linux.go"), "func futex() {}\n", "")
	})
	res := f.rebase(b)
	if res.OK() || outcomes(res) != "applied, CONFLICT, dropped: already upstream" {
		t.Fatalf("Rebase: %s; want applied, CONFLICT, dropped", outcomes(res))
	}
	c := res.Patches[1]
	if c.Patch != "0002-runtime-set-ncpu.patch" || len(c.Conflicts) != 1 || c.Conflicts[0].File != "src/runtime/os_linux.go" ||
		len(c.Conflicts[0].Hunks) != 1 || !strings.HasPrefix(c.Conflicts[0].Hunks[0], "lines ") {
		t.Errorf("conflict report: %+v", c)
	}
	if res.Files != nil {
		t.Errorf("a failed rebase returned a new series")
	}
	// Nothing of the old tree or series was touched.
	after, _ := series.Load(f.patches)
	if series.Digest(before) != series.Digest(after) {
		t.Errorf("patches/ changed")
	}
	if st := mustState(t, f.tree); st.Head != head {
		t.Errorf("goroot/ moved from %s to %s", head, st.Head)
	}
	if dirty, _ := f.tree.Repo().Dirty(); len(dirty) > 0 {
		t.Errorf("goroot/ got edits: %v", dirty)
	}

	// With the conflict resolved upstream's way, the rest goes through and
	// the upstreamed patch leaves the series.
	b2 := newRelease(t, func(dir string) {
		testtree.Edit(t, filepath.Join(dir, "src/runtime/os_linux.go"), "func futex() {}\n", "")
	})
	res = f.rebase(b2)
	if !res.OK() || outcomes(res) != "applied, applied with a 3-way merge, dropped: already upstream" {
		t.Fatalf("Rebase: %s", outcomes(res))
	}
	if strings.Join(res.Names, " ") != "0001-runtime-document-futexsleep.patch 0002-runtime-set-ncpu.patch" {
		t.Errorf("new series %v, want the two that remain", res.Names)
	}
}
