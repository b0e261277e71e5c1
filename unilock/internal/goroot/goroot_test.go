package goroot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unilock/internal/base"
	"unilock/internal/fork"
	"unilock/internal/series"
	"unilock/internal/testtree"
)

const fixture = "../../testdata/upstream.txtar"

// fixtureRepo is a fork repository on the fixture base: an upstream tree,
// a patches/ directory and the tree's location.
type fixtureRepo struct {
	t        *testing.T
	upstream string
	patches  string
	tree     Tree
	id       *fork.Identity
	bases    int // how often the base was resolved
}

func newFixture(t *testing.T) *fixtureRepo {
	up := testtree.Write(t, fixture)
	root := t.TempDir()
	return &fixtureRepo{
		t:        t,
		upstream: up,
		patches:  filepath.Join(root, "patches"),
		tree:     Tree{Dir: filepath.Join(root, "goroot")},
		id:       &fork.Identity{Version: "go1.99.1-unilock.1", Release: "go1.99.1", TreeHash: "h1:tree", SrcHash: "h1:src"},
	}
}

func (f *fixtureRepo) request(force bool) Request {
	ps, err := series.Load(f.patches)
	if err != nil {
		f.t.Fatal(err)
	}
	return Request{
		Tree: f.tree, Identity: f.id, Patches: ps, Force: force,
		Base: func() (*base.Base, error) {
			f.bases++
			files, err := base.Scan(f.upstream, false)
			if err != nil {
				return nil, err
			}
			return &base.Base{Release: "go1.99.1", Dir: f.upstream, Source: "fixture", Files: files, Hash: "h1:tree"}, nil
		},
	}
}

func (f *fixtureRepo) materialise(force bool) (Outcome, error) {
	return Materialise(f.request(force))
}

func (f *fixtureRepo) mustMaterialise(want Outcome) {
	f.t.Helper()
	got, err := f.materialise(false)
	if err != nil {
		f.t.Fatalf("Materialise: %v", err)
	}
	if got != want {
		f.t.Fatalf("Materialise = %v, want %v", got, want)
	}
}

// commit edits a file in goroot/ and commits it there.
func (f *fixtureRepo) commit(file, old, new, msg string) {
	f.t.Helper()
	testtree.Edit(f.t, filepath.Join(f.tree.Dir, file), old, new)
	testtree.Git(f.t, f.tree.Dir, "commit", "-q", "-a", "-m", msg)
}

func (f *fixtureRepo) extract() *ExtractResult {
	f.t.Helper()
	res, err := f.tree.Extract(f.id, f.patches)
	if err != nil {
		f.t.Fatalf("Extract: %v", err)
	}
	return res
}

func (f *fixtureRepo) read(name string) string {
	data, err := os.ReadFile(filepath.Join(f.tree.Dir, name))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(data)
}

