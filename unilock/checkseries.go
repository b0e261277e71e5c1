package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"unilock/internal/build"
	"unilock/internal/change"
	"unilock/internal/fork"
	"unilock/internal/git"
	"unilock/internal/goroot"
	"unilock/internal/phase"
	"unilock/internal/ports"
	"unilock/internal/series"
	"unilock/internal/seriescheck"
)

// seriesCommit is one patch of the series as a commit in goroot/.
type seriesCommit struct {
	Hash    string
	Subject string
	Message string
	File    string // its file in patches/
}

// currentSeries returns goroot/'s state and the series' commits, refusing a
// tree that does not hold exactly patches/ (it would check something else).
func currentSeries(env *Env) (goroot.Tree, *goroot.State, []seriesCommit, error) {
	t := goroot.Tree{Dir: env.Goroot}
	if !t.Exists() {
		return t, nil, nil, fmt.Errorf("goroot/ does not exist: run ./make.bash first")
	}
	st, err := t.LoadState()
	if err != nil {
		return t, nil, nil, err
	}
	id, err := fork.Load(env.Root)
	if err != nil {
		return t, nil, nil, err
	}
	ps, err := series.Load(env.Patches)
	if err != nil {
		return t, nil, nil, err
	}
	w, err := t.LocalWork(st)
	if err != nil {
		return t, nil, nil, err
	}
	if !w.Empty() {
		return t, nil, nil, fmt.Errorf("goroot/ holds work that is not in patches/:\n%s\nsave it first: unilock extract", w)
	}
	if st.Inputs != goroot.Inputs(id, ps) {
		return t, nil, nil, fmt.Errorf("goroot/ was made from another patches/, VERSION or upstream.pin: remake it with ./make.bash")
	}
	r := t.Repo()
	hashes, err := r.Lines("rev-list", "--reverse", st.Base+"..HEAD")
	if err != nil {
		return t, nil, nil, err
	}
	var cs []seriesCommit
	for _, h := range hashes {
		msg, err := r.Run("log", "-1", "--format=%B", h)
		if err != nil {
			return t, nil, nil, err
		}
		if strings.Contains(msg, goroot.ForkTrailer) {
			continue
		}
		subject, _, _ := strings.Cut(msg, "\n")
		cs = append(cs, seriesCommit{Hash: h, Subject: subject, Message: msg})
	}
	if len(cs) != len(ps) {
		return t, nil, nil, fmt.Errorf("goroot/ holds %d patches, patches/ %d: remake it with ./make.bash", len(cs), len(ps))
	}
	for i := range cs {
		cs[i].File = ps[i].Name
	}
	return t, st, cs, nil
}

