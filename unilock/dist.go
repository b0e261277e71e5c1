package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"unilock/internal/build"
	"unilock/internal/dist"
	"unilock/internal/emu"
	"unilock/internal/phase"
	"unilock/internal/ports"
	"unilock/internal/statelock"
	"unilock/internal/tiers"
)

// distOpts are the flags of unilock dist.
type distOpts struct {
	ports    string
	out      string
	sumdb    string
	sumdbNam string
	force    bool
	run      bool
}

func runDist(env *Env, args []string) error {
	fs := newFlags("dist", "[-ports LIST] [-out DIR]", `Ship the fork: build its distribution with upstream's distpack (make.bash -distpack, from a
clean export of goroot/'s HEAD; cross-compiled with GOOS and GOARCH for ports other than the
host) for the host and each port, and lay it out in -out:
  VERSION.GOOS-GOARCH.tar.gz (.zip for windows), VERSION.src.tar.gz, SHA256SUMS   (VERSION: goroot/VERSION, e.g. go1.27.4-unilock.3)
  golang.org/toolchain/@v/{list,*.info,*.mod,*.zip}   GOPROXY layout: copy onto a module proxy or use as file://
  sumdb/NAME/                                         the team's checksum database for those modules
A port already built from the same goroot/ HEAD, bootstrap and port is reused.
See README.md, "Shipping the fork".`)
	o := &distOpts{}
	fs.StringVar(&o.ports, "ports", "", "comma-separated ports or patterns (linux/arm64,windows/*); default: the first-class ports of go tool dist list; the host is always built")
	fs.StringVar(&o.out, "out", "", "where to lay the distribution out (default .unilock/dist/out)")
	fs.StringVar(&o.sumdb, "sumdb", "", "the checksum database's directory: its signing key and append-only log; keep it (default .unilock/dist/sumdb)")
	fs.StringVar(&o.sumdbNam, "sumdb-name", dist.DefaultSumDBName, "the checksum database's name, when -sumdb does not hold one yet")
	fs.BoolVar(&o.force, "force", false, "build every port again, with an empty build cache")
	fs.BoolVar(&o.run, "run", true, "unpack each archive and run its go version where this machine can (natively, qemu-user, Wine)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (ports go in -ports: -ports %s)", fs.Args(), strings.Join(fs.Args(), ","))
	}
	work := filepath.Join(env.State, "dist")
	if o.out == "" {
		o.out = filepath.Join(work, "out")
	}
	if o.sumdb == "" {
		o.sumdb = filepath.Join(work, "sumdb")
	}
	clock := phase.New(stdout)
	pub, err := distBuild(env, clock, o)
	if err != nil {
		return err
	}
	printPublished(env, pub)
	return nil
}