func TestMaterialise(t *testing.T) {
	f := newFixture(t)
	f.mustMaterialise(Made)
	log := testtree.Git(t, f.tree.Dir, "log", "--format=%an|%s")
	if want := "Unilock|unilock: build as go1.99.1-unilock.1 with GOTOOLCHAIN=local\nThe Go Authors|go1.99.1\n"; log != want {
		t.Errorf("goroot/ history:\n%s\nwant:\n%s", log, want)
	}
	if v := f.read("VERSION"); !strings.HasPrefix(v, "go1.99.1-unilock.1\ntime ") {
		t.Errorf("VERSION = %q", v)
	}
	if env := f.read("go.env"); !strings.Contains(env, "\nGOTOOLCHAIN=local\n") || strings.Contains(env, "auto") {
		t.Errorf("go.env does not set GOTOOLCHAIN=local:\n%s", env)
	}
	if testtree.Git(t, f.tree.Dir, "tag") != "go1.99.1\n" {
		t.Errorf("no tag for the base")
	}
	// Top level is Go's own.
	for _, name := range []string{"src", "api", "test", "VERSION", "LICENSE"} {
		if _, err := os.Stat(filepath.Join(f.tree.Dir, name)); err != nil {
			t.Errorf("goroot/ lacks %s", name)
		}
	}
	// dist's generated files are neither committed nor, once rebuilt, edits.
	if out := testtree.Git(t, f.tree.Dir, "ls-files", "src/internal/buildcfg"); out != "" {
		t.Errorf("generated file committed: %s", out)
	}
	os.WriteFile(filepath.Join(f.tree.Dir, "src/internal/buildcfg/zbootstrap.go"), []byte("rebuilt"), 0o644)
	os.WriteFile(filepath.Join(f.tree.Dir, "src/cmd/dist/dist"), []byte("an interrupted build's dist"), 0o755)
	os.MkdirAll(filepath.Join(f.tree.Dir, "bin"), 0o777)
	os.WriteFile(filepath.Join(f.tree.Dir, "bin/go"), []byte("rebuilt"), 0o755)
	if dirty, _ := f.tree.Repo().Dirty(); len(dirty) != 0 {
		t.Errorf("build output shows as edits: %v", dirty)
	}
	// Nothing changed: nothing to do, and the base is not even resolved.
	n := f.bases
	f.mustMaterialise(Current)
	if f.bases != n {
		t.Errorf("an up-to-date tree resolved the base again")
	}
}

func TestExtractRoundTrip(t *testing.T) {
	f := newFixture(t)
	f.mustMaterialise(Made)
	f.commit("src/runtime/lock_futex.go", "// futexsleep sleeps.", "// futexsleep sleeps until woken or ns elapse.", "runtime: document futexsleep\n\nSay what ns means.\n")
	f.commit("src/runtime/os_linux.go", "func futex() {}\n", "", "runtime: remove futex from os_linux.go\n")
	res := f.extract()
	want := []string{"0001-runtime-document-futexsleep.patch", "0002-runtime-remove-futex-from-os-linux-go.patch"}
	if strings.Join(res.Series, " ") != strings.Join(want, " ") || len(res.Written) != 2 {
		t.Fatalf("Extract = %+v, want series %v all written", res, want)
	}
	first, _ := series.Load(f.patches)
	p := string(first[0].Data)
	for _, s := range []string{"From 0000000000000000000000000000000000000000 ", "Subject: [PATCH] runtime: document futexsleep", "From: Gopher <gopher@example.com>", "Say what ns means."} {
		if !strings.Contains(p, s) {
			t.Errorf("patch lacks %q:\n%s", s, p)
		}
	}
	if strings.Contains(p, "\n-- \n") {
		t.Errorf("patch has a git version signature:\n%s", p)
	}
	// Extracting again changes nothing.
	if res := f.extract(); len(res.Written)+len(res.Removed) != 0 {
		t.Errorf("second Extract wrote %v removed %v", res.Written, res.Removed)
	}
	// The tree holds exactly patches/ now: no work, nothing to remake.
	f.mustMaterialise(Current)

	// A fresh tree from the extracted series re-extracts to the same bytes.
	content := f.read("src/runtime/lock_futex.go")
	os.RemoveAll(f.tree.Dir)
	f.mustMaterialise(Made)
	if got := f.read("src/runtime/lock_futex.go"); got != content {
		t.Errorf("remade tree differs:\n%s\nwant:\n%s", got, content)
	}
	if res := f.extract(); len(res.Written)+len(res.Removed) != 0 {
		t.Errorf("extract from the remade tree wrote %v removed %v; want no byte changed", res.Written, res.Removed)
	}
	second, _ := series.Load(f.patches)
	if series.Digest(first) != series.Digest(second) {
		t.Errorf("series changed across a round trip")
	}
	// The fork commit stays on top and is never extracted.
	if log := testtree.Git(t, f.tree.Dir, "log", "-1", "--format=%s"); !strings.HasPrefix(log, "unilock: build as") {
		t.Errorf("top commit = %q", log)
	}
}

