// Package dist ships the fork: for each port it builds the fork's
// distribution with upstream's distpack (goroot/src/make.bash -distpack,
// cross-compiled with GOOS and GOARCH set, as Go's release tooling does,
// from a clean export of goroot/'s HEAD), and lays the results out for a
// team to publish: the binary and source archives with a SHA256SUMS file,
// the golang.org/toolchain module files in GOPROXY layout, and a checksum
// database of the team's own that vouches for them (see sumdb.go).
package dist

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"unilock/internal/build"
)

// Port is a GOOS/GOARCH pair.
type Port struct{ GOOS, GOARCH string }

func (p Port) String() string { return p.GOOS + "/" + p.GOARCH }

// dash is the port as distpack writes it in file names: linux-amd64.
func (p Port) dash() string { return p.GOOS + "-" + p.GOARCH }

// recipe changes whenever the way a port is built changes, so that results
// of an older recipe are never reused.
const recipe = "make.bash -distpack v1"

// Builder builds the distribution of the fork at Goroot for one port at a
// time, and keeps each port's result under Work to reuse it.
type Builder struct {
	Goroot    string // the fork's tree, a git repository: its HEAD is built
	Work      string // the tool's directory for dist (.unilock/dist)
	Bootstrap string // GOROOT_BOOTSTRAP
	BootVer   string // its version, part of the reuse key
	LogDir    string // a log per port build
	Force     bool   // build even when a result for the same key exists
	Phase     func(format string, args ...any)
}

// Pack is what distpack made for one port.
type Pack struct {
	Port    Port
	Version string            // the toolchain version (go1.26.8-unilock.2)
	Dir     string            // where the files are
	Files   map[string]string // base name -> hex SHA-256
	Key     string
	Reused  bool
	Elapsed time.Duration
	Built   time.Duration // how long its build took (an earlier run's, when reused)
}

// Archive is the binary archive's base name.
func (p *Pack) Archive() string {
	ext := ".tar.gz"
	if p.Port.GOOS == "windows" {
		ext = ".zip"
	}
	return p.Version + "." + p.Port.dash() + ext
}

// Source is the source archive's base name.
func (p *Pack) Source() string { return p.Version + ".src.tar.gz" }

// ModVersion is the golang.org/toolchain module version.
func (p *Pack) ModVersion() string { return ModuleVersion(p.Version, p.Port) }

// expect lists the files distpack writes for the port.
func (p *Pack) expect() []string {
	mv := p.ModVersion()
	return []string{p.Archive(), p.Source(), mv + ".zip", mv + ".mod", mv + ".info"}
}

type stamp struct {
	Key     string
	Files   map[string]string
	Seconds float64 // how long the build took
}

// Head returns goroot/'s HEAD commit and whether its work tree has changes
// (which the build does not include).
func (b *Builder) Head() (string, bool, error) {
	out, err := gitOut(b.Goroot, "rev-parse", "HEAD")
	if err != nil {
		return "", false, err
	}
	st, err := gitOut(b.Goroot, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return "", false, err
	}
	return strings.TrimSpace(out), strings.TrimSpace(st) != "", nil
}

// Version is the toolchain version of goroot/'s HEAD, its VERSION file's
// first line.
func (b *Builder) Version() (string, error) {
	out, err := gitOut(b.Goroot, "show", "HEAD:VERSION")
	if err != nil {
		return "", fmt.Errorf("goroot/ has no committed VERSION (%v): run ./make.bash", err)
	}
	v, _, _ := strings.Cut(out, "\n")
	return strings.TrimSpace(v), nil
}

func gitOut(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("git -C %s %s: %v %s", dir, strings.Join(args, " "), err, msg)
	}
	return string(out), nil
}

// Key identifies what a port's build is made from: goroot/'s HEAD (which
// names the base, the series and VERSION), the port, the bootstrap and the
// recipe.
func (b *Builder) Key(head string, p Port) string {
	h := sha256.Sum256([]byte(strings.Join([]string{recipe, head, p.String(), b.BootVer}, "\n")))
	return hex.EncodeToString(h[:])[:16]
}

func (b *Builder) portDir(p Port) string {
	return filepath.Join(b.Work, "ports", p.dash())
}

// Reusable returns the port's earlier result when it was built from the same
// key and its files are intact.
func (b *Builder) Reusable(version, key string, p Port) (*Pack, bool) {
	dir := b.portDir(p)
	data, err := os.ReadFile(filepath.Join(dir, "stamp.json"))
	if err != nil {
		return nil, false
	}
	var st stamp
	if json.Unmarshal(data, &st) != nil || st.Key != key {
		return nil, false
	}
	pk := &Pack{Port: p, Version: version, Dir: dir, Files: st.Files, Key: key, Reused: true, Built: time.Duration(st.Seconds * float64(time.Second))}
	for _, name := range pk.expect() {
		sum, ok := st.Files[name]
		if !ok {
			return nil, false
		}
		if got, err := fileSHA256(filepath.Join(dir, name)); err != nil || got != sum {
			return nil, false
		}
	}
	return pk, true
}

