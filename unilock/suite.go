package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"unilock/internal/build"
	"unilock/internal/goroot"
	"unilock/internal/phase"
	"unilock/internal/suite"
)

const suiteDoc = `Run Go's whole test suite, go tool dist test -k -json, with the fork (goroot/) and with
upstream built the same way (.unilock/upstream/, built once), and classify every test:
passed on both, new failure (fails on the fork, passes upstream, on every rerun), shared
failure (fails on both: an environment limit of this machine), fixed by the fork, flaky.
Every disagreement is rerun -reruns times on both sides before it is called new. Exits
non-zero only on new failures. Writes result.json and table.md into -o (default
.unilock/suite/TIMESTAMP/); with -report, also the dated report docs/suite.md.

GO_TEST_SHORT, GO_TEST_TIMEOUT_SCALE and GO_BUILDER_NAME are passed to both sides as
upstream's builders use them (dist test runs -short unless GO_TEST_SHORT=0).

  unilock suite -shard 2/4          the second of four shards (crc32 of the dist test name mod 4)
  unilock suite -run '^(sync|os)$'  only the dist tests the regular expression matches
  unilock suite -list -shard 1/4    the shard's dist test names, without running them
  unilock suite merge -o DIR A.json B.json ...   one report from shard results
  unilock suite table RESULT.json   the Markdown table again, from a result`

// The suite command joins the command table here, after main.go's init
// (files initialise in name order), so that main.go need not change.
func init() {
	commands = append(commands, command{"suite", "[-shard i/n] [flags]", "the whole Go test suite, fork against upstream: new failures only (./run.bash -all)", runSuite})
}

func runSuite(env *Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "merge":
			return runSuiteMerge(env, args[1:])
		case "table":
			return runSuiteTable(env, args[1:])
		}
	}
	fs := newFlags("suite", "[flags] | merge [-o DIR] RESULT.json... | table RESULT.json", suiteDoc)
	shardFlag := fs.String("shard", "", "run shard `i/n` of the dist tests")
	run := fs.String("run", "", "run only the dist tests matching `regexp` (a leading ! inverts it)")
	reruns := fs.Int("reruns", 2, "reruns of each disagreement on each side before it is called new or fixed")
	rerunMax := fs.Int("rerun-max", 40, "at most this many go test / dist test commands per rerun round and side (0: no limit)")
	forkOnly := fs.Bool("fork-only", false, "run the fork alone: no upstream build, every failure counts as new")
	forkDir := fs.String("fork", "", "the fork's GOROOT, built outside the tool (default: goroot/, built by ./make.bash)")
	upstreamDir := fs.String("upstream", "", "upstream's GOROOT (default: .unilock/upstream/, built by the tool)")
	out := fs.String("o", "", "where to write result.json and table.md (default .unilock/suite/TIMESTAMP)")
	report := fs.Bool("report", false, "also write the dated report "+suite.ReportPath)
	list := fs.Bool("list", false, "print the shard's dist test names and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (dist test names go in -run: -run '^(%s)$')", fs.Args(), strings.Join(fs.Args(), "|"))
	}
	shard, err := suite.ParseShard(*shardFlag)
	if err != nil {
		return err
	}
	if *reruns < 0 || *rerunMax < 0 {
		return fmt.Errorf("-reruns and -rerun-max must be 0 or more")
	}
	if *run != "" {
		if _, err := suite.Filter(nil, *run); err != nil {
			return err
		}
	}
	clock := phase.New(stdout)
	fork := env.Goroot
	if *forkDir != "" {
		fork, _ = filepath.Abs(*forkDir)
	} else if err := checkBuilt(env); err != nil {
		return err
	}
	st, err := goroot.Tree{Dir: env.Goroot}.LoadState()
	if err != nil {
		return err
	}
	skip := func(string) string { return "" }
	if st.Partial {
		skip = partialSkip
	}
	if *list {
		s := &suite.Side{Label: "fork", Goroot: fork, Knobs: suite.KnobEnv(), Extra: build.CacheEnv(env.State, fork)}
		units, _, _, err := suite.Units(s, shard, *run, skip, stdout)
		if err != nil {
			return err
		}
		for _, u := range units {
			fmt.Fprintln(stdout, u)
		}
		return nil
	}
	o := suite.Options{
		Root: env.Root, Fork: fork, Shard: shard, Run: *run, Reruns: *reruns, RerunMax: *rerunMax,
		Skip: skip, Out: stdout, LogDir: filepath.Join(env.State, "log"), Clock: clock,
		Env: func(gr string) []string { return build.CacheEnv(env.State, gr) },
	}
	if o.Versions[0], err = goVersion(fork); err != nil {
		return fmt.Errorf("%s/bin/go does not run (%v): run ./make.bash", fork, err)
	}
	if !*forkOnly {
		up, _ := filepath.Abs(*upstreamDir)
		if *upstreamDir == "" {
			if up, err = upstreamToolchain(env, clock); err != nil {
				return err
			}
		}
		if o.Versions[1], err = goVersion(up); err != nil {
			return fmt.Errorf("%s/bin/go does not run (%v): remove it and run again to rebuild it", up, err)
		}
		o.Upstream = up
	}
	if err := os.MkdirAll(o.LogDir, 0o777); err != nil {
		return err
	}
	// The last result of the same shard and selection gives the estimate.
	lastPath := filepath.Join(env.State, "suite", "last-"+strings.ReplaceAll(shard.String(), "/", "of")+".json")
	if last, err := suite.Read(lastPath); err == nil && last.Run == *run {
		o.Expect = [2]time.Duration{time.Duration(last.Fork.Seconds * float64(time.Second)), time.Duration(last.Upstream.Seconds * float64(time.Second))}
	}
	if *out == "" {
		*out = filepath.Join(env.State, "suite", time.Now().UTC().Format("20060102-150405")+"-"+strings.ReplaceAll(shard.String(), "/", "of"))
	}
	r, err := suite.RunSuite(o)
	if err != nil {
		return err
	}
	if err := writeSuite(env, r, *out, *report); err != nil {
		return err
	}
	r.Write(lastPath)
	return suiteVerdict(r)
}

