package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"unilock/internal/git"
	"unilock/internal/goroot"
	"unilock/internal/phase"
	"unilock/internal/series"
)

func runExport(env *Env, args []string) error {
	fs := newFlags("export", "[-mbox FILE] [-onto CHECKOUT [-branch NAME]] [-store]", `Export the series for upstream review: one mbox of the patches in patches/, each with a
Change-Id trailer (the one stored in the patch, or one derived from its author, date and
subject, the same on every export), numbered [PATCH n/N]. The mbox is checked by applying it
with git am to a fresh copy of the base.

With -onto, also apply it with git am on a new branch of an upstream Go checkout, ready for
git codereview mail (a relation chain, one CL per patch).
With -store, write the Change-Ids into patches/ instead, so that they survive later edits to
a subject.`)
	mbox := fs.String("mbox", "", "where to write the mbox (default .unilock/export/series.mbox)")
	onto := fs.String("onto", "", "an upstream Go git checkout to put the series on, as a new branch")
	branch := fs.String("branch", "unilock-lock-layer", "the branch -onto makes")
	store := fs.Bool("store", false, "store the Change-Ids in patches/ (and export nothing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	clock := phase.New(stdout)
	ps, err := series.Load(env.Patches)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return fmt.Errorf("patches/ holds no patches")
	}
	if *store {
		return storeChangeIDs(env, ps, clock)
	}
	data, err := series.Mbox(ps)
	if err != nil {
		return err
	}
	for _, p := range ps {
		m, err := p.Parse()
		if err != nil {
			return err
		}
		id, stored := m.ChangeID()
		how := "stored"
		if !stored {
			how = "derived"
		}
		fmt.Fprintf(stdout, "%s  Change-Id %s (%s)\n", p.Name, id, how)
	}
	if *mbox == "" {
		*mbox = filepath.Join(env.State, "export", "series.mbox")
	}
	if err := os.MkdirAll(filepath.Dir(*mbox), 0o777); err != nil {
		return err
	}
	if err := os.WriteFile(*mbox, data, 0o666); err != nil {
		return err
	}
	abs, err := filepath.Abs(*mbox)
	if err != nil {
		return err
	}
	clock.Phase("wrote %s: %s", rel(env, abs), plural(len(ps), "patch"))

	if err := verifyMbox(env, abs, len(ps), clock); err != nil {
		return err
	}
	if *onto != "" {
		return applyOnto(*onto, *branch, abs, len(ps), clock)
	}
	return nil
}

// verifyMbox applies the mbox with git am to a fresh repository holding
// only goroot/'s base commit: the proof that upstream can take the series
// as it is.
func verifyMbox(env *Env, mbox string, n int, clock *phase.Clock) error {
	t := goroot.Tree{Dir: env.Goroot}
	if !t.Exists() {
		clock.Phase("not checked: goroot/ does not exist to take the base from (run ./make.bash, then export again)")
		return nil
	}
	st, err := t.LoadState()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "unilock-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	r := git.Repo{Dir: tmp}
	steps := [][]string{
		{"init", "-q", "-b", "main"},
		{"fetch", "-q", "--no-tags", env.Goroot, st.Base},
		{"checkout", "-q", "--detach", "FETCH_HEAD"},
	}
	for _, s := range steps {
		if _, err := r.Run(s...); err != nil {
			return err
		}
	}
	if out, err := r.Run("am", "-q", mbox); err != nil {
		return fmt.Errorf("the mbox does not apply with git am to a fresh %s: %v\n%s", st.Release, err, out)
	}
	count, err := r.Line("rev-list", "--count", st.Base+"..HEAD")
	if err != nil {
		return err
	}
	if count != fmt.Sprint(n) {
		return fmt.Errorf("git am made %s commits from %d patches", count, n)
	}
	clock.Phase("checked: git am applies all %d patches to a fresh copy of the base %s (%.12s)", n, st.Release, st.Base)
	return nil
}

// applyOnto applies the mbox on a new branch of an upstream checkout.
func applyOnto(dir, branch, mbox string, n int, clock *phase.Clock) error {
	r := git.Repo{Dir: dir}
	if _, err := r.Line("rev-parse", "--git-dir"); err != nil {
		return fmt.Errorf("-onto %s is not a git checkout: clone upstream Go first (git clone https://go.googlesource.com/go)", dir)
	}
	if dirty, err := r.Dirty(); err != nil {
		return err
	} else if len(dirty) > 0 {
		return fmt.Errorf("%s has uncommitted changes; commit or stash them first (git -C %s stash)", dir, dir)
	}
	if _, err := r.Line("rev-parse", "--verify", "-q", "refs/heads/"+branch); err == nil {
		return fmt.Errorf("%s already has a branch %s: pick another with -branch, or delete it (git -C %s branch -D %s)", dir, branch, dir, branch)
	}
	version, _ := os.ReadFile(filepath.Join(dir, "VERSION"))
	if _, err := r.Run("checkout", "-q", "-b", branch); err != nil {
		return err
	}
	if out, err := r.Run("am", "-q", "--3way", mbox); err != nil {
		r.Run("am", "--abort")
		return fmt.Errorf("the series does not apply to %s (%s): %v\n%s\nthe branch %s was left at its start; rebase the fork onto this checkout's release first (unilock rebase)", dir, firstLine(string(version)), err, out, branch)
	}
	clock.Phase("branch %s in %s: %s on top of %s; mail it for review with: cd %s && git codereview mail", branch, dir, plural(n, "commit"), strings.TrimSpace(firstLine(string(version))), dir)
	return nil
}

// storeChangeIDs writes each patch's Change-Id into its file.
func storeChangeIDs(env *Env, ps []series.Patch, clock *phase.Clock) error {
	t := goroot.Tree{Dir: env.Goroot}
	if t.Exists() {
		st, err := t.LoadState()
		if err != nil {
			return err
		}
		if w, err := t.LocalWork(st); err != nil {
			return err
		} else if !w.Empty() {
			return fmt.Errorf("goroot/ holds work that is not in patches/:\n%s\nsave it first (unilock extract); then store the Change-Ids", w)
		}
	}
	files := map[string][]byte{}
	for _, p := range ps {
		data, err := p.WithChangeID()
		if err != nil {
			return err
		}
		files[p.Name] = data
		if !bytes.Equal(data, p.Data) {
			clock.Phase("%s: Change-Id stored", p.Name)
		}
	}
	written, _, err := series.Write(env.Patches, files)
	if err != nil {
		return err
	}
	if len(written) == 0 {
		clock.Phase("every patch already stores its Change-Id; nothing changed")
		return nil
	}
	clock.Phase("patches/ changed (%s); remake goroot/ from it with: ./make.bash", plural(len(written), "patch"))
	return nil
}
