package mutate

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"unilock/internal/testtree"
)

// tree is a fixture goroot/ (a git work tree with a fake go) and a state
// directory.
type tree struct {
	goroot, state string
	orig          map[string][]byte // the committed runtime files
}

func newTree(t *testing.T) *tree {
	t.Helper()
	g := testtree.Write(t, "testdata/goroot.txtar")
	testtree.Git(t, g, "init", "-q")
	testtree.Git(t, g, "add", ".")
	testtree.Git(t, g, "commit", "-q", "-m", "base")
	tr := &tree{goroot: g, state: filepath.Join(t.TempDir(), "mutate"), orig: map[string][]byte{}}
	for _, f := range []string{"lock_futex.go", "lock_sema.go"} {
		data, err := os.ReadFile(filepath.Join(g, "src", "runtime", f))
		if err != nil {
			t.Fatal(err)
		}
		tr.orig[f] = data
	}
	return tr
}

func (tr *tree) config() *Config {
	return &Config{Goroot: tr.goroot, State: tr.state, Bound: time.Second, Grace: time.Second}
}

// checkRestored fails unless goroot/ is byte for byte as committed and no
// journal is left.
func (tr *tree) checkRestored(t *testing.T) {
	t.Helper()
	for f, want := range tr.orig {
		got, err := os.ReadFile(filepath.Join(tr.goroot, "src", "runtime", f))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s not restored (err %v):\n%s", f, err, got)
		}
	}
	if st := testtree.Git(t, tr.goroot, "status", "--porcelain"); st != "" {
		t.Errorf("goroot/ not clean after the run:\n%s", st)
	}
	if _, err := os.Stat(filepath.Join(tr.state, "journal.json")); err == nil {
		t.Errorf("journal left behind")
	}
}

func fixtureMutations(t *testing.T) map[string]*Mutation {
	t.Helper()
	ms, err := LoadFiles("testdata/mutations.txtar")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Mutation{}
	for _, m := range ms {
		byName[m.Name] = m
	}
	return byName
}

func TestRun(t *testing.T) {
	ms := fixtureMutations(t)
	for _, tc := range []struct {
		mutation string
		outcome  Outcome
		test     string // the "by test" column
		note     string // in the note
		quick    bool   // the run must not wait out the fake's sleep
	}{
		{"caught", Caught, "runtime.TestSema", "semasleep = -1, want 0", true},
		{"survived", Survived, "", "1 test passed", true},
		{"timeout", TimedOut, "runtime.TestHang", "panic: test timed out after 1s", true},
		{"hang", TimedOut, "runtime.TestHang", "killed after 2.0s", true},
		{"nocompile", NoCompile, "", "undefined: broken", true},
		{"crash", Caught, "runtime.TestNote (the test binary died)", "fatal error: notewakeup - double wakeup", true},
		{"quit", Caught, "runtime (the test binary died before any test)", "SIGQUIT: quit from the 30s watchdog: no M ran; goroutine dump at runtime.futex(", true},
		{"broken", Broken, "", "with no failing test", true},
		{"stale", Stale, "", "stale: the .old text is not in runtime/lock_futex.go", true},
		{"ambiguous", Stale, "", "occurs 2 times in runtime/lock_futex.go", true},
		{"missing", Stale, "", "runtime/lock_gone.go does not exist", true},
	} {
		t.Run(tc.mutation, func(t *testing.T) {
			tr := newTree(t)
			var log strings.Builder
			c := tr.config()
			c.Log = &log
			start := time.Now()
			rep, err := c.Run(context.Background(), []*Mutation{ms[tc.mutation]})
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, log.String())
			}
			if d := time.Since(start); tc.quick && d > 15*time.Second {
				t.Errorf("run took %s", d)
			}
			if len(rep.Results) != 1 {
				t.Fatalf("%d results, want 1", len(rep.Results))
			}
			r := rep.Results[0]
			if r.Outcome != tc.outcome || r.Test != tc.test || !strings.Contains(r.Note, tc.note) {
				t.Errorf("result %s by %q, note %q; want %s by %q, note with %q\n%s", r.Outcome, r.Test, r.Note, tc.outcome, tc.test, tc.note, log.String())
			}
			if r.Caught != (tc.outcome == Caught) {
				t.Errorf("Caught = %v for %s", r.Caught, r.Outcome)
			}
			if got := rep.NotCaught(); (len(got) == 0) != r.Caught {
				t.Errorf("NotCaught = %v", got)
			}
			var text strings.Builder
			rep.Text(&text)
			if !strings.Contains(text.String(), tc.mutation) || !strings.Contains(rep.Markdown(), "| `"+tc.mutation+"` |") {
				t.Errorf("report lacks the mutation:\n%s\n%s", text.String(), rep.Markdown())
			}
			tr.checkRestored(t)
		})
	}
}

