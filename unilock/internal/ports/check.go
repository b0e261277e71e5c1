package ports

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"unilock/internal/tiers"
)

// Checker compiles and executes ports with one toolchain.
type Checker struct {
	Goroot string
	// Wrappers is the directory of go_$GOOS_$GOARCH_exec scripts, put first
	// on PATH so that go test runs cross-compiled binaries through them.
	Wrappers string
	// RunRegexp selects the runtime tests executed (sync runs whole).
	RunRegexp string
	Short     bool
	// Experiment is GOEXPERIMENT for every build and test ("" for none).
	Experiment string
	Timeout    time.Duration
	// Light compiles and vets runtime alone: no sync, no test binaries.
	Light bool
	// BuildOnly, if set, names the ports that need only be built: runtime
	// and sync compiled, neither vetted nor their test binaries compiled.
	// Vetting runtime type-checks its tests, which compiles the ~200
	// packages they import for that port: most of a port's compile time.
	// The ports tier sets it for the ports it does not execute.
	BuildOnly func(Port) bool
	// SetGOROOT sets GOROOT to Goroot for every go command, for a source
	// tree that borrows another tree's bin/ and pkg/ (check-series).
	SetGOROOT bool
	// Env is added to every go command's environment: the tool's own
	// build cache (build.CacheEnv).
	Env []string
}

// WhatLight is Compile.What for a Light check.
const WhatLight = "runtime, vet"

// externalOnly is how the go command refuses a port whose binaries it can
// link only with the platform's C toolchain (ios: Xcode), see
// internal/platform.MustLinkExternal. For those, runtime and sync are
// compiled with cgo on, not linked or vetted.
const externalOnly = "requires external (cgo) linking"

