// Package emu says how this machine can execute a Go port's binaries, and
// provides the go_$GOOS_$GOARCH_exec wrappers that the go command uses to run
// cross-compiled test binaries: natively, under qemu-user, under Node (js/wasm),
// under wazero (wasip1/wasm) or under Wine (windows).
//
// A port that needs an emulator the machine lacks is reported with the
// commands that install it; Install runs them.
package emu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// WazeroVersion is the wazero release installed for wasip1/wasm.
const WazeroVersion = "v1.12.0"

// Host is what the machine offers; tests replace its functions.
type Host struct {
	GOOS, GOARCH string
	// Goroot is the toolchain whose lib/wasm scripts run wasm ports.
	Goroot string
	// State is the tool's private directory (.unilock/): wrappers, the Wine
	// prefix, wazero.
	State string
	// LookPath finds a program ("" when absent).
	LookPath func(name string) string
	// Exists reports whether a file exists.
	Exists func(path string) bool
	// ReadFile reads a file (binfmt_misc entries).
	ReadFile func(path string) ([]byte, error)
}

// NewHost is the running machine.
func NewHost(goos, goarch, goroot, state string) Host {
	return Host{
		GOOS: goos, GOARCH: goarch, Goroot: goroot, State: state,
		LookPath: func(name string) string {
			p, err := exec.LookPath(name)
			if err != nil {
				return ""
			}
			return p
		},
		Exists: func(path string) bool {
			_, err := os.Stat(path)
			return err == nil
		},
		ReadFile: os.ReadFile,
	}
}

// Runner is how a port executes here.
type Runner struct {
	// How names the way it runs: "native", "qemu-aarch64", "node", "wazero",
	// "wine"; "" when this machine cannot run the port at all.
	How string
	// Wrapper is the body of the go_$GOOS_$GOARCH_exec script, or "" when the
	// go command runs the binary itself.
	Wrapper string
	// Missing says what is not installed; empty when the runner is ready.
	Missing []string
	// Fix holds the shell commands that install what is missing.
	Fix []string
	// Foreign is set when a fix adds a foreign dpkg architecture (i386 for
	// wine32): Install runs those fixes last, so that a broken foreign
	// package index cannot stop the other installs.
	Foreign bool
	// Setup prepares the runner before its first use (Wine's prefix and
	// ProcessPrng shim); nil when there is nothing to do.
	Setup func() error
	// Scale multiplies test timeouts on this runner, as
	// GO_TEST_TIMEOUT_SCALE does on upstream's slow builders: an emulated
	// runtime suite runs several times slower than a native one.
	Scale int
}

// Scales are the timeout scales of the runners (native 1), after how much
// slower than native runtime's -short suite runs under each (README.md,
// "Every port", has the measurements).
var Scales = map[string]int{"native": 1, "qemu": 4, "node": 3, "wazero": 3, "wine": 2}

// TimeoutScale is the runner's timeout scale, at least 1.
func (r Runner) TimeoutScale() int { return max(r.Scale, 1) }

// Ready reports whether the port can run now.
func (r Runner) Ready() bool { return r.How != "" && len(r.Missing) == 0 }

// Why says why a port does not run, with the command that fixes it.
func (r Runner) Why() string {
	if r.How == "" {
		return "no way to execute it on this machine"
	}
	if len(r.Missing) == 0 {
		return ""
	}
	return fmt.Sprintf("%s missing; install: %s (or: unilock emulators -install)", strings.Join(r.Missing, ", "), strings.Join(r.Fix, " && "))
}

// qemuName maps GOARCH to the qemu-user binary suffix for linux ports.
var qemuName = map[string]string{
	"386":      "i386",
	"amd64":    "x86_64",
	"arm":      "arm",
	"arm64":    "aarch64",
	"loong64":  "loongarch64",
	"mips":     "mips",
	"mipsle":   "mipsel",
	"mips64":   "mips64",
	"mips64le": "mips64el",
	"ppc64":    "ppc64",
	"ppc64le":  "ppc64le",
	"riscv64":  "riscv64",
	"s390x":    "s390x",
}

