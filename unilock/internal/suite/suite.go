package suite

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"unilock/internal/phase"
	"unilock/internal/series"
	"unilock/internal/tiers"
)

// Options say what a run of the suite runs.
type Options struct {
	Root     string // the repository (for the series digest)
	Fork     string // the fork's GOROOT
	Upstream string // upstream's GOROOT, built the same way; "" runs the fork alone
	Versions [2]string
	Shard    Shard
	Run      string // dist's -run: a regular expression over dist test names
	Reruns   int    // reruns of each disagreement, on each side
	// RerunMax bounds the number of go test or dist test commands a rerun
	// round makes per side; what is over it keeps its first outcome.
	RerunMax int
	// Skip says why a dist test is left out ("" runs it): a partial base
	// has no test/, api/ or doc/.
	Skip   func(name string) string
	Out    io.Writer // progress, failures
	LogDir string    // where each side's full output goes
	Clock  *phase.Clock
	// Expect is how long each side took last time, for the estimate.
	Expect [2]time.Duration
	// Env returns what a side's commands add to their environment (its
	// own build cache), given its GOROOT.
	Env func(goroot string) []string
}

// Units lists the dist tests of the shard on the side's toolchain: those to
// run, and those skip leaves out, with why; all is the list, as run selects
// it, that the shard is cut from.
func Units(s *Side, shard Shard, run string, skip func(string) string, w io.Writer) (keep []string, left []LeftOut, all []string, err error) {
	names, err := s.List()
	if err != nil {
		return nil, nil, nil, err
	}
	names, err = Filter(names, run)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, n := range shard.Select(names) {
		if skip != nil {
			if why := skip(n); why != "" {
				fmt.Fprintf(w, "%s: skipped: %s\n", n, why)
				left = append(left, LeftOut{Name: n, Why: why})
				continue
			}
		}
		keep = append(keep, n)
	}
	return keep, left, names, nil
}

// Machine says what a run ran on.
func Machine() string {
	host, _ := os.Hostname()
	cpu := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = ", " + strings.TrimSpace(v)
				break
			}
		}
	}
	if host != "" {
		host = " (" + host + ")"
	}
	return fmt.Sprintf("%s/%s, %d cores%s%s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, host)
}

// RunSuite runs the shard on the fork, then on upstream, reruns every
// disagreement Reruns times on both sides, and classifies every test.
func RunSuite(o Options) (*Report, error) {
	start := time.Now()
	knobs := KnobEnv()
	ps, err := series.Load(filepath.Join(o.Root, "patches"))
	if err != nil {
		return nil, err
	}
	r := &Report{
		Date: time.Now().UTC(), Machine: Machine(), Series: series.Digest(ps),
		Shards: []string{o.Shard.String()}, Run: o.Run, Env: knobs, Reruns: o.Reruns,
		Compared: o.Upstream != "",
	}
	stamp := time.Now().UTC().Format("20060102-150405")
	sides := []*Side{{Label: "fork", Goroot: o.Fork}}
	infos := []*SideInfo{&r.Fork, &r.Upstream}
	if o.Upstream != "" {
		sides = append(sides, &Side{Label: "upstream", Goroot: o.Upstream})
	}
	results := make([]*Result, len(sides))
	for i, s := range sides {
		s.Knobs, s.Out, s.Clock = knobs, o.Out, o.Clock
		if o.Env != nil {
			s.Extra = o.Env(s.Goroot)
		}
		logPath := filepath.Join(o.LogDir, "suite-"+s.Label+"-"+stamp+".log")
		logf, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		defer logf.Close()
		s.Log = logf
		units, left, all, err := Units(s, o.Shard, o.Run, o.Skip, o.Out)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			r.Units, r.LeftOut, r.List = units, left, all
		}
		if len(units) == 0 {
			// A shard may hold none of a selection: its empty result still
			// counts in a merge, which checks that every shard is there.
			o.Clock.Phase("%s: no dist test of shard %s matches -run %q: nothing to run", s.Label, o.Shard, o.Run)
			infos[i].Goroot, infos[i].Version = s.Goroot, o.Versions[i]
			results[i] = &Result{Outcomes: map[string]tiers.Status{}, Details: map[string]string{}, Units: map[string]string{}}
			continue
		}
		o.Clock.Phase("%s: go tool dist test -k -json, %d dist tests of shard %s (%s; log %s)", s.Label, len(units), o.Shard, o.Versions[i], logPath)
		res := s.Run(units, o.Expect[i])
		results[i] = res
		info := infos[i]
		*info = SideInfo{Goroot: s.Goroot, Version: o.Versions[i], Units: len(units), Passed: res.Counts.Passed, Failed: res.Counts.Failed, Skipped: res.Counts.Skipped, Seconds: res.Elapsed.Seconds()}
		if res.Counts.Err != nil {
			info.Error = res.Counts.Err.Error()
			res.Outcomes["(dist test)"] = tiers.Fail
			res.Details["(dist test)"] = info.Error
		}
		o.Clock.Phase("%s: %d passed, %d failed, %d skipped in %s", s.Label, info.Passed, info.Failed, info.Skipped, phase.Format(res.Elapsed))
	}

	attempts := make([]map[string]Attempts, 2)
	for i := range attempts {
		attempts[i] = map[string]Attempts{}
		if i < len(results) {
			for k, st := range results[i].Outcomes {
				attempts[i][k] = Attempts{st}
			}
		}
	}
	details := map[string]string{}
	for i := len(results) - 1; i >= 0; i-- {
		for k, d := range results[i].Details {
			details[k] = d
		}
	}
	if len(sides) == 2 && o.Reruns > 0 {
		var again []string
		for k, f := range results[0].Outcomes {
			if u, ok := results[1].Outcomes[k]; ok && NeedsRerun(f, u) {
				again = append(again, k)
			}
		}
		sort.Strings(again)
		if len(again) > 0 {
			o.Clock.Phase("rerunning %d disagreements %d times on each side: %s", len(again), o.Reruns, strings.Join(limit(again, 8), ", "))
		}
		units := map[string]string{}
		for _, res := range results {
			for p, u := range res.Units {
				if units[p] == "" {
					units[p] = u
				}
			}
		}
		for n := 1; n <= o.Reruns && len(again) > 0; n++ {
			for i, s := range sides {
				got := s.Rerun(limitRerun(again, units, o.RerunMax), units)
				for _, k := range again {
					if st, ok := got[k]; ok {
						attempts[i][k] = append(attempts[i][k], st)
					}
				}
				o.Clock.Phase("rerun %d/%d on %s done", n, o.Reruns, s.Label)
			}
		}
	}
	packages := map[string]bool{}
	for _, res := range results {
		for p := range res.Units {
			packages[p] = true
		}
	}
	r.Build(attempts[0], attempts[1], details, packages)
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// limitRerun keeps the names whose rerun commands fit in max (0: all).
func limitRerun(names []string, units map[string]string, max int) []string {
	if max <= 0 {
		return names
	}
	cmds := map[string]bool{}
	var keep []string
	for _, k := range names {
		pkg, _ := splitKey(k, units)
		if !cmds[pkg] && len(cmds) >= max {
			continue
		}
		cmds[pkg] = true
		keep = append(keep, k)
	}
	return keep
}

func limit(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