// writeSuite writes result.json and table.md into dir, and the report in
// docs/ if asked.
func writeSuite(env *Env, r *suite.Report, dir string, report bool) error {
	jsonPath := filepath.Join(dir, "result.json")
	if err := r.Write(jsonPath); err != nil {
		return err
	}
	md := r.Markdown()
	mdPath := filepath.Join(dir, "table.md")
	if err := os.WriteFile(mdPath, []byte(md), 0o666); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s\nresult: %s\ntable:  %s\n", md, rel(env, jsonPath), rel(env, mdPath))
	if report {
		p := filepath.Join(env.Root, suite.ReportPath)
		if err := os.WriteFile(p, []byte(md), 0o666); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "report: %s\n", suite.ReportPath)
	}
	return nil
}

func suiteVerdict(r *suite.Report) error {
	news := r.NewFailures()
	if len(news) == 0 {
		return nil
	}
	var names []string
	for _, row := range news {
		names = append(names, row.Name)
	}
	if len(names) > 20 {
		names = append(names[:20], fmt.Sprintf("and %d more", len(news)-20))
	}
	return fmt.Errorf("%s on the fork that upstream passes: %s (logs in .unilock/log/suite-*.log)", plural(len(news), "new failure"), strings.Join(names, ", "))
}

func runSuiteMerge(env *Env, args []string) error {
	fs := newFlags("suite merge", "[-o DIR] [-report] RESULT.json...", "Merge the results of shards i/n into one result.json and table.md; say which shards are missing.")
	out := fs.String("o", filepath.Join(env.State, "suite", "merged"), "where to write the merged result.json and table.md")
	report := fs.Bool("report", false, "also write the dated report "+suite.ReportPath)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("no shard results given: unilock suite merge .unilock/suite/*/result.json")
	}
	var rs []*suite.Report
	for _, p := range fs.Args() {
		r, err := suite.Read(p)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	m, missing, err := suite.Merge(rs)
	if err != nil {
		return err
	}
	if err := writeSuite(env, m, *out, *report); err != nil {
		return err
	}
	if missing != "" {
		return fmt.Errorf("shards %s are missing: the merged report does not cover the whole suite (run them: unilock suite -shard %s)", missing, strings.Split(missing, ",")[0])
	}
	return suiteVerdict(m)
}

func runSuiteTable(env *Env, args []string) error {
	fs := newFlags("suite table", "[-o FILE] RESULT.json", "Print the Markdown table of a suite result again (or write it to -o).")
	out := fs.String("o", "", "write the table here instead of printing it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one result.json, got %d arguments", fs.NArg())
	}
	r, err := suite.Read(fs.Arg(0))
	if err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, []byte(r.Markdown()), 0o666)
	}
	fmt.Fprint(stdout, r.Markdown())
	return nil
}
