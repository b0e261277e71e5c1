// Package perfcount counts what a child process costs: CPU time (user and
// system, every thread), context switches, futex system calls and all system
// calls, for the process and every thread and process it creates. CPU time
// is always the child's resource usage (rusage from wait4: see errTaskClock
// for why not the task-clock event). The rest, on Linux, are the kernel's
// perf events (perf_event_open(2) through golang.org/x/sys/unix): the
// software counter context-switches and the tracepoints
// syscalls:sys_enter_futex and raw_syscalls:sys_enter. Unlike strace, perf
// events do not slow the program they count. Where the kernel denies an
// event, Probe says which and why, and Run falls back to rusage for context
// switches; system call counts then have no fallback here (the caller may
// count them with strace in a separate run).
package perfcount

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Counter is one thing counted.
type Counter int

const (
	CPU         Counter = iota // CPU time in ns, user+sys, every thread
	CtxSw                      // context switches, voluntary and involuntary
	Futex                      // futex(2) system calls
	Syscalls                   // all system calls
	NumCounters                // how many counters there are
)

// Counters are all the counters, in the order they are printed.
var Counters = []Counter{CPU, CtxSw, Futex, Syscalls}

var counterInfo = [NumCounters]struct {
	unit  string // benchfmt unit of the per-op value
	event string // perf event name, as perf list prints it
	what  string
}{
	CPU:      {"cpu-ns/op", "task-clock", "CPU time"},
	CtxSw:    {"ctxsw/op", "context-switches", "context switches"},
	Futex:    {"futex/op", "syscalls:sys_enter_futex", "futex system calls"},
	Syscalls: {"syscalls/op", "raw_syscalls:sys_enter", "system calls"},
}

// Unit is the benchfmt unit of the counter's per-op value. benchstat tidies
// cpu-ns/op to cpu-sec/op and compares it as it does sec/op.
func (c Counter) Unit() string { return counterInfo[c].unit }

// Event is the name of the perf event that counts c.
func (c Counter) Event() string { return counterInfo[c].event }

func (c Counter) String() string { return counterInfo[c].what }

// Source is how a counter is counted.
type Source int

const (
	None   Source = iota // not counted
	Perf                 // a perf event
	Rusage               // the child's resource usage from wait4(2)
	Strace               // strace -f -c in a separate run (set by callers)
)

func (s Source) String() string {
	return [...]string{"not counted", "perf events", "rusage", "strace"}[s]
}

// Counts are the totals of one run.
type Counts struct {
	V      [NumCounters]float64 // CPU in ns
	Source [NumCounters]Source  // None: V is not a count
}

// event is one perf event this machine allows.
type event struct {
	typ    uint32
	config uint64
}

// Setup is what this process can count on this machine, found by Probe.
// The zero Setup counts with the fallbacks only.
type Setup struct {
	perf [NumCounters]*event // nil: not by perf events
	// Why holds, for each counter perf events cannot count, the reason.
	Why [NumCounters]error
	// Notes are things Probe did or found on the way (mounted tracefs).
	Notes []string
}

// Source says how s counts c, before any fallback a caller adds.
func (s *Setup) Source(c Counter) Source {
	switch {
	case s.perf[c] != nil:
		return Perf
	case c == CPU || (c == CtxSw && rusageCtxSw):
		return Rusage
	}
	return None
}

// Only returns a Setup that counts only the given counters with perf
// events (the others by their fallbacks). A tracepoint costs every system
// call it counts some CPU time (a third more in a loop of futex calls, on
// this machine's VM), so callers count CPU time without the tracepoints,
// and system calls in runs of their own.
func (s *Setup) Only(cs ...Counter) *Setup {
	o := &Setup{Why: s.Why, Notes: s.Notes}
	for _, c := range cs {
		o.perf[c] = s.perf[c]
	}
	return o
}

// Describe says in lines what is counted how, and for every counter perf
// events do not count, why not.
func (s *Setup) Describe() string {
	var b strings.Builder
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "%s\n", n)
	}
	for _, c := range Counters {
		src := s.Source(c)
		fmt.Fprintf(&b, "%-12s %s", c.Unit(), c)
		switch src {
		case Perf:
			fmt.Fprintf(&b, ": perf event %s", c.Event())
		case Rusage:
			fmt.Fprintf(&b, ": rusage of the child (%s)", map[Counter]string{CPU: "ru_utime+ru_stime", CtxSw: "ru_nvcsw+ru_nivcsw"}[c])
		default:
			fmt.Fprintf(&b, ": not counted by perf events")
		}
		if s.Why[c] != nil {
			fmt.Fprintf(&b, "; perf event %s: %v", c.Event(), s.Why[c])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Run runs cmd to completion and returns what it cost: perf events where
// Probe found them, else the fallbacks. A command that fails returns its
// error, and no counts.
func (s *Setup) Run(cmd *exec.Cmd) (Counts, error) {
	var c Counts
	perf, err := s.runPerf(cmd)
	if err != nil {
		return c, err
	}
	for _, k := range Counters {
		if v, ok := perf[k]; ok {
			c.V[k], c.Source[k] = v, Perf
		}
	}
	if c.Source[CPU] == None && cmd.ProcessState != nil {
		c.V[CPU] = float64(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime())
		c.Source[CPU] = Rusage
	}
	if c.Source[CtxSw] == None && cmd.ProcessState != nil {
		if n, ok := ctxSwitches(cmd.ProcessState); ok {
			c.V[CtxSw], c.Source[CtxSw] = float64(n), Rusage
		}
	}
	return c, nil
}

// PerOp returns the cost per operation from two runs of a benchmark, small
// at nSmall and big at nBig iterations: (big - small) / (nBig - nSmall), so
// that what both runs do alike (process start-up, the benchmark harness)
// cancels out. A counter is counted per op only when both runs counted it
// the same way.
func PerOp(small, big Counts, nSmall, nBig int) (v [NumCounters]float64, src [NumCounters]Source) {
	if nBig <= nSmall {
		return v, src
	}
	for _, c := range Counters {
		if small.Source[c] == None || small.Source[c] != big.Source[c] {
			continue
		}
		v[c] = (big.V[c] - small.V[c]) / float64(nBig-nSmall)
		src[c] = big.Source[c]
	}
	return v, src
}

// FormatValue formats a per-op value for a benchfmt line: enough digits for
// benchstat, no exponent for ordinary magnitudes.
func FormatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}
