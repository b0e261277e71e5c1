package mutate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The journal records the one mutation applied at a time, so that a run
// killed before it restored the file (SIGKILL, a power cut) is undone by the
// next run. Before the mutated file is written, the original is copied to
// original and journal.json names the file and the hashes of both versions;
// once the file is restored, both are removed.
type journal struct {
	Mutation string `json:"mutation"`
	File     string `json:"file"` // absolute path of the mutated file
	Original string `json:"original_sha256"`
	Mutated  string `json:"mutated_sha256"`
	Mode     uint32 `json:"mode"`
	PID      int    `json:"pid"`
}

func (c *Config) journalPath() string  { return filepath.Join(c.State, "journal.json") }
func (c *Config) originalPath() string { return filepath.Join(c.State, "original") }

func hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// apply writes m's edit of file, journal first.
func (c *Config) apply(m *Mutation, file string, orig []byte, mode os.FileMode) error {
	mutated := bytes.Replace(orig, []byte(m.Old), []byte(m.New), 1)
	if err := os.MkdirAll(c.State, 0o777); err != nil {
		return err
	}
	if err := writeSync(c.originalPath(), orig, 0o644); err != nil {
		return fmt.Errorf("saving the original of %s: %v", file, err)
	}
	j := journal{Mutation: m.Name, File: file, Original: hash(orig), Mutated: hash(mutated), Mode: uint32(mode.Perm()), PID: os.Getpid()}
	data, _ := json.MarshalIndent(j, "", "\t")
	if err := writeAtomic(c.journalPath(), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the journal: %v", err)
	}
	if err := writeAtomic(file, mutated, mode.Perm()); err != nil {
		return fmt.Errorf("writing mutation %s into %s: %v", m.Name, file, err)
	}
	return nil
}

// restore puts back the original recorded in the journal, if there is one.
// It returns the restored file ("" if the journal was empty). It refuses to
// overwrite a file that holds neither the original nor the mutation (someone
// edited it since), and names the saved original instead.
func (c *Config) restore() (string, error) {
	data, err := os.ReadFile(c.journalPath())
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return "", fmt.Errorf("mutation journal %s is unreadable (%v): restore the file it names by hand (git -C goroot diff), then delete it", c.journalPath(), err)
	}
	orig, err := os.ReadFile(c.originalPath())
	if err != nil || hash(orig) != j.Original {
		return "", fmt.Errorf("mutation %s was left applied to %s, and the saved original %s is missing or damaged: restore the file with git -C goroot checkout -- FILE (after checking git -C goroot diff), then delete %s", j.Mutation, j.File, c.originalPath(), c.journalPath())
	}
	cur, err := os.ReadFile(j.File)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Removed since: put it back.
	case err != nil:
		return "", err
	case hash(cur) == j.Original:
		// Already restored; only the journal was left.
	case hash(cur) != j.Mutated:
		return "", fmt.Errorf("mutation %s was left applied to %s, but the file has changed since: it was not overwritten. The original is saved in %s: compare, keep what you need, then delete %s", j.Mutation, j.File, c.originalPath(), c.journalPath())
	}
	if err == nil && hash(cur) == j.Original {
		// Nothing to write.
	} else if err := writeAtomic(j.File, orig, os.FileMode(j.Mode)); err != nil {
		return "", fmt.Errorf("restoring %s from %s: %v (copy it back by hand, then delete %s)", j.File, c.originalPath(), err, c.journalPath())
	}
	if err := os.Remove(c.journalPath()); err != nil {
		return "", err
	}
	os.Remove(c.originalPath())
	return j.File, nil
}

// otherRun reports the pid of another live run holding the journal.
func (c *Config) otherRun() int {
	data, err := os.ReadFile(c.journalPath())
	if err != nil {
		return 0
	}
	var j journal
	if json.Unmarshal(data, &j) != nil || j.PID == 0 || j.PID == os.Getpid() {
		return 0
	}
	if alive(j.PID) {
		return j.PID
	}
	return 0
}

func writeSync(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeAtomic replaces path with data: a reader (or a crash) sees the old
// file or the new one, never a partial one. The temporary file starts with a
// dot, so the go command ignores it.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".unilock-tmp")
	if err := writeSync(tmp, data, mode); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
