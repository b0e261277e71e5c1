// Package goroot holds the materialised fork tree, goroot/: a git repository
// with one commit for the upstream base, one commit per patch of the series,
// and one commit that sets the fork's VERSION and go.env. Developers edit the
// runtime there and extract their commits back into patches/.
//
// The package never destroys work: a tree with uncommitted edits, or commits
// that were not extracted, is only replaced with --force. A new tree is built
// aside (goroot.new) and swapped in only when complete.
package goroot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"unilock/internal/fork"
	"unilock/internal/git"
	"unilock/internal/series"
)

// layout versions the way a tree is made; bump it when materialise changes
// what it writes, so existing trees are remade.
const layout = "unilock-goroot/2"

// ForkTrailer marks the commit that sets the fork's VERSION and go.env. It is
// made by materialise and never extracted.
const ForkTrailer = "Unilock-Fork-Commit: true"

// State is what the tool records in goroot/.git/unilock.json.
type State struct {
	// Inputs is the digest of the identity and series the tree holds.
	Inputs string `json:"inputs"`
	// Release is the upstream release of the base.
	Release string `json:"release"`
	// Source says where the base came from.
	Source string `json:"source"`
	// Partial is set when the base lacks api/, misc/, test/, doc/.
	Partial bool `json:"partial"`
	// Base is the base commit.
	Base string `json:"base"`
	// Head is the commit materialise or the last extract left; commits after
	// it are local work.
	Head string `json:"head"`
	// Built is the commit goroot/bin was last built from by make.bash, or "".
	Built string `json:"built,omitempty"`
}

// Tree is a goroot/ directory.
type Tree struct {
	Dir string // absolute path
}

// Repo is the tree's git repository.
func (t Tree) Repo() git.Repo { return git.Repo{Dir: t.Dir} }

func (t Tree) statePath() string { return filepath.Join(t.Dir, ".git", "unilock.json") }

// Exists reports whether the tree exists.
func (t Tree) Exists() bool {
	_, err := os.Stat(t.Dir)
	return err == nil
}

// ErrNoState means goroot/ exists but was not made by unilock.
var ErrNoState = errors.New("no goroot/.git/unilock.json")

// LoadState reads the tree's state.
func (t Tree) LoadState() (*State, error) {
	data, err := os.ReadFile(t.statePath())
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("%s was not made by unilock (%w): move it aside, or replace it with: ./make.bash --force", t.Dir, ErrNoState)
	}
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %v (remake the tree with: ./make.bash --force)", t.statePath(), err)
	}
	return &st, nil
}

// SaveState writes the tree's state.
func (t Tree) SaveState(st *State) error {
	data, err := json.MarshalIndent(st, "", "\t")
	if err != nil {
		return err
	}
	tmp := t.statePath() + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o666); err != nil {
		return err
	}
	return os.Rename(tmp, t.statePath())
}

// Inputs is the digest of everything a tree is made from.
func Inputs(id *fork.Identity, ps []series.Patch) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%s\n%s\n", layout, id.Version, id.Release, id.TreeHash, id.SrcHash, series.Digest(ps))
	return hex.EncodeToString(h.Sum(nil))
}

// Work is what a tree holds that patches/ does not.
type Work struct {
	Dirty     []string // git status --porcelain lines
	Commits   []string // one-line commits after State.Head
	Rewritten bool     // State.Head is no longer in the history of HEAD
}

// Empty reports whether there is no local work.
func (w Work) Empty() bool { return len(w.Dirty) == 0 && len(w.Commits) == 0 && !w.Rewritten }

func (w Work) String() string {
	var b strings.Builder
	if len(w.Dirty) > 0 {
		fmt.Fprintf(&b, "%d uncommitted changes:\n", len(w.Dirty))
		for _, l := range limit(w.Dirty, 10) {
			fmt.Fprintf(&b, "\t%s\n", l)
		}
	}
	if w.Rewritten {
		fmt.Fprintf(&b, "history rewritten since the last materialise or extract (rebased or amended commits)\n")
	}
	if len(w.Commits) > 0 {
		fmt.Fprintf(&b, "%d commits not extracted into patches/:\n", len(w.Commits))
		for _, l := range limit(w.Commits, 10) {
			fmt.Fprintf(&b, "\t%s\n", l)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func limit(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(lines[:n:n], fmt.Sprintf("... and %d more", len(lines)-n))
}

// LocalWork returns what the tree holds that was not extracted.
func (t Tree) LocalWork(st *State) (Work, error) {
	var w Work
	r := t.Repo()
	dirty, err := r.Dirty()
	if err != nil {
		return w, err
	}
	w.Dirty = dirty
	head, err := r.Line("rev-parse", "HEAD")
	if err != nil {
		return w, err
	}
	if head == st.Head {
		return w, nil
	}
	if _, err := r.Run("merge-base", "--is-ancestor", st.Head, head); err != nil {
		w.Rewritten = true
		w.Commits, err = r.Lines("log", "--format=%h %s", st.Base+".."+head)
		return w, err
	}
	w.Commits, err = r.Lines("log", "--format=%h %s", st.Head+".."+head)
	return w, err
}

// Head returns the tree's HEAD commit.
func (t Tree) Head() (string, error) { return t.Repo().Line("rev-parse", "HEAD") }

// Version is the first line of the tree's VERSION file: the fork version
// it was made with.
func (t Tree) Version() (string, error) {
	data, err := os.ReadFile(filepath.Join(t.Dir, "VERSION"))
	if err != nil {
		return "", err
	}
	v, _, _ := strings.Cut(string(data), "\n")
	if v = strings.TrimSpace(v); v == "" {
		return "", fmt.Errorf("%s/VERSION has an empty first line", t.Dir)
	}
	return v, nil
}

// Recover finishes or undoes a materialise that was interrupted: a complete
// old tree left beside a missing goroot/ is put back, a half-made new tree is
// removed. It reports what it did.
func Recover(dir string) (string, error) {
	old, tmp := dir+".old", dir+".new"
	var did []string
	if _, err := os.Stat(old); err == nil {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			if err := os.Rename(old, dir); err != nil {
				return "", err
			}
			did = append(did, "put back "+filepath.Base(old)+" as "+filepath.Base(dir))
		} else {
			if err := os.RemoveAll(old); err != nil {
				return "", err
			}
			did = append(did, "removed "+filepath.Base(old))
		}
	}
	if _, err := os.Stat(tmp); err == nil {
		if err := os.RemoveAll(tmp); err != nil {
			return "", err
		}
		did = append(did, "removed the unfinished "+filepath.Base(tmp))
	}
	return strings.Join(did, "; "), nil
}
