// Package mutate is the lock layer's mutation check: a list of deliberate
// bugs, each applied in turn to goroot/ (one file, one exact edit), the lock
// tests run against it with the fork's go command, and the file restored
// byte for byte. A mutation the tests do not fail on, or fail on only by
// timing out, shows a hole in the tests.
//
// The list is kept in txtar files (unilock/mutations/*.txtar); the comment
// at the top of unilock/mutations/lock.txtar documents the format, and
// Parse implements it.
package mutate

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/tools/txtar"

	"unilock/internal/tiers"
)

// DefaultRun is the -run pattern of a mutation that names none: the lock
// tests of the lock tier.
const DefaultRun = tiers.LockSubset

// DefaultPkgs are the packages tested for a mutation that names none.
var DefaultPkgs = []string{"runtime"}

// A Mutation is one deliberate bug: replace Old, which must occur exactly
// once in File, with New.
type Mutation struct {
	Name   string   // [a-z0-9][a-z0-9-]*, unique across the list
	Desc   string   // the bug, in words
	File   string   // slash-separated, relative to goroot/src: runtime/lock_futex.go
	Old    string   // the exact text replaced: whole lines
	New    string   // what replaces it
	Env    []string // KEY=VALUE added to the test command (GOOS, GOARCH, GOEXPERIMENT, GOFLAGS)
	Run    string   // go test -run pattern; DefaultRun if empty
	Pkgs   []string // packages tested; DefaultPkgs if empty
	Source string   // the list file it came from
}

// RunPattern is the -run pattern the mutation is tested with.
func (m *Mutation) RunPattern() string {
	if m.Run == "" {
		return DefaultRun
	}
	return m.Run
}

// Packages are the packages the mutation is tested with.
func (m *Mutation) Packages() []string {
	if len(m.Pkgs) == 0 {
		return DefaultPkgs
	}
	return m.Pkgs
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Parse reads a mutation list in txtar form. Each mutation is three
// consecutive archive files:
//
//	-- NAME --        header: "key: value" lines (file, desc, and optionally
//	                  run, pkgs, env); blank lines and # comments ignored
//	-- NAME.old --    the exact text to replace (whole lines)
//	-- NAME.new --    the text that replaces it (may be empty)
//
// source names the list in errors.
func Parse(source string, data []byte) ([]*Mutation, error) {
	a := txtar.Parse(data)
	var ms []*Mutation
	files := a.Files
	for len(files) > 0 {
		h := files[0]
		if strings.HasSuffix(h.Name, ".old") || strings.HasSuffix(h.Name, ".new") {
			return nil, fmt.Errorf("%s: section %q comes before its header section -- %s --", source, h.Name, strings.TrimSuffix(strings.TrimSuffix(h.Name, ".old"), ".new"))
		}
		if !nameRE.MatchString(h.Name) {
			return nil, fmt.Errorf("%s: mutation name %q: use lower-case letters, digits and dashes", source, h.Name)
		}
		if len(files) < 3 || files[1].Name != h.Name+".old" || files[2].Name != h.Name+".new" {
			return nil, fmt.Errorf("%s: mutation %s: want sections -- %s --, -- %s.old --, -- %s.new -- in that order", source, h.Name, h.Name, h.Name, h.Name)
		}
		m := &Mutation{Name: h.Name, Old: string(files[1].Data), New: string(files[2].Data), Source: source}
		if err := m.parseHeader(string(h.Data)); err != nil {
			return nil, fmt.Errorf("%s: mutation %s: %v", source, h.Name, err)
		}
		if strings.TrimSpace(m.Old) == "" {
			return nil, fmt.Errorf("%s: mutation %s: the .old section is empty: it must hold the exact text to replace", source, m.Name)
		}
		if m.Old == m.New {
			return nil, fmt.Errorf("%s: mutation %s: .old and .new are the same text: it changes nothing", source, m.Name)
		}
		ms = append(ms, m)
		files = files[3:]
	}
	return ms, nil
}

func (m *Mutation) parseHeader(text string) error {
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		if !ok || val == "" {
			return fmt.Errorf("header line %d %q: want \"key: value\"", i+1, line)
		}
		switch strings.TrimSpace(key) {
		case "file":
			m.File = val
		case "desc":
			if m.Desc != "" {
				m.Desc += " "
			}
			m.Desc += val
		case "run":
			if _, err := regexp.Compile(val); err != nil {
				return fmt.Errorf("run: %v", err)
			}
			m.Run = val
		case "pkgs":
			m.Pkgs = append(m.Pkgs, strings.Fields(val)...)
		case "env":
			for _, kv := range strings.Fields(val) {
				if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
					return fmt.Errorf("env: %q is not KEY=VALUE", kv)
				}
				m.Env = append(m.Env, kv)
			}
		default:
			return fmt.Errorf("header line %d: unknown key %q (keys: file, desc, run, pkgs, env)", i+1, key)
		}
	}
	if m.File == "" {
		return fmt.Errorf("no \"file:\" line (the file to mutate, relative to goroot/src, e.g. runtime/lock_futex.go)")
	}
	if path.IsAbs(m.File) || path.Clean(m.File) != m.File || strings.HasPrefix(m.File, "../") || strings.Contains(m.File, `\`) {
		return fmt.Errorf("file %q: want a clean slash-separated path relative to goroot/src", m.File)
	}
	if m.Desc == "" {
		return fmt.Errorf("no \"desc:\" line (the bug, in words)")
	}
	return nil
}

// Load reads the mutation lists: every *.txtar file in dir, in name order.
// Names must be unique across them.
func Load(dir string) ([]*Mutation, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no mutation lists (*.txtar) in %s", dir)
	}
	sort.Strings(paths)
	return LoadFiles(paths...)
}

// LoadFiles reads the mutation lists at paths.
func LoadFiles(paths ...string) ([]*Mutation, error) {
	var all []*Mutation
	seen := map[string]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		ms, err := Parse(p, data)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if prev, ok := seen[m.Name]; ok {
				return nil, fmt.Errorf("%s: mutation %s is also in %s: names must be unique", p, m.Name, prev)
			}
			seen[m.Name] = p
		}
		all = append(all, ms...)
	}
	return all, nil
}

// Select returns the mutations whose names match the regular expression re
// (all of them if re is empty).
func Select(ms []*Mutation, re string) ([]*Mutation, error) {
	if re == "" {
		return ms, nil
	}
	r, err := regexp.Compile(re)
	if err != nil {
		return nil, fmt.Errorf("-run %q: %v", re, err)
	}
	var out []*Mutation
	for _, m := range ms {
		if r.MatchString(m.Name) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-run %q matches no mutation (unilock mutate -list shows them)", re)
	}
	return out, nil
}

// Stale reports why m cannot be applied to the tree at goroot: its file is
// missing, or its old text does not occur exactly once. It returns "" if m
// applies.
func (m *Mutation) Stale(goroot string) string {
	data, err := os.ReadFile(filepath.Join(goroot, "src", filepath.FromSlash(m.File)))
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Sprintf("stale: %s does not exist", m.File)
		}
		return fmt.Sprintf("stale: %v", err)
	}
	switch n := strings.Count(string(data), m.Old); n {
	case 1:
		return ""
	case 0:
		return fmt.Sprintf("stale: the .old text is not in %s (rewrite the entry against the current file)", m.File)
	default:
		return fmt.Sprintf("stale: the .old text occurs %d times in %s (widen it until it is unique)", n, m.File)
	}
}
