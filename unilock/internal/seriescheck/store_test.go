package seriescheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "check-series", "passed.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	k := Key{Tree: "t1", Port: "linux/arm64", Tools: "x", Check: "build runtime, vet runtime"}
	if s.Passed(k) {
		t.Fatal("an empty store says a check passed")
	}
	if err := s.Record(Entry{Key: k, Patch: "runtime: a", When: time.Now(), Seconds: 1}); err != nil {
		t.Fatal(err)
	}
	// What was recorded survives a new process (the file), and nothing
	// else is taken as passed.
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  Key
		want bool
	}{
		{"same check", k, true},
		{"another tree", Key{"t2", k.Port, k.Tools, k.Check}, false},
		{"another port", Key{k.Tree, "linux/arm", k.Tools, k.Check}, false},
		{"another toolchain", Key{k.Tree, k.Port, "y", k.Check}, false},
		{"another check", Key{k.Tree, k.Port, k.Tools, "build runtime"}, false},
	}
	for _, tt := range tests {
		if got := s2.Passed(tt.key); got != tt.want {
			t.Errorf("%s: Passed = %v, want %v", tt.name, got, tt.want)
		}
	}
	if s2.Len() != 1 {
		t.Errorf("Len = %d, want 1", s2.Len())
	}
	// A failure of the same check drops its pass, in the file too.
	if err := s2.Forget(k); err != nil {
		t.Fatal(err)
	}
	if s3, err := Open(path); err != nil || s3.Passed(k) || s2.Passed(k) {
		t.Errorf("after Forget: %v; the check still passed", err)
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Errorf("the temporary file was left behind")
	}
}

func TestOpenCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passed.json")
	os.WriteFile(path, []byte("{not json"), 0o666)
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "rm "+path) {
		t.Fatalf("Open of a corrupt store: %v; want an error naming the fix (rm %s)", err, path)
	}
	if data, _ := os.ReadFile(path); string(data) != "{not json" {
		t.Errorf("Open changed the corrupt file: %q", data)
	}
}

func TestToolsID(t *testing.T) {
	gr := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(gr, rel)
		os.MkdirAll(filepath.Dir(p), 0o777)
		os.WriteFile(p, []byte(content), 0o777)
	}
	if _, err := ToolsID(gr, "linux", "amd64"); err == nil || !strings.Contains(err.Error(), "./make.bash") {
		t.Errorf("ToolsID of an unbuilt tree: %v; want an error naming ./make.bash", err)
	}
	write("bin/go", "go")
	for _, tool := range []string{"compile", "asm", "cgo", "vet"} {
		write("pkg/tool/linux_amd64/"+tool, tool)
	}
	a, err := ToolsID(gr, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	write("pkg/tool/linux_amd64/compile", "compile with a new experiment")
	b, err := ToolsID(gr, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("ToolsID did not change with the compiler")
	}
}
