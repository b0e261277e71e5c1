package base

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"unilock/internal/testtree"
)

const fixture = "../../testdata/upstream.txtar"

// moduleForm turns a full tree into what golang.org/toolchain serves: no
// api/ misc/ test/ doc/, nested go.mod files renamed to _go.mod.
func moduleForm(t *testing.T, full string) string {
	dir := testtree.Write(t, fixture)
	for _, d := range []string{"api", "test"} {
		os.RemoveAll(filepath.Join(dir, d))
	}
	for _, m := range []string{"src/go.mod", "src/cmd/go.mod"} {
		os.Rename(filepath.Join(dir, m), filepath.Join(dir, filepath.Dir(m), "_go.mod"))
	}
	// A module zip keeps no modes: go mod download leaves every file
	// read-only and none executable.
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			os.Chmod(path, 0o444)
		}
		return nil
	})
	return dir
}

func hashes(t *testing.T, dir string, module bool) (string, string) {
	files, err := Scan(dir, module)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := TreeHash(files)
	if err != nil {
		t.Fatal(err)
	}
	src, err := SrcHash(files)
	if err != nil {
		t.Fatal(err)
	}
	return tree, src
}

func TestScan(t *testing.T) {
	dir := testtree.Write(t, fixture)
	files, err := Scan(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasPrefix(f.Name, "bin/") || strings.HasPrefix(f.Name, "pkg/") || f.Name == "go.env" {
			t.Errorf("Scan listed %s; bin/, pkg/ and go.env are not part of a base", f.Name)
		}
	}
	if Partial(files) {
		t.Errorf("Partial(full tree) = true")
	}
	mod := moduleForm(t, dir)
	mfiles, err := Scan(mod, true)
	if err != nil {
		t.Fatal(err)
	}
	if !Partial(mfiles) {
		t.Errorf("Partial(module tree) = false")
	}
	var names []string
	for _, f := range mfiles {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "src/cmd/go.mod") || strings.Contains(got, "_go.mod") {
		t.Errorf("module Scan names = %s; want _go.mod listed as go.mod", got)
	}
}

func TestHashesAgree(t *testing.T) {
	full := testtree.Write(t, fixture)
	tree, src := hashes(t, full, false)
	mod := moduleForm(t, full)
	_, msrc := hashes(t, mod, true)
	if src != msrc {
		t.Errorf("src hash of the full tree %s != src hash of its module form %s", src, msrc)
	}
	if tree == src {
		t.Errorf("tree and src hashes are equal; the tree hash must cover api/ and test/")
	}
	// Distributors rewrite go.env; build output lands in bin/ and pkg/.
	os.WriteFile(filepath.Join(full, "go.env"), []byte("GOTOOLCHAIN=local\n"), 0o644)
	os.WriteFile(filepath.Join(full, "bin", "gofmt"), []byte("x"), 0o755)
	if tree2, _ := hashes(t, full, false); tree2 != tree {
		t.Errorf("tree hash changed with go.env and bin/: %s != %s", tree2, tree)
	}
	os.WriteFile(filepath.Join(full, "src/runtime/lock_futex.go"), []byte("package runtime // edited\n"), 0o644)
	if tree2, _ := hashes(t, full, false); tree2 == tree {
		t.Errorf("tree hash did not change when a source file did")
	}
}