// LastBuilt is how long the port's last build took, whatever it was built
// from; 0 when it was never built here.
func (b *Builder) LastBuilt(p Port) time.Duration {
	data, err := os.ReadFile(filepath.Join(b.portDir(p), "stamp.json"))
	if err != nil {
		return 0
	}
	var st stamp
	if json.Unmarshal(data, &st) != nil {
		return 0
	}
	return time.Duration(st.Seconds * float64(time.Second))
}

// Estimate is how long building ports will take: 0 for each port that will
// be reused, its last build's time for one built here before, and avg for
// the others. known is false when a port needs avg and avg is 0.
func Estimate(ports []Port, reused func(Port) bool, last func(Port) time.Duration, avg time.Duration) (d time.Duration, known bool) {
	known = true
	for _, p := range ports {
		switch {
		case reused(p):
		case last(p) > 0:
			d += last(p)
		case avg > 0:
			d += avg
		default:
			known = false
		}
	}
	return d, known
}

// Build builds port p's distribution, or reuses the one built from the same
// key.
func (b *Builder) Build(p Port, host Port) (*Pack, error) {
	start := time.Now()
	head, _, err := b.Head()
	if err != nil {
		return nil, err
	}
	version, err := b.Version()
	if err != nil {
		return nil, err
	}
	key := b.Key(head, p)
	if !b.Force {
		if pk, ok := b.Reusable(version, key, p); ok {
			pk.Elapsed = time.Since(start)
			return pk, nil
		}
	}
	tree := filepath.Join(b.Work, "tree")
	if err := os.RemoveAll(tree); err != nil {
		return nil, err
	}
	defer os.RemoveAll(tree)
	if err := os.MkdirAll(tree, 0o777); err != nil {
		return nil, err
	}
	b.Phase("%s: export goroot/ at %.12s", p, head)
	exp := exec.Command("sh", "-c", `git -C "$1" archive --format=tar HEAD | tar -x -C "$2"`, "sh", b.Goroot, tree)
	if out, err := exp.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("exporting goroot/ HEAD into %s: %v\n%s", tree, err, out)
	}
	if err := os.MkdirAll(b.LogDir, 0o777); err != nil {
		return nil, err
	}
	logPath := filepath.Join(b.LogDir, "dist-"+p.dash()+"-"+time.Now().UTC().Format("20060102-150405")+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cache, err := b.cache(head)
	if err != nil {
		return nil, err
	}
	// As gorebuild does: nothing from the caller's environment that would
	// change the binaries.
	env := []string{"CC=", "CC_FOR_TARGET=", "CGO_ENABLED=", "CXX=", "CXX_FOR_TARGET=", "GO386=", "GOAMD64=", "GOARM=", "GOARM64=",
		"GOMIPS=", "GOMIPS64=", "GOPPC64=", "GORISCV64=", "GOPATH=", "GO_EXTLINK_ENABLED=", "GO_GCFLAGS=", "GO_LDFLAGS=", "GO_LDSO=", "PKG_CONFIG="}
	var shown []string
	if p != host {
		shown = append(shown, "GOOS="+p.GOOS, "GOARCH="+p.GOARCH)
	}
	if p == (Port{"linux", "arm"}) {
		// As Go's release builds (linux-armv6l): GOARM=6.
		shown = append(shown, "GOARM=6")
	}
	env = append(env, shown...)
	b.Phase("%s: %s (log %s)", p, strings.TrimSpace(strings.Join(shown, " ")+" make.bash -distpack"), logPath)
	if err := build.MakeBashWith(tree, b.Bootstrap, cache, env, []string{"-distpack"}, logf, func(line string) { b.Phase("%s:   %s", p, line) }); err != nil {
		return nil, fmt.Errorf("%s: make.bash -distpack failed: %v\nlog: %s\nfix the cause and run unilock dist again", p, err, logPath)
	}
	pk := &Pack{Port: p, Version: version, Dir: b.portDir(p), Files: map[string]string{}, Key: key}
	made := filepath.Join(tree, "pkg", "distpack")
	if err := os.RemoveAll(pk.Dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(pk.Dir, 0o777); err != nil {
		return nil, err
	}
	for _, name := range pk.expect() {
		if err := os.Rename(filepath.Join(made, name), filepath.Join(pk.Dir, name)); err != nil {
			have, _ := os.ReadDir(made)
			var names []string
			for _, e := range have {
				names = append(names, e.Name())
			}
			return nil, fmt.Errorf("%s: distpack did not write %s (it wrote %s); log: %s", p, name, strings.Join(names, ", "), logPath)
		}
		sum, err := fileSHA256(filepath.Join(pk.Dir, name))
		if err != nil {
			return nil, err
		}
		pk.Files[name] = sum
	}
	pk.Built = time.Since(start)
	data, _ := json.MarshalIndent(stamp{Key: key, Files: pk.Files, Seconds: pk.Built.Seconds()}, "", "\t")
	if err := os.WriteFile(filepath.Join(pk.Dir, "stamp.json"), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	pk.Elapsed = time.Since(start)
	return pk, nil
}

// cache returns the build cache for builds of head: the go command keys its
// cache on a release toolchain's version string, which stays the same when
// goroot/ changes, so each HEAD gets its own (and -force a fresh one).
func (b *Builder) cache(head string) (string, error) {
	root := filepath.Join(b.Work, "gocache")
	dir := filepath.Join(root, head[:12])
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	for _, e := range entries {
		if e.Name() != head[:12] {
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}

// ResetCache removes the build caches, for a build from nothing.
func (b *Builder) ResetCache() error {
	return os.RemoveAll(filepath.Join(b.Work, "gocache"))
}

// Published is what Publish laid out.
type Published struct {
	Out      string
	Files    []string          // top-level files (archives, SHA256SUMS), sorted
	Sums     map[string]string // archive -> hex SHA-256
	Hashes   []ModHashes
	List     []string // every version in the proxy's list
	SumDB    *SumDB
	SumDBDir string // where its static files are
	Added    int    // records added to the checksum database
}

// Publish lays the packs out in out: the archives (and the source archive,
// from the first pack) with SHA256SUMS; the module files under
// golang.org/toolchain/@v/ with list; and the checksum database db, with the
// packs' records added, under sumdb/NAME/ (with a supported file, so that a
// go command with GOPROXY pointing at out finds it there).
func Publish(out string, packs []*Pack, db *SumDB) (*Published, error) {
	if len(packs) == 0 {
		return nil, fmt.Errorf("nothing to publish")
	}
	pub := &Published{Out: out, Sums: map[string]string{}, SumDB: db}
	src := packs[0].Source()
	for _, pk := range packs {
		if pk.Files[pk.Source()] != packs[0].Files[src] {
			return nil, fmt.Errorf("the source archives of %s and %s differ (%.12s, %.12s): distpack is not reproducible here; compare them in %s and %s",
				packs[0].Port, pk.Port, packs[0].Files[src], pk.Files[pk.Source()], packs[0].Dir, pk.Dir)
		}
	}
	copyIn := func(pk *Pack, name, dst string) error {
		return place(filepath.Join(pk.Dir, name), dst, pk.Files[name])
	}
	if err := copyIn(packs[0], src, filepath.Join(out, src)); err != nil {
		return nil, err
	}
	pub.Sums[src] = packs[0].Files[src]
	for _, pk := range packs {
		if err := copyIn(pk, pk.Archive(), filepath.Join(out, pk.Archive())); err != nil {
			return nil, err
		}
		pub.Sums[pk.Archive()] = pk.Files[pk.Archive()]
		mv := pk.ModVersion()
		for _, ext := range []string{".info", ".mod", ".zip"} {
			if err := copyIn(pk, mv+ext, filepath.Join(out, ProxyDir, mv+ext)); err != nil {
				return nil, err
			}
		}
		h, err := HashModule(mv, filepath.Join(pk.Dir, mv+".zip"), filepath.Join(pk.Dir, mv+".mod"))
		if err != nil {
			return nil, err
		}
		pub.Hashes = append(pub.Hashes, h)
	}
	if err := WriteSHA256SUMS(filepath.Join(out, "SHA256SUMS"), pub.Sums); err != nil {
		return nil, err
	}
	for name := range pub.Sums {
		pub.Files = append(pub.Files, name)
	}
	pub.Files = append(pub.Files, "SHA256SUMS")
	sort.Strings(pub.Files)
	var err error
	if pub.List, err = WriteList(out); err != nil {
		return nil, err
	}
	if db != nil {
		for _, h := range pub.Hashes {
			added, err := db.Add(Record(ModulePath, h.Version, h.Zip, h.Mod))
			if err != nil {
				return nil, err
			}
			if added {
				pub.Added++
			}
		}
		if err := db.Save(); err != nil {
			return nil, err
		}
		pub.SumDBDir = filepath.Join(out, "sumdb", db.Name)
		if err := db.WriteStatic(pub.SumDBDir); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(pub.SumDBDir, "supported"), nil, 0o644); err != nil {
			return nil, err
		}
	}
	return pub, nil
}
