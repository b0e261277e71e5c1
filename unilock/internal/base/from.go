package base

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// A full base from a tree the user has: a git checkout of go.googlesource.com/go
// at the release tag, or an unpacked goX.Y.Z.src.tar.gz. Such a tree carries
// api/, misc/, test/ and doc/, which the golang.org/toolchain module lacks, so
// the whole test suite can run on it. It is trusted only as far as it matches
// the module: the files both carry must be the same, byte for byte.

// notDistributed are the files of a Go tree that no distribution carries
// (cmd/distpack leaves them out): git's own files and build debris.
var notDistributed = []string{
	".git", ".git/**", ".gitattributes", ".github/**", ".gitignore", "VERSION.cache",
	"**/.DS_Store", "**/*.exe~", "src/cmd/dist/dist", "src/cmd/dist/dist.exe",
}

// distGeneratedNames are the files cmd/dist writes during a build, which the
// source distribution and a git checkout lack and a binary distribution (and
// so the module) has. Most start with DistGenerated; the names cover the
// rest (see cmd/distpack).
var distGeneratedNames = map[string]bool{
	"src/cmd/go/internal/cfg/zdefaultcc.go": true,
	"src/go/build/zcgo.go":                  true,
	"src/internal/runtime/sys/zversion.go":  true,
	"src/runtime/internal/sys/zversion.go":  true,
	"src/time/tzdata/zzipdata.go":           true,
	"src/cmd/cgo/zdefaultcc.go":             true,
	"src/cmd/internal/objabi/zbootstrap.go": true,
	"src/internal/buildcfg/zbootstrap.go":   true,
	"src/cmd/go/internal/cfg/zosarch.go":    true,
}

func match(pattern, name string) bool {
	if rest, ok := strings.CutPrefix(pattern, "**/"); ok {
		ok, _ := path.Match(rest, path.Base(name))
		return ok
	}
	if dir, ok := strings.CutSuffix(pattern, "/**"); ok {
		return strings.HasPrefix(name, dir+"/")
	}
	return pattern == name
}

// distributed reports whether a distribution carries the file name.
func distributed(name string) bool {
	for _, p := range notDistributed {
		if match(p, name) {
			return false
		}
	}
	return true
}

// distGenerated reports whether f is a file cmd/dist writes during a build.
func distGenerated(f File) bool {
	if distGeneratedNames[f.Name] {
		return true
	}
	file, err := os.Open(f.Path)
	if err != nil {
		return false
	}
	defer file.Close()
	head := make([]byte, len(DistGenerated)+1)
	n, _ := io.ReadFull(file, head)
	return bytes.Equal(head[:n], []byte(DistGenerated+"\n"))
}

