package rebase

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"unilock/internal/base"
	"unilock/internal/fork"
	"unilock/internal/git"
	"unilock/internal/goroot"
	"unilock/internal/series"
)

// Options are what a rebase step needs from its caller.
type Options struct {
	Out   io.Writer
	Phase func(format string, args ...any)
	// NewBase returns the verified new base for j.Release (from j.From when
	// set, else the host Go or the toolchain module) and the tree and src
	// hashes to pin.
	NewBase func(j *Journal) (b *base.Base, tree, src string, err error)
	// Remake makes goroot/ from the new fork just written (VERSION,
	// upstream.pin, patches/), moving aside, never deleting, a goroot/
	// that holds work not in patches/.
	Remake func(j *Journal) error
	// Upstream, when set, says why patch p drops or conflicts on
	// j.Release, like "CL 4242 (LINK) was merged into master, first
	// released in go1.99.1, and go1.99.2 holds it", or "" when it cannot
	// tell (no CL, or Gerrit not asked or not reached). It never fails.
	Upstream func(j *Journal, p series.Patch) string
	// Tool is how messages name the tool (default "unilock/unilock.bash").
	Tool string
}

func (o *Options) phase(format string, args ...any) {
	if o.Phase != nil {
		o.Phase(format, args...)
	}
}

// upstream asks o.Upstream why p drops or conflicts.
func (o *Options) upstream(j *Journal, p series.Patch) string {
	if o.Upstream == nil {
		return ""
	}
	if p.Data == nil {
		data, err := os.ReadFile(p.Path)
		if err != nil {
			return ""
		}
		p.Data = data
	}
	return o.Upstream(j, p)
}

func (o *Options) tool() string {
	if o.Tool == "" {
		return "unilock/unilock.bash"
	}
	return o.Tool
}

// InProgressError refuses to start a rebase while another is in progress.
type InProgressError struct {
	Journal *Journal
	Tool    string
}

func (e *InProgressError) Error() string {
	return fmt.Sprintf(`a rebase is in progress (%s)
finish it:  %s rebase -continue   (after resolving the conflict in goroot.rebase/, if it stopped at one)
or undo it: %s rebase -abort      (removes goroot.rebase/ and .unilock/rebase/; the fork stays as it was)`, e.Journal.Summary(), e.Tool, e.Tool)
}

// ErrNoRebase is the answer of -continue, -skip and -abort when no rebase is
// in progress.
var ErrNoRebase = errors.New("no rebase in progress (no .unilock/rebase/state.json): start one with: unilock/unilock.bash rebase goX.Y.Z")

// StartRequest starts a rebase.
type StartRequest struct {
	Release    string // goX.Y.Z
	From       string // a tree the user has, or ""
	ModuleOnly bool
	Gerrit     string // the Gerrit to ask why a patch drops or conflicts, or ""
}