func runCheckSeries(env *Env, args []string) error {
	fs := newFlags("check-series", "[-ports LIST] [-lint]", `Check that each patch of the series stands on its own, as a CL in a Gerrit relation chain
must: for each patch in order, check goroot/ out at that patch (the patches before it
applied, none after) and compile and vet runtime for every port in go tool dist list.
Lint each commit message against Go's conventions (go.dev/wiki/CommitMessage).

What passed is kept in .unilock/check-series/passed.json, keyed by the patch's tree, the
port and the toolchain's go command and tools: an interrupted run, or a rerun after a patch
changed, checks only the patches and ports not shown yet (vetting runtime for a port
compiles every package its tests import: about 15 minutes a patch for 47 ports on 2 cores).
-fresh checks everything again.`)
	patterns := fs.String("ports", "all", "ports to compile for each patch (patterns as in unilock ports)")
	lintOnly := fs.Bool("lint", false, "only lint the commit messages")
	jobs := fs.Int("j", 2, "ports compiled at once")
	fresh := fs.Bool("fresh", false, "check every patch and port again, ignoring what passed before")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *jobs < 1 {
		return fmt.Errorf("-j %d: give the number of ports compiled at once, at least 1 (e.g. -j 2)", *jobs)
	}
	if strings.Trim(*patterns, ", ") == "" {
		return fmt.Errorf("-ports %q: give ports or patterns, e.g. -ports linux/arm64,windows/* (or all)", *patterns)
	}
	clock := phase.New(stdout)
	t, _, cs, err := currentSeries(env)
	if err != nil {
		return err
	}
	problems := 0
	lint := make([][]change.Problem, len(cs))
	for i, c := range cs {
		lint[i] = change.Lint(c.Message)
		for _, p := range lint[i] {
			fmt.Fprintf(stdout, "%s: %s\n", c.File, p)
		}
		problems += len(lint[i])
		if change.ID(c.Message) == "" {
			fmt.Fprintf(stdout, "%s: note: no Change-Id stored; unilock export derives one (store it with: unilock export -store)\n", c.File)
		}
	}
	clock.Phase("lint: %d commit messages, %d problems", len(cs), problems)
	if *lintOnly {
		if problems > 0 {
			return fmt.Errorf("%d problems in the commit messages: edit them in goroot/ (git -C goroot rebase -i), then: unilock extract", problems)
		}
		return nil
	}
	if err := checkBuilt(env); err != nil {
		return err
	}

	out, err := runOutput("", build.CacheEnv(env.State, env.Goroot), filepath.Join(env.Goroot, "bin", "go"), "tool", "dist", "list", "-json")
	if err != nil {
		return err
	}
	all, err := ports.Parse([]byte(out))
	if err != nil {
		return err
	}
	sel, err := ports.Select(all, *patterns)
	if err != nil {
		return err
	}
	storePath := filepath.Join(env.State, "check-series", "passed.json")
	store, err := seriescheck.Open(storePath)
	if err != nil {
		return err
	}
	tools, err := seriescheck.ToolsID(env.Goroot, runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return err
	}
	type result struct {
		ok, before, failed int
		fails              []string
		todo               []ports.Port
		tree               string
	}
	results := make([]result, len(cs))
	key := func(i int, p ports.Port) seriescheck.Key {
		return seriescheck.Key{Tree: results[i].tree, Port: p.String(), Tools: tools, Check: ports.WhatLight}
	}
	remaining := 0
	for i, c := range cs {
		tree, err := t.Repo().Line("rev-parse", c.Hash+"^{tree}")
		if err != nil {
			return err
		}
		results[i].tree = tree
		for _, p := range sel {
			if !*fresh && store.Passed(key(i, p)) {
				results[i].before++
				continue
			}
			results[i].todo = append(results[i].todo, p)
		}
		remaining += len(results[i].todo)
	}
	if before := len(cs)*len(sel) - remaining; before > 0 {
		clock.Phase("%d of %d checks passed before (%s; -fresh checks them again): %d to do", before, len(cs)*len(sel), rel(env, storePath), remaining)
	}
	wt, cleanup, err := seriesWorktree(t)
	if err != nil {
		return err
	}
	defer cleanup()
	logDir := filepath.Join(env.State, "log", "check-series-"+time.Now().UTC().Format("20060102-150405"))
	var spent time.Duration
	checked := 0
	for i, c := range cs {
		res := &results[i]
		res.ok = res.before
		if len(res.todo) == 0 {
			clock.Phase("patch %d/%d %s: all %d ports passed before", i+1, len(cs), c.Subject, len(sel))
			continue
		}
		if _, err := (git.Repo{Dir: wt}).Run("checkout", "-q", "--detach", c.Hash); err != nil {
			return err
		}
		dir := filepath.Join(logDir, fmt.Sprintf("%04d", i+1))
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		left := ""
		if checked > 0 {
			left = fmt.Sprintf(" (about %s left)", phase.Format(spent/time.Duration(checked)*time.Duration(remaining)))
		}
		clock.Phase("patch %d/%d %s: compile and vet runtime for %d ports%s", i+1, len(cs), c.Subject, len(res.todo), left)
		ck := &ports.Checker{Goroot: wt, SetGOROOT: true, Light: true, Wrappers: filepath.Join(env.State, "exec", "none"), Env: build.CacheEnv(env.State, env.Goroot)}
		start := time.Now()
		rows, err := ck.CompileAll(res.todo, *jobs, dir, func(_ int, p ports.Port, r ports.Row) {
			err := store.Forget(key(i, p))
			if r.Compile.OK {
				err = store.Record(seriescheck.Entry{Key: key(i, p), Patch: c.Subject, When: time.Now().UTC(), Seconds: r.Compile.Seconds})
			}
			if err != nil {
				fmt.Fprintf(stdout, "  warning: %v (what passed is not remembered: %s is checked again next time)\n", err, p)
			}
		})
		if err != nil {
			return err
		}
		spent += time.Since(start)
		checked += len(res.todo)
		remaining -= len(res.todo)
		for _, r := range rows {
			if r.Compile.OK {
				res.ok++
				continue
			}
			res.failed++
			res.fails = append(res.fails, r.Port)
			fmt.Fprintf(stdout, "  FAIL %s: %s\n", r.Port, indentLines(r.Compile.Error, "    "))
		}
		clock.Phase("patch %d/%d: %d of %d ports compile", i+1, len(cs), res.ok, len(sel))
	}

	fmt.Fprintf(stdout, "\n%-4s  %-62s  %-8s  %s\n", "", "patch", "lint", "runtime + vet")
	failed := problems
	for i, c := range cs {
		l := "ok"
		if n := len(lint[i]); n > 0 {
			l = plural(n, "problem")
		}
		comp := fmt.Sprintf("%d/%d ports", results[i].ok, len(sel))
		if b := results[i].before; b > 0 {
			comp += fmt.Sprintf(" (%d passed before)", b)
		}
		if results[i].failed > 0 {
			comp += " FAIL: " + strings.Join(results[i].fails, " ")
			failed++
		}
		fmt.Fprintf(stdout, "%04d  %-62s  %-8s  %s\n", i+1, trunc(c.Subject, 62), l, comp)
	}
	fmt.Fprintf(stdout, "\nlogs: %s (host %s/%s)\n", rel(env, logDir), runtime.GOOS, runtime.GOARCH)
	if failed > 0 {
		return fmt.Errorf("the series does not stand patch by patch (see above)")
	}
	return nil
}

