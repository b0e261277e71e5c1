// Package seriescheck keeps what unilock check-series has shown: for each
// patch's tree, the ports whose runtime it compiled and vetted, keyed by
// everything that decides the result, so that a run that was interrupted,
// or a rerun after one patch changed, checks only what it has not shown
// yet. Vetting runtime for a port compiles every package its tests import,
// so one patch costs about 15 minutes on 2 cores for 47 ports; a series of
// 12 does not fit in one sitting there.
package seriescheck

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Key is what decides one check's result.
type Key struct {
	// Tree is the git tree hash of the patch's commit: its whole content.
	Tree string
	// Port is GOOS/GOARCH.
	Port string
	// Tools identifies the go command and the compile, asm, cgo and vet
	// tools that ran (ToolsID): a series that changes the compiler (an
	// experiment flag, say) is checked again.
	Tools string
	// Check names what was checked, e.g. "build runtime, vet runtime".
	Check string
}

func (k Key) String() string {
	return k.Tree + " " + k.Port + " " + k.Tools + " " + k.Check
}

// Entry is one passed check.
type Entry struct {
	Key     Key       `json:"key"`
	Patch   string    `json:"patch"` // the patch's subject, for people reading the file
	When    time.Time `json:"when"`
	Seconds float64   `json:"seconds"`
}

// Store is the file of passed checks. Only passes are kept: a failure is
// checked again every time.
type Store struct {
	path    string
	mu      sync.Mutex
	entries map[string]Entry
}

// Open reads the store at path; a missing file is an empty store.
func Open(path string) (*Store, error) {
	s := &Store{path: path, entries: map[string]Entry{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	var es []Entry
	if err := json.Unmarshal(data, &es); err != nil {
		return nil, fmt.Errorf("%s: %v: it only records which patches passed; remove it to check every patch again (rm %s)", path, err, path)
	}
	for _, e := range es {
		s.entries[e.Key.String()] = e
	}
	return s, nil
}

// Passed reports whether the check k has passed before.
func (s *Store) Passed(k Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.entries[k.String()]
	return ok
}

// Len is the number of passed checks recorded.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Record adds a passed check and writes the store, so that what passed
// survives an interruption.
func (s *Store) Record(e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[e.Key.String()] = e
	return s.write()
}

// Forget drops a check that has just failed (with -fresh, it may have
// passed before): the latest result counts.
func (s *Store) Forget(k Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[k.String()]; !ok {
		return nil
	}
	delete(s.entries, k.String())
	return s.write()
}

// write writes the store; s.mu is held.
func (s *Store) write() error {
	es := make([]Entry, 0, len(s.entries))
	for _, e := range s.entries {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Key.String() < es[j].Key.String() })
	data, err := json.MarshalIndent(es, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o777); err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o666); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

// ToolsID hashes the go command and the tools a check runs, of the
// toolchain at goroot built for the host goos/goarch.
func ToolsID(goroot, goos, goarch string) (string, error) {
	h := sha256.New()
	exe := ""
	if goos == "windows" {
		exe = ".exe"
	}
	files := []string{filepath.Join(goroot, "bin", "go"+exe)}
	for _, t := range []string{"compile", "asm", "cgo", "vet"} {
		files = append(files, filepath.Join(goroot, "pkg", "tool", goos+"_"+goarch, t+exe))
	}
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			return "", fmt.Errorf("%v: build the toolchain first: ./make.bash", err)
		}
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