// TestRunAll runs several mutations in one run, with the baseline: each is
// restored before the next, and the report keeps their order.
func TestRunAll(t *testing.T) {
	ms := fixtureMutations(t)
	tr := newTree(t)
	var log strings.Builder
	c := tr.config()
	c.Log = &log
	c.Baseline = true
	args := filepath.Join(t.TempDir(), "args")
	t.Setenv("FAKE_GO_ARGS", args)
	list := []*Mutation{ms["caught"], ms["stale"], ms["crash"], ms["survived"], ms["env"]}
	rep, err := c.Run(context.Background(), list)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.Mutation+":"+string(r.Outcome))
	}
	want := "caught:caught stale:stale crash:caught survived:survived env:survived"
	if strings.Join(got, " ") != want {
		t.Errorf("results %v, want %s", got, want)
	}
	if len(rep.Baseline) != 2 || rep.Baseline[0].Outcome != Survived {
		t.Errorf("baseline %+v, want two passing runs (the default command and env's)", rep.Baseline)
	}
	if nc := rep.NotCaught(); strings.Join(nc, " ") != "stale survived env" {
		t.Errorf("NotCaught = %v", nc)
	}
	data, _ := os.ReadFile(args)
	calls := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(calls) != 6 {
		t.Fatalf("go ran %d times, want 6 (2 baselines, 4 mutations):\n%s", len(calls), data)
	}
	if c := calls[0]; !strings.HasPrefix(c, "test -json -count=1 -short -timeout=1s -run="+DefaultRun+" runtime ") {
		t.Errorf("go called as %q", c)
	}
	if c := calls[5]; !strings.HasPrefix(c, "test -json -count=1 -short -timeout=1s -run=^TestNote$ runtime sync GOFLAGS=-tags=x MUTATE_X=1") {
		t.Errorf("env mutation: go called as %q", c)
	}
	if !strings.Contains(log.String(), "left)") {
		t.Errorf("no estimate of the time left in the phase lines:\n%s", log.String())
	}
	tr.checkRestored(t)
}

func TestBaselineFails(t *testing.T) {
	ms := fixtureMutations(t)
	tr := newTree(t)
	os.WriteFile(filepath.Join(tr.goroot, "src", "runtime", "other.go"), []byte("// MUTANT_CAUGHT\n"), 0o644)
	testtree.Git(t, tr.goroot, "add", ".")
	testtree.Git(t, tr.goroot, "commit", "-q", "-m", "a failing test")
	c := tr.config()
	c.Baseline = true
	_, err := c.Run(context.Background(), []*Mutation{ms["survived"]})
	if err == nil || !strings.Contains(err.Error(), "fail with no mutation applied") || !strings.Contains(err.Error(), "runtime.TestSema") {
		t.Fatalf("Run = %v, want the baseline failure", err)
	}
	tr.checkRestored(t)
}