// seriesWorktree makes a scratch worktree of goroot/ that borrows goroot/'s
// built bin/ and pkg/ and the files cmd/dist generated, so that go commands
// run in it with GOROOT set to it compile its sources with goroot/'s tools.
func seriesWorktree(t goroot.Tree) (string, func(), error) {
	tmp, err := os.MkdirTemp("", "unilock-series-")
	if err != nil {
		return "", nil, err
	}
	wt := filepath.Join(tmp, "goroot")
	r := t.Repo()
	cleanup := func() {
		r.Run("worktree", "remove", "--force", wt)
		os.RemoveAll(tmp)
		r.Run("worktree", "prune")
	}
	if _, err := r.Run("worktree", "add", "-q", "--detach", wt, "HEAD"); err != nil {
		cleanup()
		return "", nil, err
	}
	for _, d := range []string{"bin", "pkg"} {
		if err := os.Symlink(filepath.Join(t.Dir, d), filepath.Join(wt, d)); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	exclude, err := os.ReadFile(filepath.Join(t.Dir, ".git", "info", "exclude"))
	if err != nil {
		cleanup()
		return "", nil, err
	}
	for _, l := range strings.Split(string(exclude), "\n") {
		if strings.HasPrefix(l, "/src/") && strings.HasSuffix(l, ".go") {
			data, err := os.ReadFile(filepath.Join(t.Dir, l))
			if err != nil {
				cleanup()
				return "", nil, fmt.Errorf("goroot/ lacks the generated %s: build it with ./make.bash", l)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(wt, l)), 0o777); err != nil {
				cleanup()
				return "", nil, err
			}
			if err := os.WriteFile(filepath.Join(wt, l), data, 0o666); err != nil {
				cleanup()
				return "", nil, err
			}
		}
	}
	return wt, cleanup, nil
}

func indentLines(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+prefix)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
