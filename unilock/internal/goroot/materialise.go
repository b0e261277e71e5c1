package goroot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"unilock/internal/base"
	"unilock/internal/fork"
	"unilock/internal/git"
	"unilock/internal/series"
)

// Outcome says what Materialise did.
type Outcome int

const (
	// Current: the tree already holds the inputs; nothing was done.
	Current Outcome = iota
	// KeptWork: the tree holds local work on top of the same inputs; it was
	// left as it is, to be built as it is.
	KeptWork
	// Made: a new tree was made and swapped in.
	Made
)

// Request is what a tree is made from.
type Request struct {
	Tree     Tree
	Identity *fork.Identity
	Patches  []series.Patch
	// Base resolves the verified base; it is only called when a tree must
	// be made.
	Base func() (*base.Base, error)
	// Force discards local work in the tree.
	Force bool
	// Phase reports progress.
	Phase func(format string, args ...any)
	// Now dates the folder discarded work is moved to (default time.Now).
	Now func() time.Time
}

// WorkError is the refusal to replace a tree holding local work.
type WorkError struct {
	Dir  string
	Work Work
}

func (e *WorkError) Error() string {
	return fmt.Sprintf(`%s holds work that is not in patches/, and patches/, VERSION or upstream.pin changed since it was made:
%s
Either save the work into patches/ first:  unilock extract   (then review: git diff patches/)
or remake the tree, moving the work aside: ./make.bash --force   (to goroot.discarded-DATE/, from where it can be got back)`, e.Dir, e.Work)
}

// ApplyError is a patch of the series that does not apply.
type ApplyError struct {
	Patch  string   // file name in patches/
	Files  []string // the files it failed on
	Output string   // what git am said
	Failed string   // where the half-applied tree was left
}

func (e *ApplyError) Error() string {
	files := strings.Join(e.Files, ", ")
	if files == "" {
		files = "(see git's output below)"
	}
	return fmt.Sprintf(`patch %s does not apply: conflict in %s
goroot/ was left untouched; the half-applied tree is in %s (inspect it with: git -C %s am --show-current-patch=diff)
fix the patch file, or remake the change in goroot/ on top of the patches before it and run: unilock extract
git am said:
%s`, e.Patch, files, e.Failed, e.Failed, indent(e.Output))
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}

// Materialise makes sure the tree holds the request's base and series.
func Materialise(req Request) (Outcome, error) {
	logf := req.Phase
	if logf == nil {
		logf = func(string, ...any) {}
	}
	t := req.Tree
	if did, err := Recover(t.Dir); err != nil {
		return 0, err
	} else if did != "" {
		logf("recovered from an interrupted materialise: %s", did)
	}
	inputs := Inputs(req.Identity, req.Patches)
	var discard *Discard
	if t.Exists() && req.Force {
		var err error
		if discard, err = t.workToDiscard(); err != nil {
			return 0, err
		}
	}
	if t.Exists() && !req.Force {
		st, err := t.LoadState()
		if err != nil {
			return 0, err
		}
		w, err := t.LocalWork(st)
		if err != nil {
			return 0, err
		}
		switch {
		case st.Inputs == inputs && w.Empty():
			return Current, nil
		case st.Inputs == inputs:
			return KeptWork, nil
		case !w.Empty():
			return 0, &WorkError{Dir: t.Dir, Work: w}
		}
	}

	logf("resolve the upstream base %s", req.Identity.Release)
	b, err := req.Base()
	if err != nil {
		return 0, err
	}
	logf("base: %s (%d files%s)", b.Source, len(b.Files), map[bool]string{true: ", partial: no api/ misc/ test/ doc/", false: ""}[b.Partial])

	tmp := t.Dir + ".new"
	st, err := build(tmp, b, req, logf)
	if err != nil {
		var ae *ApplyError
		if errors.As(err, &ae) {
			failed := t.Dir + ".failed"
			os.RemoveAll(failed)
			if rerr := os.Rename(tmp, failed); rerr == nil {
				ae.Failed = failed
			} else {
				ae.Failed = tmp
			}
			return 0, ae
		}
		os.RemoveAll(tmp)
		return 0, err
	}
	st.Inputs = inputs
	if err := (Tree{Dir: tmp}).SaveState(st); err != nil {
		return 0, err
	}
	os.RemoveAll(t.Dir + ".failed")
	if discard != nil {
		// The work is moved aside first, under a name Recover never
		// removes: an interrupted swap loses nothing.
		discard.Dir = discardedName(t.Dir, req.Now)
		if err := os.Rename(t.Dir, discard.Dir); err != nil {
			os.RemoveAll(tmp)
			return 0, fmt.Errorf("moving goroot/'s work aside to %s: %v (nothing was changed)", discard.Dir, err)
		}
		if err := os.Rename(tmp, t.Dir); err != nil {
			return 0, err
		}
		logf("%s", discard)
		return Made, nil
	}
	if err := swap(t.Dir, tmp); err != nil {
		return 0, err
	}
	return Made, nil
}

