package ports

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"unilock/internal/tiers"
)

func TestParsePackages(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"", FullPackages, ""},
		{"runtime", []string{"runtime"}, ""},
		{" sync , test/chan,sync", []string{"sync", "test/chan"}, ""},
		{"sync/...", nil, "not a package import path"},
		{"-v", nil, "not a package import path"},
		{"test/fixedbugs", nil, "only test/chan"},
		{",", nil, "names no package"},
	}
	for _, tt := range tests {
		got, err := ParsePackages(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePackages(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParsePackages(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestOwnerOf(t *testing.T) {
	tests := []struct{ key, want string }{
		{"sync.TestMutex", "sync"},
		{"sync/atomic.TestAdd/sub", "sync/atomic"},
		{"internal/sync.TestHashTrieMap", "internal/sync"},
		{"runtime", "runtime"},
		{"test/chan/select.go", "test/chan"},
		{"test/chan", "test/chan"},
		{"os.TestX", ""},
		{"syncx.TestY", ""},
	}
	for _, tt := range tests {
		if got := ownerOf(FullPackages, tt.key); got != tt.want {
			t.Errorf("ownerOf(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestChanOutcomes(t *testing.T) {
	const p, top = testdirPkg, testdirPkg + ".Test"
	tests := []struct {
		name     string
		res      tiers.Result
		out      map[string]tiers.Status
		passed   int
		failed   int
		want     map[string]tiers.Status
		failures []string
	}{
		{"all pass", tiers.Result{Passed: 3},
			map[string]tiers.Status{p: tiers.Pass, top: tiers.Pass, top + "/chan/a.go": tiers.Pass, top + "/chan/b.go": tiers.Pass},
			2, 0, map[string]tiers.Status{"test/chan": tiers.Pass, "test/chan/a.go": tiers.Pass, "test/chan/b.go": tiers.Pass}, nil},
		{"a program fails", tiers.Result{Passed: 1, Failed: 2, Failures: []string{top + "/chan/b.go", top}},
			map[string]tiers.Status{top: tiers.Fail, top + "/chan/a.go": tiers.Pass, top + "/chan/b.go": tiers.Fail},
			1, 1, map[string]tiers.Status{"test/chan/a.go": tiers.Pass, "test/chan/b.go": tiers.Fail}, []string{"test/chan/b.go"}},
		{"testdir does not build", tiers.Result{Failed: 1, Failures: []string{p + " [build failed]"}},
			map[string]tiers.Status{p: tiers.Fail},
			0, 1, map[string]tiers.Status{"test/chan": tiers.Fail}, []string{"test/chan [build failed]"}},
		{"Test fails before any program", tiers.Result{Failed: 1, Failures: []string{top}},
			map[string]tiers.Status{top: tiers.Fail},
			0, 1, map[string]tiers.Status{"test/chan": tiers.Fail}, []string{"test/chan (its runner " + top + " failed)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, out := chanOutcomes(tt.res, tt.out)
			if res.Passed != tt.passed || res.Failed != tt.failed {
				t.Errorf("counts %d passed %d failed, want %d, %d", res.Passed, res.Failed, tt.passed, tt.failed)
			}
			if len(out) != len(tt.want) {
				t.Errorf("outcomes %v, want %v", out, tt.want)
			}
			for k, st := range tt.want {
				if out[k] != st {
					t.Errorf("outcome of %s = %q, want %q (all: %v)", k, out[k], st, out)
				}
			}
			if !slices.Equal(res.Failures, tt.failures) {
				t.Errorf("failures %q, want %q", res.Failures, tt.failures)
			}
		})
	}
}

// fullRow is an executed row of a full run with the given outcomes.
func fullRow(port string, outcomes map[string]tiers.Status, pkgs ...PackageRun) Row {
	run := &Run{How: "qemu-aarch64", Scale: 4, Outcomes: outcomes, Packages: pkgs, Seconds: 90}
	for k, st := range outcomes {
		switch st {
		case tiers.Pass:
			run.Passed++
		case tiers.Fail:
			run.Failed++
			run.Failures = append(run.Failures, k)
		case tiers.Skip:
			run.Skipped++
		}
	}
	for _, p := range pkgs {
		if p.Error != "" {
			run.Error = p.Error
		}
	}
	return Row{Port: port, Backend: "futex", Compile: Compile{OK: true, What: WhatFull}, Run: run}
}

func TestCompareFull(t *testing.T) {
	const pass, fail, skip = tiers.Pass, tiers.Fail, tiers.Skip
	type st = map[string]tiers.Status
	tests := []struct {
		name      string
		fork, up  st
		upMissing bool // upstream did not run the port
		// what each rerun returns, by side
		rerun               [2]st
		wantNew, wantShared []string
		wantFlaky, wantFix  int
		wantReruns          int // rerun calls
		wantLabel           string
	}{
		{"both pass", st{"sync.TestA": pass}, st{"sync.TestA": pass}, false, [2]st{}, nil, nil, 0, 0, 0, "ok"},
		{"new: fails on every rerun", st{"sync.TestA": pass, "runtime.TestB": fail}, st{"sync.TestA": pass, "runtime.TestB": pass}, false,
			[2]st{{"runtime.TestB": fail}, {"runtime.TestB": pass}}, []string{"runtime.TestB"}, nil, 0, 0, 4, "NEW FAIL"},
		{"flaky: passes on a rerun", st{"runtime.TestB": fail}, st{"runtime.TestB": pass}, false,
			[2]st{{"runtime.TestB": pass}, {"runtime.TestB": pass}}, nil, nil, 1, 0, 4, "ok (flaky)"},
		{"shared: no rerun", st{"os/signal.TestStop": fail}, st{"os/signal.TestStop": fail}, false, [2]st{}, nil, []string{"os/signal.TestStop"}, 0, 0, 0, "FAIL (upstream too)"},
		{"fixed by the fork", st{"time.TestX": pass}, st{"time.TestX": fail}, false,
			[2]st{{"time.TestX": pass}, {"time.TestX": fail}}, nil, nil, 0, 1, 4, "ok"},
		{"skipped upstream, failing on the fork: no rerun, not new", st{"time.TestY": fail}, st{"time.TestY": skip}, false,
			[2]st{{"time.TestY": pass}, {"time.TestY": skip}}, nil, nil, 1, 0, 4, "ok (flaky)"},
		{"fork-only test failing: new", st{"runtime.TestFutexNew": fail}, st{}, false, [2]st{}, []string{"runtime.TestFutexNew"}, nil, 0, 0, 0, "NEW FAIL"},
		{"upstream did not run the port", st{"sync.TestA": fail}, nil, true, [2]st{}, []string{"sync.TestA"}, nil, 0, 0, 0, "NEW FAIL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fork := &Matrix{Toolchain: "fork", Rows: []Row{fullRow("linux/arm64", tt.fork)}}
			base := &Matrix{Toolchain: "upstream"}
			if !tt.upMissing {
				base.Rows = []Row{fullRow("linux/arm64", tt.up)}
			}
			calls := 0
			fork.CompareFull(base, 2, func(side int, port string, keys []string) map[string]tiers.Status {
				calls++
				if port != "linux/arm64" {
					t.Errorf("rerun of port %s", port)
				}
				return tt.rerun[side]
			})
			r := fork.Rows[0]
			if !slices.Equal(r.New, tt.wantNew) || !slices.Equal(r.Shared, tt.wantShared) || len(r.Flaky) != tt.wantFlaky || len(r.Fixed) != tt.wantFix {
				t.Errorf("new %q shared %q flaky %q fixed %q; want new %q shared %q, %d flaky, %d fixed", r.New, r.Shared, r.Flaky, r.Fixed, tt.wantNew, tt.wantShared, tt.wantFlaky, tt.wantFix)
			}
			if calls != tt.wantReruns {
				t.Errorf("%d rerun calls, want %d", calls, tt.wantReruns)
			}
			if got := r.FullResult(true); got != tt.wantLabel {
				t.Errorf("FullResult = %q, want %q", got, tt.wantLabel)
			}
			if fork.OK() != (len(tt.wantNew) == 0) {
				t.Errorf("OK() = %v with new failures %q", fork.OK(), r.New)
			}
		})
	}
}

func TestCompareFullPackageError(t *testing.T) {
	errPkg := PackageRun{Package: "sync", Error: "linux/arm64 sync: no test ran"}
	fork := &Matrix{Toolchain: "fork", Rows: []Row{fullRow("linux/arm64", nil, errPkg)}}
	base := &Matrix{Toolchain: "upstream", Rows: []Row{fullRow("linux/arm64", nil, PackageRun{Package: "sync", Passed: 3})}}
	fork.CompareFull(base, 2, nil)
	if want := []string{"run: " + errPkg.Error}; !slices.Equal(fork.Rows[0].New, want) {
		t.Errorf("new %q, want %q", fork.Rows[0].New, want)
	}
	base.Rows[0].Run.Packages[0].Error = errPkg.Error
	fork.CompareFull(base, 2, nil)
	if len(fork.Rows[0].New) != 0 {
		t.Errorf("an error upstream shares is new: %q", fork.Rows[0].New)
	}
	if want := []string{"run: " + errPkg.Error}; !slices.Equal(fork.Rows[0].Shared, want) {
		t.Errorf("shared %q, want %q: a FAIL (upstream too) row names what failed", fork.Rows[0].Shared, want)
	}
}

func TestPrintFull(t *testing.T) {
	type st = map[string]tiers.Status
	pkgs := []PackageRun{{Package: "runtime", Passed: 1, Seconds: 200}, {Package: "sync", Passed: 1, Seconds: 3}, {Package: ChanPackage, NotRun: NoTestDir}}
	fork := &Matrix{Toolchain: "go1.26.8-unilock.2", Host: "linux/amd64, 2 CPUs", Packages: []string{"runtime", "sync", ChanPackage}, Seconds: 400,
		Rows: []Row{
			fullRow("linux/arm64", st{"runtime.TestA": tiers.Pass, "sync.TestB": tiers.Fail}, pkgs...),
			fullRow("linux/386", st{"runtime.TestA": tiers.Pass, "sync.TestB": tiers.Pass}, pkgs...),
			{Port: "darwin/arm64", Backend: "sema", Compile: Compile{OK: true, What: WhatFull}, NotRun: "no way to execute it on this machine"},
		}}
	fork.Rows[1].Run.How = "native"
	base := &Matrix{Toolchain: "go1.26.8", Rows: []Row{
		fullRow("linux/arm64", st{"runtime.TestA": tiers.Pass, "sync.TestB": tiers.Pass}, pkgs...),
		fullRow("linux/386", st{"runtime.TestA": tiers.Pass, "sync.TestB": tiers.Pass}, pkgs...),
	}}
	fork.CompareFull(base, 1, func(side int, port string, keys []string) map[string]tiers.Status {
		return map[string]tiers.Status{"sync.TestB": []tiers.Status{tiers.Fail, tiers.Pass}[side]}
	})
	var buf bytes.Buffer
	fork.PrintFull(&buf)
	out := buf.String()
	for _, want := range []string{
		"the whole -short suites of runtime, sync, test/chan; against go1.26.8, disagreements rerun 1 times",
		"port         run           scale  packages  passed  failed  skipped  up passed  up failed  up skipped  new  flaky   time  up time  result",
		"linux/arm64  qemu-aarch64     x4  2 of 3         1       1        0          2          0           0    1      0  1m30s    1m30s  NEW FAIL",
		"linux/386    native           x4  2 of 3         2       0        0          2          0           0    0      0  1m30s    1m30s  ok",
		"3 ports: 3 compiled, 2 executed in full: fork 3m00s, upstream 3m00s; 1 new failures; 6m40s in all",
		"time by package (fork):",
		"linux/arm64    3m20s  3.0s    not run",
		"not run: test/chan: GOROOT/test is absent",
		"NEW FAIL linux/arm64\n  new: sync.TestB",
		"1 ports compile only (no emulator for them here): darwin/arm64",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	file := filepath.Join(t.TempDir(), "full.json")
	if err := fork.Write(file); err != nil {
		t.Fatal(err)
	}
	back, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if r := back.Rows[0]; r.Run.Scale != 4 || len(r.Run.Packages) != 3 || r.Upstream == nil || r.Upstream.Passed != 2 || r.New[0] != "sync.TestB" {
		t.Errorf("round trip lost the full mode: %+v", r)
	}
}

// fakeToolchain writes a GOROOT whose bin/go plays go test -json: script is
// the body of a sh case on "$*"; withChan adds test/chan/.
func fakeToolchain(t *testing.T, script string, withChan bool) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o777)
	if withChan {
		os.MkdirAll(filepath.Join(dir, "test", "chan"), 0o777)
	}
	body := "#!/bin/sh\ncase \"$*\" in\n" + script + "\n*) echo \"fake go: unexpected: $*\" >&2; exit 2;;\nesac\n"
	if err := os.WriteFile(filepath.Join(dir, "bin", "go"), []byte(body), 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

func events(lines ...string) string {
	return "cat <<'EOF'\n" + strings.Join(lines, "\n") + "\nEOF\n"
}

// pkgEvents is a package whose tests have the given outcomes.
func pkgEvents(pkg string, tests ...string) string {
	var ls []string
	failed := false
	for _, t := range tests {
		name, st, _ := strings.Cut(t, "=")
		ls = append(ls, `{"Action":"run","Package":"`+pkg+`","Test":"`+name+`"}`, `{"Action":"`+st+`","Package":"`+pkg+`","Test":"`+name+`"}`)
		failed = failed || st == "fail"
	}
	end := "pass"
	if failed {
		end = "fail"
	}
	return events(append(ls, `{"Action":"`+end+`","Package":"`+pkg+`"}`)...)
}

// TestFullEndToEnd runs the full mode on two fake toolchains through the
// Checker: each package's go test with the port's environment and scaled
// timeout, test/chan through cmd/internal/testdir -target on the host,
// the reruns of every disagreement on both sides, the comparison and the
// table. The fork has a new failure (sync.TestNew fails every time), a
// flake (runtime.TestFlaky fails once, then passes), a failure upstream
// shares (os/signal.TestStop) and a new failing channel program.
func TestFullEndToEnd(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake toolchains are sh scripts")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	const args = "test -json -count=1 -timeout=40m0s -short"
	// Every package test checks that it runs for the port at scale 4; the
	// test/chan run, that it runs on the host.
	portEnv := `[ "$GOOS/$GOARCH" = linux/arm64 ] && [ "$GO_TEST_TIMEOUT_SCALE" = 4 ] && [ "$CGO_ENABLED" = 0 ] || { echo "fake go: wrong environment: $GOOS/$GOARCH scale $GO_TEST_TIMEOUT_SCALE" >&2; exit 3; }` + "\n"
	hostEnv := `[ -z "$GOOS$GOARCH" ] || { echo "fake go: testdir must build for the host, not $GOOS/$GOARCH" >&2; exit 3; }` + "\n"
	chanRun := "'" + args + " -run=^Test$/^chan$/.* cmd/internal/testdir -args -target=linux/arm64') " + hostEnv
	chanEvents := func(sel string) string {
		return events(
			`{"Action":"run","Package":"cmd/internal/testdir","Test":"Test"}`,
			`{"Action":"run","Package":"cmd/internal/testdir","Test":"Test/chan/select.go"}`,
			`{"Action":"`+sel+`","Package":"cmd/internal/testdir","Test":"Test/chan/select.go"}`,
			`{"Action":"run","Package":"cmd/internal/testdir","Test":"Test/chan/fifo.go"}`,
			`{"Action":"pass","Package":"cmd/internal/testdir","Test":"Test/chan/fifo.go"}`,
			`{"Action":"`+sel+`","Package":"cmd/internal/testdir","Test":"Test"}`,
			`{"Action":"`+sel+`","Package":"cmd/internal/testdir"}`,
		)
	}
	state := t.TempDir()
	fork := fakeToolchain(t, ""+
		"'"+args+" runtime') "+portEnv+
		// TestFlaky fails the first time only.
		`if [ -e `+state+`/flaky ]; then `+pkgEvents("runtime", "TestA=pass", "TestFlaky=pass")+`else touch `+state+`/flaky; `+pkgEvents("runtime", "TestA=pass", "TestFlaky=fail")+"fi;;\n"+
		"'"+args+" sync') "+portEnv+pkgEvents("sync", "TestMutex=pass", "TestNew=fail")+";;\n"+
		"'"+args+" os/signal') "+portEnv+pkgEvents("os/signal", "TestStop=fail", "TestSkipped=skip")+";;\n"+
		chanRun+chanEvents("fail")+";;\n"+
		"'"+args+" -run=^(TestFlaky)$ runtime') "+portEnv+pkgEvents("runtime", "TestFlaky=pass")+";;\n"+
		"'"+args+" -run=^(TestNew)$ sync') "+portEnv+pkgEvents("sync", "TestNew=fail")+";;\n"+
		"'"+args+` -run=^Test$/^chan$/^(select\.go)$ cmd/internal/testdir -args -target=linux/arm64') `+hostEnv+chanEvents("fail")+";;\n",
		true)
	upstream := fakeToolchain(t, ""+
		"'"+args+" runtime') "+portEnv+pkgEvents("runtime", "TestA=pass", "TestFlaky=pass")+";;\n"+
		"'"+args+" sync') "+portEnv+pkgEvents("sync", "TestMutex=pass", "TestNew=pass")+";;\n"+
		"'"+args+" os/signal') "+portEnv+pkgEvents("os/signal", "TestStop=fail", "TestSkipped=skip")+";;\n"+
		chanRun+chanEvents("pass")+";;\n"+
		"'"+args+" -run=^(TestFlaky)$ runtime') "+portEnv+pkgEvents("runtime", "TestFlaky=pass")+";;\n"+
		"'"+args+" -run=^(TestNew)$ sync') "+portEnv+pkgEvents("sync", "TestNew=pass")+";;\n"+
		"'"+args+` -run=^Test$/^chan$/^(select\.go)$ cmd/internal/testdir -args -target=linux/arm64') `+hostEnv+chanEvents("pass")+";;\n",
		true)
	pkgs := []string{"runtime", "sync", "os/signal", ChanPackage}
	port := Port{GOOS: "linux", GOARCH: "arm64"}
	checker := func(gr string) *Checker {
		return &Checker{Goroot: gr, Wrappers: t.TempDir(), Short: true, Timeout: 10 * time.Minute}
	}
	var log bytes.Buffer
	var matrices []*Matrix
	checkers := []*Checker{checker(fork), checker(upstream)}
	for _, c := range checkers {
		var done []string
		run := c.ExecuteFull(port, "qemu-aarch64", 4, pkgs, &log, io.Discard, func(pr PackageRun) { done = append(done, pr.Package) })
		if !slices.Equal(done, pkgs) {
			t.Errorf("packages reported done %q, want %q", done, pkgs)
		}
		if run.Error != "" {
			t.Fatalf("run error: %s\nlog:\n%s", run.Error, log.String())
		}
		matrices = append(matrices, &Matrix{Toolchain: c.Goroot, Goroot: c.Goroot, Packages: pkgs,
			Rows: []Row{{Port: "linux/arm64", Compile: Compile{OK: true, What: WhatFull}, Run: run}}})
	}
	forkRun, upRun := matrices[0].Rows[0].Run, matrices[1].Rows[0].Run
	// fork: runtime 1+1 fail, sync 1+1 fail, os/signal 1 fail 1 skip, chan 1 pass 1 fail.
	if forkRun.Passed != 3 || forkRun.Failed != 4 || forkRun.Skipped != 1 {
		t.Errorf("fork counts %d/%d/%d, want 3 passed, 4 failed, 1 skipped; failures %q", forkRun.Passed, forkRun.Failed, forkRun.Skipped, forkRun.Failures)
	}
	if upRun.Passed != 6 || upRun.Failed != 1 || upRun.Skipped != 1 {
		t.Errorf("upstream counts %d/%d/%d, want 6 passed, 1 failed, 1 skipped", upRun.Passed, upRun.Failed, upRun.Skipped)
	}
	if forkRun.Outcomes["test/chan/select.go"] != tiers.Fail || upRun.Outcomes["test/chan/fifo.go"] != tiers.Pass {
		t.Errorf("test/chan outcomes: fork %v, upstream %v", forkRun.Outcomes, upRun.Outcomes)
	}
	if forkRun.Scale != 4 || len(forkRun.Packages) != 4 || forkRun.Packages[3].Package != ChanPackage || forkRun.Packages[3].Passed != 1 {
		t.Errorf("fork run: scale %d, packages %+v", forkRun.Scale, forkRun.Packages)
	}
	var reruns []string
	matrices[0].CompareFull(matrices[1], 2, func(side int, p string, keys []string) map[string]tiers.Status {
		reruns = append(reruns, strings.Join(keys, " "))
		return checkers[side].Rerun(port, 4, pkgs, keys, &log)
	})
	r := matrices[0].Rows[0]
	if want := []string{"sync.TestNew", "test/chan/select.go"}; !slices.Equal(r.New, want) {
		t.Errorf("new failures %q, want %q\nlog:\n%s", r.New, want, log.String())
	}
	if len(r.Flaky) != 1 || !strings.HasPrefix(r.Flaky[0], "runtime.TestFlaky (fork fail,pass,pass") {
		t.Errorf("flaky %q, want runtime.TestFlaky", r.Flaky)
	}
	if !slices.Equal(r.Shared, []string{"os/signal.TestStop"}) {
		t.Errorf("shared %q, want os/signal.TestStop", r.Shared)
	}
	if len(reruns) != 4 {
		t.Errorf("reruns %q, want 2 on each side", reruns)
	}
	var out bytes.Buffer
	matrices[0].PrintFull(&out)
	for _, want := range []string{"NEW FAIL linux/arm64", "  new: sync.TestNew", "  new: test/chan/select.go", "  flaky: runtime.TestFlaky", "  fails upstream too: os/signal.TestStop"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// Without GOROOT/test (a partial base) test/chan is not run, says why,
	// and is no failure.
	partial := checker(fakeToolchain(t, "'"+args+" sync') "+portEnv+pkgEvents("sync", "TestMutex=pass")+";;\n", false))
	run := partial.ExecuteFull(port, "qemu-aarch64", 4, []string{"sync", ChanPackage}, &log, io.Discard, nil)
	if !run.OK() || run.Passed != 1 || run.Packages[1].NotRun != NoTestDir {
		t.Errorf("partial base: ok %v, %d passed, packages %+v; want test/chan not run with NoTestDir", run.OK(), run.Passed, run.Packages)
	}
}
