package perfcount

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// childEnv makes the test binary a child program whose costs are known:
//
//	spin:D:G    G goroutines spin until the process has used D of CPU time
//	futex:N     N futex(FUTEX_WAKE) system calls that wake nobody
//	sleep:N     N sleeps of 1ms (each one parks the thread: a context switch)
//	idle        nothing
const childEnv = "PERFCOUNT_TEST_CHILD"

// futexWakePrivate is FUTEX_WAKE (1) | FUTEX_PRIVATE_FLAG (128).
const futexWakePrivate = 1 | 128

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := child(mode); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(mode string) error {
	f := strings.Split(mode, ":")
	switch f[0] {
	case "idle":
	case "spin":
		d, err := time.ParseDuration(f[1])
		if err != nil {
			return err
		}
		g, err := strconv.Atoi(f[2])
		if err != nil {
			return err
		}
		start := processCPU()
		var wg sync.WaitGroup
		for range g {
			wg.Go(func() {
				for processCPU()-start < d {
				}
			})
		}
		wg.Wait()
	case "futex":
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return err
		}
		var word uint32
		for range n {
			syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), futexWakePrivate, 1, 0, 0, 0)
		}
	case "sleep":
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return err
		}
		for range n {
			time.Sleep(time.Millisecond)
		}
	default:
		return fmt.Errorf("unknown child mode %q", mode)
	}
	return nil
}

// processCPU is the CPU time of the whole process (clock_gettime is in the
// vDSO: no system call).
func processCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

func runChild(t *testing.T, s *Setup, mode string, env ...string) Counts {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	c, err := s.Run(cmd)
	if err != nil {
		t.Fatalf("child %s: %v\n%s", mode, err, out.String())
	}
	return c
}

// TestCountChild counts child programs whose costs are known, against an
// idle child (start-up cancels out), with perf events and with the rusage
// fallback.
func TestCountChild(t *testing.T) {
	perf := Probe()
	t.Logf("probe:\n%s", perf.Describe())
	type want struct {
		c      Counter
		lo, hi float64
	}
	ms := float64(time.Millisecond)
	tests := []struct {
		name string
		mode string
		env  []string
		want []want
	}{
		{"spin 200ms in one goroutine", "spin:200ms:1", nil, []want{{CPU, 180 * ms, 260 * ms}}},
		// Every thread counts: two goroutines on two Ps share the 200ms.
		{"spin 200ms in two goroutines", "spin:200ms:2", []string{"GOMAXPROCS=2"}, []want{{CPU, 180 * ms, 260 * ms}}},
		{"10000 futex wakes", "futex:10000", nil, []want{{Futex, 9900, 10100}, {Syscalls, 9900, 10400}, {CPU, 0, 100 * ms}}},
		// System time counts, also when task-clock excludes the kernel
		// (unprivileged): 200000 system calls take more than 20ms.
		{"200000 futex wakes", "futex:200000", nil, []want{{CPU, 20 * ms, 2000 * ms}}},
		{"100 sleeps", "sleep:100", nil, []want{{CtxSw, 95, 1000}, {Futex, 0, 1000}}},
	}
	for _, setup := range []struct {
		name string
		s    *Setup
	}{{"perf", perf}, {"fallback", &Setup{}}} {
		for _, tt := range tests {
			t.Run(setup.name+"/"+tt.name, func(t *testing.T) {
				idle := runChild(t, setup.s, "idle", tt.env...)
				got := runChild(t, setup.s, tt.mode, tt.env...)
				// The cost of the workload is the difference (one "op"); the
				// runtime's start-up varies by a few calls.
				v, src := PerOp(idle, got, 0, 1)
				for _, w := range tt.want {
					if src[w.c] == None {
						t.Logf("%s: no fallback without perf events", w.c)
						continue
					}
					if setup.name == "perf" && src[w.c] != Perf {
						t.Logf("%s counted by %s, not perf events: %v", w.c, src[w.c], perf.Why[w.c])
					}
					if v[w.c] < w.lo || v[w.c] > w.hi {
						t.Errorf("%s (%s): %s, want %s to %s (idle %s, run %s)", w.c, src[w.c], fmtv(w.c, v[w.c]), fmtv(w.c, w.lo), fmtv(w.c, w.hi), fmtv(w.c, idle.V[w.c]), fmtv(w.c, got.V[w.c]))
					} else {
						t.Logf("%s (%s): %s", w.c, src[w.c], fmtv(w.c, v[w.c]))
					}
				}
			})
		}
	}
}

func fmtv(c Counter, v float64) string {
	if c == CPU {
		return time.Duration(v).String()
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// TestCountsOnlyTheChild checks that the tool's own work is not counted:
// the test spins on every CPU while a child sleeps. (CPU time is rusage,
// which is the child's alone; the check stays for the day it is not.)
func TestCountsOnlyTheChild(t *testing.T) {
	s := Probe()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
			}
		})
	}
	c := runChild(t, s, "sleep:200")
	close(stop)
	wg.Wait()
	if d := time.Duration(c.V[CPU]); d > 150*time.Millisecond {
		t.Errorf("a sleeping child counted %v of CPU time: the spinning parent leaked into its count", d)
	} else {
		t.Logf("sleeping child, busy parent: %v of CPU, %v context switches", d, c.V[CtxSw])
	}
}

// TestProbeExplains checks that every counter is either counted by perf
// events or says why not.
func TestProbeExplains(t *testing.T) {
	s := Probe()
	if s.Source(CPU) != Rusage || s.Why[CPU] != errTaskClock {
		t.Errorf("CPU time counted by %s (%v), want rusage: task-clock undercounts", s.Source(CPU), s.Why[CPU])
	}
	for _, c := range Counters {
		if (s.Source(c) == Perf) == (s.Why[c] != nil) {
			t.Errorf("%s: source %s, why %v", c, s.Source(c), s.Why[c])
		}
	}
	t.Setenv(noPerfEnv, "1")
	s = Probe()
	for _, c := range Counters {
		if s.Source(c) == Perf || s.Why[c] == nil || !strings.Contains(s.Why[c].Error(), noPerfEnv) {
			t.Errorf("with %s set: %s source %s, why %v", noPerfEnv, c, s.Source(c), s.Why[c])
		}
	}
	if d := s.Describe(); !strings.Contains(d, "cpu-ns/op") || !strings.Contains(d, "rusage") {
		t.Errorf("Describe without perf events:\n%s", d)
	}
}
