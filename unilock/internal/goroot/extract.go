package goroot

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"unilock/internal/fork"
	"unilock/internal/git"
	"unilock/internal/series"
)

// formatPatch are the git format-patch flags that make a patch file depend
// only on its commit: no commit hash, no git version, full blob names (an
// abbreviation's length depends on the repository's size), fixed numbering.
var formatPatch = []string{
	"format-patch", "-1", "--stdout", "--zero-commit", "--no-signature",
	"--full-index", "--no-numbered", "--subject-prefix=PATCH", "--stat=80",
	"--find-renames", "--diff-algorithm=myers", "--encoding=UTF-8", "--no-attach", "--no-thread",
}

// Patches returns the tree's commits above the base (leaving out the fork
// commit) as patch files: file name to contents.
func (t Tree) Patches(st *State) (map[string][]byte, []string, error) {
	r := t.Repo()
	if merges, err := r.Lines("rev-list", "--merges", st.Base+"..HEAD"); err != nil {
		return nil, nil, err
	} else if len(merges) > 0 {
		return nil, nil, fmt.Errorf("goroot/ has merge commits above the base (%.12s...); a series is linear: rebase them away (git -C goroot rebase %s)", merges[0], st.Release)
	}
	commits, err := r.Lines("rev-list", "--reverse", st.Base+"..HEAD")
	if err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{}
	var names []string
	for _, c := range commits {
		body, err := r.Run("log", "-1", "--format=%B", c)
		if err != nil {
			return nil, nil, err
		}
		if strings.Contains(body, ForkTrailer) {
			continue
		}
		subject, err := r.Line("log", "-1", "--format=%s", c)
		if err != nil {
			return nil, nil, err
		}
		data, err := r.Run(append(formatPatch, c)...)
		if err != nil {
			return nil, nil, err
		}
		name := series.FileName(len(names)+1, subject)
		files[name] = []byte(data)
		names = append(names, name)
	}
	return files, names, nil
}

// ExtractResult says what Extract changed in patches/.
type ExtractResult struct {
	Series  []string // the series now in patches/
	Written []string
	Removed []string
}

// Extract writes the tree's commits back into patchesDir and records that the
// tree holds nothing more. It refuses a tree with uncommitted edits, and
// patch files with uncommitted changes (in the repository around
// patchesDir) that it would overwrite or remove: see PatchesError.
func (t Tree) Extract(id *fork.Identity, patchesDir string) (*ExtractResult, error) {
	st, err := t.LoadState()
	if err != nil {
		return nil, err
	}
	r := t.Repo()
	if dirty, err := r.Dirty(); err != nil {
		return nil, err
	} else if len(dirty) > 0 {
		return nil, fmt.Errorf("goroot/ has uncommitted changes, which belong to no patch:\n%s\ncommit them first (git -C goroot commit -a, or --amend into the patch they belong to), then run: unilock extract", indent(strings.Join(limit(dirty, 10), "\n")))
	}
	files, names, err := t.Patches(st)
	if err != nil {
		return nil, err
	}
	if err := guardPatches(patchesDir, files); err != nil {
		return nil, err
	}
	written, removed, err := series.Write(patchesDir, files)
	if err != nil {
		return nil, err
	}
	ps, err := series.Load(patchesDir)
	if err != nil {
		return nil, err
	}
	head, err := t.Head()
	if err != nil {
		return nil, err
	}
	st.Head = head
	// The tree's VERSION is the one it was made with, which may not be
	// the VERSION file's any more: record that, so that the next
	// materialise remakes the fork commit instead of calling the tree
	// current.
	held := *id
	if v, err := t.Version(); err == nil {
		held.Version = v
	}
	st.Inputs = Inputs(&held, ps)
	if err := t.SaveState(st); err != nil {
		return nil, err
	}
	return &ExtractResult{Series: names, Written: written, Removed: removed}, nil
}

// PatchesError is the refusal to overwrite patch files whose changes are not
// committed.
type PatchesError struct {
	Dir   string   // patches/
	Files []string // "XY name" lines of git status, names relative to Dir
}

func (e *PatchesError) Error() string {
	return fmt.Sprintf(`patches/ has uncommitted changes that extract would overwrite or remove:
%s
extract writes goroot/'s commits over these files, and git has no copy of the changes. Either
keep them and extract after:  git stash push -- patches/ && unilock extract && git stash pop
                              (the pop merges your edits into what goroot/ holds; conflicts are marked)
or commit them first:         git commit -m "..." -- patches/   then: unilock extract   (git diff shows both)
or drop them, they are not needed:  git checkout -- patches/ (and remove untracked files), then: unilock extract
or, to build from patches/ instead of goroot/'s work:  ./make.bash --force   (moves goroot/'s work aside, nothing deleted)`, indent(strings.Join(e.Files, "\n")))
}

// guardPatches refuses, with a PatchesError, to let Extract write files over
// patch files in dir that hold uncommitted changes, or remove them. Outside a
// git repository there is nothing to compare with and nothing is refused.
func guardPatches(dir string, files map[string][]byte) error {
	changed, err := uncommitted(dir)
	if err != nil || len(changed) == 0 {
		return err
	}
	existing, err := series.Load(dir)
	if err != nil {
		return err
	}
	isSeries := map[string]bool{}
	for _, p := range existing {
		isSeries[p.Name] = true
	}
	var risky []string
	for _, c := range changed {
		name := c.name
		data, write := files[name]
		switch {
		case write:
			if cur, err := os.ReadFile(filepath.Join(dir, name)); err == nil && bytes.Equal(cur, data) {
				continue // extract leaves it as it is
			}
		case isSeries[name]:
			// extract removes it
		default:
			continue // not a file extract touches
		}
		risky = append(risky, c.status+" "+name)
	}
	if len(risky) == 0 {
		return nil
	}
	return &PatchesError{Dir: dir, Files: risky}
}

type change struct{ status, name string }

// uncommitted returns the files under dir that differ from the commit HEAD
// of the repository dir is in, with git status's two-letter code.
func uncommitted(dir string) ([]change, error) {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil, nil
	}
	r := git.Repo{Dir: dir}
	top, err := r.Line("rev-parse", "--show-toplevel")
	if err != nil {
		return nil, nil // not in a git repository
	}
	out, err := r.Run("status", "--porcelain", "-z", "--untracked-files=all", "--", ".")
	if err != nil {
		return nil, fmt.Errorf("git status in %s: %v", dir, err)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	var cs []change
	entries := strings.Split(out, "\x00")
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		if len(e) < 4 {
			continue
		}
		status, path := e[:2], e[3:]
		if status[0] == 'R' || status[0] == 'C' {
			i++ // the next entry is the old name
		}
		rel, err := filepath.Rel(realDir, filepath.Join(top, filepath.FromSlash(path)))
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		cs = append(cs, change{status: status, name: filepath.ToSlash(rel)})
	}
	return cs, nil
}
