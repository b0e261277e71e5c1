package main

import (
	"fmt"

	"unilock/internal/fork"
	"unilock/internal/goroot"
	"unilock/internal/ports"
	"unilock/internal/rebase"
	"unilock/internal/series"
	"unilock/internal/suite"
)

func runStatus(env *Env, args []string) error {
	fs := newFlags("status", "", "Show the base, the series, whether goroot/ is built, and work in goroot/ not yet in patches/.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	id, err := fork.Load(env.Root)
	if err != nil {
		return err
	}
	ps, err := series.Load(env.Patches)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fork     %s\n", id.Version)
	fmt.Fprintf(stdout, "base     %s (pinned tree %s, src %s)\n", id.Release, id.TreeHash, id.SrcHash)
	fmt.Fprintf(stdout, "series   %s in patches/, digest %.12s\n", plural(len(ps), "patch"), series.Digest(ps))
	for _, p := range ps {
		fmt.Fprintf(stdout, "         %s\n", p.Name)
	}
	if stale, why := suite.ReportStale(env.Root); stale {
		fmt.Fprintf(stdout, "suite    stale: %s\n", why)
	} else {
		fmt.Fprintf(stdout, "suite    %s\n", why)
	}
	switch exists, stale, why := ports.ReportStale(env.Root); {
	case stale:
		fmt.Fprintf(stdout, "ports    stale: %s\n", why)
	case exists:
		fmt.Fprintf(stdout, "ports    %s\n", why)
	}
	t := goroot.Tree{Dir: env.Goroot}
	if j, err := rebase.Load(rebaseFork(env)); err != nil {
		return err
	} else if j != nil {
		fmt.Fprintf(stdout, "rebase   in progress: %s\n         trial tree goroot.rebase/; go on: unilock/unilock.bash rebase -continue (or -skip, -abort)\n", j.Summary())
	}
	if dir := rememberedFrom(env, id.Release); dir != "" {
		fmt.Fprintf(stdout, "from     the base is taken from %s while it verifies (set by -from)\n", dir)
	}
	if err := printLeftovers(env); err != nil {
		return err
	}
	if !t.Exists() {
		fmt.Fprintf(stdout, "goroot/  not materialised: run ./make.bash\n")
		return nil
	}
	st, err := t.LoadState()
	if err != nil {
		return err
	}
	kind := "full"
	if st.Partial {
		kind = "partial (no api/ misc/ test/ doc/)"
	}
	fmt.Fprintf(stdout, "goroot/  base %.12s from %s, %s\n", st.Base, st.Source, kind)
	if st.Inputs == goroot.Inputs(id, ps) {
		fmt.Fprintf(stdout, "         holds this series\n")
	} else {
		fmt.Fprintf(stdout, "         made from another series, base or VERSION: run ./make.bash\n")
	}
	key, err := buildKey(t)
	if err != nil {
		return err
	}
	switch {
	case st.Built != "" && st.Built == key:
		v, err := goVersion(env.Goroot)
		if err != nil {
			fmt.Fprintf(stdout, "built    no: goroot/bin/go does not run (%v): run ./make.bash\n", err)
		} else {
			fmt.Fprintf(stdout, "built    yes: %s\n", v)
		}
	case st.Built != "":
		fmt.Fprintf(stdout, "built    stale: goroot/ changed since its last build: run ./make.bash\n")
	default:
		fmt.Fprintf(stdout, "built    no: run ./make.bash\n")
	}
	w, err := t.LocalWork(st)
	if err != nil {
		return err
	}
	if w.Empty() {
		fmt.Fprintf(stdout, "work     none: everything in goroot/ is in patches/\n")
	} else {
		fmt.Fprintf(stdout, "work     not in patches/ (save it with: unilock extract):\n%s\n", w)
	}
	return nil
}

func runExtract(env *Env, args []string) error {
	fs := newFlags("extract", "", "Write goroot/'s commits above the base (except the fork's VERSION commit) to\npatches/NNNN-subject-slug.patch. Re-extracting an unchanged series changes no byte.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	id, err := fork.Load(env.Root)
	if err != nil {
		return err
	}
	res, err := goroot.Tree{Dir: env.Goroot}.Extract(id, env.Patches)
	if err != nil {
		return err
	}
	for _, n := range res.Written {
		fmt.Fprintf(stdout, "wrote   patches/%s\n", n)
	}
	for _, n := range res.Removed {
		fmt.Fprintf(stdout, "removed patches/%s\n", n)
	}
	if len(res.Written)+len(res.Removed) == 0 {
		fmt.Fprintf(stdout, "patches/ already holds goroot/'s %s; nothing changed\n", plural(len(res.Series), "patch"))
	} else {
		fmt.Fprintf(stdout, "patches/ now holds %s; review with: git diff patches/\n", plural(len(res.Series), "patch"))
	}
	return nil
}

// printLeftovers lists the trial and discarded trees beside goroot/, with
// their sizes and the command that removes each.
func printLeftovers(env *Env) error {
	ls, err := leftovers(env)
	if err != nil {
		return err
	}
	if len(ls) == 0 {
		return nil
	}
	fmt.Fprintf(stdout, "left     %s beside goroot/, kept until removed:\n", plural(len(ls), "tree"))
	for _, l := range ls {
		fmt.Fprintf(stdout, "         %s\n", l)
	}
	return nil
}

// leftovers are the trees beside goroot/ that are kept until removed, but
// not the trial tree of a rebase in progress: the rebase owns it.
func leftovers(env *Env) ([]goroot.Leftover, error) {
	ls, err := goroot.Leftovers(env.Goroot)
	if err != nil {
		return nil, err
	}
	j, err := rebase.Load(rebaseFork(env))
	if err != nil || j == nil {
		return ls, err
	}
	var out []goroot.Leftover
	for _, l := range ls {
		if l.Path != rebaseFork(env).Trial().Dir {
			out = append(out, l)
		}
	}
	return out, nil
}