// Start begins a rebase to req.Release: it records the journal, makes the
// trial tree on the verified new base and applies the series until a patch
// conflicts or every patch is in. The caller has checked that goroot/ holds
// exactly patches/ and nothing more.
func Start(f Fork, req StartRequest, o Options) error {
	if j, err := Load(f); err != nil {
		return err
	} else if j != nil {
		return &InProgressError{Journal: j, Tool: o.tool()}
	}
	if err := refuseUncommitted(f); err != nil {
		return err
	}
	id, err := fork.Load(f.Root)
	if err != nil {
		return err
	}
	ps, err := series.Load(f.Patches)
	if err != nil {
		return err
	}
	j := &Journal{
		Release: req.Release, Version: req.Release + "-unilock.1", OldVersion: id.Version,
		From: req.From, ModuleOnly: req.ModuleOnly, Gerrit: req.Gerrit, Started: time.Now().UTC().Format(time.RFC3339),
	}
	for _, p := range ps {
		j.Patches = append(j.Patches, Step{Name: p.Name})
	}
	if j.OldDigest, err = digest(f); err != nil {
		return err
	}
	trial := f.Trial()
	if _, err := os.Stat(trial.Dir); err == nil {
		o.phase("removing %s, the trial tree an earlier rebase left", filepath.Base(trial.Dir))
		if err := os.RemoveAll(trial.Dir); err != nil {
			return err
		}
	}
	b, tree, src, err := o.NewBase(j)
	if err != nil {
		return err
	}
	j.Source, j.Partial, j.Tree, j.Src = b.Source, b.Partial, tree, src
	partial := ""
	if b.Partial {
		partial = ", partial: no api/ misc/ test/ doc/"
	}
	o.phase("new base: %s (%d files%s), src %s", b.Source, len(b.Files), partial, src)
	// The journal is written before the trial is made: an interrupted start
	// is resumed (-continue) or undone (-abort) like any other step.
	if err := saveOld(f); err != nil {
		return err
	}
	if err := j.save(f); err != nil {
		return err
	}
	if err := startTrial(f, j, b); err != nil {
		return err
	}
	o.phase("trial tree goroot.rebase/: %s committed as %.12s; applying %s", j.Release, j.Base, plural(len(j.Patches), "patch"))
	return run(f, j, o)
}

// startTrial makes the trial tree on the base b and records it.
func startTrial(f Fork, j *Journal, b *base.Base) error {
	trial := f.Trial()
	if err := os.RemoveAll(trial.Dir); err != nil {
		return err
	}
	commit, err := goroot.StartTrial(trial.Dir, b, goroot.Tree{Dir: f.Goroot})
	if err != nil {
		return err
	}
	j.Base, j.Head = commit, commit
	return j.save(f)
}

// refuseUncommitted refuses a rebase while patches/, VERSION or
// upstream.pin hold changes git has not committed: the rebase writes over
// them at the end. Outside a git repository there is nothing to compare.
func refuseUncommitted(f Fork) error {
	r := git.Repo{Dir: f.Root}
	if _, err := r.Line("rev-parse", "--show-toplevel"); err != nil {
		return nil
	}
	lines, err := r.Lines("status", "--porcelain", "--untracked-files=all", "--", filepath.Base(f.Patches), fork.VersionFile, fork.PinFile)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf(`patches/, VERSION or upstream.pin hold changes that are not committed:
%s
a rebase writes the new series, VERSION and upstream.pin over them at its end, and git has no copy.
commit them first (git add patches VERSION upstream.pin && git commit), or stash them (git stash push -- patches VERSION upstream.pin),
then run the rebase again`, indent(strings.Join(lines, "\n")))
}

// run applies the patches from j.Next on, and finishes when all are in.
func run(f Fork, j *Journal, o Options) error {
	trial := f.Trial()
	for j.Next < len(j.Patches) {
		s := &j.Patches[j.Next]
		p := series.Patch{Name: s.Name, Path: filepath.Join(f.oldDir(), filepath.Base(f.Patches), s.Name)}
		res, err := trial.Apply(p)
		if err != nil {
			return fmt.Errorf("%v\n(the rebase is kept: look into goroot.rebase/, then %s rebase -continue, or -abort)", err, o.tool())
		}
		if res.Outcome == goroot.Failed {
			s.Conflicts = res.Conflicts
			j.Stopped = true
			if err := j.save(f); err != nil {
				return err
			}
			o.phase("%d/%d %s: CONFLICT", j.Next+1, len(j.Patches), s.Name)
			// Why: the release may hold the patch's CL.
			if s.Upstream = o.upstream(j, p); s.Upstream != "" {
				if err := j.save(f); err != nil {
					return err
				}
			}
			return stopped(j, res, o)
		}
		s.Outcome = res.Outcome
		if s.Outcome == goroot.Dropped {
			why := j.Release + " already holds its change"
			if s.Upstream = o.upstream(j, p); s.Upstream != "" {
				why += ": " + s.Upstream
			}
			o.phase("%d/%d %s is dropped: %s", j.Next+1, len(j.Patches), s.Name, why)
		} else {
			o.phase("%d/%d %s: %s", j.Next+1, len(j.Patches), s.Name, s.Outcome)
		}
		if err := advance(f, j); err != nil {
			return err
		}
	}
	return finish(f, j, o)
}

