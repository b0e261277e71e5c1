package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Calls are system call counts per benchmark operation.
type Calls struct {
	Futex float64 // futex(2) calls per op
	All   float64 // all system calls per op
}

// CountCalls counts the system calls one benchmark of a test binary makes
// per operation, with strace -f -c: exact counts, not times. It runs the
// benchmark at GOMAXPROCS cpu for n and for 1 iterations and divides the
// difference by n-1, so that process start-up and the benchmark harness
// cancel out.
func CountCalls(bin, bench string, cpu, n int) (Calls, error) {
	run := func(iters int) (futex, all int, err error) {
		out, err := os.CreateTemp("", "unilock-strace-")
		if err != nil {
			return 0, 0, err
		}
		out.Close()
		defer os.Remove(out.Name())
		cmd := exec.Command("strace", "-f", "-c", "-o", out.Name(), bin,
			"-test.run=^$", "-test.bench=^Benchmark"+bench+"$", "-test.count=1",
			fmt.Sprintf("-test.benchtime=%dx", iters), fmt.Sprintf("-test.cpu=%d", cpu))
		if msg, err := cmd.CombinedOutput(); err != nil {
			return 0, 0, fmt.Errorf("strace %s -test.bench=%s: %v\n%s", bin, bench, err, msg)
		}
		f, err := os.Open(out.Name())
		if err != nil {
			return 0, 0, err
		}
		defer f.Close()
		return parseStraceSummary(bufio.NewScanner(f))
	}
	f1, a1, err := run(1)
	if err != nil {
		return Calls{}, err
	}
	fn, an, err := run(n)
	if err != nil {
		return Calls{}, err
	}
	return Calls{Futex: float64(fn-f1) / float64(n-1), All: float64(an-a1) / float64(n-1)}, nil
}

// parseStraceSummary reads strace -c's table: the futex row's and the total
// row's call counts.
func parseStraceSummary(sc *bufio.Scanner) (futex, all int, err error) {
	seen := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || strings.HasPrefix(f[0], "%") || strings.HasPrefix(f[0], "-") {
			continue
		}
		name := f[len(f)-1]
		// Rows, the total row too: % time, seconds, usecs/call, calls,
		// [errors,] syscall.
		if name == "total" {
			if all, err = strconv.Atoi(f[3]); err != nil {
				return 0, 0, fmt.Errorf("strace total row %q: %v", sc.Text(), err)
			}
			seen = true
			continue
		}
		if name == "futex" {
			if futex, err = strconv.Atoi(f[3]); err != nil {
				return 0, 0, fmt.Errorf("strace futex row %q: %v", sc.Text(), err)
			}
		}
	}
	if !seen {
		return 0, 0, fmt.Errorf("no total row in strace -c's summary")
	}
	return futex, all, sc.Err()
}
