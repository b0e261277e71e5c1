package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"unilock/internal/base"
	"unilock/internal/build"
	"unilock/internal/fork"
	"unilock/internal/goroot"
	"unilock/internal/phase"
	"unilock/internal/series"
)

func runMake(env *Env, args []string) error {
	fs := newFlags("make", "[--force]", "Materialise goroot/ from the verified base and patches/, then build it with goroot/src/make.bash.\nWith nothing changed since the last successful build it only says so.")
	force := fs.Bool("force", false, "discard edits and commits in goroot/ that are not in patches/")
	from := fromFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := setFrom(env, *from); err != nil {
		return err
	}
	clock := phase.New(stdout)
	out, err := materialise(env, clock, *force)
	if err != nil {
		return err
	}
	t := goroot.Tree{Dir: env.Goroot}
	st, err := t.LoadState()
	if err != nil {
		return err
	}
	key, err := buildKey(t)
	if err != nil {
		return err
	}
	if key != "" && st.Built == key {
		if v, err := goVersion(env.Goroot); err == nil {
			clock.Phase("goroot/ is up to date: %s (built from %.12s; nothing changed in patches/, upstream.pin or VERSION)", v, key)
			return nil
		}
	}
	if out == goroot.KeptWork {
		clock.Phase("goroot/ has work not yet in patches/; building it as it is (save it with: unilock extract)")
	}

	min, err := build.RequiredBootstrap(env.Goroot)
	if err != nil {
		return err
	}
	boot, err := build.FindBootstrap(build.Candidates(), min, env.Goroot)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(env.State, "log"), 0o777); err != nil {
		return err
	}
	logPath := filepath.Join(env.State, "log", "make-"+time.Now().UTC().Format("20060102-150405")+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	// A build that does not finish leaves no stamp: the next make.bash
	// builds again.
	st.Built = ""
	if err := t.SaveState(st); err != nil {
		return err
	}
	clock.Phase("build goroot/ with goroot/src/make.bash (bootstrap %s at %s, needs %s; log %s)", boot.Version, boot.Dir, min, rel(env, logPath))
	cache := build.BuildingCache(env.State)
	if err := os.RemoveAll(cache); err != nil {
		return err
	}
	if err := build.MakeBash(env.Goroot, boot.Dir, cache, logf, func(line string) { clock.Phase("  %s", line) }); err != nil {
		os.RemoveAll(cache)
		tail := tailFile(logPath, 25)
		return fmt.Errorf("goroot/src/make.bash failed: %v\nlast lines of the log:\n%s\nfull log: %s\nfix the cause and run ./make.bash again (it starts the build over)", err, tail, logPath)
	}
	v, err := goVersion(env.Goroot)
	if err != nil {
		return fmt.Errorf("make.bash succeeded but goroot/bin/go does not run: %v (log: %s)", err, logPath)
	}
	if key, err = buildKey(t); err != nil {
		return err
	}
	st.Built = key
	if err := t.SaveState(st); err != nil {
		return err
	}
	if err := keepCache(env, clock); err != nil {
		return err
	}
	clock.Phase("built: %s (%s)", v, filepath.Join(rel(env, env.Goroot), "bin", "go"))
	return nil
}

// keepCache makes the build cache make.bash wrote the new toolchain's own
// and removes the caches of toolchains this clone no longer has (an earlier
// build of goroot/); the upstream toolchain's is kept. Only the tool's caches
// under .unilock/gocache/ are touched, never go env GOCACHE.
func keepCache(env *Env, clock *phase.Clock) error {
	dir, err := build.KeepBuildCache(env.State, env.Goroot)
	if err != nil {
		return fmt.Errorf("keeping the build cache of the new toolchain: %v (nothing is lost: remove .unilock/gocache/ and run ./make.bash again)", err)
	}
	keep := []string{dir}
	if up, err := build.CacheDir(env.State, filepath.Join(env.State, "upstream")); err == nil {
		keep = append(keep, up)
	}
	removed, err := build.PruneCaches(env.State, keep...)
	if err != nil {
		return err
	}
	what := "kept"
	if len(removed) > 0 {
		what = fmt.Sprintf("removed %s of earlier builds", plural(len(removed), "stale cache"))
	}
	clock.Phase("build cache: %s, the tool's own (%s; go env GOCACHE is never used)", rel(env, dir), what)
	return nil
}