// advance records the current step as done.
func advance(f Fork, j *Journal) error {
	head, err := f.Trial().Repo().Line("rev-parse", "HEAD")
	if err != nil {
		return err
	}
	j.Head = head
	j.Next++
	j.Stopped = false
	return j.save(f)
}

// StoppedError is a rebase waiting at a conflict for a person.
type StoppedError struct {
	Journal *Journal
	Text    string
}

func (e *StoppedError) Error() string { return e.Text }

// stopped reports the conflict and the commands that go on.
func stopped(j *Journal, res goroot.PatchResult, o Options) error {
	s := j.Current()
	trial := "goroot.rebase"
	var b strings.Builder
	fmt.Fprintf(&b, "patch %d of %d, %s, does not apply to %s.\n", j.Next+1, len(j.Patches), s.Name, j.Release)
	var files []string
	markers := false
	for _, c := range s.Conflicts {
		files = append(files, c.File)
		fmt.Fprintf(&b, "    %s: %s\n", c.File, strings.Join(c.Hunks, ", "))
		if len(c.Hunks) > 0 && strings.HasPrefix(c.Hunks[0], "lines ") {
			markers = true
		}
	}
	if len(files) == 0 {
		fmt.Fprintf(&b, "    git am said:\n%s\n", indent(res.Output))
	}
	if s.Upstream != "" {
		fmt.Fprintf(&b, "    upstream: %s: %s\n", s.Upstream, dropIt(o))
	}
	fmt.Fprintf(&b, "The patches before it are committed in %s/; this one is half applied there", trial)
	if markers {
		fmt.Fprintf(&b, ", its conflicts marked <<<<<<< ======= >>>>>>> in the files above")
	}
	fmt.Fprintf(&b, ".\npatches/, VERSION, upstream.pin and goroot/ are untouched.\n\n")
	fmt.Fprintf(&b, "Look:\n")
	fmt.Fprintf(&b, "    git -C %s am --show-current-patch=diff     the patch\n", trial)
	if old, _, _ := strings.Cut(j.OldVersion, "-"); len(files) > 0 {
		fmt.Fprintf(&b, "    git -C %s diff %s %s -- %s     what %s changed there\n", trial, old, j.Release, strings.Join(files, " "), j.Release)
	}
	fmt.Fprintf(&b, "    git -C %s diff                              the conflicts\n", trial)
	fmt.Fprintf(&b, "Resolve, in %s/: edit the files (or remake the change by hand; a patch may become several commits), then\n", trial)
	if len(files) > 0 {
		fmt.Fprintf(&b, "    git -C %s add %s\n", trial, strings.Join(files, " "))
	} else {
		fmt.Fprintf(&b, "    git -C %s add FILES\n", trial)
	}
	fmt.Fprintf(&b, "and go on:\n")
	fmt.Fprintf(&b, "    %s rebase -continue   commit it (its message and author kept) and apply the rest\n", o.tool())
	fmt.Fprintf(&b, "or  %s rebase -skip       leave this patch out of the series and apply the rest\n", o.tool())
	fmt.Fprintf(&b, "or  %s rebase -abort      undo the whole rebase: the fork stays as it was", o.tool())
	return &StoppedError{Journal: j, Text: b.String()}
}

// load reads the journal of the rebase in progress and checks its trial.
func load(f Fork) (*Journal, error) {
	j, err := Load(f)
	if err != nil {
		return nil, err
	}
	if j == nil {
		return nil, ErrNoRebase
	}
	return j, nil
}

func (o *Options) trialGone(f Fork) error {
	return fmt.Errorf("%s/ is gone, and with it the rebase's work: undo the rebase with %s rebase -abort, then start it again", filepath.Base(f.Trial().Dir), o.tool())
}

