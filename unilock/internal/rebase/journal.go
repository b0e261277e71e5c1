// Package rebase moves the fork to another upstream release the way git
// rebase moves a branch: the series is re-applied, one patch at a time, in a
// trial tree (goroot.rebase/) on the new release; at a conflict it stops,
// with the conflict in the trial's working tree and its state in a journal
// (.unilock/rebase/state.json), for a person to resolve and go on with
// -continue, drop the patch with -skip, or undo everything with -abort. When
// every patch is in, the new series is extracted into patches/, VERSION and
// upstream.pin are written and goroot/ is remade. Nothing of the old fork
// (patches/, VERSION, upstream.pin, goroot/) is touched before that end.
package rebase

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"unilock/internal/fork"
	"unilock/internal/goroot"
)

// Fork is where the fork's files are.
type Fork struct {
	Root    string // the repository root: VERSION, upstream.pin
	Goroot  string // goroot/
	Patches string // patches/
	State   string // .unilock/
}

// JournalDir holds the journal and the copy of the old fork.
func (f Fork) JournalDir() string { return filepath.Join(f.State, "rebase") }

func (f Fork) journalPath() string { return filepath.Join(f.JournalDir(), "state.json") }

// oldDir holds the old fork as it was when the rebase started: VERSION,
// upstream.pin and patches/. The series applied is the copy in it, so
// that edits to patches/ during the rebase do not change what is applied.
func (f Fork) oldDir() string { return filepath.Join(f.JournalDir(), "old") }

// Trial is the trial tree, goroot.rebase/.
func (f Fork) Trial() goroot.Trial { return goroot.Trial{Dir: f.Goroot + ".rebase"} }

// Journal is the state of a rebase in progress.
type Journal struct {
	Release    string `json:"release"`     // the release moved to
	Version    string `json:"version"`     // the fork version written at the end
	OldVersion string `json:"old_version"` // the fork version moved from
	// From is the tree the base came from (rebase -from), or "".
	From       string `json:"from,omitempty"`
	ModuleOnly bool   `json:"module_only,omitempty"`
	Source     string `json:"source"` // where the new base came from, in words
	Partial    bool   `json:"partial"`
	// Gerrit is the Gerrit asked why a patch drops or conflicts (rebase
	// -gerrit), or "" to ask none.
	Gerrit string `json:"gerrit,omitempty"`
	// Tree and Src are the hashes written to upstream.pin.
	Tree string `json:"tree"`
	Src  string `json:"src"`
	// Base is the new base commit in the trial; "" until it is made.
	Base string `json:"base"`
	// OldDigest is the digest of patches/, VERSION and upstream.pin when
	// the rebase started: they must be the same at the end.
	OldDigest string `json:"old_digest"`
	Patches   []Step `json:"patches"`
	// Next is the index in Patches of the patch being applied, or the one
	// the rebase stopped at.
	Next int `json:"next"`
	// Stopped is set while the rebase waits at Patches[Next] for a person.
	Stopped bool `json:"stopped"`
	// Head is the trial's HEAD after the last patch that is done.
	Head string `json:"head"`
	// Finishing is set once the new fork is being written: from then on
	// -abort restores the old one from the copy.
	Finishing bool   `json:"finishing"`
	Started   string `json:"started"`
}

// Step is one patch of the series.
type Step struct {
	Name      string                `json:"name"`
	Outcome   string                `json:"outcome,omitempty"` // "" until applied
	Conflicts []goroot.FileConflict `json:"conflicts,omitempty"`
	// Upstream says why the patch dropped or conflicts, when Gerrit
	// knows: the release holds its CL.
	Upstream string `json:"upstream,omitempty"`
}

// Outcomes of a step, besides goroot's Applied, Merged and Dropped.
const (
	Resolved = "resolved by hand"
	Skipped  = "skipped (-skip): left out of the series"
)

// Load reads the journal; it returns nil and no error when no rebase is in
// progress.
func Load(f Fork) (*Journal, error) {
	data, err := os.ReadFile(f.journalPath())
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%s: %v (the rebase journal is damaged; undo the rebase with: rm -rf %s %s)", f.journalPath(), err, f.JournalDir(), f.Trial().Dir)
	}
	return &j, nil
}

func (j *Journal) save(f Fork) error {
	data, err := json.MarshalIndent(j, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.JournalDir(), 0o777); err != nil {
		return err
	}
	tmp := f.journalPath() + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o666); err != nil {
		return err
	}
	return os.Rename(tmp, f.journalPath())
}

// Current is the step the rebase is at, or nil when every patch is done.
func (j *Journal) Current() *Step {
	if j.Next < len(j.Patches) {
		return &j.Patches[j.Next]
	}
	return nil
}

// Summary says in one line where the rebase stands.
func (j *Journal) Summary() string {
	switch {
	case j.Finishing:
		return fmt.Sprintf("rebase from %s to %s: every patch is in; writing the new fork was interrupted", j.OldVersion, j.Release)
	case j.Stopped:
		return fmt.Sprintf("rebase from %s to %s: stopped at patch %d of %d, %s", j.OldVersion, j.Release, j.Next+1, len(j.Patches), j.Patches[j.Next].Name)
	default:
		return fmt.Sprintf("rebase from %s to %s: interrupted at patch %d of %d", j.OldVersion, j.Release, j.Next+1, len(j.Patches))
	}
}

// oldFiles are the files of the old fork the rebase replaces at the end,
// relative to the root.
func oldFiles(f Fork) ([]string, error) {
	names := []string{fork.VersionFile, fork.PinFile}
	ents, err := os.ReadDir(f.Patches)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, filepath.Join(filepath.Base(f.Patches), e.Name()))
		}
	}
	sort.Strings(names)
	return names, nil
}

// digest hashes the old fork's files: names and contents.
func digest(f Fork) (string, error) {
	names, err := oldFiles(f)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(f.Root, n))
		if err != nil && !os.IsNotExist(err) {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", n, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// saveOld copies the old fork's files into the journal directory.
func saveOld(f Fork) error {
	names, err := oldFiles(f)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(f.oldDir()); err != nil {
		return err
	}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(f.Root, n))
		if err != nil {
			return err
		}
		to := filepath.Join(f.oldDir(), n)
		if err := os.MkdirAll(filepath.Dir(to), 0o777); err != nil {
			return err
		}
		if err := os.WriteFile(to, data, 0o666); err != nil {
			return err
		}
	}
	return nil
}
