// Package series holds the fork's patch series: the files in patches/, one
// upstream-style change each, applied in file-name order.
package series

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Ext is the extension of patch files.
const Ext = ".patch"

// Patch is one file of the series.
type Patch struct {
	Name string // file name, e.g. 0001-runtime-move-futex-callbacks.patch
	Path string
	Data []byte
}

// Subject is the patch's subject line without the [PATCH] prefix.
func (p Patch) Subject() string {
	msg, err := mail.ReadMessage(bytes.NewReader(p.Data))
	if err != nil {
		return ""
	}
	s := msg.Header.Get("Subject")
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i >= 0 {
			s = strings.TrimSpace(s[i+1:])
		}
	}
	return s
}

// Load reads the series in dir. A missing dir is an empty series.
func Load(dir string) ([]Patch, error) {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ps []Patch
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), Ext) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		ps = append(ps, Patch{Name: e.Name(), Path: path, Data: data})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps, nil
}

// Digest is a hash of the series: names and contents, in order.
func Digest(ps []Patch) string {
	h := sha256.New()
	for _, p := range ps {
		fmt.Fprintf(h, "%s %d\n", p.Name, len(p.Data))
		h.Write(p.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// maxSlug bounds the slug part of a file name.
const maxSlug = 60

// FileName is the name of the n'th patch (from 1) with the given subject:
// NNNN-subject-slug.patch.
func FileName(n int, subject string) string {
	s := nonSlug.ReplaceAllString(strings.ToLower(subject), "-")
	s = strings.Trim(s, "-")
	if len(s) > maxSlug {
		// Cut at a word boundary.
		cut := s[:maxSlug+1]
		if i := strings.LastIndex(cut, "-"); i > 0 {
			cut = cut[:i]
		}
		s = strings.TrimRight(cut[:min(len(cut), maxSlug)], "-")
	}
	if s == "" {
		s = "change"
	}
	return fmt.Sprintf("%04d-%s%s", n, s, Ext)
}

// Write makes dir hold exactly the given patch files (name to contents):
// files whose bytes are unchanged are not touched, stale *.patch files are
// removed, other files are left alone. It returns what it wrote and removed.
func Write(dir string, files map[string][]byte) (written, removed []string, err error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, nil, err
	}
	old, err := Load(dir)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data := files[name]
		path := filepath.Join(dir, name)
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
			continue
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data, 0o666); err != nil {
			return written, removed, err
		}
		if err := os.Rename(tmp, path); err != nil {
			return written, removed, err
		}
		written = append(written, name)
	}
	for _, p := range old {
		if _, ok := files[p.Name]; !ok {
			if err := os.Remove(p.Path); err != nil {
				return written, removed, err
			}
			removed = append(removed, p.Name)
		}
	}
	return written, removed, nil
}
