package ports

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const distList = `[
	{"GOOS": "js", "GOARCH": "wasm", "CgoSupported": false, "FirstClass": false},
	{"GOOS": "linux", "GOARCH": "386", "CgoSupported": true, "FirstClass": true},
	{"GOOS": "linux", "GOARCH": "amd64", "CgoSupported": true, "FirstClass": true},
	{"GOOS": "linux", "GOARCH": "arm64", "CgoSupported": true, "FirstClass": true},
	{"GOOS": "windows", "GOARCH": "386", "CgoSupported": true, "FirstClass": true},
	{"GOOS": "windows", "GOARCH": "amd64", "CgoSupported": true, "FirstClass": true}
]`

func names(ps []Port) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, " ")
}

func TestSelect(t *testing.T) {
	all, err := Parse([]byte(distList))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		patterns, want, err string
	}{
		{"", "js/wasm linux/386 linux/amd64 linux/arm64 windows/386 windows/amd64", ""},
		{"all", "js/wasm linux/386 linux/amd64 linux/arm64 windows/386 windows/amd64", ""},
		{"linux/arm64", "linux/arm64", ""},
		{"windows/*,js/wasm", "js/wasm windows/386 windows/amd64", ""},
		{"*/386", "linux/386 windows/386", ""},
		{"windows", "windows/386 windows/amd64", ""},
		{"linux/arm64, linux/arm64", "linux/arm64", ""},
		{"linux/sparc", "", `no port matches "linux/sparc"`},
		{"linux/[", "", "bad port pattern"},
	}
	for _, tt := range tests {
		got, err := Select(all, tt.patterns)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Select(%q) error %v, want %q", tt.patterns, err, tt.err)
			}
			continue
		}
		if err != nil || names(got) != tt.want {
			t.Errorf("Select(%q) = %q, %v; want %q", tt.patterns, names(got), err, tt.want)
		}
	}
	if _, err := Parse([]byte("[]")); err == nil {
		t.Errorf("Parse of an empty list succeeded")
	}
}

func TestBackend(t *testing.T) {
	tests := []struct {
		files []string
		want  string
	}{
		// The fork: futex ports carry lock_sema.go (notes) too.
		{[]string{"lock_futex.go", "lock_futex_linux.go", "lock_sema.go", "proc.go"}, "futex"},
		{[]string{"lock_sema.go", "lock_sema_windows.go", "proc.go"}, "sema"},
		{[]string{"lock_wasm.go", "lock_js.go", "proc.go"}, "single-threaded"},
		// Upstream go1.26.
		{[]string{"lock_futex.go", "lock_spinbit.go"}, "futex"},
		{[]string{"lock_js.go"}, "single-threaded"},
	}
	for _, tt := range tests {
		if got := Backend(tt.files); got != tt.want {
			t.Errorf("Backend(%q) = %q, want %q", tt.files, got, tt.want)
		}
	}
}

func ok(port string, passed int) Row {
	return Row{Port: port, Backend: "futex", Compile: Compile{OK: true, What: WhatFull}, Run: &Run{How: "qemu", Passed: passed}}
}

func failing(port string, tests ...string) Row {
	r := ok(port, 10)
	r.Run.Failed = len(tests)
	r.Run.Failures = tests
	return r
}