// distBuild builds and lays out the distribution o asks for. It holds the
// locks of the tool's dist directory (its build tree, the ports' results)
// and of the checksum database (its append-only log) while it works: a
// second unilock dist in the same clone, or one of another clone on the
// same -sumdb, stops and says who holds them.
func distBuild(env *Env, clock *phase.Clock, o *distOpts) (*dist.Published, error) {
	work := filepath.Join(env.State, "dist")
	lk, err := statelock.Acquire(work, "unilock dist")
	if err != nil {
		return nil, err
	}
	defer lk.Release()
	if err := os.MkdirAll(o.sumdb, 0o700); err != nil {
		return nil, err
	}
	if abs, wabs := absPath(o.sumdb), absPath(work); !strings.HasPrefix(abs+string(filepath.Separator), wabs+string(filepath.Separator)) {
		lk, err := statelock.Acquire(o.sumdb, "unilock dist")
		if err != nil {
			return nil, err
		}
		defer lk.Release()
	}
	host := dist.Port{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	sel, err := distPorts(env, o.ports, host)
	if err != nil {
		return nil, err
	}
	min, err := build.RequiredBootstrap(env.Goroot)
	if err != nil {
		return nil, fmt.Errorf("%v (materialise goroot/: ./make.bash)", err)
	}
	boot, err := build.FindBootstrap(build.Candidates(), min, env.Goroot)
	if err != nil {
		return nil, err
	}
	b := &dist.Builder{
		Goroot: env.Goroot, Work: work, Bootstrap: boot.Dir, BootVer: boot.Version,
		LogDir: filepath.Join(env.State, "log"), Force: o.force, Phase: clock.Phase,
	}
	head, dirty, err := b.Head()
	if err != nil {
		return nil, fmt.Errorf("%v (materialise goroot/: ./make.bash)", err)
	}
	version, err := b.Version()
	if err != nil {
		return nil, err
	}
	if dirty {
		clock.Phase("goroot/ has uncommitted changes: they are not shipped, only its HEAD %.12s is (commit them and unilock extract to ship them)", head)
	}
	var names []string
	for _, p := range sel {
		names = append(names, p.String())
	}
	clock.Phase("dist %s (goroot/ HEAD %.12s, bootstrap %s) for %s: %s", version, head, boot.Version, plural(len(sel), "port"), strings.Join(names, " "))
	if o.force {
		if err := b.ResetCache(); err != nil {
			return nil, err
		}
	}
	// What the estimate of the time left knows: which ports will be
	// reused, how long each took last time, and the ports built so far.
	reused := map[dist.Port]bool{}
	last := map[dist.Port]time.Duration{}
	for _, p := range sel {
		if !o.force {
			_, reused[p] = b.Reusable(version, b.Key(head, p), p)
		}
		last[p] = b.LastBuilt(p)
	}
	var packs []*dist.Pack
	var built time.Duration
	nbuilt := 0
	for i, p := range sel {
		if !reused[p] {
			var avg time.Duration
			if nbuilt > 0 {
				avg = built / time.Duration(nbuilt)
			}
			est := "no estimate until a port has been built here"
			if d, ok := dist.Estimate(sel[i:], func(p dist.Port) bool { return reused[p] }, func(p dist.Port) time.Duration { return last[p] }, avg); ok {
				est = "about " + phase.Format(d) + " left for this and the ports after it"
			}
			clock.Phase("port %d/%d %s: building; %s", i+1, len(sel), p, est)
		}
		pk, err := b.Build(p, host)
		if err != nil {
			return nil, err
		}
		if !pk.Reused {
			built += pk.Built
			nbuilt++
		}
		what := "built"
		if pk.Reused {
			what = fmt.Sprintf("reused (same HEAD, bootstrap and port; its build took %s)", phase.Format(pk.Built))
		}
		clock.Phase("port %d/%d %-14s %s in %s: %s %s", i+1, len(sel), p, what, phase.Format(pk.Elapsed), pk.Archive(), size(filepath.Join(pk.Dir, pk.Archive())))
		packs = append(packs, pk)
	}
	db, err := dist.OpenSumDB(o.sumdb, o.sumdbNam)
	if err != nil {
		return nil, err
	}
	clock.Phase("lay out %s", rel(env, o.out))
	pub, err := dist.Publish(o.out, packs, db)
	if err != nil {
		return nil, err
	}
	clock.Phase("done: %s, %d new checksum database records (%d in all)", plural(len(packs), "port"), pub.Added, db.Size())
	if o.run {
		runArchives(env, clock, pub, packs, host)
	}
	return pub, nil
}

// runArchives unpacks each port's binary archive from the layout and runs
// its go version where this machine can execute the port: natively, under
// qemu-user or under Wine (unilock emulators -install installs them). It
// only reports: a port that cannot run here is no failure of the build.
func runArchives(env *Env, clock *phase.Clock, pub *dist.Published, packs []*dist.Pack, host dist.Port) {
	eh := emu.NewHost(host.GOOS, host.GOARCH, env.Goroot, env.State)
	wrappers := filepath.Join(env.State, "exec", "dist")
	for _, pk := range packs {
		r := emu.For(eh, pk.Port.GOOS, pk.Port.GOARCH)
		if !r.Ready() {
			clock.Phase("run %-14s not here: %s", pk.Port, r.Why())
			continue
		}
		if r.Setup != nil {
			if err := r.Setup(); err != nil {
				clock.Phase("run %-14s setting up %s: %v", pk.Port, r.How, err)
				continue
			}
		}
		dir := filepath.Join(env.State, "dist", "run", pk.Port.GOOS+"-"+pk.Port.GOARCH)
		if err := os.RemoveAll(dir); err != nil {
			clock.Phase("run %-14s: %v", pk.Port, err)
			continue
		}
		if err := dist.Unpack(filepath.Join(pub.Out, pk.Archive()), dir); err != nil {
			clock.Phase("run %-14s unpacking: %v", pk.Port, err)
			continue
		}
		exe := filepath.Join(dir, "go", "bin", "go")
		if pk.Port.GOOS == "windows" {
			exe += ".exe"
		}
		args := []string{exe, "version"}
		if err := emu.WriteWrapper(wrappers, pk.Port.GOOS, pk.Port.GOARCH, r); err != nil {
			clock.Phase("run %-14s: %v", pk.Port, err)
			continue
		}
		if r.Wrapper != "" {
			args = append([]string{filepath.Join(wrappers, emu.WrapperName(pk.Port.GOOS, pk.Port.GOARCH))}, args...)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOROOT=")
		out, err := cmd.CombinedOutput()
		how := r.How
		if how == "" || how == "native" {
			how = "natively"
		} else {
			how = "under " + how
		}
		if err != nil {
			clock.Phase("run %-14s %s: go version: %v: %s", pk.Port, how, err, strings.TrimSpace(string(out)))
			continue
		}
		clock.Phase("run %-14s %s: %s", pk.Port, how, strings.TrimSpace(string(out)))
	}
}

// distPorts returns the host and the ports patterns names (default: the
// first-class ports), the host first.
func distPorts(env *Env, patterns string, host dist.Port) ([]dist.Port, error) {
	gobin := filepath.Join(env.Goroot, "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		// Not built yet: the bootstrap's list names the same ports.
		gobin = "go"
	}
	list := exec.Command(gobin, "tool", "dist", "list", "-json")
	list.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if gobin != "go" {
		list.Env = append(list.Env, build.CacheEnv(env.State, env.Goroot)...)
	}
	out, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("%s tool dist list -json: %v (rebuild the fork: ./make.bash)", gobin, err)
	}
	all, err := ports.Parse(out)
	if err != nil {
		return nil, err
	}
	var sel []ports.Port
	if patterns == "" {
		for _, p := range all {
			if p.FirstClass {
				sel = append(sel, p)
			}
		}
	} else if sel, err = ports.Select(all, strings.ReplaceAll(patterns, "host", host.String())); err != nil {
		return nil, err
	}
	res := []dist.Port{host}
	for _, p := range sel {
		if d := (dist.Port{GOOS: p.GOOS, GOARCH: p.GOARCH}); d != host {
			res = append(res, d)
		}
	}
	return res, nil
}

func size(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f MB", float64(fi.Size())/1e6)
}

func printPublished(env *Env, pub *dist.Published) {
	fmt.Fprintf(stdout, "\n%s:\n", rel(env, pub.Out))
	for _, f := range pub.Files {
		fmt.Fprintf(stdout, "  %-45s %10s  %s\n", f, size(filepath.Join(pub.Out, f)), pub.Sums[f])
	}
	fmt.Fprintf(stdout, "  %s/: list (%d versions)\n", filepath.ToSlash(dist.ProxyDir), len(pub.List))
	for _, h := range pub.Hashes {
		fmt.Fprintf(stdout, "    %s.zip %s\n", h.Version, size(filepath.Join(pub.Out, dist.ProxyDir, h.Version+".zip")))
	}
	if pub.SumDB != nil {
		fmt.Fprintf(stdout, "  sumdb/%s/: the checksum database (log and signing key: %s)\n", pub.SumDB.Name, rel(env, pub.SumDB.Dir))
	}
	fmt.Fprintf(stdout, "\nh1: hashes (dirhash) the team's checksum database signs:\n")
	for _, h := range pub.Hashes {
		fmt.Fprintf(stdout, "  %s\n", indentLines(h.GoSumLines(), "  "))
	}
	if pub.SumDB != nil {
		fmt.Fprintf(stdout, "\nA developer picks the fork up with (see README.md, \"Shipping the fork\"):\n")
		fmt.Fprintf(stdout, "  GOPROXY=file://%s GOSUMDB=%s GOTOOLCHAIN=%s+auto go version\n",
			filepath.ToSlash(absPath(pub.Out)), pub.SumDB.VerifierKey(), versionOf(pub))
	}
}

func versionOf(pub *dist.Published) string {
	if len(pub.Hashes) == 0 {
		return ""
	}
	v := strings.TrimPrefix(pub.Hashes[0].Version, "v0.0.1-")
	if i := strings.LastIndex(v, "."); i >= 0 {
		v = v[:i]
	}
	return v
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// distTier is the tier that builds the host's distribution with unilock
// dist (reused when goroot/ did not change) and runs the end-to-end
// toolchain switch test on it: minutes for the first build, so it runs only
// when named.
const distTier = "dist"

// distResult runs the dist tier: unilock dist -ports host into
// .unilock/dist/tier/, then TestToolchainSwitch of internal/dist on it.
func distResult(env *Env, clock *phase.Clock, logf io.Writer) tiers.Result {
	o := &distOpts{ports: "host", out: filepath.Join(env.State, "dist", "tier"), sumdb: filepath.Join(env.State, "dist", "sumdb"), sumdbNam: dist.DefaultSumDBName}
	pub, err := distBuild(env, clock, o)
	if err != nil {
		return tiers.Result{Tier: distTier, Err: err}
	}
	t := tiers.Tier{
		Name: distTier, Dir: filepath.Join(env.Root, "unilock"),
		Cmd: []string{"go", "test", "-json", "-count=1", "-v", "-timeout=30m", "-run", "^TestToolchainSwitch$", "./internal/dist"},
		Env: []string{"GOTOOLCHAIN=local", "UNILOCK_DIST_OUT=" + pub.Out, "UNILOCK_DIST_VERSION=" + versionOf(pub), "UNILOCK_DIST_VKEY=" + pub.SumDB.VerifierKey()},
	}
	return tiers.Run(t, stdout, logf)
}
