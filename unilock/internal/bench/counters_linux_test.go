package bench

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"unilock/internal/perfcount"
)

// BenchmarkCountedFutex makes exactly 3 futex wakes (that wake nobody) per
// op; TestCountRow counts it through this test binary.
func BenchmarkCountedFutex(b *testing.B) {
	var word uint32
	for range b.N {
		for range 3 {
			syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), 1|128 /* FUTEX_WAKE_PRIVATE */, 1, 0, 0, 0)
		}
	}
}

// BenchmarkCountedSpin uses 100µs of CPU per op: the process's, all
// threads together, which is what the counters count (the spinning
// goroutine may move between threads, and idle Ms may spin looking for
// work).
func BenchmarkCountedSpin(b *testing.B) {
	for range b.N {
		start := processCPU()
		for processCPU()-start < 100*time.Microsecond {
		}
	}
}

// BenchmarkCountedParentSkips skips with GOMAXPROCS=1 before its
// sub-benchmark, as runtime's BenchmarkWakeupParallelSpinning does: with
// -test.cpu=1 alone its row does not run.
func BenchmarkCountedParentSkips(b *testing.B) {
	if runtime.GOMAXPROCS(0) == 1 {
		b.Skip("GOMAXPROCS=1")
	}
	b.Run("sub", func(b *testing.B) {
		for range b.N {
		}
	})
}

// TestCountRowNotRun: a row that does not run on its own is ErrRowNotRun,
// which unilock bench leaves uncounted instead of ending the run.
func TestCountRowNotRun(t *testing.T) {
	_, err := NewCounting().Row(os.Args[0], "CountedParentSkips/sub", 10)
	if !errors.Is(err, ErrRowNotRun) {
		t.Fatalf("Row of a row whose parent skips: %v, want ErrRowNotRun", err)
	}
}

// processCPU is the process's CPU time. Its clock is not in the vDSO: a raw
// system call keeps the scheduler out of the loop.
func processCPU() time.Duration {
	var ts unix.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, unix.CLOCK_PROCESS_CPUTIME_ID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// TestCountRow counts this test binary's own benchmarks the way unilock
// bench -counters counts a row: with perf events, and with the fallbacks.
func TestCountRow(t *testing.T) {
	perf := NewCounting()
	t.Logf("%s", perf.Describe())
	fallback := &Counting{Perf: &perfcount.Setup{}}
	if p, err := exec.LookPath("strace"); err == nil {
		fallback.Strace = p
	}
	for _, tt := range []struct {
		name   string
		c      *Counting
		row    string
		iters  int
		unit   string
		lo, hi float64
	}{
		{"perf", perf, "CountedFutex", 20000, "futex/op", 2.99, 3.05},
		{"perf", perf, "CountedFutex", 20000, "syscalls/op", 2.99, 3.1},
		{"perf", perf, "CountedSpin-2", 3000, "cpu-sec/op", 95e-6, 130e-6},
		{"fallback", fallback, "CountedFutex", 20000, "futex/op", 2.9, 3.5},
		{"fallback", fallback, "CountedSpin", 3000, "cpu-sec/op", 95e-6, 130e-6},
	} {
		t.Run(tt.name+"/"+tt.row+"/"+tt.unit, func(t *testing.T) {
			if testing.Short() && tt.name == "fallback" && tt.row == "CountedSpin" {
				t.Skip("-short: 12 runs of 0.3s; the futex row checks the fallback")
			}
			line, err := tt.c.Row(os.Args[0], tt.row, tt.iters)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s", line)
			s, err := Samples(strings.NewReader(line+"\n"), "x", tt.unit)
			if err != nil {
				t.Fatal(err)
			}
			base, cpu := SplitName(tt.row)
			got, ok := s[Key{Bench: base, CPU: cpu}]
			if !ok {
				t.Skipf("%s not counted on this machine:\n%s", tt.unit, tt.c.Describe())
			}
			if got[0] < tt.lo || got[0] > tt.hi {
				t.Errorf("%s = %g, want %g to %g", tt.unit, got[0], tt.lo, tt.hi)
			}
		})
	}
}
