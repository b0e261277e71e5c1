package goroot

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"unilock/internal/base"
	"unilock/internal/git"
	"unilock/internal/series"
)

// RebaseRequest moves a series onto a new base.
type RebaseRequest struct {
	// Old is the current tree: its base commit provides the blobs that
	// git am --3way merges from. It is only read.
	Old     Tree
	Patches []series.Patch
	NewBase *base.Base
	// Dir is where the trial tree is made; it is replaced if it exists.
	Dir   string
	Phase func(format string, args ...any)
}

// Outcome of one patch in a rebase.
const (
	Applied = "applied"
	Merged  = "applied with a 3-way merge"
	Dropped = "dropped: already upstream"
	Failed  = "CONFLICT"
)

// PatchResult is what happened to one patch.
type PatchResult struct {
	Patch   string
	Outcome string
	// Conflicts, for a failed patch: each file with its conflicting hunks.
	Conflicts []FileConflict
	// AfterConflict is set on a failed patch that follows another failed
	// one: it may fail only because the earlier one is missing.
	AfterConflict bool
	Output        string // git am's words, for a failed patch
}

// FileConflict is one file a patch conflicted in.
type FileConflict struct {
	File  string
	Hunks []string // "lines 12-20" of the conflict markers in the merged file, or git's words
}

// RebaseResult is the outcome of a rebase.
type RebaseResult struct {
	Patches []PatchResult
	// Files and Names are the new series, when nothing conflicted.
	Files map[string][]byte
	Names []string
	Base  string // the new base commit in Dir
}

// OK reports whether every patch applied or was dropped.
func (r *RebaseResult) OK() bool {
	for _, p := range r.Patches {
		if p.Outcome == Failed {
			return false
		}
	}
	return true
}

// Rebase applies the series to a new base in a trial tree at req.Dir, with
// 3-way merges against the old base. Neither the old tree nor patches/ is
// touched: the caller writes the new series when the result is OK. A patch
// whose change the new base already holds is dropped. After a conflicting
// patch the rebase goes on without it, so that one run names every
// conflict.
func Rebase(req RebaseRequest) (*RebaseResult, error) {
	logf := req.Phase
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := os.RemoveAll(req.Dir); err != nil {
		return nil, err
	}
	baseCommit, err := StartTrial(req.Dir, req.NewBase, req.Old)
	if err != nil {
		return nil, err
	}
	logf("new base %s committed as %.12s", req.NewBase.Release, baseCommit)
	t := Trial{Dir: req.Dir}
	res := &RebaseResult{Base: baseCommit}
	failed := false
	for _, p := range req.Patches {
		pr, err := t.Apply(p)
		if err != nil {
			return nil, err
		}
		if pr.Outcome == Failed {
			pr.AfterConflict = failed
			failed = true
			if err := t.Skip(); err != nil {
				t.Repo().Run("am", "--abort")
			}
		}
		logf("%s: %s", p.Name, pr.Outcome)
		res.Patches = append(res.Patches, pr)
	}
	if failed {
		return res, nil
	}
	res.Files, res.Names, err = t.Series(baseCommit)
	return res, err
}

// conflicts locates the conflict markers git's 3-way merge left in each
// file.
func conflicts(r git.Repo, files []string) []FileConflict {
	var out []FileConflict
	for _, f := range files {
		fc := FileConflict{File: f}
		file, err := os.Open(filepath.Join(r.Dir, f))
		if err != nil {
			fc.Hunks = []string{"does not apply (no such file in the new base)"}
			out = append(out, fc)
			continue
		}
		sc := bufio.NewScanner(file)
		n, start := 0, 0
		for sc.Scan() {
			n++
			l := sc.Text()
			switch {
			case strings.HasPrefix(l, "<<<<<<< "):
				start = n
			case strings.HasPrefix(l, ">>>>>>> ") && start > 0:
				fc.Hunks = append(fc.Hunks, fmt.Sprintf("lines %d-%d", start, n))
				start = 0
			}
		}
		file.Close()
		if len(fc.Hunks) == 0 {
			fc.Hunks = []string{"the patch does not apply (see git am's output)"}
		}
		out = append(out, fc)
	}
	return out
}
