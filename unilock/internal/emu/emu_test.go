package emu

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeHost is a linux/amd64 machine with the given programs and files.
func fakeHost(progs []string, files ...string) Host {
	return Host{
		GOOS: "linux", GOARCH: "amd64", Goroot: "/g", State: "/s",
		LookPath: func(name string) string {
			if slices.Contains(progs, name) {
				return "/usr/bin/" + name
			}
			return ""
		},
		Exists: func(path string) bool { return slices.Contains(files, path) },
		ReadFile: func(path string) ([]byte, error) {
			if slices.Contains(files, path) {
				return []byte("enabled\ninterpreter /usr/libexec/qemu-binfmt/x\n"), nil
			}
			return nil, os.ErrNotExist
		},
	}
}

func TestFor(t *testing.T) {
	const status = "/proc/sys/fs/binfmt_misc/status"
	all := fakeHost(
		[]string{"qemu-aarch64", "qemu-mips64el", "node", "wine", "x86_64-w64-mingw32-gcc", "i686-w64-mingw32-gcc"},
		status, "/usr/sbin/update-binfmts", "/proc/sys/fs/binfmt_misc/qemu-aarch64", "/s/tools/bin/wazero", wine32Loader,
	)
	bare := fakeHost(nil)
	tests := []struct {
		name       string
		host       Host
		port       string
		how        string
		ready      bool
		fix        []string // commands that must be among the fixes
		wrapperHas string
	}{
		{"host", all, "linux/amd64", "native", true, nil, ""},
		{"ia32", bare, "linux/386", "native", true, nil, ""},
		{"qemu ready", all, "linux/arm64", "qemu-aarch64", true, nil, "/usr/bin/qemu-aarch64"},
		{"qemu without binfmt entry", all, "linux/mips64le", "qemu-mips64el", false, []string{"update-binfmts --enable qemu-mips64el"}, ""},
		{"qemu absent", bare, "linux/riscv64", "qemu-riscv64", false,
			[]string{"apt-get install -y qemu-user qemu-user-binfmt binfmt-support", "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc", "update-binfmts --enable qemu-riscv64"}, ""},
		{"node", all, "js/wasm", "node", true, nil, "/g/lib/wasm/go_js_wasm_exec"},
		{"no node", bare, "js/wasm", "node", false, []string{"apt-get install -y nodejs"}, ""},
		{"wazero", all, "wasip1/wasm", "wazero", true, nil, "GOWASIRUNTIME=wazero"},
		{"no wazero", bare, "wasip1/wasm", "wazero", false, []string{"GOBIN=/s/tools/bin go install github.com/tetratelabs/wazero/cmd/wazero@" + WazeroVersion}, ""},
		{"wine", all, "windows/amd64", "wine", true, nil, "WINEDLLOVERRIDES=bcryptprimitives=n"},
		{"wine 386", all, "windows/386", "wine", true, nil, "WINEPREFIX=/s/wine"},
		{"no wine32", fakeHost([]string{"wine", "i686-w64-mingw32-gcc"}), "windows/386", "wine", false, []string{"dpkg --add-architecture i386 && apt-get update && apt-get install -y wine32:i386"}, ""},
		{"no mingw", fakeHost([]string{"wine"}), "windows/amd64", "wine", false, []string{"apt-get install -y gcc-mingw-w64-x86-64"}, ""},
		{"no way", all, "darwin/arm64", "", false, nil, ""},
		{"plan9", fakeHost(nil), "plan9/amd64", "", false, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			goos, goarch, _ := strings.Cut(tt.port, "/")
			r := For(tt.host, goos, goarch)
			if r.How != tt.how || r.Ready() != tt.ready {
				t.Fatalf("For(%s) = %q ready %v (missing %v), want %q ready %v", tt.port, r.How, r.Ready(), r.Missing, tt.how, tt.ready)
			}
			for _, f := range tt.fix {
				if !slices.Contains(r.Fix, f) {
					t.Errorf("fixes %q lack %q", r.Fix, f)
				}
			}
			if !tt.ready && tt.how != "" && !strings.Contains(r.Why(), "install: ") {
				t.Errorf("Why() = %q, want the install command", r.Why())
			}
			if tt.wrapperHas != "" && !strings.Contains(r.Wrapper, tt.wrapperHas) {
				t.Errorf("wrapper %q lacks %q", r.Wrapper, tt.wrapperHas)
			}
		})
	}
}

func TestInstall(t *testing.T) {
	// The foreign architecture comes last, though its runner comes first.
	const i386 = "dpkg --add-architecture i386 && apt-get update && apt-get install -y wine32:i386"
	rs := []Runner{
		{How: "wine", Foreign: true, Missing: []string{"wine32"}, Fix: []string{"dpkg --add-architecture i386 && apt-get update && apt-get install -y wine32:i386"}},
		{How: "a", Missing: []string{"x"}, Fix: []string{"apt-get update", "apt-get install -y x", "go install example.com/y@v1"}},
		{How: "b", Missing: []string{"z"}, Fix: []string{"apt-get update", "apt-get install -y z"}},
	}
	tests := []struct {
		name    string
		root    bool
		failing string
		ran     []string
		notRun  []string
		wantErr bool
	}{
		{"root", true, "", []string{"apt-get update", "apt-get install -y x", "go install example.com/y@v1", "apt-get install -y z", i386}, nil, false},
		{"user", false, "", []string{"go install example.com/y@v1"}, []string{"apt-get update", "apt-get install -y x", "apt-get install -y z", i386}, false},
		{"a failure does not stop the rest", true, "apt-get update",
			[]string{"apt-get update", "apt-get install -y x", "go install example.com/y@v1", "apt-get install -y z", i386}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran []string
			notRun, err := Install(rs, func(c string) error {
				ran = append(ran, c)
				if c == tt.failing {
					return errors.New("exit status 100")
				}
				return nil
			}, tt.root)
			if !slices.Equal(ran, tt.ran) || !slices.Equal(notRun, tt.notRun) || (err != nil) != tt.wantErr {
				t.Errorf("ran %q, not run %q, err %v; want %q, %q, error %v", ran, notRun, err, tt.ran, tt.notRun, tt.wantErr)
			}
		})
	}
}

func TestWriteWrapper(t *testing.T) {
	dir := t.TempDir()
	h := fakeHost([]string{"node"})
	if err := WriteWrapper(dir, "js", "wasm", For(h, "js", "wasm")); err != nil {
		t.Fatal(err)
	}
	if err := WriteWrapper(dir, "linux", "386", For(h, "linux", "386")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "go_js_wasm_exec"))
	if err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("go_js_wasm_exec: %v, mode %v; want an executable script", err, fi)
	}
	if _, err := os.Stat(filepath.Join(dir, "go_linux_386_exec")); err == nil {
		t.Errorf("a native port got a wrapper; the go command runs its binaries itself")
	}
}

func TestTimeoutScale(t *testing.T) {
	all := fakeHost([]string{"qemu-aarch64", "node", "wine"})
	tests := []struct {
		port string
		want int
	}{
		{"linux/amd64", 1},
		{"linux/386", 1},
		{"linux/arm64", 4},
		{"js/wasm", 3},
		{"wasip1/wasm", 3},
		{"windows/amd64", 2},
		{"darwin/arm64", 1}, // not run here; no scale below 1
	}
	for _, tt := range tests {
		goos, goarch, _ := strings.Cut(tt.port, "/")
		if got := For(all, goos, goarch).TimeoutScale(); got != tt.want {
			t.Errorf("For(%s).TimeoutScale() = %d, want %d", tt.port, got, tt.want)
		}
	}
}
