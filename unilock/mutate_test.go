package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unilock/internal/testtree"
)

// TestMutateCommand runs unilock mutate on the fixture goroot/ of
// internal/mutate (a fake go) with its fixture list: the table, the reports,
// and exit status 1 when a mutation is not caught.
func TestMutateCommand(t *testing.T) {
	root := t.TempDir()
	g := testtree.Write(t, "internal/mutate/testdata/goroot.txtar")
	testtree.Git(t, g, "init", "-q")
	testtree.Git(t, g, "add", ".")
	testtree.Git(t, g, "commit", "-q", "-m", "base")
	env := &Env{Root: root, Goroot: g, State: filepath.Join(root, ".unilock")}
	list, _ := filepath.Abs("internal/mutate/testdata/mutations.txtar")

	out, err := capture(t, func() error {
		return runMutate(env, []string{"-f", list, "-list", "-run", "^(caught|stale)$"})
	})
	if err != nil || !strings.Contains(out, "caught") || !strings.Contains(out, "NO: stale: the .old text is not in runtime/lock_futex.go") {
		t.Fatalf("mutate -list: %v\n%s", err, out)
	}

	// The report of a run of every mutation, which a run of some must
	// not overwrite.
	whole := filepath.Join(root, ".unilock", "mutate", "report.md")
	os.MkdirAll(filepath.Dir(whole), 0o777)
	os.WriteFile(whole, []byte("every mutation\n"), 0o644)
	out, err = capture(t, func() error {
		return runMutate(env, []string{"-f", list, "-run", "^(caught|crash)$", "-bound", "5s"})
	})
	if err != nil {
		t.Fatalf("mutate: %v\n%s", err, out)
	}
	for _, want := range []string{"caught  ", "runtime.TestSema", "2 of 2 mutations caught", "baseline: passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("unilock mutate:\n%s", out)
	runs, _ := filepath.Glob(filepath.Join(root, ".unilock", "mutate", "runs", "*", "report.md"))
	if len(runs) != 1 {
		t.Fatalf("reports of this run: %q, want one", runs)
	}
	md, err := os.ReadFile(runs[0])
	if err != nil || !strings.Contains(string(md), "| `crash` | yes |") {
		t.Errorf("%s: %v\n%s", runs[0], err, md)
	}
	if data, _ := os.ReadFile(whole); string(data) != "every mutation\n" {
		t.Errorf("mutate -run overwrote %s:\n%s", whole, data)
	}

	jsonPath := filepath.Join(t.TempDir(), "r.json")
	out, err = capture(t, func() error {
		return runMutate(env, []string{"-f", list, "-run", "^(caught|survived|timeout)$", "-bound", "5s", "-json", jsonPath})
	})
	if err == nil || !strings.Contains(err.Error(), "2 of 3 mutations not caught: survived, timeout") {
		t.Fatalf("mutate with survivors = %v, want an error naming them\n%s", err, out)
	}
	var rep struct {
		Results []struct {
			Mutation string
			Caught   bool
			Outcome  string
		}
	}
	data, _ := os.ReadFile(jsonPath)
	if err := json.Unmarshal(data, &rep); err != nil || len(rep.Results) != 3 || rep.Results[2].Outcome != "timed out" {
		t.Errorf("JSON report (%v):\n%s", err, data)
	}
	if st := testtree.Git(t, g, "status", "--porcelain"); st != "" {
		t.Errorf("goroot/ not clean:\n%s", st)
	}
}