// Continue goes on with the rebase in progress: it commits the patch it
// stopped at, as resolved in the trial tree, and applies the rest.
func Continue(f Fork, o Options) error {
	j, err := load(f)
	if err != nil {
		return err
	}
	if j.Finishing {
		return finish(f, j, o)
	}
	trial := f.Trial()
	if j.Base == "" {
		// Interrupted before the trial was made: make it.
		b, _, src, err := o.NewBase(j)
		if err != nil {
			return err
		}
		if src != j.Src {
			return fmt.Errorf("the base of %s now has src hash %s, the rebase started on %s: undo it with %s rebase -abort and start again", j.Release, src, j.Src, o.tool())
		}
		if err := startTrial(f, j, b); err != nil {
			return err
		}
		return run(f, j, o)
	}
	if _, err := os.Stat(trial.Dir); err != nil {
		return o.trialGone(f)
	}
	s := j.Current()
	if s == nil {
		return finish(f, j, o)
	}
	r := trial.Repo()
	if trial.Applying() {
		var files []string
		for _, c := range s.Conflicts {
			files = append(files, c.File)
		}
		u, err := trial.Unresolved(files)
		if err != nil {
			return err
		}
		if !u.Empty() {
			return unresolvedError(s, u, o)
		}
		if err := trial.Commit(); errors.Is(err, goroot.ErrNothingStaged) {
			if s.Upstream != "" {
				return fmt.Errorf("%s: %v.\nupstream: %s: %s", s.Name, err, s.Upstream, dropIt(o))
			}
			return fmt.Errorf(`%s: %v.
if %s already holds its change, or it is no longer needed, drop it:  %s rebase -skip
otherwise make the change and add it (git -C goroot.rebase add FILES), then: %s rebase -continue`, s.Name, err, j.Release, o.tool(), o.tool())
		} else if err != nil {
			return err
		}
		s.Outcome = Resolved
		o.phase("%d/%d %s: %s", j.Next+1, len(j.Patches), s.Name, s.Outcome)
		if err := advance(f, j); err != nil {
			return err
		}
		return run(f, j, o)
	}
	if dirty, err := r.Dirty(); err != nil {
		return err
	} else if len(dirty) > 0 {
		return fmt.Errorf("goroot.rebase/ has changes that are in no commit:\n%s\ncommit them (git -C goroot.rebase commit -a), or drop them (git -C goroot.rebase checkout -- . and remove new files), then: %s rebase -continue", indent(strings.Join(dirty, "\n")), o.tool())
	}
	head, err := r.Line("rev-parse", "HEAD")
	if err != nil {
		return err
	}
	if head != j.Head {
		// The person committed the patch (or its parts) with git.
		if _, err := r.Run("merge-base", "--is-ancestor", j.Base, head); err != nil {
			return fmt.Errorf("goroot.rebase/'s HEAD %.12s is not on the new base %s (%.12s): reset it to the last patch done (git -C goroot.rebase reset --hard %.12s) or -abort", head, j.Release, j.Base, j.Head)
		}
		n, _ := r.Lines("rev-list", j.Head+".."+head)
		s.Outcome = fmt.Sprintf("%s (%s)", Resolved, plural(len(n), "commit"))
		if !j.Stopped {
			// Interrupted after git am committed it.
			s.Outcome = goroot.Applied
		}
		o.phase("%d/%d %s: %s", j.Next+1, len(j.Patches), s.Name, s.Outcome)
		if err := advance(f, j); err != nil {
			return err
		}
		return run(f, j, o)
	}
	if j.Stopped {
		return fmt.Errorf(`%s is not in goroot.rebase/: no git am is stopped there and nothing was committed since the patch before it.
drop the patch:                    %s rebase -skip
or commit its change by hand:      git -C goroot.rebase commit ...   then: %s rebase -continue`, s.Name, o.tool(), o.tool())
	}
	// Interrupted between patches: go on.
	return run(f, j, o)
}

