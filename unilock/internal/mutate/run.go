package mutate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"unilock/internal/git"
	"unilock/internal/phase"
)

// Config says where and how to run the mutations.
type Config struct {
	Goroot string        // the tree mutated, a git work tree: goroot/
	Go     string        // the go command; default Goroot/bin/go
	State  string        // journal, logs and reports: .unilock/mutate/
	Bound  time.Duration // the longest a test run may take, build time not counted; default 90s
	// Grace is how long past Bound the run is killed if the test binary's
	// own -timeout (set to Bound) does not end it; default 30s.
	Grace time.Duration
	// Baseline runs each distinct test command once with no mutation first,
	// and stops if it fails: a failure that is there without a mutation
	// would count as a catch.
	Baseline bool
	Log      io.Writer // phase lines; default io.Discard
	// Signals, when set, are caught during the run: the running test is
	// killed, the file restored, and Run returns an error.
	Signals []os.Signal
}

// Outcome is what the tests made of a mutation.
type Outcome string

const (
	Caught    Outcome = "caught"          // a test failed (or the test binary died) within the bound
	Survived  Outcome = "survived"        // every test passed
	TimedOut  Outcome = "timed out"       // only the timeout ended it: not caught
	NoCompile Outcome = "did not compile" // the mutation is broken: fix its .new text
	Stale     Outcome = "stale"           // the .old text is not exactly once in the file
	Broken    Outcome = "error"           // the test command failed without a failing test
	NotRun    Outcome = "not run"         // interrupted before it ran
)

// Result is one mutation's row of the report.
type Result struct {
	Mutation string        `json:"mutation"`
	File     string        `json:"file"`
	Desc     string        `json:"desc"`
	Outcome  Outcome       `json:"outcome"`
	Caught   bool          `json:"caught"`
	Test     string        `json:"test,omitempty"` // the first failing test, or the one running at a timeout
	In       time.Duration `json:"in_ns"`          // from the test binary's start to the first failure
	Build    time.Duration `json:"build_ns"`       // from the go command's start to the test binary's
	TestTime time.Duration `json:"test_ns"`        // from the test binary's start to the end of the run
	Note     string        `json:"note,omitempty"`
	Log      string        `json:"log,omitempty"` // the go test -json output
}

