package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"unilock/internal/mutate"
)

func runMutate(env *Env, args []string) error {
	fs := newFlags("mutate", "[-run REGEX] [-list] [-bound D] [-json FILE]",
		"The mutation check: apply each deliberate bug in unilock/mutations/*.txtar to goroot/\n"+
			"in turn, run the lock tests with goroot/bin/go, restore the file byte for byte, and\n"+
			"report which test caught it and how soon. A mutation caught only by a timeout is not\n"+
			"caught. Exits 1 unless every mutation is caught. Reports go to .unilock/mutate/runs/TIME/;\n"+
			"a run of every mutation (no -run) is also .unilock/mutate/report.md, which -run never\n"+
			"overwrites.")
	run := fs.String("run", "", "run only the mutations whose names match this regular expression")
	list := fs.Bool("list", false, "list the mutations and whether each still applies; run nothing")
	bound := fs.Duration("bound", 90*time.Second, "the longest one test run may take, build time not counted")
	jsonOut := fs.String("json", "", "also write the JSON report here (every run writes .unilock/mutate/runs/TIME/report.{md,json}; a run of every mutation also .unilock/mutate/report.{md,json})")
	baseline := fs.Bool("baseline", true, "first run the tests with no mutation, and stop if they fail")
	lists := fs.String("f", "", "mutation list files, comma-separated (default unilock/mutations/*.txtar)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: select mutations with -run REGEX", fs.Args())
	}
	var ms []*mutate.Mutation
	var err error
	if *lists != "" {
		ms, err = mutate.LoadFiles(strings.Split(*lists, ",")...)
	} else {
		ms, err = mutate.Load(filepath.Join(env.Root, "unilock", "mutations"))
	}
	if err != nil {
		return err
	}
	if ms, err = mutate.Select(ms, *run); err != nil {
		return err
	}
	if *list {
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "mutation\tfile\tapplies\tdescription\n")
		for _, m := range ms {
			st := "yes"
			if s := m.Stale(env.Goroot); s != "" {
				st = "NO: " + s
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, m.File, st, m.Desc)
		}
		return tw.Flush()
	}
	if _, err := os.Stat(filepath.Join(env.Goroot, "bin", "go")); err != nil {
		return fmt.Errorf("goroot/bin/go: %v: run ./make.bash first", err)
	}
	state := filepath.Join(env.State, "mutate")
	cfg := &mutate.Config{
		Goroot:   env.Goroot,
		State:    state,
		Bound:    *bound,
		Baseline: *baseline,
		Log:      stdout,
		Signals:  []os.Signal{os.Interrupt, syscall.SIGTERM},
	}
	rep, err := cfg.Run(context.Background(), ms)
	if rep != nil && len(rep.Results) > 0 {
		fmt.Fprintln(stdout)
		rep.Text(stdout)
		// A run of every mutation is the report (report.md); one of some
		// (-run) must not overwrite it, so it goes to a directory of its
		// own, as every run also does.
		dir := filepath.Join(state, "runs", time.Now().UTC().Format("20060102-150405"))
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		if *run == "" {
			if werr := writeMutateReport(state, rep); werr != nil {
				return werr
			}
		}
		if werr := writeMutateReport(dir, rep); werr != nil {
			return werr
		}
		mdPath, jsonPath := filepath.Join(dir, "report.md"), filepath.Join(dir, "report.json")
		if *run == "" {
			mdPath, jsonPath = filepath.Join(state, "report.md"), filepath.Join(state, "report.json")
		}
		if *jsonOut != "" {
			jsonPath = *jsonOut
			if werr := os.WriteFile(jsonPath, rep.JSON(), 0o644); werr != nil {
				return werr
			}
		}
		fmt.Fprintf(stdout, "reports: %s, %s (this run: %s); test logs in %s\n", rel(env, mdPath), rel(env, jsonPath), rel(env, dir), rel(env, filepath.Join(state, "logs")))
	}
	if err != nil {
		return err
	}
	if bad := rep.NotCaught(); len(bad) > 0 {
		return fmt.Errorf("%d of %d mutations not caught: %s", len(bad), len(rep.Results), strings.Join(bad, ", "))
	}
	return nil
}

// writeMutateReport writes rep as report.md and report.json into dir.
func writeMutateReport(dir string, rep *mutate.Report) error {
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(rep.Markdown()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.json"), rep.JSON(), 0o644)
}
