package base

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unilock/internal/testtree"
)

// checkout is the fixture as a git checkout of the release has it: no file
// cmd/dist generates, git's own files, and a build's debris.
func checkout(t *testing.T) string {
	dir := testtree.Write(t, fixture)
	os.Remove(filepath.Join(dir, "src/internal/buildcfg/zbootstrap.go"))
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("/bin/\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, ".git"), 0o777)
	os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref: refs/heads/release-branch.go1.99\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "src/cmd/dist/dist"), []byte("binary"), 0o755)
	return dir
}

func TestFromTree(t *testing.T) {
	mod := moduleForm(t, "")
	serve := func(string, string) (string, error) { return mod, nil }
	_, modSrc := hashes(t, mod, true)

	tests := []struct {
		name  string
		edit  func(dir string)
		want  string // in the error; "" for none
		maybe string // a file the error names
	}{
		{"checkout", func(string) {}, "", ""},
		{"unpacked archive", func(dir string) {
			os.RemoveAll(filepath.Join(dir, ".git"))
			os.Remove(filepath.Join(dir, ".gitignore"))
		}, "", ""},
		{"tampered", func(dir string) {
			testtree.Edit(t, filepath.Join(dir, "src/runtime/lock_futex.go"), "func futexwakeup() {}", "func futexwakeup() { steal() }")
		}, "does not match", "src/runtime/lock_futex.go (changed)"},
		{"file added", func(dir string) {
			os.WriteFile(filepath.Join(dir, "src/runtime/backdoor.go"), []byte("package runtime\n"), 0o644)
		}, "does not match", "src/runtime/backdoor.go (not in the module)"},
		{"file removed", func(dir string) {
			os.Remove(filepath.Join(dir, "src/runtime/os_linux.go"))
		}, "does not match", "src/runtime/os_linux.go (missing)"},
		{"other release", func(dir string) {
			testtree.Edit(t, filepath.Join(dir, "VERSION"), "go1.99.1", "go1.99.0")
		}, "is go1.99.0, not go1.99.1", ""},
		{"test/ may differ", func(dir string) {
			testtree.Edit(t, filepath.Join(dir, "test/chan.go"), "package main", "package main // local")
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := checkout(t)
			tt.edit(dir)
			b, tree, src, err := FromTree(dir, "go1.99.1", serve, io.Discard)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("FromTree: %v", err)
				}
				if src != modSrc || !strings.HasPrefix(tree, "h1:") || b.Partial {
					t.Errorf("FromTree: tree %s src %s (module %s) partial %v", tree, src, modSrc, b.Partial)
				}
				for _, f := range b.Files {
					if f.Name == ".gitignore" || strings.HasPrefix(f.Name, ".git/") || f.Name == "src/cmd/dist/dist" {
						t.Errorf("base lists %s", f.Name)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.maybe) {
				t.Fatalf("FromTree: %v, want %q naming %q", err, tt.want, tt.maybe)
			}
			var me *MismatchError
			if errors.As(err, &me) && (!strings.Contains(err.Error(), me.Tree) || !strings.Contains(err.Error(), me.Want) || me.Tree == me.Want) {
				t.Errorf("refusal does not name both hashes: %v", err)
			}
		})
	}
}

func TestResolveFrom(t *testing.T) {
	mod := moduleForm(t, "")
	serve := func(string, string) (string, error) { return mod, nil }
	dir := checkout(t)
	_, tree, src, err := FromTree(dir, "go1.99.1", serve, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	noHost := func() (string, error) { return "", errors.New("no host Go") }
	offline := func(string, string) (string, error) { return "", errors.New("offline") }
	// Pinned from the tree: verified by its hash, no network.
	r := &Resolver{Release: "go1.99.1", TreeHash: tree, SrcHash: src, From: dir, HostGOROOT: noHost, Download: offline}
	if b, err := r.Resolve(); err != nil || b.Partial || !strings.Contains(b.Source, dir) {
		t.Fatalf("Resolve from the pinned tree: %+v, %v", b, err)
	}
	// Pinned from the module (tree none): verified against the module.
	r = &Resolver{Release: "go1.99.1", TreeHash: NoTree, SrcHash: src, From: dir, HostGOROOT: noHost, Download: serve}
	if b, err := r.Resolve(); err != nil || b.Partial {
		t.Fatalf("Resolve from a tree, module pin: %+v, %v", b, err)
	}
	// Tampered: an error when asked for, a note and the module when remembered.
	testtree.Edit(t, filepath.Join(dir, "src/runtime/lock_futex.go"), "func futexwakeup() {}", "func futexwakeup() { steal() }")
	r = &Resolver{Release: "go1.99.1", TreeHash: tree, SrcHash: src, From: dir, HostGOROOT: noHost, Download: serve}
	if _, err := r.Resolve(); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("Resolve from a tampered tree: %v", err)
	}
	var log strings.Builder
	r = &Resolver{Release: "go1.99.1", TreeHash: tree, SrcHash: src, From: dir, FromOptional: true, HostGOROOT: noHost, Download: serve, Log: &log}
	if b, err := r.Resolve(); err != nil || !b.Partial || !strings.Contains(log.String(), "not using the tree at") {
		t.Fatalf("Resolve from a remembered tampered tree: %+v, %v\n%s", b, err, log.String())
	}
}