// Report is a whole run.
type Report struct {
	Goroot   string        `json:"goroot"`
	Commit   string        `json:"commit"` // goroot/'s HEAD
	Bound    time.Duration `json:"bound_ns"`
	Started  time.Time     `json:"started"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	Baseline []Result      `json:"baseline,omitempty"`
	Results  []Result      `json:"results"`
}

// NotCaught lists the mutations that were not caught.
func (r *Report) NotCaught() []string {
	var names []string
	for _, x := range r.Results {
		if !x.Caught {
			names = append(names, x.Mutation)
		}
	}
	return names
}

func (c *Config) defaults() {
	if c.Go == "" {
		c.Go = filepath.Join(c.Goroot, "bin", "go")
	}
	if c.Bound == 0 {
		c.Bound = 90 * time.Second
	}
	if c.Grace == 0 {
		c.Grace = 30 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Recover restores a file a previous run left mutated (it was killed before
// it could restore it), and says so on c.Log.
func (c *Config) Recover() error {
	c.defaults()
	if pid := c.otherRun(); pid != 0 {
		return fmt.Errorf("another unilock mutate (pid %d) has a mutation applied (%s): wait for it, or if that process is not unilock, delete the journal", pid, c.journalPath())
	}
	file, err := c.restore()
	if err != nil {
		return err
	}
	if file != "" {
		fmt.Fprintf(c.Log, "restored %s: an earlier unilock mutate left a mutation applied to it\n", file)
	}
	return nil
}

// CheckClean refuses files of ms with uncommitted changes in goroot/: the
// run rewrites and restores them, and must not be where edits are lost.
func (c *Config) CheckClean(ms []*Mutation) error {
	var paths []string
	for _, m := range ms {
		p := "src/" + m.File
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	repo := git.Repo{Dir: c.Goroot}
	lines, err := repo.Lines(append([]string{"status", "--porcelain", "--"}, paths...)...)
	if err != nil {
		return fmt.Errorf("goroot/ is not a git work tree (%v): run ./make.bash", err)
	}
	if len(lines) > 0 {
		return fmt.Errorf("goroot/ has uncommitted changes in the files the mutations edit:\n\t%s\nmutate rewrites these files and restores them from what is there; commit the changes in goroot/ (then unilock extract) or stash them first",
			strings.Join(lines, "\n\t"))
	}
	return nil
}

// Run applies each mutation in turn, runs its tests and restores the file.
// It returns the report, and an error if the run could not be done (not
// when mutations are not caught: see Report.NotCaught).
func (c *Config) Run(ctx context.Context, ms []*Mutation) (*Report, error) {
	c.defaults()
	clock := phase.New(c.Log)
	rep := &Report{Goroot: c.Goroot, Bound: c.Bound, Started: time.Now()}
	defer func() { rep.Elapsed = clock.Elapsed() }()
	if err := c.Recover(); err != nil {
		return nil, err
	}
	if err := c.CheckClean(ms); err != nil {
		return nil, err
	}
	rep.Commit, _ = git.Repo{Dir: c.Goroot}.Line("rev-parse", "HEAD")
	if err := os.MkdirAll(filepath.Join(c.State, "logs"), 0o777); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		sigMu sync.Mutex
		sig   os.Signal
	)
	if len(c.Signals) > 0 {
		sigc := make(chan os.Signal, 1)
		signal.Notify(sigc, c.Signals...)
		defer signal.Stop(sigc)
		go func() {
			select {
			case s := <-sigc:
				sigMu.Lock()
				sig = s
				sigMu.Unlock()
				fmt.Fprintf(c.Log, "\n%v: stopping the test run and restoring goroot/\n", s)
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	interrupted := func() error {
		sigMu.Lock()
		defer sigMu.Unlock()
		if sig != nil {
			return fmt.Errorf("interrupted by %v: goroot/ is restored; %d of %d mutations ran", sig, countRun(rep.Results), len(ms))
		}
		return ctx.Err()
	}

	stale := map[string]string{}
	var live []*Mutation
	for _, m := range ms {
		if s := m.Stale(c.Goroot); s != "" {
			stale[m.Name] = s
		} else {
			live = append(live, m)
		}
	}
	clock.Phase("mutate: %d mutations (%d stale), goroot/ at %.12s, bound %s per test run", len(ms), len(stale), rep.Commit, phase.Format(c.Bound))

	var spent []time.Duration // the length of each run so far, for the estimate
	estimate := func(left int) string {
		if len(spent) == 0 || left == 0 {
			return ""
		}
		var sum time.Duration
		for _, d := range spent {
			sum += d
		}
		return fmt.Sprintf(" (about %s left)", phase.Format(sum/time.Duration(len(spent))*time.Duration(left)))
	}

	if c.Baseline {
		seen := map[string]bool{}
		for _, m := range live {
			key := m.commandKey()
			if seen[key] {
				continue
			}
			seen[key] = true
			clock.Phase("baseline: no mutation: %s%s", m.commandDesc(), estimate(len(live)+1))
			start := time.Now()
			r := c.test(ctx, m, "baseline")
			spent = append(spent, time.Since(start))
			r.Mutation, r.File, r.Desc = "(baseline)", "", "no mutation: "+m.commandDesc()
			rep.Baseline = append(rep.Baseline, r)
			if err := interrupted(); err != nil {
				return rep, err
			}
			if r.Outcome != Survived {
				return rep, fmt.Errorf("the tests fail with no mutation applied (%s: %s%s; log %s): a mutation run would count that as a catch; fix the tests first, or run with -baseline=false", r.Outcome, r.Test, r.Note, r.Log)
			}
			clock.Phase("baseline: passed (%s) in %s; build %s", r.Note, phase.Format(r.TestTime), phase.Format(r.Build))
			if r.TestTime > c.Bound*3/4 {
				fmt.Fprintf(c.Log, "warning: the unmutated tests take %s, close to the bound %s: raise -bound, or every slowed-down mutation will time out\n", phase.Format(r.TestTime), phase.Format(c.Bound))
			}
		}
	}

	done := 0
	for i, m := range ms {
		if s, ok := stale[m.Name]; ok {
			rep.Results = append(rep.Results, Result{Mutation: m.Name, File: m.File, Desc: m.Desc, Outcome: Stale, Note: s})
			clock.Phase("%d/%d %s: %s", i+1, len(ms), m.Name, s)
			continue
		}
		if ctx.Err() != nil {
			rep.Results = append(rep.Results, Result{Mutation: m.Name, File: m.File, Desc: m.Desc, Outcome: NotRun, Note: "interrupted"})
			continue
		}
		clock.Phase("%d/%d %s: %s%s", i+1, len(ms), m.Name, m.File, estimate(len(live)-done))
		start := time.Now()
		r, err := c.one(ctx, m)
		spent = append(spent, time.Since(start))
		done++
		if err != nil {
			return rep, err
		}
		rep.Results = append(rep.Results, r)
		clock.Phase("%d/%d %s: %s", i+1, len(ms), m.Name, r.Summary())
	}
	if err := interrupted(); err != nil {
		return rep, err
	}
	return rep, nil
}

func countRun(rs []Result) int {
	n := 0
	for _, r := range rs {
		if r.Outcome != NotRun && r.Outcome != Stale {
			n++
		}
	}
	return n
}

// one applies m, tests it and restores the file, also when the test run
// panics or is interrupted.
func (c *Config) one(ctx context.Context, m *Mutation) (r Result, err error) {
	file := filepath.Join(c.Goroot, "src", filepath.FromSlash(m.File))
	fi, err := os.Stat(file)
	if err != nil {
		return r, err
	}
	orig, err := os.ReadFile(file)
	if err != nil {
		return r, err
	}
	defer func() {
		if _, rerr := c.restore(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := c.apply(m, file, orig, fi.Mode()); err != nil {
		return r, err
	}
	r = c.test(ctx, m, m.Name)
	r.Mutation, r.File, r.Desc = m.Name, m.File, m.Desc
	return r, nil
}

// Summary is the result in a few words: "caught by runtime.TestX in 0.3s".
func (r Result) Summary() string {
	switch r.Outcome {
	case Caught:
		return fmt.Sprintf("caught by %s in %s", r.Test, phase.Format(r.In))
	case TimedOut:
		return fmt.Sprintf("NOT CAUGHT: timed out (%s)", r.Note)
	case Survived:
		return fmt.Sprintf("NOT CAUGHT: survived (%s)", r.Note)
	default:
		return fmt.Sprintf("NOT CAUGHT: %s (%s)", r.Outcome, r.Note)
	}
}

func (m *Mutation) commandKey() string {
	return strings.Join(m.Env, " ") + "|" + m.RunPattern() + "|" + strings.Join(m.Packages(), " ")
}

func (m *Mutation) commandDesc() string {
	s := fmt.Sprintf("go test -short -run='%s' %s", m.RunPattern(), strings.Join(m.Packages(), " "))
	if len(m.Env) > 0 {
		s = strings.Join(m.Env, " ") + " " + s
	}
	return s
}

// cleanEnv keeps the caller's settings out of the fork's test runs, as the
// lock tier does.
var cleanEnv = []string{"GOTOOLCHAIN=local", "GOEXPERIMENT=", "GOOS=", "GOARCH=", "GOFLAGS=", "GOROOT="}

type event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string
	FailedBuild string
}

// test runs m's test command on the tree as it is and reads its events.
func (c *Config) test(ctx context.Context, m *Mutation, logName string) Result {
	var r Result
	logPath := filepath.Join(c.State, "logs", logName+".json")
	r.Log = logPath
	logf, err := os.Create(logPath)
	if err != nil {
		r.Outcome, r.Note = Broken, err.Error()
		return r
	}
	defer logf.Close()

	args := []string{"test", "-json", "-count=1", "-short", "-timeout=" + c.Bound.String(), "-run=" + m.RunPattern()}
	wd := outsideWatchdog(m)
	if wd != "" {
		args = append(args, "-exec="+wd)
	}
	args = append(args, m.Packages()...)
	fmt.Fprintf(logf, "# %s %s (env %s)\n", c.Go, strings.Join(args, " "), strings.Join(m.Env, " "))

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	cmd := exec.CommandContext(runCtx, c.Go, args...)
	cmd.Dir = filepath.Join(c.Goroot, "src")
	cmd.Env = append(append(os.Environ(), cleanEnv...), m.Env...)
	cmd.Stderr = logf
	ownGroup(cmd)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		r.Outcome, r.Note = Broken, err.Error()
		return r
	}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		r.Outcome, r.Note = Broken, fmt.Sprintf("%v: run ./make.bash to build goroot/", err)
		return r
	}

	var (
		mu       sync.Mutex
		killedAt time.Duration // set when the watchdog killed the run
	)
	var watchdog *time.Timer
	defer func() {
		if watchdog != nil {
			watchdog.Stop()
		}
	}()

	type fail struct {
		pkg, test string
		at        time.Time
	}
	var (
		started        = map[string]time.Time{} // package -> its test binary's start
		startWall      time.Time
		running        []string // package.test, started and not ended
		outputs        = map[string][]string{}
		buildOut       []string
		buildFail      bool
		first          *fail
		timeoutAt      time.Time
		timeoutMsg     string
		timeoutRunning []string
		pkgFail        *fail
		crashMsg       string
		dumpAt         string // the first frame of a SIGQUIT dump
		passed         int
		stopped        bool // we stopped the run at its first failure
	)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Bytes()
		fmt.Fprintf(logf, "%s\n", line)
		var e event
		if json.Unmarshal(line, &e) != nil || e.Action == "" {
			continue
		}
		now := time.Now()
		if e.Time.IsZero() {
			e.Time = now
		}
		key := e.Package + "." + e.Test
		if e.Test != "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
			running = slices.DeleteFunc(running, func(k string) bool { return k == key })
		}
		switch e.Action {
		case "build-output":
			if len(buildOut) < 20 {
				buildOut = append(buildOut, strings.TrimRight(e.Output, "\n"))
			}
		case "build-fail":
			buildFail = true
		case "start":
			started[e.Package] = e.Time
			if startWall.IsZero() {
				startWall = now
				watchdog = time.AfterFunc(c.Bound+c.Grace, func() {
					mu.Lock()
					killedAt = c.Bound + c.Grace
					mu.Unlock()
					stop()
				})
			}
		case "run":
			running = append(running, key)
		case "output":
			if len(outputs[key]) < 50 {
				outputs[key] = append(outputs[key], e.Output)
			}
			o := strings.TrimSpace(e.Output)
			if strings.HasPrefix(o, "panic: test timed out") && timeoutAt.IsZero() {
				timeoutAt, timeoutMsg = e.Time, o
				timeoutRunning = slices.Clone(running)
			} else if crashMsg == "" && (strings.HasPrefix(o, "fatal error:") || strings.HasPrefix(o, "panic:") || strings.HasPrefix(o, "SIG")) {
				crashMsg = o
			} else if strings.HasPrefix(crashMsg, "SIGQUIT") && dumpAt == "" {
				// The first frame of the first goroutine of the dump
				// says where the binary stopped.
				if strings.HasPrefix(o, "goroutine ") {
					dumpAt = "-"
				}
			} else if dumpAt == "-" && o != "" {
				dumpAt = o
			}
		case "pass":
			if e.Test != "" {
				passed++
			}
		case "fail":
			if e.FailedBuild != "" {
				buildFail = true
			} else if e.Test != "" && first == nil && timeoutAt.IsZero() {
				first = &fail{e.Package, key, e.Time}
				// The answer is known: stop the run rather than wait
				// for the tests after it.
				stopped = true
				stop()
			} else if e.Test == "" && pkgFail == nil {
				pkgFail = &fail{pkg: e.Package, at: e.Time, test: e.Package + " (the test binary died before any test)"}
				for _, k := range running {
					if strings.HasPrefix(k, e.Package+".") {
						pkgFail.test = k + " (the test binary died)"
						break
					}
				}
			}
		}
	}
	werr := cmd.Wait()
	end := time.Now()
	if !startWall.IsZero() {
		r.Build = startWall.Sub(begin)
		r.TestTime = end.Sub(startWall)
	} else {
		r.Build = end.Sub(begin)
	}
	mu.Lock()
	killed := killedAt
	mu.Unlock()
	since := func(pkg string, t time.Time) time.Duration {
		if s, ok := started[pkg]; ok {
			return t.Sub(s)
		}
		return 0
	}

	switch {
	case first != nil:
		r.Outcome, r.Test, r.In = Caught, first.test, since(first.pkg, first.at)
		r.Note = firstMessage(outputs[first.test])
	case ctx.Err() != nil:
		r.Outcome, r.Note = NotRun, "interrupted"
	case buildFail:
		r.Outcome = NoCompile
		var msgs []string
		for _, l := range buildOut {
			if l != "" && !strings.HasPrefix(l, "#") {
				msgs = append(msgs, l)
			}
		}
		r.Note = strings.Join(msgs, "; ")
		if len(r.Note) > 300 {
			r.Note = r.Note[:300] + "..."
		}
	case !timeoutAt.IsZero():
		r.Outcome, r.In = TimedOut, c.Bound
		r.Test = strings.Join(timeoutRunning, ", ")
		r.Note = timeoutMsg
	case killed != 0:
		r.Outcome, r.In = TimedOut, killed
		r.Test = strings.Join(running, ", ")
		r.Note = fmt.Sprintf("killed after %s: the test binary's own -timeout did not end it", phase.Format(killed))
	case pkgFail != nil:
		r.Outcome, r.Test, r.In = Caught, pkgFail.test, since(pkgFail.pkg, pkgFail.at)
		r.Note = crashMsg
		if strings.HasPrefix(crashMsg, "SIGQUIT") && wd != "" {
			r.Note = fmt.Sprintf("%s from the %s watchdog: no M ran", crashMsg, watchdogAfter(m))
			if dumpAt != "" && dumpAt != "-" {
				r.Note += "; goroutine dump at " + dumpAt
			}
		}
	case werr != nil && !stopped:
		r.Outcome = Broken
		r.Note = fmt.Sprintf("go test: %v with no failing test (see the log)", werr)
	default:
		r.Outcome, r.Note = Survived, fmt.Sprintf("%d test%s passed", passed, map[bool]string{true: "s"}[passed != 1])
		if passed == 0 {
			r.Note = "no test ran: check the entry's run: pattern"
		}
	}
	r.Caught = r.Outcome == Caught
	return r
}

// firstMessage is the first line a failing test printed other than its
// === and --- lines.
func firstMessage(lines []string) string {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		if len(t) > 200 {
			t = t[:200] + "..."
		}
		return t
	}
	return ""
}

// outsideWatchdog returns the go test -exec command that arms a mutation's
// GO_TEST_KERNEL_WATCHDOG from outside the test binary as well: coreutils
// timeout sends the binary SIGQUIT that long after it starts (the runtime
// then prints every goroutine's stack and exits), and SIGKILL 10s later if
// the SIGQUIT could not end it. The watchdog inside the binary is armed by
// its init, so it cannot see a bug that stops every M before init runs (a
// semawakeup that wakes nobody, met by a mutex contended during the
// runtime's start-up); this one can. It returns "" when the entry arms no
// watchdog or timeout is not installed.
func outsideWatchdog(m *Mutation) string {
	d := watchdogAfter(m)
	if d == "" {
		return ""
	}
	if _, err := exec.LookPath("timeout"); err != nil {
		return ""
	}
	return "timeout --signal=QUIT --kill-after=10s " + d
}

// watchdogAfter is the duration of m's GO_TEST_KERNEL_WATCHDOG, or "".
func watchdogAfter(m *Mutation) string {
	for _, kv := range m.Env {
		if v, ok := strings.CutPrefix(kv, "GO_TEST_KERNEL_WATCHDOG="); ok {
			if _, err := time.ParseDuration(v); err == nil {
				return v
			}
		}
	}
	return ""
}
