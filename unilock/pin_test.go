package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unilock/internal/base"
	"unilock/internal/fork"
	"unilock/internal/testtree"
)

// TestPinModule: the module the proxy serves no longer has the pinned src
// hash. Materialising refuses it and names pin -module; pin -module pins it
// (and says what the pin held); materialising then takes it; a second pin
// -module changes nothing.
func TestPinModule(t *testing.T) {
	env, _ := newRepo(t)
	mod := testtree.Write(t, "testdata/upstream.txtar")
	testtree.Edit(t, filepath.Join(mod, "src/runtime/lock_futex.go"), "// futexsleep sleeps.", "// futexsleep sleeps (served anew).")
	files, err := base.Scan(mod, true)
	if err != nil {
		t.Fatal(err)
	}
	newSrc, _ := base.SrcHash(files)
	fetch := func(path, version string) (string, error) {
		if path != base.ModulePath || version != base.ModuleVersion("go1.99.1") {
			return "", errors.New("not served: " + path + "@" + version)
		}
		return mod, nil
	}
	oldDownload, oldResolver := download, newResolver
	download = fetch
	newResolver = func(id *fork.Identity) *base.Resolver {
		r := oldResolver(id)
		r.HostGOROOT = func() (string, error) { return "", errors.New("no host Go") }
		r.Download = fetch
		return r
	}
	t.Cleanup(func() { download, newResolver = oldDownload, oldResolver })

	pinPath := filepath.Join(env.Root, fork.PinFile)
	before, _ := os.ReadFile(pinPath)
	_, oldTree, oldSrc, _ := fork.ParsePin(before)

	_, err = capture(t, func() error { return runMaterialise(env, nil) })
	if err == nil || !strings.Contains(err.Error(), "pin -module") || !strings.Contains(err.Error(), newSrc) {
		t.Fatalf("materialise on a module that is not the pinned one: err = %v, want its hash and pin -module named", err)
	}
	if _, err := os.Stat(env.Goroot); err == nil {
		t.Fatalf("materialise made goroot/ from a base that does not match the pin")
	}

	out, err := capture(t, func() error { return runPin(env, []string{"-module"}) })
	if err != nil {
		t.Fatalf("pin -module: %v\n%s", err, out)
	}
	for _, want := range []string{oldSrc, oldTree, newSrc} {
		if !strings.Contains(out, want) {
			t.Errorf("pin -module output lacks %s:\n%s", want, out)
		}
	}
	after, _ := os.ReadFile(pinPath)
	if release, tree, src, err := fork.ParsePin(after); err != nil || release != "go1.99.1" || tree != base.NoTree || src != newSrc {
		t.Fatalf("pin after pin -module: %s %s %s %v, want go1.99.1 none %s", release, tree, src, err, newSrc)
	}
	if out, err := capture(t, func() error { return runMaterialise(env, nil) }); err != nil {
		t.Fatalf("materialise after pin -module: %v\n%s", err, out)
	}
	out, err = capture(t, func() error { return runPin(env, []string{"-module"}) })
	if err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second pin -module: %v\n%s", err, out)
	}
	if again, _ := os.ReadFile(pinPath); string(again) != string(after) {
		t.Errorf("second pin -module rewrote the pin")
	}
}
