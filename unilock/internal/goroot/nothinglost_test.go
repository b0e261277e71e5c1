package goroot

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"unilock/internal/testtree"
)

var fixedNow = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// forceMaterialise runs a forced materialise and returns what it printed.
func (f *fixtureRepo) forceMaterialise() (string, error) {
	var b strings.Builder
	req := f.request(true)
	req.Now = fixedNow
	req.Phase = func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	out, err := Materialise(req)
	if err == nil && out != Made {
		err = fmt.Errorf("outcome %v, want Made", out)
	}
	return b.String(), err
}

// shell runs a command line the tool printed, in the directory that holds
// goroot/, as a fixed committer.
func shell(t *testing.T, dir, line string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_AUTHOR_NAME=Gopher", "GIT_AUTHOR_EMAIL=gopher@example.com",
		"GIT_COMMITTER_NAME=Gopher", "GIT_COMMITTER_EMAIL=gopher@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return string(out)
}

// printed returns the command the message gives after label.
func printed(t *testing.T, msg, label string) string {
	t.Helper()
	for _, l := range strings.Split(msg, "\n") {
		if _, cmd, ok := strings.Cut(l, label); ok {
			cmd, _, _ = strings.Cut(strings.TrimSpace(cmd), "   (")
			return cmd
		}
	}
	t.Fatalf("no %q in:\n%s", label, msg)
	return ""
}