const aptUpdate = "apt-get update"

// For returns the runner of goos/goarch on h.
func For(h Host, goos, goarch string) Runner {
	switch {
	case goos == h.GOOS && goarch == h.GOARCH:
		return Runner{How: "native", Scale: Scales["native"]}
	case goos == "linux" && h.GOOS == "linux" && goarch == "386" && h.GOARCH == "amd64":
		// An amd64 Linux kernel runs i386 binaries itself.
		return Runner{How: "native", Scale: Scales["native"]}
	case goos == "linux" && h.GOOS == "linux" && h.GOARCH == "amd64" && qemuName[goarch] != "":
		return qemu(h, qemuName[goarch])
	case goos == "js" && goarch == "wasm":
		return node(h)
	case goos == "wasip1" && goarch == "wasm":
		return wazero(h)
	case goos == "windows" && h.GOOS == "linux" && h.GOARCH == "amd64" && (goarch == "amd64" || goarch == "386"):
		return wine(h, goarch)
	}
	return Runner{}
}

// qemu runs a Linux binary under qemu-user. Binaries that re-execute
// themselves (many runtime tests do) need the kernel to find qemu too, so the
// binfmt_misc entry must be registered and enabled.
func qemu(h Host, name string) Runner {
	prog := "qemu-" + name
	r := Runner{How: prog, Scale: Scales["qemu"]}
	path := h.LookPath(prog)
	if path == "" {
		r.Missing = append(r.Missing, prog)
		r.Fix = append(r.Fix, aptUpdate, "apt-get install -y qemu-user qemu-user-binfmt binfmt-support")
	}
	entry := "/proc/sys/fs/binfmt_misc/" + prog
	data, err := h.ReadFile(entry)
	if err != nil || !strings.HasPrefix(string(data), "enabled") {
		r.Missing = append(r.Missing, "binfmt_misc entry "+prog)
		if !h.Exists("/proc/sys/fs/binfmt_misc/status") {
			r.Fix = append(r.Fix, "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc")
		}
		if path != "" && !h.Exists("/usr/sbin/update-binfmts") {
			r.Fix = append(r.Fix, aptUpdate, "apt-get install -y qemu-user-binfmt binfmt-support")
		}
		r.Fix = append(r.Fix, "update-binfmts --enable "+prog)
	}
	if path != "" {
		r.Wrapper = fmt.Sprintf("exec %s \"$@\"\n", path)
	} else {
		r.Wrapper = fmt.Sprintf("exec %s \"$@\"\n", prog)
	}
	return r
}

// node runs js/wasm through the toolchain's own lib/wasm/go_js_wasm_exec.
func node(h Host) Runner {
	r := Runner{How: "node", Scale: Scales["node"], Wrapper: fmt.Sprintf("exec %s \"$@\"\n", filepath.Join(h.Goroot, "lib", "wasm", "go_js_wasm_exec"))}
	if h.LookPath("node") == "" {
		r.Missing = []string{"node"}
		r.Fix = []string{aptUpdate, "apt-get install -y nodejs"}
	}
	return r
}

// WazeroBin is where the tool installs wazero.
func WazeroBin(h Host) string { return filepath.Join(h.State, "tools", "bin", "wazero") }

// wazero runs wasip1/wasm through the toolchain's lib/wasm/go_wasip1_wasm_exec
// with GOWASIRUNTIME=wazero, a WASI runtime written in Go.
func wazero(h Host) Runner {
	bin := WazeroBin(h)
	dir := filepath.Dir(bin)
	r := Runner{
		How:     "wazero",
		Scale:   Scales["wazero"],
		Wrapper: fmt.Sprintf("PATH=%s:$PATH GOWASIRUNTIME=wazero exec %s \"$@\"\n", dir, filepath.Join(h.Goroot, "lib", "wasm", "go_wasip1_wasm_exec")),
	}
	if !h.Exists(bin) {
		r.Missing = []string{"wazero"}
		r.Fix = []string{fmt.Sprintf("GOBIN=%s go install github.com/tetratelabs/wazero/cmd/wazero@%s", dir, WazeroVersion)}
	}
	return r
}

