package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRequiredBootstrap(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"comment", "// Go 1.26 and later requires Go 1.24.6 as the minimum bootstrap toolchain.\n//go:build !go1.24\n\npackage x\n", "go1.24.6"},
		{"tag only", "//go:build !go1.22\n\npackage x\n", "go1.22"},
		{"none", "package x\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "src/cmd/dist"), 0o777)
			os.WriteFile(filepath.Join(dir, "src/cmd/dist/notgo124.go"), []byte(tt.file), 0o666)
			got, err := RequiredBootstrap(dir)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("RequiredBootstrap = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("RequiredBootstrap = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func fakeGo(t *testing.T, version string) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o777)
	os.WriteFile(filepath.Join(dir, "bin", "go"), []byte("#!/bin/sh\n"), 0o777)
	os.WriteFile(filepath.Join(dir, "VERSION"), []byte(version+"\ntime 2026-01-01T00:00:00Z\n"), 0o666)
	return dir
}

func TestFindBootstrap(t *testing.T) {
	old, new, fork := fakeGo(t, "go1.22.3"), fakeGo(t, "go1.26.8"), fakeGo(t, "go1.26.8-unilock.1")
	cands := func(dirs ...string) []Candidate {
		var cs []Candidate
		for _, d := range dirs {
			cs = append(cs, Candidate{Dir: d, Version: goVersion(d), From: "test"})
		}
		return cs
	}
	tests := []struct {
		name  string
		cs    []Candidate
		self  string
		want  string
		error string
	}{
		{"first new enough", cands(old, new), "", new, ""},
		{"a fork bootstraps by its release", cands(fork), "", fork, ""},
		{"never itself", cands(fork, new), fork, new, ""},
		{"too old", cands(old), "", "", "needs a bootstrap Go go1.24.6 or newer"},
		{"nothing", nil, "", "", "GOROOT_BOOTSTRAP=/path/to/go ./make.bash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FindBootstrap(tt.cs, "go1.24.6", tt.self)
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("FindBootstrap error = %v, want %q", err, tt.error)
				}
				return
			}
			if err != nil || c.Dir != tt.want {
				t.Fatalf("FindBootstrap = %v, %v; want %s", c.Dir, err, tt.want)
			}
		})
	}
}
