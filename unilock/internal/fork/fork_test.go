package fork

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		release string
		err     string
	}{
		{"go1.26.8-unilock.1\n", "go1.26.8", ""},
		{"go1.27.4-unilock.12", "go1.27.4", ""},
		{"go1.26.8\n", "", "not a fork version"},
		{"go1.26.8-custom.1\n", "", "not a fork version"},
		{"1.26.8-unilock.1\n", "", "not a fork version"},
		{"go1.26.8-unilock.1\ntime 2026\n", "", "one line"},
		{"", "", "one line"},
	}
	for _, tt := range tests {
		id, err := ParseVersion(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseVersion(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || id.Release != tt.release {
			t.Errorf("ParseVersion(%q) = %+v, %v; want release %s", tt.in, id, err, tt.release)
		}
	}
}

func TestPinRoundTrip(t *testing.T) {
	data := FormatPin("go1.26.8", "h1:tree=", "h1:src=")
	r, tr, s, err := ParsePin(data)
	if err != nil || r != "go1.26.8" || tr != "h1:tree=" || s != "h1:src=" {
		t.Fatalf("ParsePin(FormatPin(...)) = %q %q %q %v", r, tr, s, err)
	}
}

func TestParsePinErrors(t *testing.T) {
	tests := []struct{ in, err string }{
		{"release go1.26.8\ntree h1:a\n", "no src"},
		{"release go1.26.8\ntree x\nsrc h1:b\n", "no tree"},
		{"release go1.26.8\ncolour blue\n", "unknown key"},
		{"release\n", "want \"key value\""},
	}
	for _, tt := range tests {
		if _, _, _, err := ParsePin([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParsePin(%q) error = %v, want %q", tt.in, err, tt.err)
		}
	}
}

func TestLoadMismatch(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, VersionFile), []byte("go1.26.9-unilock.1\n"), 0o666)
	os.WriteFile(filepath.Join(dir, PinFile), FormatPin("go1.26.8", "h1:a", "h1:b"), 0o666)
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "unilock pin /path/to/go1.26.9") {
		t.Fatalf("Load with VERSION and pin disagreeing: error = %v, want one naming unilock pin", err)
	}
}