// wine32Loader is the 32-bit Wine loader Debian's wine32:i386 installs;
// without it Wine cannot run windows/386 binaries.
const wine32Loader = "/usr/lib/wine/wine"

// mingw names the C cross-compiler for the ProcessPrng shim of a GOARCH.
var mingw = map[string]string{"amd64": "x86_64-w64-mingw32-gcc", "386": "i686-w64-mingw32-gcc"}

// WinePrefix is the tool's own Wine prefix.
func WinePrefix(h Host) string { return filepath.Join(h.State, "wine") }

// wine runs windows binaries under Wine, in a prefix of the tool's own that
// holds the ProcessPrng shim (see shim.go).
func wine(h Host, goarch string) Runner {
	prefix := WinePrefix(h)
	r := Runner{
		How:   "wine",
		Scale: Scales["wine"],
		Wrapper: fmt.Sprintf("export WINEPREFIX=%s WINEDEBUG=${WINEDEBUG:--all} WINEDLLOVERRIDES=bcryptprimitives=n\nexec wine \"$@\"\n",
			prefix),
	}
	if h.LookPath("wine") == "" {
		r.Missing = append(r.Missing, "wine")
		r.Fix = append(r.Fix, aptUpdate, "apt-get install -y wine64")
	}
	if goarch == "386" && !h.Exists(wine32Loader) {
		r.Missing = append(r.Missing, "wine32")
		r.Fix = append(r.Fix, "dpkg --add-architecture i386 && apt-get update && apt-get install -y wine32:i386")
		r.Foreign = true
	}
	cc := mingw[goarch]
	if h.LookPath(cc) == "" {
		r.Missing = append(r.Missing, cc+" (builds the ProcessPrng shim)")
		pkg := "gcc-mingw-w64-x86-64"
		if goarch == "386" {
			pkg = "gcc-mingw-w64-i686"
		}
		r.Fix = append(r.Fix, aptUpdate, "apt-get install -y "+pkg)
	}
	r.Setup = func() error { return setupWine(h, goarch) }
	return r
}

// WrapperName is the file the go command looks for on PATH to run a
// cross-compiled binary of goos/goarch.
func WrapperName(goos, goarch string) string {
	return fmt.Sprintf("go_%s_%s_exec", goos, goarch)
}

// WriteWrapper writes r's wrapper for goos/goarch into dir and returns dir,
// which the caller puts first on PATH. It writes nothing for runners whose
// binaries the go command runs itself.
func WriteWrapper(dir, goos, goarch string, r Runner) error {
	if r.Wrapper == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	body := "#!/bin/sh\n# Written by unilock ports: runs a " + goos + "/" + goarch + " binary with " + r.How + ".\n" + r.Wrapper
	return os.WriteFile(filepath.Join(dir, WrapperName(goos, goarch)), []byte(body), 0o777)
}

// Install runs the commands that fix what rs lack, each once and in order.
// A command that fails does not stop the others (apt-get update can fail on
// one index and still leave the packages installable); the failures are
// returned together. Commands that need root are run only as root;
// otherwise Install returns them for the caller to print.
func Install(rs []Runner, run func(cmd string) error, root bool) (notRun []string, err error) {
	seen := map[string]bool{}
	var failed []string
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b Runner) int {
		switch {
		case a.Foreign == b.Foreign:
			return 0
		case b.Foreign:
			return -1
		}
		return 1
	})
	for _, r := range rs {
		for _, c := range r.Fix {
			if seen[c] {
				continue
			}
			seen[c] = true
			if needsRoot(c) && !root {
				notRun = append(notRun, c)
				continue
			}
			if err := run(c); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", c, err))
			}
		}
	}
	if len(failed) > 0 {
		return notRun, fmt.Errorf("%s", strings.Join(failed, "; "))
	}
	return notRun, nil
}

func needsRoot(cmd string) bool {
	for _, p := range []string{"apt-get", "dpkg", "mount", "update-binfmts"} {
		if strings.HasPrefix(cmd, p+" ") {
			return true
		}
	}
	return false
}