func TestCompare(t *testing.T) {
	noCompile := Row{Port: "plan9/arm", Compile: Compile{Error: "go vet: exit status 1"}}
	notRun := Row{Port: "darwin/arm64", Compile: Compile{OK: true, What: WhatFull}, NotRun: "no way to execute it on this machine"}
	crashed := ok("windows/386", 0)
	crashed.Run.Error = "no test ran"
	tests := []struct {
		name      string
		fork      Row
		base      *Row
		new       []string
		wantOK    bool
		wantLabel string
	}{
		{"both pass", ok("linux/arm64", 10), ptr(ok("linux/arm64", 10)), nil, true, "ok"},
		{"new test failure", failing("linux/arm64", "runtime.TestNote"), ptr(ok("linux/arm64", 10)), []string{"runtime.TestNote"}, false, "NEW FAIL"},
		{"same failure upstream", failing("linux/s390x", "runtime.TestGdb"), ptr(failing("linux/s390x", "runtime.TestGdb")), nil, true, "FAIL (upstream too)"},
		{"one new among old", failing("linux/s390x", "runtime.TestGdb", "sync.TestMutex"), ptr(failing("linux/s390x", "runtime.TestGdb")), []string{"sync.TestMutex"}, false, "NEW FAIL"},
		{"base did not run", failing("linux/arm", "runtime.TestX"), nil, []string{"runtime.TestX"}, false, "NEW FAIL"},
		{"compile failure is new", noCompile, ptr(Row{Port: "plan9/arm", Compile: Compile{OK: true}}), []string{"compile"}, false, "NEW FAIL"},
		{"compile fails upstream too", noCompile, &noCompile, nil, true, "FAIL (upstream too)"},
		{"crash is new", crashed, ptr(ok("windows/386", 10)), []string{"run: no test ran"}, false, "NEW FAIL"},
		{"not run", notRun, &notRun, nil, true, "ok (compiled)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fork := &Matrix{Toolchain: "fork", Rows: []Row{tt.fork}}
			base := &Matrix{Toolchain: "upstream"}
			if tt.base != nil {
				base.Rows = []Row{*tt.base}
			}
			before := fork.OK()
			fork.Compare(base)
			if got := fork.Rows[0].New; !slices.Equal(got, tt.new) {
				t.Errorf("new failures %q, want %q", got, tt.new)
			}
			if fork.OK() != tt.wantOK {
				t.Errorf("OK() = %v after Compare, want %v", fork.OK(), tt.wantOK)
			}
			if before && fork.Rows[0].Failing() {
				t.Errorf("OK() before Compare = true with a failing row")
			}
			var buf bytes.Buffer
			fork.Print(&buf)
			if !strings.Contains(buf.String(), tt.wantLabel) {
				t.Errorf("table lacks %q:\n%s", tt.wantLabel, buf.String())
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestPrintAndRoundTrip(t *testing.T) {
	m := &Matrix{Toolchain: "go version go1.26.8-unilock.1 linux/amd64", Host: "linux/amd64, 2 CPUs", RunRegexp: "Lock",
		Rows: []Row{
			ok("linux/amd64", 140),
			failing("linux/arm64", "runtime.TestNoteWakeup"),
			{Port: "android/arm64", Backend: "futex", Compile: Compile{OK: true, What: WhatExternal}, NotRun: "its binaries link only externally"},
			{Port: "darwin/arm64", Backend: "sema", Compile: Compile{OK: true, What: WhatFull}, NotRun: "no way to execute it on this machine"},
			{Port: "windows/386", Backend: "sema", Compile: Compile{OK: true, What: WhatFull}, NotRun: "wine32 missing; install: apt-get install -y wine32:i386"},
		}}
	var buf bytes.Buffer
	m.Print(&buf)
	out := buf.String()
	for _, want := range []string{
		"port           first-class  backend",
		"linux/arm64",
		"--- FAIL: runtime.TestNoteWakeup",
		"ok (runtime, sync; links only externally)",
		"1 ports compile only (no emulator for them here): darwin/arm64",
		"windows/386      wine32 missing; install: apt-get install -y wine32:i386",
		"5 ports: 5 compiled, 2 executed; tests 150 passed, 1 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if m.OK() {
		t.Errorf("OK() = true with a failing port")
	}
	file := filepath.Join(t.TempDir(), "m.json")
	if err := m.Write(file); err != nil {
		t.Fatal(err)
	}
	back, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != 5 || back.Rows[1].Run.Failures[0] != "runtime.TestNoteWakeup" {
		t.Errorf("round trip lost rows: %+v", back.Rows)
	}
}

// TestCompileDepth checks which go commands Compile runs for a port in each
// mode: the full check vets and compiles test binaries, BuildOnly (the
// ports tier and upstream's side of -base, for ports not executed) only
// builds runtime and sync, and Light (check-series) builds and vets runtime.
func TestCompileDepth(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake toolchain is an sh script")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	linux := Port{GOOS: "linux", GOARCH: "arm64"}
	darwin := Port{GOOS: "darwin", GOARCH: "arm64"}
	notLinux := func(p Port) bool { return p.GOOS != "linux" }
	tests := []struct {
		name      string
		port      Port
		light     bool
		buildOnly func(Port) bool
		want      []string
		what      string
	}{
		{"full", linux, false, nil,
			[]string{"list", "vet runtime sync", "test -c"}, WhatFull},
		{"executed port under BuildOnly", linux, false, notLinux,
			[]string{"list", "vet runtime sync", "test -c"}, WhatFull},
		{"port not executed under BuildOnly", darwin, false, notLinux,
			[]string{"list", "build runtime sync"}, WhatBuilt},
		{"light", darwin, true, nil,
			[]string{"list", "build runtime", "vet runtime"}, WhatLight},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := filepath.Join(t.TempDir(), "calls")
			gr := fakeToolchain(t, `*) echo "$*" >>`+calls+`
case "$1" in list) echo lock_futex.go;; esac;;`, false)
			c := &Checker{Goroot: gr, Wrappers: t.TempDir(), Light: tt.light, BuildOnly: tt.buildOnly}
			backend, res := c.Compile(tt.port, io.Discard)
			if !res.OK || backend != "futex" || res.What != tt.what {
				t.Fatalf("Compile = %q, %+v; want futex, ok, %q", backend, res, tt.what)
			}
			data, err := os.ReadFile(calls)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("go commands:\n%s\nwant %d, starting %q", data, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("go command %d = %q, want %q...", i+1, lines[i], w)
				}
			}
		})
	}
}

// TestForEach: every index runs once, never more than jobs at a time, and
// an error neither stops the others nor is lost.
func TestForEach(t *testing.T) {
	tests := []struct{ n, jobs, failAt int }{
		{0, 2, -1}, {1, 2, -1}, {15, 2, -1}, {15, 1, 7}, {15, 4, 0}, {3, 0, -1},
	}
	for _, tt := range tests {
		var mu sync.Mutex
		calls := make([]int, tt.n)
		running, most := 0, 0
		err := ForEach(tt.n, tt.jobs, func(i int) error {
			mu.Lock()
			calls[i]++
			running++
			most = max(most, running)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			running--
			mu.Unlock()
			if i == tt.failAt {
				return fmt.Errorf("fail %d", i)
			}
			return nil
		})
		for i, c := range calls {
			if c != 1 {
				t.Errorf("n=%d jobs=%d: f(%d) called %d times", tt.n, tt.jobs, i, c)
			}
		}
		if most > max(tt.jobs, 1) {
			t.Errorf("n=%d jobs=%d: %d ran at once", tt.n, tt.jobs, most)
		}
		if (err != nil) != (tt.failAt >= 0) {
			t.Errorf("n=%d jobs=%d failAt=%d: err = %v", tt.n, tt.jobs, tt.failAt, err)
		}
	}
}
