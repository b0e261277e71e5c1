package perfcount

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// How the child is counted, and why this way.
//
// A perf event opened on a thread with attr.inherit set is copied into every
// thread and process that thread creates from then on, and the counts of a
// copy are added to the original when the copy's task exits; reading the
// original gives the total. So Run locks its goroutine to its OS thread,
// opens the counters on that thread (pid 0) disabled, with inherit and
// enable_on_exec, and starts the child from that same thread (os/exec forks
// on the calling thread). The tool's own thread never executes a new
// program, so its copies stay disabled and count nothing of the tool; the
// child's copies switch on at its execve, so they count the benchmark binary
// from its first instruction, and every thread and process it creates
// inherits them already on. After Wait, every task of the child has exited
// and been folded in, and one read(2) per counter gives the totals.
//
// The alternatives need more machinery for the same result: starting the
// child stopped (a wrapper that stops itself before exec, or ptrace's stop at
// exec) and opening counters on its pid means extra processes, signals or
// ptrace permissions, and races with wait. Counting with strace slows every
// system call of the program it watches.
//
// Threads the Go runtime creates while the goroutine is locked come from the
// runtime's template thread, not from the locked one; and even a copy that
// did land in a tool thread stays disabled, since enable_on_exec only fires
// on an exec.

// errTaskClock is why CPU time is not a perf event. The child's rusage
// (ru_utime+ru_stime from wait4) is the scheduler's own account of every
// thread, the clock CLOCK_PROCESS_CPUTIME_ID reads, to the microsecond. The
// task-clock event, inherited the same way as the other counters, counted
// less on this project's 2-CPU VM (linux 6.18) whenever something else kept
// the CPUs busy: for a child that spun until its own process clock had
// advanced 200ms, 183 to 196ms against rusage's 199 to 201ms beside a
// make.bash, and 167ms once beside the tool's other tests (go test -count=6
// -run 'TestCountChild/.*/spin' ./internal/perfcount with the bounds
// narrowed to print the counts). A benchmark that trades CPU time for fewer
// context switches would be misjudged by a clock that loses time when its
// threads are preempted.
var errTaskClock = errors.New("not used: task-clock counted 2 to 17% less than the child's own CPU clock on a loaded machine; rusage (ru_utime+ru_stime) is the scheduler's account, to the microsecond")

// UNILOCK_NOPERF, when set, makes Probe report every perf event missing, to
// check the fallbacks.
const noPerfEnv = "UNILOCK_NOPERF"

// Probe finds which counters perf events can count for this process, and
// why the others cannot. As root it mounts tracefs at /sys/kernel/tracing
// when it is not mounted, for the tracepoint ids.
func Probe() *Setup {
	s := &Setup{}
	if os.Getenv(noPerfEnv) != "" {
		for _, c := range Counters {
			s.Why[c] = fmt.Errorf("%s is set in the environment (unset it to use perf events)", noPerfEnv)
		}
		return s
	}
	tf := &tracefs{}
	for _, c := range Counters {
		ev := &event{typ: unix.PERF_TYPE_SOFTWARE}
		switch c {
		case CPU:
			s.Why[c] = errTaskClock
			continue
		case CtxSw:
			ev.config = unix.PERF_COUNT_SW_CONTEXT_SWITCHES
		case Futex, Syscalls:
			id, err := tf.id(c.Event())
			if err != nil {
				s.Why[c] = err
				continue
			}
			ev.typ, ev.config = unix.PERF_TYPE_TRACEPOINT, id
		}
		fd, err := ev.open(false)
		if err != nil {
			s.Why[c] = explain(c, err)
			continue
		}
		unix.Close(fd)
		s.perf[c] = ev
	}
	s.Notes = tf.notes
	return s
}

// open opens the event on the calling thread, disabled; with forChild,
// inherited by the threads and processes it creates and enabled when they
// execute a program.
func (e *event) open(forChild bool) (int, error) {
	attr := unix.PerfEventAttr{
		Type:   e.typ,
		Size:   unix.PERF_ATTR_SIZE_VER0, // the fields set here, and every kernel knows this size
		Config: e.config,
		Bits:   unix.PerfBitDisabled,
	}
	if forChild {
		attr.Bits |= unix.PerfBitInherit | unix.PerfBitEnableOnExec
	}
	return unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
}