func TestResolve(t *testing.T) {
	full := testtree.Write(t, fixture)
	tree, src := hashes(t, full, false)
	mod := moduleForm(t, full)
	edited := testtree.Write(t, fixture)
	os.WriteFile(filepath.Join(edited, "src/runtime/lock_futex.go"), []byte("package runtime // edited\n"), 0o644)
	editedTree, editedSrc := hashes(t, edited, false)
	_ = editedTree

	host := func(dir string) func() (string, error) { return func() (string, error) { return dir, nil } }
	noHost := func() (string, error) { return "", errors.New("no go") }
	download := func(dir string) func(string, string) (string, error) {
		return func(path, vers string) (string, error) {
			if path != ModulePath || !strings.HasPrefix(vers, "v0.0.1-go1.99.") {
				t.Errorf("download %s@%s", path, vers)
			}
			return dir, nil
		}
	}
	noDownload := func(string, string) (string, error) { return "", errors.New("offline") }

	tests := []struct {
		name     string
		release  string
		host     func() (string, error)
		download func(string, string) (string, error)
		src      string
		want     string // Source prefix
		partial  bool
		err      string
	}{
		{"host matches", "go1.99.1", host(full), noDownload, src, "host Go", false, ""},
		{"no host: module", "go1.99.1", noHost, download(mod), src, ModulePath, true, ""},
		{"host edited: module", "go1.99.1", host(edited), download(mod), src, ModulePath, true, ""},
		{"host other release: module", "go1.99.2", host(full), download(mod), src, "", false, "has VERSION \"go1.99.1\", want go1.99.2"},
		{"module edited: refused", "go1.99.1", noHost, download(edited), src, "", false, "its src hash is " + editedSrc},
		{"module edited: pin named", "go1.99.1", noHost, download(edited), src, "", false, "pins " + src},
		{"nothing", "go1.99.1", noHost, noDownload, src, "", false, "offline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log strings.Builder
			r := &Resolver{Release: tt.release, TreeHash: tree, SrcHash: tt.src, HostGOROOT: tt.host, Download: tt.download, Log: &log}
			b, err := r.Resolve()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Resolve error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v (log: %s)", err, log.String())
			}
			if !strings.HasPrefix(b.Source, tt.want) || b.Partial != tt.partial {
				t.Errorf("Resolve = %s partial=%v; want %s partial=%v", b.Source, b.Partial, tt.want, tt.partial)
			}
		})
	}
}

func TestHostMismatchPrintsBothHashes(t *testing.T) {
	full := testtree.Write(t, fixture)
	tree, src := hashes(t, full, false)
	edited := testtree.Write(t, fixture)
	os.WriteFile(filepath.Join(edited, "test/chan.go"), []byte("package edited\n"), 0o644)
	got, _ := hashes(t, edited, false)
	var log strings.Builder
	r := &Resolver{Release: "go1.99.1", TreeHash: tree, SrcHash: src,
		HostGOROOT: func() (string, error) { return edited, nil },
		Download:   func(string, string) (string, error) { return "", errors.New("offline") },
		Log:        &log}
	if _, err := r.Resolve(); err == nil {
		t.Fatal("Resolve took an edited host tree")
	}
	if !strings.Contains(log.String(), got) || !strings.Contains(log.String(), tree) {
		t.Errorf("log does not name both hashes %s and %s:\n%s", got, tree, log.String())
	}
}

func TestImport(t *testing.T) {
	full := testtree.Write(t, fixture)
	mod := moduleForm(t, full)
	files, _ := Scan(mod, true)
	b := &Base{Release: "go1.99.1", Dir: mod, Files: files}
	dst := filepath.Join(t.TempDir(), "goroot")
	gen, err := b.Import(dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(gen) != 1 || gen[0] != "src/internal/buildcfg/zbootstrap.go" {
		t.Errorf("Import left out %v; want the dist-generated zbootstrap.go", gen)
	}
	for _, want := range []string{"src/go.mod", "src/cmd/go.mod", "go.env", "src/make.bash"} {
		if _, err := os.Stat(filepath.Join(dst, want)); err != nil {
			t.Errorf("imported tree lacks %s", want)
		}
	}
	// The module has no executable bits; a script (#!) gets one back, as
	// upstream's tree has it (./all.bash, lib/wasm/go_js_wasm_exec as the
	// go command's exec wrapper); other files do not.
	if fi, err := os.Stat(filepath.Join(dst, "src/make.bash")); err != nil || fi.Mode()&0o111 != 0o111 {
		t.Errorf("src/make.bash is not executable: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "src/go.mod")); err != nil || fi.Mode()&0o111 != 0 || fi.Mode()&0o200 == 0 {
		t.Errorf("src/go.mod: mode %v %v, want writable and not executable", fi.Mode(), err)
	}
	for _, gone := range []string{"bin/go", "src/_go.mod", "src/internal/buildcfg/zbootstrap.go"} {
		if _, err := os.Stat(filepath.Join(dst, gone)); err == nil {
			t.Errorf("imported tree has %s", gone)
		}
	}
}