// buildKey identifies what a build of the tree is built from: its HEAD when
// the tree is clean, "" (never up to date) when it has uncommitted edits.
func buildKey(t goroot.Tree) (string, error) {
	dirty, err := t.Repo().Dirty()
	if err != nil || len(dirty) > 0 {
		return "", err
	}
	return t.Head()
}

func goVersion(goroot string) (string, error) {
	cmd := exec.Command(filepath.Join(goroot, "bin", "go"), "version")
	cmd.Env = append(os.Environ(), "GOROOT="+goroot, "GOTOOLCHAIN=local")
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

func runMaterialise(env *Env, args []string) error {
	fs := newFlags("materialise", "[--force]", "Make goroot/ from the verified base and patches/ without building it.")
	force := fs.Bool("force", false, "discard edits and commits in goroot/ that are not in patches/")
	from := fromFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := setFrom(env, *from); err != nil {
		return err
	}
	_, err := materialise(env, phase.New(stdout), *force)
	return err
}

// materialise brings goroot/ up to date with the base and series.
func materialise(env *Env, clock *phase.Clock, force bool) (goroot.Outcome, error) {
	id, err := fork.Load(env.Root)
	if err != nil {
		return 0, err
	}
	ps, err := series.Load(env.Patches)
	if err != nil {
		return 0, err
	}
	clock.Phase("fork %s: upstream %s + %s", id.Version, id.Release, plural(len(ps), "patch"))
	out, err := goroot.Materialise(goroot.Request{
		Tree:     goroot.Tree{Dir: env.Goroot},
		Identity: id,
		Patches:  ps,
		Base:     func() (*base.Base, error) { return resolver(env, id).Resolve() },
		Force:    force,
		Phase:    clock.Phase,
	})
	if err != nil {
		return 0, err
	}
	if env.From != "" && out == goroot.Made {
		if err := rememberFrom(env, id.Release, env.From); err != nil {
			return 0, err
		}
		clock.Phase("base taken from %s; later runs take it from there too (while it verifies)", env.From)
	}
	switch out {
	case goroot.Current:
		clock.Phase("goroot/ already holds this base and series")
	case goroot.Made:
		clock.Phase("goroot/ materialised")
	}
	if ls, err := leftovers(env); err == nil {
		for _, l := range ls {
			clock.Phase("note: %s", l)
		}
	}
	return out, nil
}

func runBase(env *Env, args []string) error {
	fs := newFlags("base", "[-module]", "Resolve the upstream base the pin names and verify its hash.")
	module := fs.Bool("module", false, "skip the host Go: fetch and verify the golang.org/toolchain module")
	from := fromFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := setFrom(env, *from); err != nil {
		return err
	}
	id, err := fork.Load(env.Root)
	if err != nil {
		return err
	}
	r := resolver(env, id)
	if *module {
		r.From = ""
	}
	r.ModuleOnly = *module
	b, err := r.Resolve()
	if err != nil {
		return err
	}
	partial := "full tree"
	if b.Partial {
		partial = "partial: no api/ misc/ test/ doc/"
	}
	fmt.Fprintf(stdout, "base %s from %s\n%d files, %s\nverified %s\n", b.Release, b.Source, len(b.Files), partial, b.Hash)
	return nil
}

func runPin(env *Env, args []string) error {
	fs := newFlags("pin", "[GOROOT | -from DIR | -module]", "Pin the full Go tree at GOROOT (default: go env GOROOT), of the release VERSION names,\nas the upstream base: writes upstream.pin. Check the tree is a pristine release first.\nWith -from DIR the tree (a git checkout at the release tag, or an unpacked source archive)\nis verified first: every file it shares with the golang.org/toolchain module must be the module's.\nWith -module the pin is the golang.org/toolchain module of the release, as the checksum\ndatabase vouches for it (no full tree: tree none).")
	from := fs.String("from", "", "verify the tree at `DIR` against the golang.org/toolchain module, then pin it")
	module := fs.Bool("module", false, "pin the golang.org/toolchain module of the release (go mod download checks it against the checksum database)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from != "" {
		return pinFrom(env, *from)
	}
	if *module {
		return pinModule(env)
	}
	id, err := readVersion(env)
	if err != nil {
		return err
	}
	dir := fs.Arg(0)
	if dir == "" {
		if dir, err = base.HostGOROOT(); err != nil {
			return err
		}
	}
	files, err := base.Scan(dir, false)
	if err != nil {
		return err
	}
	if base.Partial(files) {
		return fmt.Errorf("%s has no test/ directory: pin a full Go distribution", dir)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "VERSION"))
	if got, _, _ := strings.Cut(string(data), "\n"); strings.TrimSpace(got) != id.Release {
		return fmt.Errorf("%s is %q, VERSION wants %s", dir, strings.TrimSpace(got), id.Release)
	}
	tree, err := base.TreeHash(files)
	if err != nil {
		return err
	}
	src, err := base.SrcHash(files)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(env.Root, fork.PinFile), fork.FormatPin(id.Release, tree, src), 0o666); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pinned %s from %s\ntree %s\nsrc  %s\n", id.Release, dir, tree, src)
	return nil
}

