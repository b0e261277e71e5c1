package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/semver"

	"unilock/internal/base"
	"unilock/internal/fork"
	"unilock/internal/goroot"
	"unilock/internal/phase"
	"unilock/internal/series"
)

// download fetches a module for rebase; tests replace it.
var download = base.Download

func runRebase(env *Env, args []string) error {
	fs := newFlags("rebase", "[-module] [-gerrit URL] goX.Y.Z", `Move the fork to another upstream release: fetch and verify it (the installed Go when it is
exactly that release, otherwise the golang.org/toolchain module, checked by the checksum
database), re-apply patches/ to it with 3-way merges in a trial tree (goroot.rebase/), and,
when every patch applies, write the new patches/, VERSION (goX.Y.Z-unilock.1) and
upstream.pin and remake goroot/. A patch whose change the release already holds is dropped;
for a dropped or conflicting patch, Go's Gerrit (-gerrit) is asked whether the release
holds the patch's CL, to say why. A Gerrit that cannot be reached only loses that reason.

When a patch conflicts, nothing changes: patches/, VERSION, upstream.pin and goroot/ stay as
they were, and the report names each conflicting patch, file and hunk.`)
	moduleOnly := fs.Bool("module", false, "take the golang.org/toolchain module even if the installed Go is that release")
	gerritURL := fs.String("gerrit", defaultGerrit, "the Gerrit to ask why a patch drops or conflicts (\"\" asks none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("name the release to move to, like go1.26.11")
	}
	release := fs.Arg(0)
	if !strings.HasPrefix(release, "go") || !semver.IsValid("v"+strings.TrimPrefix(release, "go")) || strings.Contains(release, "-") {
		return fmt.Errorf("%q is not a Go release: want goX.Y.Z, like go1.26.11", release)
	}
	id, err := fork.Load(env.Root)
	if err != nil {
		return err
	}
	if release == id.Release {
		return fmt.Errorf("the fork is already on %s", release)
	}
	clock := phase.New(stdout)
	t, _, _, err := currentSeries(env)
	if err != nil {
		return fmt.Errorf("%v\n(rebase re-applies patches/ onto the new release from goroot/'s base; it needs goroot/ to hold exactly patches/)", err)
	}
	ps, err := series.Load(env.Patches)
	if err != nil {
		return err
	}
	clock.Phase("rebase %s from %s onto %s", plural(len(ps), "patch"), id.Release, release)
	b, tree, src, err := base.Unpinned(release, *moduleOnly, download, stdout)
	if err != nil {
		return err
	}
	partial := ""
	if b.Partial {
		partial = ", partial: no api/ misc/ test/ doc/"
	}
	clock.Phase("new base: %s (%d files%s), src %s", b.Source, len(b.Files), partial, src)

	trial := env.Goroot + ".rebase"
	res, err := goroot.Rebase(goroot.RebaseRequest{Old: t, Patches: ps, NewBase: b, Dir: trial, Phase: clock.Phase})
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
	reasons := upstreamReasons(*gerritURL, ps, ask, release, clock)
	fmt.Fprintf(stdout, "\n%-66s  %s\n", "patch", "on "+release)
	for _, p := range res.Patches {
		fmt.Fprintf(stdout, "%-66s  %s\n", p.Patch, p.Outcome)
		for _, c := range p.Conflicts {
			fmt.Fprintf(stdout, "    %s: %s\n", c.File, strings.Join(c.Hunks, ", "))
		}
		if r, ok := reasons[p.Patch]; ok && p.Outcome == goroot.Failed {
			fmt.Fprintf(stdout, "    upstream: %s: drop this patch from the series rather than port it\n", r)
		}
		if p.AfterConflict {
			fmt.Fprintf(stdout, "    (may conflict only because an earlier patch did and was left out)\n")
		}
	}
	if !res.OK() {
		return fmt.Errorf(`the series does not apply to %s; nothing was changed: patches/, VERSION, upstream.pin and goroot/ are as they were.
The trial tree is %s: the patches before each conflict are applied there (git -C %s log --oneline %.12s..).
To move anyway: in goroot/, remake each conflicting patch so that it applies (or splits the change as %s needs),
extract it (unilock extract), and run unilock rebase %s again.`, release, rel(env, trial), rel(env, trial), res.Base, release, release)
	}

	for _, p := range res.Patches {
		if p.Outcome == goroot.Dropped {
			why := release + " already holds its change"
			if r, ok := reasons[p.Patch]; ok {
				why += ": " + r
			}
			clock.Phase("%s is dropped: %s", p.Patch, why)
		}
	}
	newVersion := release + "-unilock.1"
	if _, _, err := series.Write(env.Patches, res.Files); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(env.Root, fork.VersionFile), []byte(newVersion+"\n"), 0o666); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(env.Root, fork.PinFile), fork.FormatPin(release, tree, src), 0o666); err != nil {
		return err
	}
	os.RemoveAll(trial)
	clock.Phase("wrote patches/ (%s), VERSION %s and upstream.pin (tree %s, src %s)", plural(len(res.Names), "patch"), newVersion, tree, src)
	if _, err := materialise(env, clock, false); err != nil {
		return fmt.Errorf("the new series is written but goroot/ could not be remade: %v\nrun ./make.bash to retry", err)
	}
	clock.Phase("goroot/ now holds %s; build and test it: ./make.bash && ./run.bash (review the change first: git diff --stat)", newVersion)
	return nil
}