// TestForceMovesWorkAside is issue 15 item 1: a forced remake over work not
// in patches/ deletes nothing; it moves the old tree aside, says what it
// held, and the commands it prints get the work back.
func TestForceMovesWorkAside(t *testing.T) {
	const aside = "goroot.discarded-20260102-030405"
	tests := []struct {
		name    string
		work    func(f *fixtureRepo)
		show    string                                         // in the message
		restore func(t *testing.T, f *fixtureRepo, msg string) // gets it back into the new tree
	}{
		{"uncommitted edit", func(f *fixtureRepo) {
			testtree.Edit(f.t, filepath.Join(f.tree.Dir, "src/runtime/os_linux.go"), "osinit", "osinit2")
		}, "M src/runtime/os_linux.go", func(t *testing.T, f *fixtureRepo, msg string) {
			shell(t, filepath.Dir(f.tree.Dir), printed(t, msg, "its uncommitted edits:"))
			if !strings.Contains(f.read("src/runtime/os_linux.go"), "osinit2") {
				t.Errorf("the edit is not back")
			}
		}},
		{"untracked file", func(f *fixtureRepo) {
			os.WriteFile(filepath.Join(f.tree.Dir, "src/runtime/lock_new.go"), []byte("package runtime\n"), 0o644)
		}, "?? src/runtime/lock_new.go", func(t *testing.T, f *fixtureRepo, msg string) {
			if _, err := os.Stat(filepath.Join(filepath.Dir(f.tree.Dir), aside, "src/runtime/lock_new.go")); err != nil {
				t.Errorf("the untracked file is not in %s: %v", aside, err)
			}
		}},
		{"commit not extracted", func(f *fixtureRepo) {
			f.commit("src/runtime/os_linux.go", "osinit", "osinit2", "runtime: rename osinit\n")
		}, "runtime: rename osinit", func(t *testing.T, f *fixtureRepo, msg string) {
			shell(t, filepath.Dir(f.tree.Dir), printed(t, msg, "its commits onto the new tree:"))
			if log := testtree.Git(t, f.tree.Dir, "log", "-1", "--format=%s"); log != "runtime: rename osinit\n" {
				t.Errorf("the commit is not back: HEAD is %q", log)
			}
		}},
		{"amended fork commit", func(f *fixtureRepo) {
			testtree.Git(f.t, f.tree.Dir, "commit", "-q", "--amend", "-m", "mine")
		}, "history rewritten", func(t *testing.T, f *fixtureRepo, msg string) {
			if log := testtree.Git(t, filepath.Join(filepath.Dir(f.tree.Dir), aside), "log", "-1", "--format=%s"); log != "mine\n" {
				t.Errorf("the amended commit is not in %s: %q", aside, log)
			}
		}},
		{"tree not made by unilock", func(f *fixtureRepo) {
			os.Remove(f.tree.statePath())
		}, "not made by unilock", func(t *testing.T, f *fixtureRepo, msg string) {
			shell(t, filepath.Dir(f.tree.Dir), "test -d "+aside+"/.git")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.mustMaterialise(Made)
			tt.work(f)
			msg, err := f.forceMaterialise()
			if err != nil {
				t.Fatalf("Materialise --force: %v", err)
			}
			for _, s := range []string{tt.show, "nothing deleted", aside + "/", "mv " + aside + " goroot", "rm -rf " + aside} {
				if !strings.Contains(msg, s) {
					t.Errorf("--force did not say %q:\n%s", s, msg)
				}
			}
			if w, _ := f.tree.LocalWork(mustState(t, f.tree)); !w.Empty() {
				t.Errorf("the new tree holds work: %v", w)
			}
			ls, err := Leftovers(f.tree.Dir)
			if err != nil || len(ls) != 1 || filepath.Base(ls[0].Path) != aside || ls[0].Size == 0 {
				t.Errorf("Leftovers = %v, %v; want %s with its size", ls, err, aside)
			}
			tt.restore(t, f, msg)
		})
	}

	t.Run("clean tree", func(t *testing.T) {
		f := newFixture(t)
		f.mustMaterialise(Made)
		msg, err := f.forceMaterialise()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(msg, "moved") {
			t.Errorf("nothing to move, but:\n%s", msg)
		}
		for _, suffix := range []string{".old", ".new", DiscardedPrefix + "20260102-030405"} {
			if _, err := os.Stat(f.tree.Dir + suffix); err == nil {
				t.Errorf("goroot%s left behind by a forced remake of a clean tree", suffix)
			}
		}
	})

	t.Run("twice in one second", func(t *testing.T) {
		f := newFixture(t)
		f.mustMaterialise(Made)
		for i := 0; i < 2; i++ {
			testtree.Edit(t, filepath.Join(f.tree.Dir, "src/runtime/os_linux.go"), "osinit", fmt.Sprintf("osinit%d", i))
			if _, err := f.forceMaterialise(); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{aside, aside + "-2"} {
			data, err := os.ReadFile(filepath.Join(filepath.Dir(f.tree.Dir), name, "src/runtime/os_linux.go"))
			if err != nil || !strings.Contains(string(data), "osinit") {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

// TestExtractGuardsPatches is issue 15 item 2: extract never overwrites or
// removes patch files whose changes are not committed.
func TestExtractGuardsPatches(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(t *testing.T, patches string, first string) // first: the extracted patch's name
		refuse string                                           // "" when extract may go on
	}{
		{"hand edit of a patch extract rewrites", func(t *testing.T, dir, first string) {
			testtree.Edit(t, filepath.Join(dir, first), "Say what ns means.", "Say what ns means, in nanoseconds.")
		}, " M 0001-"},
		{"new patch extract would remove", func(t *testing.T, dir, first string) {
			os.WriteFile(filepath.Join(dir, "0002-runtime-more.patch"), []byte("From: me\n"), 0o644)
		}, "?? 0002-runtime-more.patch"},
		{"patch deleted by hand", func(t *testing.T, dir, first string) {
			os.Remove(filepath.Join(dir, first))
		}, " D 0001-"},
		{"staged edit", func(t *testing.T, dir, first string) {
			testtree.Edit(t, filepath.Join(dir, first), "Say what ns means.", "Staged.")
			testtree.Git(t, dir, "add", first)
		}, "M  0001-"},
		{"committed edit", func(t *testing.T, dir, first string) {
			testtree.Edit(t, filepath.Join(dir, first), "Say what ns means.", "Committed.")
			testtree.Git(t, dir, "commit", "-q", "-am", "edit")
		}, ""},
		{"other file in patches/", func(t *testing.T, dir, first string) {
			os.WriteFile(filepath.Join(dir, "NOTES"), []byte("mine\n"), 0o644)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			root := filepath.Dir(f.patches)
			f.mustMaterialise(Made)
			f.commit("src/runtime/lock_futex.go", "// futexsleep sleeps.", "// futexsleep sleeps until woken.", "runtime: document futexsleep\n\nSay what ns means.\n")
			f.extract()
			testtree.Git(t, root, "init", "-q")
			testtree.Git(t, root, "add", "patches")
			testtree.Git(t, root, "commit", "-q", "-m", "series")
			names, _ := filepath.Glob(filepath.Join(f.patches, "0001-*"))
			first := filepath.Base(names[0])
			// goroot/ moves on, so that extract has something to write.
			testtree.Git(t, f.tree.Dir, "commit", "-q", "--amend", "-m", "runtime: document futexsleep\n\nSay what ns is.\n")
			tt.edit(t, f.patches, first)
			before := snapshot(t, f.patches)

			_, err := f.tree.Extract(f.id, f.patches)
			if tt.refuse == "" {
				if err != nil {
					t.Fatalf("Extract: %v", err)
				}
				return
			}
			var pe *PatchesError
			if !errors.As(err, &pe) {
				t.Fatalf("Extract over uncommitted patches/ changes: %v, want a PatchesError", err)
			}
			for _, s := range []string{tt.refuse, "git stash push -- patches/", "unilock extract", "./make.bash --force"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("refusal does not say %q:\n%v", s, err)
				}
			}
			if after := snapshot(t, f.patches); after != before {
				t.Errorf("patches/ changed despite the refusal:\n%s\nwas:\n%s", after, before)
			}
			// The way out it names works: stash, extract, pop.
			shell(t, root, "git stash push -q --include-untracked -- patches/")
			if _, err := f.tree.Extract(f.id, f.patches); err != nil {
				t.Fatalf("Extract after stashing: %v", err)
			}
		})
	}
}

func snapshot(t *testing.T, dir string) string {
	var b strings.Builder
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "-- %s --\n%s", e.Name(), data)
	}
	return b.String()
}

// TestLeftovers is issue 15 item 6: trial trees are listed with their size
// and the command that removes them.
func TestLeftovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "goroot")
	for name, size := range map[string]int{".failed": 3 << 20, ".rebase": 10, DiscardedPrefix + "20260102-030405": 1} {
		os.MkdirAll(filepath.Join(dir+name, "src"), 0o777)
		os.WriteFile(filepath.Join(dir+name, "src", "f"), make([]byte, size), 0o644)
	}
	os.WriteFile(dir+".failed.txt", nil, 0o644) // not a tree
	ls, err := Leftovers(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range ls {
		got = append(got, l.String())
	}
	want := []string{
		"goroot.failed/ (3.0 MB): the half-applied tree of a patch that did not apply",
		"goroot.rebase/ (10 B): the trial tree of unilock rebase",
		"goroot.discarded-20260102-030405/ (1 B): work a forced remake moved aside",
	}
	if len(got) != len(want) {
		t.Fatalf("Leftovers:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) || !strings.HasSuffix(got[i], "remove it with: rm -rf "+strings.SplitN(want[i], "/", 2)[0]) {
			t.Errorf("leftover %d:\n%s\nwant it to start %q and end with its rm -rf", i, got[i], want[i])
		}
	}
}
