package series

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unilock/internal/change"
	"unilock/internal/testtree"
)

// twoPatches makes a repository with a base commit and two changes and
// returns it, the base commit and the changes as format-patch files.
func twoPatches(t *testing.T) (dir, base string, ps []Patch) {
	dir = t.TempDir()
	testtree.Git(t, dir, "init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(dir, "lock.go"), []byte("package runtime\n\nfunc lock() {}\n"), 0o666)
	testtree.Git(t, dir, "add", "-A")
	testtree.Git(t, dir, "commit", "-q", "-m", "go1.26.8")
	base = strings.TrimSpace(testtree.Git(t, dir, "rev-parse", "HEAD"))
	msgs := []string{
		"runtime: add unlock\n\nA lock needs an unlock.\n",
		"runtime: add a contract to the lock layer that is long enough to fold the subject\n\nSay what each OS supplies.\n\nChange-Id: I0123456789abcdef0123456789abcdef01234567\n",
	}
	for i, msg := range msgs {
		f, _ := os.OpenFile(filepath.Join(dir, "lock.go"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString([]string{"\nfunc unlock() {}\n", "\n// The contract.\n"}[i])
		f.Close()
		testtree.Git(t, dir, "commit", "-q", "-a", "-m", msg)
	}
	out := t.TempDir()
	testtree.Git(t, dir, "format-patch", "-q", "--zero-commit", "-o", out, base)
	ps, err := Load(out)
	if err != nil || len(ps) != 2 {
		t.Fatalf("Load: %v, %d patches", err, len(ps))
	}
	return dir, base, ps
}

func TestChangeIDs(t *testing.T) {
	_, _, ps := twoPatches(t)
	m0, err := ps[0].Parse()
	if err != nil {
		t.Fatal(err)
	}
	if m0.Subject != "runtime: add unlock" || !strings.Contains(m0.Message, "A lock needs an unlock.") {
		t.Errorf("Parse: subject %q, message %q", m0.Subject, m0.Message)
	}
	id0, stored := m0.ChangeID()
	if stored {
		t.Errorf("patch 1 has no Change-Id, but ChangeID says stored")
	}
	m1, _ := ps[1].Parse()
	if id, stored := m1.ChangeID(); !stored || id != "I0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("patch 2: ChangeID = %s, %v; want its stored one", id, stored)
	}
	// Storing is stable: the derived id is the one stored, and storing again
	// changes nothing.
	data, err := ps[0].WithChangeID()
	if err != nil {
		t.Fatal(err)
	}
	p := Patch{Name: ps[0].Name, Data: data}
	m, _ := p.Parse()
	if id, stored := m.ChangeID(); !stored || id != id0 {
		t.Errorf("after WithChangeID: %s stored %v, want %s stored", id, stored, id0)
	}
	if again, _ := p.WithChangeID(); !bytes.Equal(again, data) {
		t.Errorf("WithChangeID is not idempotent")
	}
	if ps := change.Lint(m.Message); len(ps) > 0 {
		t.Errorf("stored message does not lint: %v", ps)
	}
	if d, _ := ps[1].WithChangeID(); !bytes.Equal(d, ps[1].Data) {
		t.Errorf("WithChangeID changed a patch that had a Change-Id")
	}
}

func TestMboxApplies(t *testing.T) {
	dir, base, ps := twoPatches(t)
	mbox, err := Mbox(ps)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mbox, []byte("Subject: [PATCH 1/2] runtime: add unlock")) || !bytes.Contains(mbox, []byte("Subject: [PATCH 2/2]")) {
		t.Errorf("mbox subjects are not numbered:\n%s", mbox)
	}
	again, _ := Mbox(ps)
	if !bytes.Equal(mbox, again) {
		t.Errorf("two exports differ")
	}
	file := filepath.Join(t.TempDir(), "series.mbox")
	os.WriteFile(file, mbox, 0o666)
	fresh := t.TempDir()
	testtree.Git(t, fresh, "init", "-q", "-b", "main")
	testtree.Git(t, fresh, "fetch", "-q", dir, base)
	testtree.Git(t, fresh, "checkout", "-q", "FETCH_HEAD")
	testtree.Git(t, fresh, "am", "-q", file)
	log := testtree.Git(t, fresh, "log", "--format=%B", "-2")
	m0, _ := ps[0].Parse()
	id0, _ := m0.ChangeID()
	for _, want := range []string{"Change-Id: " + id0, "Change-Id: I0123456789abcdef0123456789abcdef01234567", "runtime: add a contract to the lock layer that is long enough to fold the subject\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("applied series lacks %q:\n%s", want, log)
		}
	}
	if a, b := testtree.Git(t, fresh, "rev-parse", "HEAD^{tree}"), testtree.Git(t, dir, "rev-parse", "HEAD^{tree}"); a != b {
		t.Errorf("applied tree %s, want %s", a, b)
	}
}
