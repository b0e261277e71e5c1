//go:build unix

package mutate

import (
	"errors"
	"os/exec"
	"syscall"
)

// alive reports whether process pid exists (signal 0 probes it).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ownGroup starts cmd in a process group of its own and makes its
// cancellation kill the whole group: go test's test binary and whatever it
// started, not the go command alone.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