// dropIt is the advice for a patch whose CL the release holds.
func dropIt(o Options) string {
	return "drop this patch from the series rather than port it: " + o.tool() + " rebase -skip"
}

func unresolvedError(s *Step, u goroot.Unresolved, o Options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is not resolved yet in goroot.rebase/:\n", s.Name)
	if len(u.Unmerged) > 0 {
		fmt.Fprintf(&b, "unmerged (resolve, then git -C goroot.rebase add FILE):\n%s\n", indent(strings.Join(u.Unmerged, "\n")))
	}
	for _, m := range u.Markers {
		fmt.Fprintf(&b, "conflict markers left in %s: %s\n", m.File, strings.Join(m.Hunks, ", "))
	}
	if len(u.Unstaged) > 0 {
		fmt.Fprintf(&b, "changes not added (git -C goroot.rebase add FILE to keep one, git -C goroot.rebase checkout -- FILE to drop it):\n%s\n", indent(strings.Join(u.Unstaged, "\n")))
	}
	if s.Upstream != "" {
		fmt.Fprintf(&b, "upstream: %s: %s\n", s.Upstream, dropIt(o))
	}
	fmt.Fprintf(&b, "then: %s rebase -continue   (or drop the patch: %s rebase -skip)", o.tool(), o.tool())
	return errors.New(b.String())
}

// Skip leaves the patch the rebase stopped at out of the series and goes on.
func Skip(f Fork, o Options) error {
	j, err := load(f)
	if err != nil {
		return err
	}
	if j.Finishing || j.Current() == nil {
		return fmt.Errorf("every patch is in; nothing to skip: finish the rebase with %s rebase -continue, or undo it with -abort", o.tool())
	}
	if j.Base == "" {
		return fmt.Errorf("the rebase was interrupted before its trial tree was made: %s rebase -continue, or -abort", o.tool())
	}
	trial := f.Trial()
	if _, err := os.Stat(trial.Dir); err != nil {
		return o.trialGone(f)
	}
	s := j.Current()
	if trial.Applying() {
		if err := trial.Skip(); err != nil {
			return err
		}
	} else {
		head, err := trial.Repo().Line("rev-parse", "HEAD")
		if err != nil {
			return err
		}
		if head != j.Head {
			n, _ := trial.Repo().Lines("rev-list", j.Head+".."+head)
			return fmt.Errorf("goroot.rebase/ has %s since the patch before %s: keep them as its resolution with %s rebase -continue, or drop them first (git -C goroot.rebase reset --hard %.12s)", plural(len(n), "commit"), s.Name, o.tool(), j.Head)
		}
	}
	s.Outcome = Skipped
	s.Conflicts = nil
	o.phase("%d/%d %s: %s", j.Next+1, len(j.Patches), s.Name, s.Outcome)
	if err := advance(f, j); err != nil {
		return err
	}
	return run(f, j, o)
}

// Abort undoes the rebase in progress: the trial tree and the journal are
// removed and, if the end had begun, the old fork's files are put back.
func Abort(f Fork, o Options) error {
	j, err := load(f)
	if err != nil {
		if errors.Is(err, ErrNoRebase) {
			if _, serr := os.Stat(f.Trial().Dir); serr == nil {
				return fmt.Errorf("no rebase in progress; %s/ is a trial tree an earlier unilock left: remove it with rm -rf %s", filepath.Base(f.Trial().Dir), filepath.Base(f.Trial().Dir))
			}
		}
		return err
	}
	if j.Finishing {
		if err := restoreOld(f); err != nil {
			return fmt.Errorf("putting back the old fork from %s: %v (nothing was removed; copy it back by hand)", f.oldDir(), err)
		}
		o.phase("put back patches/, VERSION and upstream.pin of %s", j.OldVersion)
	}
	if err := os.RemoveAll(f.Trial().Dir); err != nil {
		return err
	}
	if err := os.RemoveAll(f.JournalDir()); err != nil {
		return err
	}
	os.Remove(f.State) // only when the rebase was all it held
	if j.Finishing {
		o.phase("rebase to %s aborted; goroot/ may hold the new series: remake the old one with ./make.bash", j.Release)
		return nil
	}
	o.phase("rebase to %s aborted: removed goroot.rebase/ and .unilock/rebase/; patches/, VERSION, upstream.pin and goroot/ were never changed (%s)", j.Release, j.OldVersion)
	return nil
}

