package dist

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

func TestWithin(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"go/bin/go", true},
		{"go/../go/bin", true},
		{"../evil", false},
		{"go/../../evil", false},
		{"/etc/passwd", false},
	} {
		if _, err := within("/tmp/x", tt.name); (err == nil) != tt.ok {
			t.Errorf("within(%q): %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestUnpack(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"go/bin/go": "binary", "go/VERSION": "go1.26.8-unilock.2\n"}

	tgz := filepath.Join(dir, "a.tar.gz")
	f, _ := os.Create(tgz)
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "go/", Typeflag: tar.TypeDir, Mode: 0o755})
	for name, data := range files {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(data))})
		tw.Write([]byte(data))
	}
	tw.Close()
	zw.Close()
	f.Close()

	zp := filepath.Join(dir, "a.zip")
	f, _ = os.Create(zp)
	w := zip.NewWriter(f)
	for name, data := range files {
		fw, _ := w.Create(name)
		fw.Write([]byte(data))
	}
	w.Close()
	f.Close()

	for _, archive := range []string{tgz, zp} {
		out := filepath.Join(dir, filepath.Base(archive)+".out")
		if err := Unpack(archive, out); err != nil {
			t.Fatalf("Unpack(%s): %v", archive, err)
		}
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(out, name))
			if err != nil || string(got) != want {
				t.Errorf("%s: %s = %q, %v; want %q", archive, name, got, err, want)
			}
		}
	}
}
