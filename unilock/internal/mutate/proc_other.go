//go:build !unix

package mutate

import (
	"os"
	"os/exec"
)

// alive reports whether process pid exists.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

// ownGroup is a no-op where there are no process groups: cancellation
// kills the go command alone (exec.CommandContext's default).
func ownGroup(cmd *exec.Cmd) {}
