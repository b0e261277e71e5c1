package goroot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"unilock/internal/base"
	"unilock/internal/git"
	"unilock/internal/series"
)

// Trial is the tree a rebase re-applies the series in, goroot.rebase/: a git
// repository with the new release committed as its base (tagged with the
// release) and one commit per patch applied so far. The old base is fetched
// into it and tagged with its release too, so that git am --3way can merge
// and a person can see what the new release changed.
type Trial struct {
	Dir string
}

// Repo is the trial's git repository.
func (t Trial) Repo() git.Repo { return git.Repo{Dir: t.Dir} }

// StartTrial makes the trial tree at dir, which must not exist: the new base
// b committed and tagged, and the old tree's base fetched and tagged with its
// release. It returns the new base commit.
func StartTrial(dir string, b *base.Base, old Tree) (string, error) {
	st, err := old.LoadState()
	if err != nil {
		return "", err
	}
	r, commit, _, err := commitBase(dir, b)
	if err != nil {
		return "", err
	}
	if _, err := r.Run("fetch", "-q", "--no-tags", old.Dir, st.Base); err != nil {
		return "", fmt.Errorf("fetching the old base %.12s from %s: %v", st.Base, old.Dir, err)
	}
	if st.Release != "" && st.Release != b.Release {
		if _, err := r.Run("tag", st.Release, st.Base); err != nil {
			return "", err
		}
	}
	return commit, nil
}

// Applying reports whether a git am session is stopped in the trial (at a
// conflict, or interrupted).
func (t Trial) Applying() bool {
	_, err := os.Stat(filepath.Join(t.Dir, ".git", "rebase-apply"))
	return err == nil
}

// Apply applies one patch with git am --3way, keeping its author, date and
// message. A patch whose change the tree already holds is dropped. On a
// conflict the am session is left stopped, the conflict markers in the
// working tree, and the result's Outcome is Failed.
func (t Trial) Apply(p series.Patch) (PatchResult, error) {
	r := t.Repo()
	pr := PatchResult{Patch: p.Name}
	before, err := r.Line("rev-parse", "HEAD")
	if err != nil {
		return pr, err
	}
	out, amErr := r.Run("am", "--3way", "--committer-date-is-author-date", p.Path)
	if amErr != nil {
		text := out
		var ge *git.Error
		if errors.As(amErr, &ge) {
			text = ge.Stdout + ge.Stderr
		}
		if strings.Contains(text, "No changes -- Patch already applied") || strings.Contains(text, "Patch is empty") {
			pr.Outcome = Dropped
			if _, err := r.Run("am", "--skip"); err != nil {
				return pr, err
			}
			return pr, nil
		}
		if !t.Applying() {
			return pr, fmt.Errorf("git am %s: %v", p.Name, amErr)
		}
		pr.Outcome = Failed
		pr.Output = text
		pr.Conflicts = conflicts(r, applyError(r, p.Name, out, amErr).(*ApplyError).Files)
		return pr, nil
	}
	after, err := r.Line("rev-parse", "HEAD")
	if err != nil {
		return pr, err
	}
	switch {
	case after == before:
		pr.Outcome = Dropped
	case strings.Contains(out, "3-way merge"):
		pr.Outcome = Merged
	default:
		pr.Outcome = Applied
	}
	return pr, nil
}

// Unresolved lists what stands in the way of committing the stopped patch:
// files git still marks unmerged, files that still hold conflict markers,
// and changes not added to the index (git am --continue commits the index
// only).
type Unresolved struct {
	Unmerged []string
	Markers  []FileConflict
	Unstaged []string // git status --porcelain lines
}

// Empty reports whether the patch can be committed.
func (u Unresolved) Empty() bool {
	return len(u.Unmerged) == 0 && len(u.Markers) == 0 && len(u.Unstaged) == 0
}

// Unresolved says what is left to do before the stopped patch can be
// committed; files are the ones it conflicted in.
func (t Trial) Unresolved(files []string) (Unresolved, error) {
	var u Unresolved
	r := t.Repo()
	var err error
	if u.Unmerged, err = r.Lines("diff", "--name-only", "--diff-filter=U"); err != nil {
		return u, err
	}
	for _, fc := range conflicts(r, files) {
		if len(fc.Hunks) > 0 && strings.HasPrefix(fc.Hunks[0], "lines ") {
			u.Markers = append(u.Markers, fc)
		}
	}
	lines, err := r.Dirty()
	if err != nil {
		return u, err
	}
	for _, l := range lines {
		// git status --porcelain: XY PATH, X the index, Y the work tree.
		if len(l) < 4 {
			continue
		}
		switch xy := l[:2]; {
		case xy == "DD" || xy == "AA" || strings.Contains(xy, "U"):
			// unmerged: listed above
		case xy == "??" || xy[1] != ' ':
			u.Unstaged = append(u.Unstaged, l)
		}
	}
	return u, nil
}

// Commit commits the stopped patch from the index with git am --continue,
// keeping its author, date and message. It fails when the index holds no
// change from HEAD (the resolution dropped the whole patch: skip it).
func (t Trial) Commit() error {
	r := t.Repo()
	if _, err := r.Run("diff", "--cached", "--quiet"); err == nil {
		return ErrNothingStaged
	}
	_, err := r.Run("am", "--continue")
	return err
}

// ErrNothingStaged is the refusal to commit a resolution that holds no change.
var ErrNothingStaged = errors.New("the resolution holds no change from the patches before it")

// Skip drops the stopped patch: git am --skip, which also undoes the
// patch's changes in the working tree.
func (t Trial) Skip() error {
	_, err := t.Repo().Run("am", "--skip")
	return err
}

// Series returns the trial's commits above base as patch files.
func (t Trial) Series(base string) (map[string][]byte, []string, error) {
	return Tree{Dir: t.Dir}.Patches(&State{Base: base, Release: filepath.Base(t.Dir)})
}