// ScanTree lists the files of a tree the user has, as a distribution would
// carry them: Scan's files without git's files, build debris or the files
// cmd/dist generates during a build (a built checkout is the same base as a
// fresh one).
func ScanTree(dir string) ([]File, error) {
	files, err := Scan(dir, false)
	if err != nil {
		return nil, err
	}
	var out []File
	for _, f := range files {
		if distributed(f.Name) && !distGenerated(f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// common returns the files of files that both a user's tree and the module
// carry: none under api/ misc/ test/ doc/, none cmd/dist generates.
func common(files []File) []File {
	var out []File
	for _, f := range files {
		if !inPartialDir(f.Name) && distributed(f.Name) && !distGenerated(f) {
			out = append(out, f)
		}
	}
	return out
}

// MismatchError is the refusal of a tree whose src/ differs from the module.
type MismatchError struct {
	Dir, Module string // the tree, and module@version
	Tree, Want  string // the hash of the files both carry: in Dir, in the module
	Differ      []string
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s does not match %s: refusing it as the base\n", e.Dir, e.Module)
	fmt.Fprintf(&b, "\tthe files both carry (all but api/ misc/ test/ doc/ and what cmd/dist generates) hash to\n")
	fmt.Fprintf(&b, "\t%s in %s\n\t%s in the module (checked by the checksum database)\n", e.Tree, e.Dir, e.Want)
	if len(e.Differ) > 0 {
		n := fmt.Sprintf("%d files differ", len(e.Differ))
		if len(e.Differ) == 1 {
			n = "1 file differs"
		}
		fmt.Fprintf(&b, "%s:\n", n)
		for i, d := range e.Differ {
			if i == 10 {
				fmt.Fprintf(&b, "\t... and %d more\n", len(e.Differ)-10)
				break
			}
			fmt.Fprintf(&b, "\t%s\n", d)
		}
	}
	fmt.Fprintf(&b, "use a pristine tree of the release (git -C %s status; git -C %s checkout <release tag>, or unpack goX.Y.Z.src.tar.gz again), or leave -from out to take the module", e.Dir, e.Dir)
	return b.String()
}

// FromTree verifies the tree at dir, which a user has, as release: its
// VERSION must name the release, and every file it shares with the
// golang.org/toolchain module for the release (fetched with download and so
// checked by the checksum database) must be the module's, byte for byte.
// It returns the base and the hashes to pin: tree is the hash of dir's
// files as ScanTree lists them, src the module's src hash (so the module
// still qualifies as the base where dir is not at hand).
func FromTree(dir, release string, download func(path, version string) (string, error), log io.Writer) (b *Base, tree, src string, err error) {
	if v := releaseOf(dir); v != release {
		return nil, "", "", fmt.Errorf("%s is %s, not %s: name a tree of %s (a git checkout at tag %s, or an unpacked %s.src.tar.gz)", dir, orNone(v), release, release, release, release)
	}
	files, err := ScanTree(dir)
	if err != nil {
		return nil, "", "", err
	}
	if download == nil {
		download = Download
	}
	vers := ModuleVersion(release)
	fmt.Fprintf(log, "base: verifying %s against %s@%s (checked by the checksum database)\n", dir, ModulePath, vers)
	mdir, err := download(ModulePath, vers)
	if err != nil {
		return nil, "", "", fmt.Errorf("cannot verify %s: %v (the module proxy must be reachable once to verify a tree; it is cached after)", dir, err)
	}
	if v := releaseOf(mdir); v != release {
		return nil, "", "", fmt.Errorf("%s@%s has VERSION %q, want %s", ModulePath, vers, v, release)
	}
	mfiles, err := Scan(mdir, true)
	if err != nil {
		return nil, "", "", err
	}
	if err := sameFiles(dir, ModulePath+"@"+vers, common(files), common(mfiles)); err != nil {
		return nil, "", "", err
	}
	if tree, err = TreeHash(files); err != nil {
		return nil, "", "", err
	}
	if src, err = SrcHash(mfiles); err != nil {
		return nil, "", "", err
	}
	return &Base{Release: release, Dir: dir, Source: "tree at " + dir + ", verified against " + ModulePath + "@" + vers, Partial: Partial(files), Files: files, Hash: tree}, tree, src, nil
}

// sameFiles compares the hashes of two lists of files, naming the files that
// differ when they do not match.
func sameFiles(dir, module string, have, want []File) error {
	h, err := TreeHash(have)
	if err != nil {
		return err
	}
	w, err := TreeHash(want)
	if err != nil {
		return err
	}
	if h == w {
		return nil
	}
	e := &MismatchError{Dir: dir, Module: module, Tree: h, Want: w}
	byName := map[string]File{}
	for _, f := range want {
		byName[f.Name] = f
	}
	for _, f := range have {
		m, ok := byName[f.Name]
		delete(byName, f.Name)
		if !ok {
			e.Differ = append(e.Differ, f.Name+" (not in the module)")
			continue
		}
		a, _ := os.ReadFile(f.Path)
		c, _ := os.ReadFile(m.Path)
		if !bytes.Equal(a, c) {
			e.Differ = append(e.Differ, f.Name+" (changed)")
		}
	}
	for name := range byName {
		e.Differ = append(e.Differ, name+" (missing)")
	}
	sort.Strings(e.Differ)
	return e
}

// fromTree takes the tree the resolver names in From, verified against the
// pin: its tree hash, or else the module's files (whose src hash must be the
// pinned one).
func (r *Resolver) fromTree() (*Base, error) {
	if v := releaseOf(r.From); v != r.Release {
		return nil, fmt.Errorf("%s is %s, the pin wants %s", r.From, orNone(v), r.Release)
	}
	files, err := ScanTree(r.From)
	if err != nil {
		return nil, err
	}
	h, err := TreeHash(files)
	if err != nil {
		return nil, err
	}
	if h == r.TreeHash {
		return &Base{Release: r.Release, Dir: r.From, Source: "tree at " + r.From, Partial: Partial(files), Files: files, Hash: h}, nil
	}
	b, _, src, err := FromTree(r.From, r.Release, r.Download, r.logw())
	if err != nil {
		return nil, err
	}
	if src != r.SrcHash {
		return nil, fmt.Errorf("%s matches %s, but that module's src hash is %s and upstream.pin pins %s", r.From, b.Source, src, r.SrcHash)
	}
	return b, nil
}
