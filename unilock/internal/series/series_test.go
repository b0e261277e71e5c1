package series

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestFileName(t *testing.T) {
	tests := []struct {
		n       int
		subject string
		want    string
	}{
		{1, "runtime: move futex callbacks into per-OS files", "0001-runtime-move-futex-callbacks-into-per-os-files.patch"},
		{12, "runtime: implement notes once for every OS", "0012-runtime-implement-notes-once-for-every-os.patch"},
		{3, "  !!! ", "0003-change.patch"},
		{4, "runtime: a very long subject line that goes on and on well past the limit of sixty characters", "0004-runtime-a-very-long-subject-line-that-goes-on-and-on-well.patch"},
	}
	for _, tt := range tests {
		if got := FileName(tt.n, tt.subject); got != tt.want {
			t.Errorf("FileName(%d, %q) = %q, want %q", tt.n, tt.subject, got, tt.want)
		}
	}
}

func TestSubject(t *testing.T) {
	p := Patch{Data: []byte("From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: [PATCH] runtime: one\n two\n\nbody\n")}
	if got, want := p.Subject(), "runtime: one two"; got != want {
		t.Errorf("Subject() = %q, want %q", got, want)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "0001-old.patch"), []byte("old"), 0o666)
	os.WriteFile(filepath.Join(dir, "0002-same.patch"), []byte("same"), 0o666)
	os.WriteFile(filepath.Join(dir, "README"), []byte("kept"), 0o666)
	w, r, err := Write(dir, map[string][]byte{"0002-same.patch": []byte("same"), "0003-new.patch": []byte("new")})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w, []string{"0003-new.patch"}) || !reflect.DeepEqual(r, []string{"0001-old.patch"}) {
		t.Errorf("Write wrote %v removed %v; want [0003-new.patch] and [0001-old.patch]", w, r)
	}
	ps, _ := Load(dir)
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if !reflect.DeepEqual(names, []string{"0002-same.patch", "0003-new.patch"}) {
		t.Errorf("after Write, series = %v", names)
	}
	if _, err := os.Stat(filepath.Join(dir, "README")); err != nil {
		t.Errorf("Write removed a file that is not a patch: %v", err)
	}
}