func TestRefuseDirty(t *testing.T) {
	ms := fixtureMutations(t)
	tr := newTree(t)
	path := filepath.Join(tr.goroot, "src", "runtime", "lock_futex.go")
	edited := append(append([]byte{}, tr.orig["lock_futex.go"]...), "// work in progress\n"...)
	os.WriteFile(path, edited, 0o644)
	c := tr.config()
	_, err := c.Run(context.Background(), []*Mutation{ms["crash"], ms["caught"]})
	if err == nil || !strings.Contains(err.Error(), "src/runtime/lock_futex.go") || !strings.Contains(err.Error(), "unilock extract") {
		t.Fatalf("Run = %v, want a refusal naming the file and unilock extract", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, edited) {
		t.Errorf("the uncommitted edit was lost:\n%s", got)
	}
	if got, _ := os.ReadFile(filepath.Join(tr.goroot, "src", "runtime", "lock_sema.go")); !bytes.Equal(got, tr.orig["lock_sema.go"]) {
		t.Errorf("lock_sema.go was mutated before the refusal")
	}
}

// TestRestoreWhenGoFails: the test command cannot even start; the file is
// restored all the same.
func TestRestoreWhenGoFails(t *testing.T) {
	ms := fixtureMutations(t)
	tr := newTree(t)
	c := tr.config()
	c.Go = filepath.Join(t.TempDir(), "no-go")
	rep, err := c.Run(context.Background(), []*Mutation{ms["caught"]})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Outcome != Broken || !strings.Contains(r.Note, "make.bash") {
		t.Errorf("result %+v, want an error naming ./make.bash", r)
	}
	tr.checkRestored(t)
}

// TestCrashRecovery kills a run with SIGKILL while a mutation is applied
// (the fake go kills its parent), then checks that the next run restores
// the file from the journal before anything else.
func TestCrashRecovery(t *testing.T) {
	if dir := os.Getenv("MUTATE_CRASH_GOROOT"); dir != "" {
		c := &Config{Goroot: dir, State: os.Getenv("MUTATE_CRASH_STATE"), Bound: 10 * time.Second}
		c.Run(context.Background(), []*Mutation{fixtureMutations(t)["killparent"]})
		t.Fatal("the fake go did not kill the run")
	}
	for _, edited := range []bool{false, true} {
		tr := newTree(t)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$")
		cmd.Env = append(os.Environ(), "MUTATE_CRASH_GOROOT="+tr.goroot, "MUTATE_CRASH_STATE="+tr.state)
		out, err := cmd.CombinedOutput()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("the run was not killed: %v\n%s", err, out)
		}
		path := filepath.Join(tr.goroot, "src", "runtime", "lock_futex.go")
		if got, _ := os.ReadFile(path); !bytes.Contains(got, []byte("MUTANT_KILLPARENT")) {
			t.Fatalf("the killed run left no mutation to recover:\n%s", got)
		}
		var log strings.Builder
		c := tr.config()
		c.Log = &log
		if edited {
			// Someone edited the file after the crash: it must not be
			// overwritten.
			os.WriteFile(path, []byte("package runtime // edited\n"), 0o644)
			_, err := c.Run(context.Background(), []*Mutation{fixtureMutations(t)["survived"]})
			if err == nil || !strings.Contains(err.Error(), "changed since") || !strings.Contains(err.Error(), filepath.Join(tr.state, "original")) {
				t.Fatalf("Run after an edit = %v, want a refusal naming the saved original", err)
			}
			if got, _ := os.ReadFile(path); string(got) != "package runtime // edited\n" {
				t.Errorf("the edit was overwritten: %s", got)
			}
			if got, _ := os.ReadFile(filepath.Join(tr.state, "original")); !bytes.Equal(got, tr.orig["lock_futex.go"]) {
				t.Errorf("the saved original is not the original: %s", got)
			}
			continue
		}
		rep, err := c.Run(context.Background(), []*Mutation{fixtureMutations(t)["caught"]})
		if err != nil {
			t.Fatalf("Run after the crash: %v\n%s", err, log.String())
		}
		if !strings.Contains(log.String(), "restored "+path) {
			t.Errorf("the recovery was not reported:\n%s", log.String())
		}
		if r := rep.Results[0]; r.Outcome != Caught {
			t.Errorf("after recovery: %+v", r)
		}
		tr.checkRestored(t)
	}
}