// TestExtractThenNewVersion is a series change and a VERSION change made
// together: extracted after VERSION moved on, the tree must not pass for
// current, or it keeps the old fork commit (and go version says the old
// version).
func TestExtractThenNewVersion(t *testing.T) {
	for _, tc := range []struct {
		name        string
		bumpFirst   bool // VERSION changes before the extract
		wantVersion string
	}{
		{"bump then extract", true, "go1.99.1-unilock.2"},
		{"extract then bump", false, "go1.99.1-unilock.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.mustMaterialise(Made)
			f.commit("src/runtime/lock_futex.go", "// futexsleep sleeps.", "// futexsleep sleeps until woken.", "runtime: document futexsleep\n")
			bump := func() { f.id.Version = "go1.99.1-unilock.2" }
			if tc.bumpFirst {
				bump()
			}
			f.extract()
			if !tc.bumpFirst {
				bump()
			}
			f.mustMaterialise(Made)
			if v, _ := f.tree.Version(); v != tc.wantVersion {
				t.Errorf("goroot/VERSION says %q, want %q", v, tc.wantVersion)
			}
			if got := f.read("src/runtime/lock_futex.go"); !strings.Contains(got, "sleeps until woken.") {
				t.Errorf("the extracted change is lost:\n%s", got)
			}
			f.mustMaterialise(Current)
		})
	}
}

func TestExtractRefusesUncommitted(t *testing.T) {
	f := newFixture(t)
	f.mustMaterialise(Made)
	testtree.Edit(t, filepath.Join(f.tree.Dir, "src/runtime/os_linux.go"), "osinit", "osinit2")
	_, err := f.tree.Extract(f.id, f.patches)
	if err == nil || !strings.Contains(err.Error(), "src/runtime/os_linux.go") || !strings.Contains(err.Error(), "commit them first") {
		t.Fatalf("Extract with an uncommitted edit: %v", err)
	}
	if ps, _ := series.Load(f.patches); len(ps) != 0 {
		t.Errorf("patches/ written despite the refusal")
	}
}

func TestWorkIsNeverDiscarded(t *testing.T) {
	tests := []struct {
		name string
		work func(f *fixtureRepo)
		show string
	}{
		{"uncommitted edit", func(f *fixtureRepo) {
			testtree.Edit(f.t, filepath.Join(f.tree.Dir, "src/runtime/os_linux.go"), "osinit", "osinit2")
		}, "M src/runtime/os_linux.go"},
		{"untracked file", func(f *fixtureRepo) {
			os.WriteFile(filepath.Join(f.tree.Dir, "src/runtime/lock_new.go"), []byte("package runtime\n"), 0o644)
		}, "?? src/runtime/lock_new.go"},
		{"commit not extracted", func(f *fixtureRepo) {
			f.commit("src/runtime/os_linux.go", "osinit", "osinit2", "runtime: rename osinit\n")
		}, "runtime: rename osinit"},
		{"amended fork commit", func(f *fixtureRepo) {
			testtree.Git(f.t, f.tree.Dir, "commit", "-q", "--amend", "-m", "mine")
		}, "history rewritten"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.mustMaterialise(Made)
			tt.work(f)
			head := testtree.Git(t, f.tree.Dir, "rev-parse", "HEAD")

			// Same inputs: the work is kept, to be built as it is.
			f.mustMaterialise(KeptWork)

			// New inputs: refuse, naming the work and both ways out.
			os.MkdirAll(f.patches, 0o777)
			os.WriteFile(filepath.Join(f.patches, "0001-x.patch"), []byte("not applied"), 0o644)
			_, err := f.materialise(false)
			var we *WorkError
			if !errors.As(err, &we) {
				t.Fatalf("Materialise over work: %v, want a WorkError", err)
			}
			for _, s := range []string{tt.show, "unilock extract", "./make.bash --force"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("refusal does not say %q:\n%v", s, err)
				}
			}
			if got := testtree.Git(t, f.tree.Dir, "rev-parse", "HEAD"); got != head {
				t.Errorf("HEAD moved from %s to %s", head, got)
			}
			// --force discards it (here failing on the bad patch, still
			// leaving goroot/ as it was).
			os.Remove(filepath.Join(f.patches, "0001-x.patch"))
			if out, err := f.materialise(true); err != nil || out != Made {
				t.Fatalf("Materialise --force = %v, %v", out, err)
			}
			if w, _ := f.tree.LocalWork(mustState(t, f.tree)); !w.Empty() {
				t.Errorf("work left after --force: %v", w)
			}
		})
	}
}

