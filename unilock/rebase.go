package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/semver"

	"unilock/internal/base"
	"unilock/internal/fork"
	"unilock/internal/goroot"
	"unilock/internal/phase"
	"unilock/internal/rebase"
	"unilock/internal/review"
	"unilock/internal/series"
)

// download fetches a module for rebase; tests replace it.
var download = base.Download

func rebaseFork(env *Env) rebase.Fork {
	return rebase.Fork{Root: env.Root, Goroot: env.Goroot, Patches: env.Patches, State: env.State}
}

func runRebase(env *Env, args []string) error {
	fs := newFlags("rebase", "[-module | -from DIR] [-gerrit URL] goX.Y.Z | -continue | -skip | -abort | -check goX.Y.Z", `Move the fork to another upstream release, the way git rebase moves a branch.

unilock rebase goX.Y.Z fetches and verifies the release (-from DIR: a tree you have, checked
against the golang.org/toolchain module; else the installed Go when it is exactly that
release, else the module, checked by the checksum database), and re-applies patches/ one at
a time with 3-way merges in a trial tree, goroot.rebase/ (the release committed and tagged,
the old base tagged too, one commit per patch). A patch the release already holds is dropped.
For a dropped or conflicting patch, Go's Gerrit (-gerrit) is asked whether the release holds
the patch's CL, to say why; a Gerrit that cannot be reached only loses that reason.

When a patch conflicts, the rebase stops there: the conflict is in goroot.rebase/'s working
tree, the state in .unilock/rebase/. When the release holds the patch's CL, drop the patch
(-skip) rather than port it. Otherwise resolve it there (edit, git -C goroot.rebase add), then:
  -continue  commit the resolved patch (its message and author kept) and apply the rest
  -skip      leave the patch out of the series and apply the rest
  -abort     undo the rebase: remove goroot.rebase/ and .unilock/rebase/
An interrupted rebase is resumed with -continue, or undone with -abort.

When every patch is in, the new series is written to patches/, VERSION (goX.Y.Z-unilock.1)
and upstream.pin, and goroot/ is remade (a goroot/ holding work not in patches/ is moved
aside to goroot.discarded-DATE/, never deleted). Until then nothing of the fork is touched.

-check goX.Y.Z applies every patch in a scratch tree and reports each conflict, changing nothing.`)
	moduleOnly := fs.Bool("module", false, "take the golang.org/toolchain module even if the installed Go is that release")
	from := fs.String("from", "", "take the release from `DIR`, a git checkout at the release tag or an unpacked goX.Y.Z.src.tar.gz (full: api/ misc/ test/), verified against the toolchain module")
	cont := fs.Bool("continue", false, "commit the resolved patch in goroot.rebase/ and go on")
	skip := fs.Bool("skip", false, "leave the patch the rebase stopped at out of the series and go on")
	abort := fs.Bool("abort", false, "undo the rebase in progress")
	check := fs.Bool("check", false, "report every patch's conflicts with the release; change nothing")
	gerritURL := fs.String("gerrit", defaultGerrit, "the Gerrit at `URL` to ask why a patch drops or conflicts (\"\" asks none); -continue and -skip ask the one the rebase started with unless this is given")
	if err := fs.Parse(args); err != nil {
		return err
	}
	gerritSet := false
	fs.Visit(func(f *flag.Flag) { gerritSet = gerritSet || f.Name == "gerrit" })
	n := 0
	for _, b := range []bool{*cont, *skip, *abort, *check} {
		if b {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("-continue, -skip, -abort and -check go alone")
	}
	clock := phase.New(stdout)
	f := rebaseFork(env)
	o := rebase.Options{
		Out:     stdout,
		Phase:   clock.Phase,
		NewBase: newRebaseBase,
		Remake: func(j *rebase.Journal) error {
			env := *env
			env.From = j.From
			if j.From != "" {
				if err := rememberFrom(&env, j.Release, j.From); err != nil {
					return err
				}
			}
			_, err := materialise(&env, clock, true)
			return err
		},
		Upstream: rebaseUpstream(clock, *gerritURL, gerritSet),
	}
	switch {
	case *cont || *skip || *abort:
		if fs.NArg() > 0 || *from != "" || *moduleOnly {
			return fmt.Errorf("-continue, -skip and -abort take no release and no -from or -module: the rebase in progress has them")
		}
		var err error
		switch {
		case *cont:
			err = rebase.Continue(f, o)
		case *skip:
			err = rebase.Skip(f, o)
		default:
			err = rebase.Abort(f, o)
		}
		return stoppedHere(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("name the release to move to, like go1.26.11 (or go on with the rebase in progress: -continue, -skip, -abort)")
	}
	release := fs.Arg(0)
	if !strings.HasPrefix(release, "go") || !semver.IsValid("v"+strings.TrimPrefix(release, "go")) || strings.Contains(release, "-") {
		return fmt.Errorf("%q is not a Go release: want goX.Y.Z, like go1.26.11", release)
	}
	if *from != "" {
		abs, err := filepath.Abs(*from)
		if err != nil {
			return err
		}
		*from = abs
	}
	if j, err := rebase.Load(f); err != nil {
		return err
	} else if j != nil {
		return &rebase.InProgressError{Journal: j, Tool: "unilock/unilock.bash"}
	}
	id, err := fork.Load(env.Root)
	if err != nil {
		return err
	}
	if release == id.Release {
		return fmt.Errorf("the fork is already on %s", release)
	}
	t, _, _, err := currentSeries(env)
	if err != nil {
		return fmt.Errorf("%v\n(rebase re-applies patches/ onto the new release from goroot/'s base; it needs goroot/ to hold exactly patches/)", err)
	}
	ps, err := series.Load(env.Patches)
	if err != nil {
		return err
	}
	req := rebase.StartRequest{Release: release, From: *from, ModuleOnly: *moduleOnly, Gerrit: *gerritURL}
	if *check {
		return checkRebase(env, clock, t, ps, req)
	}
	clock.Phase("rebase %s from %s onto %s", plural(len(ps), "patch"), id.Release, release)
	return stoppedHere(rebase.Start(f, req, o))
}

// stoppedHere prints a stop at a conflict as the command's own report.
func stoppedHere(err error) error {
	var se *rebase.StoppedError
	if errors.As(err, &se) {
		fmt.Fprintf(stdout, "\n%s\n", se.Text)
		return fmt.Errorf("stopped at %s: resolve it in goroot.rebase/, then: unilock/unilock.bash rebase -continue (or -skip, -abort)", se.Journal.Current().Name)
	}
	return err
}

// rebaseUpstream asks Gerrit why a patch drops or conflicts, for the rebase
// in progress: the Gerrit the rebase started with, or the one -gerrit names
// when it is set. Once Gerrit cannot be reached it is not asked again.
func rebaseUpstream(clock *phase.Clock, url string, set bool) func(*rebase.Journal, series.Patch) string {
	down := false
	return func(j *rebase.Journal, p series.Patch) string {
		if !set {
			url = j.Gerrit
		}
		if down {
			return ""
		}
		reasons, err := upstreamReasons(url, []series.Patch{p}, []string{p.Name}, j.Release, clock)
		var ue *review.UnreachableError
		if errors.As(err, &ue) {
			down = true
		}
		return reasons[p.Name]
	}
}

// newRebaseBase resolves the new base of a rebase.
func newRebaseBase(j *rebase.Journal) (*base.Base, string, string, error) {
	if j.From != "" {
		return base.FromTree(j.From, j.Release, download, stdout)
	}
	return base.Unpinned(j.Release, j.ModuleOnly, download, stdout)
}

// checkRebase applies every patch to the release in a scratch tree and
// reports each conflict (after a conflict it goes on without the patch).
func checkRebase(env *Env, clock *phase.Clock, t goroot.Tree, ps []series.Patch, req rebase.StartRequest) error {
	b, _, src, err := newRebaseBase(&rebase.Journal{Release: req.Release, From: req.From, ModuleOnly: req.ModuleOnly})
	if err != nil {
		return err
	}
	clock.Phase("new base: %s (%d files), src %s", b.Source, len(b.Files), src)
	scratch := env.Goroot + ".rebase-check"
	defer os.RemoveAll(scratch)
	res, err := goroot.Rebase(goroot.RebaseRequest{Old: t, Patches: ps, NewBase: b, Dir: scratch, Phase: clock.Phase})
	if err != nil {
		return err
	}
	// Why a patch drops or conflicts: its CL may be in the release.
	var ask []string
	for _, p := range res.Patches {
		if p.Outcome == goroot.Dropped || p.Outcome == goroot.Failed {
			ask = append(ask, p.Patch)
		}
	}
	reasons, _ := upstreamReasons(req.Gerrit, ps, ask, req.Release, clock)
	fmt.Fprintf(stdout, "\n%-66s  %s\n", "patch", "on "+req.Release)
	for _, p := range res.Patches {
		fmt.Fprintf(stdout, "%-66s  %s\n", p.Patch, p.Outcome)
		for _, c := range p.Conflicts {
			fmt.Fprintf(stdout, "    %s: %s\n", c.File, strings.Join(c.Hunks, ", "))
		}
		if r, ok := reasons[p.Patch]; ok {
			if p.Outcome == goroot.Failed {
				r += ": drop this patch from the series rather than port it: unilock/unilock.bash rebase -skip when the rebase stops at it"
			}
			fmt.Fprintf(stdout, "    upstream: %s\n", r)
		}
		if p.AfterConflict {
			fmt.Fprintf(stdout, "    (may conflict only because an earlier patch did and was left out)\n")
		}
	}
	if !res.OK() {
		clock.Phase("the series does not apply to %s as it is; nothing was changed. Rebase and resolve each conflict: unilock/unilock.bash rebase %s", req.Release, req.Release)
		return nil
	}
	clock.Phase("every patch applies to %s; nothing was changed. Move the fork: unilock/unilock.bash rebase %s", req.Release, req.Release)
	return nil
}