// env is the environment of go commands for p.
func (c *Checker) env(p Port, cgo bool) []string {
	cgoEnabled := "0"
	if cgo {
		cgoEnabled = "1"
	}
	goroot := ""
	if c.SetGOROOT {
		goroot = c.Goroot
	}
	return append([]string{
		"GOOS=" + p.GOOS, "GOARCH=" + p.GOARCH, "CGO_ENABLED=" + cgoEnabled,
		"GOROOT=" + goroot, "GOFLAGS=", "GOTOOLCHAIN=local", "GOEXPERIMENT=" + c.Experiment,
		"PATH=" + c.Wrappers + string(os.PathListSeparator) + filepath.Join(c.Goroot, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
	}, c.Env...)
}

func (c *Checker) gobin() string { return filepath.Join(c.Goroot, "bin", "go") }

// goCmd runs the toolchain's go command for p, logging its output, and
// returns the output.
func (c *Checker) goCmd(p Port, cgo bool, log io.Writer, args ...string) (string, error) {
	cmd := exec.Command(c.gobin(), args...)
	cmd.Env = append(os.Environ(), c.env(p, cgo)...)
	out, err := cmd.CombinedOutput()
	fmt.Fprintf(log, "$ GOOS=%s GOARCH=%s go %s\n%s", p.GOOS, p.GOARCH, strings.Join(args, " "), out)
	return string(out), err
}

// Compile finds p's lock backend, vets runtime and sync, and compiles their
// test binaries.
func (c *Checker) Compile(p Port, log io.Writer) (backend string, res Compile) {
	start := time.Now()
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	fail := func(step, out string, err error) (string, Compile) {
		res.Error = fmt.Sprintf("go %s: %v\n%s", step, err, firstLines(out, 20))
		return backend, res
	}
	out, err := c.goCmd(p, false, log, "list", "-f", `{{join .GoFiles " "}}`, "runtime")
	if err != nil {
		return fail("list runtime", out, err)
	}
	backend = Backend(strings.Fields(out))
	if c.Light {
		if out, err := c.goCmd(p, false, log, "build", "runtime"); err != nil {
			return fail("build runtime", out, err)
		}
		if out, err := c.goCmd(p, false, log, "vet", "runtime"); err != nil && !strings.Contains(out, externalOnly) {
			return fail("vet runtime", out, err)
		}
		res.OK, res.What = true, WhatLight
		return backend, res
	}
	if c.BuildOnly != nil && c.BuildOnly(p) {
		if out, err := c.goCmd(p, false, log, "build", "runtime", "sync"); err != nil {
			return fail("build runtime sync", out, err)
		}
		res.OK, res.What = true, WhatBuilt
		return backend, res
	}
	if out, err := c.goCmd(p, false, log, "vet", "runtime", "sync"); err != nil {
		if !strings.Contains(out, externalOnly) {
			return fail("vet runtime sync", out, err)
		}
		if out, err := c.goCmd(p, true, log, "build", "runtime", "sync"); err != nil {
			return fail("build runtime sync", out, err)
		}
		res.OK, res.What = true, WhatExternal
		return backend, res
	}
	dir, err := os.MkdirTemp("", "unilock-ports-")
	if err != nil {
		return fail("test -c", "", err)
	}
	defer os.RemoveAll(dir)
	if out, err := c.goCmd(p, false, log, "test", "-c", "-o", dir+string(filepath.Separator), "runtime", "sync"); err != nil {
		return fail("test -c runtime sync", out, err)
	}
	res.OK, res.What = true, WhatFull
	return backend, res
}

// Execute runs p's runtime lock tests and sync's tests, through the wrapper
// for p when there is one.
func (c *Checker) Execute(p Port, how string, log io.Writer, w io.Writer) *Run {
	start := time.Now()
	run := &Run{How: how}
	base := []string{c.gobin(), "test", "-json", "-count=1", fmt.Sprintf("-timeout=%s", c.Timeout)}
	if c.Short {
		base = append(base, "-short")
	}
	steps := []tiers.Tier{
		{Name: p.String() + " runtime", Cmd: append(append([]string{}, base...), "-run="+c.RunRegexp, "runtime")},
		{Name: p.String() + " sync", Cmd: append(append([]string{}, base...), "sync")},
	}
	var errs []string
	for _, t := range steps {
		t.Env = c.env(p, false)
		fmt.Fprintf(log, "=== %s: %s\n", t.Name, strings.Join(t.Cmd, " "))
		r := tiers.Run(t, w, log)
		run.Passed += r.Passed
		run.Failed += r.Failed
		run.Skipped += r.Skipped
		run.Failures = append(run.Failures, r.Failures...)
		switch {
		case r.Err != nil:
			errs = append(errs, r.Err.Error())
		case r.Passed+r.Failed+r.Skipped == 0:
			// An emulator that exits 0 without running the binary (Wine
			// lacking a 32-bit loader does) must not pass as a run.
			errs = append(errs, t.Name+": no test ran (the binary printed no test results; its output: "+logName(log)+")")
		}
	}
	run.Error = strings.Join(errs, "\n")
	run.Seconds = time.Since(start).Seconds()
	return run
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("... (%d more lines in the log)", len(lines)-n))
	}
	return strings.Join(lines, "")
}

// CompileAll compiles ps, jobs at a time, logging each port to
// logDir/GOOS-GOARCH.log, and calls done (never concurrently) as each
// finishes. Rows come back in the order of ps.
func (c *Checker) CompileAll(ps []Port, jobs int, logDir string, done func(n int, p Port, r Row)) ([]Row, error) {
	rows := make([]Row, len(ps))
	var mu sync.Mutex
	n := 0
	err := ForEach(len(ps), jobs, func(i int) error {
		p := ps[i]
		logf, err := os.OpenFile(filepath.Join(logDir, p.GOOS+"-"+p.GOARCH+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o666)
		if err != nil {
			return err
		}
		backend, comp := c.Compile(p, logf)
		logf.Close()
		mu.Lock()
		defer mu.Unlock()
		rows[i] = Row{Port: p.String(), FirstClass: p.FirstClass, Backend: backend, Compile: comp}
		n++
		done(n, p, rows[i])
		return nil
	})
	return rows, err
}

// ForEach calls f(0) .. f(n-1), jobs at a time, and returns the first
// error; every call runs whatever the others return.
func ForEach(n, jobs int, f func(i int) error) error {
	var mu sync.Mutex
	var first error
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(jobs, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := f(i); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return first
}

// logName is the path of a log written to a file, or "the port's log in
// .unilock/log/".
func logName(w io.Writer) string {
	if f, ok := w.(interface{ Name() string }); ok && f.Name() != "" {
		return f.Name()
	}
	return "the port's log in .unilock/log/"
}