// readVersion reads VERSION, for the pin commands, which need the release
// before upstream.pin can be trusted to name it.
func readVersion(env *Env) (*fork.Identity, error) {
	v, err := os.ReadFile(filepath.Join(env.Root, fork.VersionFile))
	if err != nil {
		return nil, err
	}
	return fork.ParseVersion(string(v))
}

// pinFrom verifies a tree the user has against the toolchain module and pins
// it: tree, its own hash; src, the module's.
func pinFrom(env *Env, dir string) error {
	id, err := readVersion(env)
	if err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	b, tree, src, err := base.FromTree(dir, id.Release, download, stdout)
	if err != nil {
		return err
	}
	if b.Partial {
		return fmt.Errorf("%s has no test/ directory: pin a full tree (or leave the pin to the module: unilock rebase)", dir)
	}
	if err := os.WriteFile(filepath.Join(env.Root, fork.PinFile), fork.FormatPin(id.Release, tree, src), 0o666); err != nil {
		return err
	}
	if err := rememberFrom(env, id.Release, dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pinned %s from %s (verified against the module)\ntree %s\nsrc  %s\n", id.Release, dir, tree, src)
	return nil
}

// pinModule pins the toolchain module of VERSION's release: its src hash, and
// no tree. It says what the pin held before.
func pinModule(env *Env) error {
	id, err := readVersion(env)
	if err != nil {
		return err
	}
	b, err := base.FromModule(id.Release, download, stdout)
	if err != nil {
		return err
	}
	pinPath := filepath.Join(env.Root, fork.PinFile)
	tree := base.NoTree
	if old, err := os.ReadFile(pinPath); err == nil {
		release, oldTree, oldSrc, err := fork.ParsePin(old)
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "%s was unreadable (%v): replacing it\n", fork.PinFile, err)
		case release == id.Release && oldSrc == b.Hash:
			fmt.Fprintf(stdout, "%s already pins %s: src %s; nothing to do\n", fork.PinFile, b.Source, b.Hash)
			return nil
		default:
			fmt.Fprintf(stdout, "%s pinned %s, src %s, tree %s\n", fork.PinFile, release, oldSrc, oldTree)
		}
	}
	if err := os.WriteFile(pinPath, fork.FormatPin(id.Release, tree, b.Hash), 0o666); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pinned %s from %s (%d files, no api/ misc/ test/ doc/)\ntree %s\nsrc  %s\n", id.Release, b.Source, len(b.Files), tree, b.Hash)
	return nil
}

func rel(env *Env, path string) string {
	if r, err := filepath.Rel(env.Root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\t" + strings.Join(lines, "\n\t")
}

func runOutput(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