// TestInterrupt sends the run SIGINT mid-test (the fake go does): the test
// is stopped, the file restored, the rest not run, and Run says so.
func TestInterrupt(t *testing.T) {
	ms := fixtureMutations(t)
	tr := newTree(t)
	c := tr.config()
	c.Bound = 20 * time.Second
	c.Signals = []os.Signal{os.Interrupt}
	start := time.Now()
	rep, err := c.Run(context.Background(), []*Mutation{ms["sigint"], ms["caught"]})
	if err == nil || !strings.Contains(err.Error(), "interrupted by interrupt") {
		t.Fatalf("Run = %v, want an interruption", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the interrupted run took %s", d)
	}
	if rep == nil || len(rep.Results) != 2 || rep.Results[1].Outcome != NotRun {
		t.Errorf("results %+v, want the second not run", rep)
	}
	tr.checkRestored(t)
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"-- a --\ndesc: d\n-- a.old --\nx\n-- a.new --\ny\n", `no "file:" line`},
		{"-- a --\nfile: runtime/x.go\n-- a.old --\nx\n-- a.new --\ny\n", `no "desc:" line`},
		{"-- a --\nfile: runtime/x.go\ndesc: d\nwho: me\n-- a.old --\nx\n-- a.new --\ny\n", `unknown key "who"`},
		{"-- a --\nfile: runtime/x.go\ndesc: d\n-- a.new --\ny\n-- a.old --\nx\n", "in that order"},
		{"-- a.old --\nx\n", "comes before its header"},
		{"-- A --\nfile: x\ndesc: d\n-- A.old --\nx\n-- A.new --\n", "lower-case"},
		{"-- a --\nfile: ../x.go\ndesc: d\n-- a.old --\nx\n-- a.new --\n", "relative to goroot/src"},
		{"-- a --\nfile: x.go\ndesc: d\n-- a.old --\nx\n-- a.new --\nx\n", "changes nothing"},
		{"-- a --\nfile: x.go\ndesc: d\n-- a.old --\n-- a.new --\nx\n", "empty"},
		{"-- a --\nfile: x.go\ndesc: d\nenv: GOOS\n-- a.old --\nx\n-- a.new --\n", "not KEY=VALUE"},
		{"-- a --\nfile: x.go\ndesc: d\nrun: (\n-- a.old --\nx\n-- a.new --\n", "run:"},
	} {
		_, err := Parse("list.txtar", []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "list.txtar") {
			t.Errorf("Parse(%q) = %v, want an error with %q", tc.text, err, tc.want)
		}
	}
	dir := t.TempDir()
	one := "-- a --\nfile: x.go\ndesc: d\n-- a.old --\nx\n-- a.new --\n"
	os.WriteFile(filepath.Join(dir, "1.txtar"), []byte(one), 0o644)
	os.WriteFile(filepath.Join(dir, "2.txtar"), []byte(one), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "unique") {
		t.Errorf("Load with a name twice = %v", err)
	}
}

func TestParse(t *testing.T) {
	ms, err := Parse("l", []byte("comment\n-- a --\n# c\nfile: runtime/x.go\ndesc: one\ndesc: two\nrun: ^TestA$\npkgs: runtime sync\nenv: A=1 B=2\n-- a.old --\n\tx()\n-- a.new --\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := ms[0]
	if m.Name != "a" || m.File != "runtime/x.go" || m.Desc != "one two" || m.Old != "\tx()\n" || m.New != "" ||
		m.RunPattern() != "^TestA$" || strings.Join(m.Packages(), " ") != "runtime sync" || strings.Join(m.Env, " ") != "A=1 B=2" {
		t.Errorf("parsed %+v", m)
	}
	if _, err := Select(ms, "^b"); err == nil {
		t.Errorf("Select matching nothing: no error")
	}
}

// TestLockList checks the repository's own mutation lists parse.
func TestLockList(t *testing.T) {
	ms, err := Load("../../mutations")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 6 {
		t.Errorf("%d mutations in unilock/mutations, want at least 6", len(ms))
	}
}