// restoreOld writes the old fork's files back from the journal's copy.
func restoreOld(f Fork) error {
	old := f.oldDir()
	for _, n := range []string{fork.VersionFile, fork.PinFile} {
		data, err := os.ReadFile(filepath.Join(old, n))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(f.Root, n), data, 0o666); err != nil {
			return err
		}
	}
	ps, err := series.Load(filepath.Join(old, filepath.Base(f.Patches)))
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	for _, p := range ps {
		files[p.Name] = p.Data
	}
	_, _, err = series.Write(f.Patches, files)
	return err
}

// finish writes the new fork once every patch is in: the trial's commits
// into patches/, VERSION and upstream.pin; then goroot/ is remade.
func finish(f Fork, j *Journal, o Options) error {
	trial := f.Trial()
	if _, err := os.Stat(trial.Dir); err != nil {
		return o.trialGone(f)
	}
	if !j.Finishing {
		if dirty, err := trial.Repo().Dirty(); err != nil {
			return err
		} else if len(dirty) > 0 {
			return fmt.Errorf("every patch is in, but goroot.rebase/ has changes that are in no commit:\n%s\ncommit them into a patch (git -C goroot.rebase commit -a, or --fixup and rebase -i), or drop them (git -C goroot.rebase checkout -- .), then: %s rebase -continue", indent(strings.Join(dirty, "\n")), o.tool())
		}
		now, err := digest(f)
		if err != nil {
			return err
		}
		if now != j.OldDigest {
			return fmt.Errorf(`every patch is in, but patches/, VERSION or upstream.pin changed since the rebase started; the rebase would write over the change.
keep the change aside (git stash push -- patches VERSION upstream.pin), then: %s rebase -continue
(to have the change in the new series, make it in goroot.rebase/ as a commit first); or undo the rebase: %s rebase -abort`, o.tool(), o.tool())
		}
		j.Finishing = true
		if err := j.save(f); err != nil {
			return err
		}
	}
	files, names, err := trial.Series(j.Base)
	if err != nil {
		return err
	}
	if _, _, err := series.Write(f.Patches, files); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(f.Root, fork.VersionFile), []byte(j.Version+"\n"), 0o666); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(f.Root, fork.PinFile), fork.FormatPin(j.Release, j.Tree, j.Src), 0o666); err != nil {
		return err
	}
	o.phase("wrote patches/ (%s), VERSION %s and upstream.pin (tree %s, src %s)", plural(len(names), "patch"), j.Version, j.Tree, j.Src)
	if err := o.Remake(j); err != nil {
		return fmt.Errorf("the new fork is written but goroot/ could not be remade: %v\nretry: %s rebase -continue; or put the old fork back: %s rebase -abort", err, o.tool(), o.tool())
	}
	if err := os.RemoveAll(trial.Dir); err != nil {
		return err
	}
	if err := os.RemoveAll(f.JournalDir()); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "\n%-66s  %s\n", "patch", "on "+j.Release)
	for _, s := range j.Patches {
		fmt.Fprintf(o.Out, "%-66s  %s\n", s.Name, s.Outcome)
		if s.Upstream != "" {
			fmt.Fprintf(o.Out, "    upstream: %s\n", s.Upstream)
		}
	}
	o.phase("goroot/ now holds %s; review (git diff --stat), build and test it: ./make.bash && ./run.bash", j.Version)
	return nil
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	if strings.HasSuffix(word, "ch") {
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
