package goroot

import (
	"fmt"
	"strings"

	"unilock/internal/fork"
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
// tree holds nothing more. It refuses a tree with uncommitted edits.
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
	st.Inputs = Inputs(id, ps)
	if err := t.SaveState(st); err != nil {
		return nil, err
	}
	return &ExtractResult{Series: names, Written: written, Removed: removed}, nil
}