func mustState(t *testing.T, tr Tree) *State {
	st, err := tr.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConflictLeavesTreeUntouched(t *testing.T) {
	f := newFixture(t)
	f.mustMaterialise(Made)
	f.commit("src/runtime/lock_futex.go", "func futexwakeup() {}", "func futexwakeup() { wake() }", "runtime: wake in futexwakeup\n")
	f.extract()
	// Rewrite the patch so its context no longer matches the base.
	ps, _ := series.Load(f.patches)
	bad := strings.Replace(string(ps[0].Data), "-func futexwakeup() {}", "-func futexwakeup(n int) {}", 1)
	bad = strings.Replace(bad, "index ", "index-removed ", 1) // no 3-way fallback blob
	os.WriteFile(ps[0].Path, []byte(bad), 0o644)
	head := testtree.Git(t, f.tree.Dir, "rev-parse", "HEAD")
	_, err := f.materialise(false)
	var ae *ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("Materialise with a corrupt patch: %v, want an ApplyError", err)
	}
	if ae.Patch != ps[0].Name || !strings.Contains(err.Error(), "conflict in src/runtime/lock_futex.go") {
		t.Errorf("error does not name the patch %s and the file:\n%v", ps[0].Name, err)
	}
	if got := testtree.Git(t, f.tree.Dir, "rev-parse", "HEAD"); got != head {
		t.Errorf("goroot/ HEAD moved from %s to %s", head, got)
	}
	if _, err := os.Stat(f.tree.Dir + ".failed"); err != nil {
		t.Errorf("no goroot.failed/ to inspect: %v", err)
	}
	if _, err := os.Stat(f.tree.Dir + ".new"); err == nil {
		t.Errorf("goroot.new/ left behind")
	}
}

func TestThreeWayConflict(t *testing.T) {
	// A patch made on one base meets a base where the same lines changed.
	f := newFixture(t)
	f.mustMaterialise(Made)
	f.commit("src/runtime/os_linux.go", "func osinit() {}", "func osinit() { ncpu = 1 }", "runtime: set ncpu\n")
	f.extract()
	testtree.Edit(t, filepath.Join(f.upstream, "src/runtime/os_linux.go"), "func osinit() {}", "func osinit() { ncpu = 2 }")
	f.id.TreeHash = "h1:another-release"
	_, err := f.materialise(false)
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Files) != 1 || ae.Files[0] != "src/runtime/os_linux.go" {
		t.Fatalf("Materialise on a conflicting base: %v", err)
	}
}

func TestRecover(t *testing.T) {
	f := newFixture(t)
	f.mustMaterialise(Made)
	head := testtree.Git(t, f.tree.Dir, "rev-parse", "HEAD")
	// Interrupted between the two renames of a swap: old tree aside, new
	// tree half made.
	os.Rename(f.tree.Dir, f.tree.Dir+".old")
	os.MkdirAll(f.tree.Dir+".new/src", 0o777)
	f.mustMaterialise(Current)
	if got := testtree.Git(t, f.tree.Dir, "rev-parse", "HEAD"); got != head {
		t.Errorf("recovered tree at %s, want %s", got, head)
	}
	for _, s := range []string{".old", ".new"} {
		if _, err := os.Stat(f.tree.Dir + s); err == nil {
			t.Errorf("goroot%s left behind", s)
		}
	}
}

func TestForeignTreeRefused(t *testing.T) {
	f := newFixture(t)
	os.MkdirAll(filepath.Join(f.tree.Dir, "src"), 0o777)
	_, err := f.materialise(false)
	if !errors.Is(err, ErrNoState) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("Materialise over a goroot/ unilock did not make: %v", err)
	}
}