// swap replaces dir with tmp. If interrupted, Recover finishes the job.
func swap(dir, tmp string) error {
	old := dir + ".old"
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// buildOutput is what make.bash and the tests write into a Go tree: ignored
// in goroot/, so that a build, even an interrupted one, does not look like
// an edit. (Upstream's .gitignore lists the same.)
var buildOutput = []string{
	"/bin/", "/pkg/", "/src/cmd/dist/dist", "/test.out", "/test/garbage/*.out",
	"/test/pass.out", "/test/run.out", "/test/times.out",
}

// commitBase makes dir a git repository whose one commit is the base b,
// tagged with its release. Build output and the files cmd/dist generates
// are excluded. It returns the commit and the release date used for it.
func commitBase(dir string, b *base.Base) (r git.Repo, commit, when string, err error) {
	generated, err := b.Import(dir)
	if err != nil {
		return r, "", "", fmt.Errorf("copying the base into %s: %v", dir, err)
	}
	r = git.Repo{Dir: dir}
	if _, err := r.Run("init", "-q", "-b", "main"); err != nil {
		return r, "", "", err
	}
	exclude := append([]string(nil), buildOutput...)
	for _, g := range generated {
		exclude = append(exclude, "/"+g)
	}
	sort.Strings(exclude[len(buildOutput):])
	if err := os.WriteFile(filepath.Join(dir, ".git", "info", "exclude"), []byte("# written by unilock: build output and files cmd/dist generates\n"+strings.Join(exclude, "\n")+"\n"), 0o666); err != nil {
		return r, "", "", err
	}
	if _, err := r.Run("config", "gc.auto", "0"); err != nil {
		return r, "", "", err
	}
	if _, err := r.Run("add", "-A"); err != nil {
		return r, "", "", err
	}
	when = base.ReleaseTime(b.Dir)
	if when == "" {
		when = "2009-11-10T23:00:00Z"
	}
	baseEnv := []string{
		"GIT_AUTHOR_NAME=The Go Authors", "GIT_AUTHOR_EMAIL=golang-dev@googlegroups.com",
		"GIT_AUTHOR_DATE=" + when, "GIT_COMMITTER_DATE=" + when,
	}
	msg := fmt.Sprintf("%s\n\nUpstream base from %s, verified %s.\n", b.Release, b.Source, b.Hash)
	if _, err := (git.Repo{Dir: dir, Env: baseEnv}).RunInput([]byte(msg), "commit", "-q", "--no-verify", "-F", "-"); err != nil {
		return r, "", "", err
	}
	if _, err := r.Run("tag", b.Release); err != nil {
		return r, "", "", err
	}
	commit, err = r.Line("rev-parse", "HEAD")
	return r, commit, when, err
}

// build makes a new tree at dir.
func build(dir string, b *base.Base, req Request, logf func(string, ...any)) (*State, error) {
	r, baseCommit, when, err := commitBase(dir, b)
	if err != nil {
		return nil, err
	}
	logf("base committed as %.12s (tag %s)", baseCommit, b.Release)

	for i, p := range req.Patches {
		out, err := r.Run("am", "--3way", "--committer-date-is-author-date", p.Path)
		if err != nil {
			return nil, applyError(r, p.Name, out, err)
		}
		logf("applied %d/%d %s", i+1, len(req.Patches), p.Name)
	}

	if err := writeForkFiles(dir, req.Identity); err != nil {
		return nil, err
	}
	forkEnv := []string{
		"GIT_AUTHOR_NAME=" + git.CommitterName, "GIT_AUTHOR_EMAIL=" + git.CommitterEmail,
		"GIT_AUTHOR_DATE=" + when, "GIT_COMMITTER_DATE=" + when,
	}
	msg := fmt.Sprintf("unilock: build as %s with GOTOOLCHAIN=local\n\nWritten by unilock materialise; not part of the series, never extracted.\n\n%s\n", req.Identity.Version, ForkTrailer)
	if _, err := (git.Repo{Dir: dir, Env: forkEnv}).RunInput([]byte(msg), "commit", "-q", "--no-verify", "-a", "-F", "-"); err != nil {
		return nil, err
	}
	head, err := r.Line("rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	return &State{Release: b.Release, Source: b.Source, Partial: b.Partial, Base: baseCommit, Head: head}, nil
}

// writeForkFiles sets VERSION's first line to the fork version and
// GOTOOLCHAIN=local in go.env, so that a go.mod toolchain line never swaps
// the fork for a downloaded upstream toolchain.
func writeForkFiles(dir string, id *fork.Identity) error {
	vpath := filepath.Join(dir, "VERSION")
	v, err := os.ReadFile(vpath)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(v), "\n")
	lines[0] = id.Version + "\n"
	if err := os.WriteFile(vpath, []byte(strings.Join(lines, "")), 0o644); err != nil {
		return err
	}
	epath := filepath.Join(dir, "go.env")
	env, err := os.ReadFile(epath)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	const line = "GOTOOLCHAIN=local"
	re := regexp.MustCompile(`(?m)^GOTOOLCHAIN=.*$`)
	var out string
	if re.Match(env) {
		out = re.ReplaceAllString(string(env), line)
	} else {
		out = strings.TrimRight(string(env), "\n")
		if out != "" {
			out += "\n"
		}
		out += "\n# Unilock: never replace the fork with a downloaded toolchain.\n" + line + "\n"
	}
	if err := os.WriteFile(epath, []byte(out), 0o644); err != nil {
		return err
	}
	_, err = git.Repo{Dir: dir}.Run("add", "VERSION", "go.env")
	return err
}

var failedFile = regexp.MustCompile(`(?m)^(?:error: patch failed: (\S+?):\d+|error: (\S+): does not exist in index|CONFLICT \([^)]*\): Merge conflict in (\S+)|error: (\S+): patch does not apply|error: invalid object \S+ \S+ for '(.+)'|error: sha1 information is lacking or useless \((.+)\)\.)$`)

// applyError describes a git am failure, naming the files it failed on.
func applyError(r git.Repo, patch, out string, err error) error {
	text := out
	var gerr *git.Error
	if errors.As(err, &gerr) {
		text = gerr.Stdout + gerr.Stderr
	}
	seen := map[string]bool{}
	var files []string
	add := func(f string) {
		if f != "" && !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	if unmerged, err := r.Lines("diff", "--name-only", "--diff-filter=U"); err == nil {
		for _, f := range unmerged {
			add(f)
		}
	}
	for _, m := range failedFile.FindAllStringSubmatch(text, -1) {
		for _, f := range m[1:] {
			add(f)
		}
	}
	return &ApplyError{Patch: patch, Files: files, Output: text}
}