// explain says why perf_event_open failed for c, and what would fix it.
func explain(c Counter, err error) error {
	switch {
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		paranoid := "unreadable"
		if b, rerr := os.ReadFile("/proc/sys/kernel/perf_event_paranoid"); rerr == nil {
			paranoid = strings.TrimSpace(string(b))
		}
		return fmt.Errorf("perf_event_open %s: %v: kernel.perf_event_paranoid is %s, and counting a process's kernel-side events needs 1 or less (sudo sysctl kernel.perf_event_paranoid=1), CAP_PERFMON or root; in a container, its seccomp profile may block perf_event_open", c.Event(), err, paranoid)
	case errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("perf_event_open %s: %v: the kernel has no perf events (CONFIG_PERF_EVENTS off, or a sandbox such as gVisor)", c.Event(), err)
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENODEV), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EINVAL):
		return fmt.Errorf("perf_event_open %s: %v: this kernel does not have the event", c.Event(), err)
	}
	return fmt.Errorf("perf_event_open %s: %v", c.Event(), err)
}

// tracefsDir is where tracefs is mounted on current systems; debugfs holds a
// second mount point at tracing/ on older ones.
const tracefsDir = "/sys/kernel/tracing"

var tracefsDirs = []string{tracefsDir, "/sys/kernel/debug/tracing"}

// tracefs finds tracepoint ids, mounting tracefs once if it must and can.
type tracefs struct {
	tried bool
	notes []string
}

// id returns the id of a tracepoint named as perf names it (system:event).
func (t *tracefs) id(name string) (uint64, error) {
	sys, ev, _ := strings.Cut(name, ":")
	rel := filepath.Join("events", sys, ev, "id")
	var firstErr error
	for _, d := range tracefsDirs {
		b, err := os.ReadFile(filepath.Join(d, rel))
		if err == nil {
			return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if errors.Is(firstErr, os.ErrPermission) {
		return 0, fmt.Errorf("tracepoint %s: %v: tracefs is readable by root only (run as root)", name, firstErr)
	}
	if _, err := os.Stat(filepath.Join(tracefsDir, "events")); err == nil {
		return 0, fmt.Errorf("tracepoint %s: no %s in tracefs: the kernel does not have it (CONFIG_FTRACE_SYSCALLS off)", name, filepath.Join(tracefsDir, rel))
	}
	// tracefs is not mounted.
	if os.Geteuid() != 0 {
		return 0, fmt.Errorf("tracepoint %s: tracefs is not mounted at %s (as root: mount -t tracefs nodev %s)", name, tracefsDir, tracefsDir)
	}
	if !t.tried {
		t.tried = true
		if err := unix.Mount("nodev", tracefsDir, "tracefs", 0, ""); err != nil {
			t.notes = append(t.notes, fmt.Sprintf("tracefs is not mounted at %s, and mounting it failed: %v", tracefsDir, err))
		} else {
			t.notes = append(t.notes, fmt.Sprintf("mounted tracefs at %s (mount -t tracefs nodev %s) for the tracepoint ids", tracefsDir, tracefsDir))
		}
	}
	if b, err := os.ReadFile(filepath.Join(tracefsDir, rel)); err == nil {
		return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	} else if _, serr := os.Stat(filepath.Join(tracefsDir, "events")); serr == nil {
		return 0, fmt.Errorf("tracepoint %s: %v: the kernel does not have it (CONFIG_FTRACE_SYSCALLS off)", name, err)
	}
	return 0, fmt.Errorf("tracepoint %s: tracefs is not mounted at %s and mounting it failed (mount -t tracefs nodev %s)", name, tracefsDir, tracefsDir)
}

// runPerf runs cmd counted by the perf events s has (see the comment at the
// head of this file) and returns their totals.
func (s *Setup) runPerf(cmd *exec.Cmd) (map[Counter]float64, error) {
	var cs []Counter
	for _, c := range Counters {
		if s.perf[c] != nil {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return nil, cmd.Run()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fds := make([]int, 0, len(cs))
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, c := range cs {
		fd, err := s.perf[c].open(true)
		if err != nil {
			return nil, fmt.Errorf("counting %s: %v (it opened when probed)", cmd.Path, explain(c, err))
		}
		fds = append(fds, fd)
	}
	if err := cmd.Run(); err != nil {
		return nil, err
	}
	out := map[Counter]float64{}
	for i, c := range cs {
		var buf [8]byte
		n, err := unix.Read(fds[i], buf[:])
		if err != nil || n != len(buf) {
			return nil, fmt.Errorf("reading perf event %s: %d bytes, %v", c.Event(), n, err)
		}
		out[c] = float64(binary.NativeEndian.Uint64(buf[:]))
	}
	return out, nil
}
