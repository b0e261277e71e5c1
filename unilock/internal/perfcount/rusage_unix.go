//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package perfcount

import (
	"os"
	"syscall"
)

// rusageCtxSw says whether the child's rusage counts context switches here.
const rusageCtxSw = true

// ctxSwitches returns the context switches of an exited child, all its
// threads and the children it waited for: ru_nvcsw + ru_nivcsw from wait4.
func ctxSwitches(ps *os.ProcessState) (int64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0, false
	}
	return int64(ru.Nvcsw) + int64(ru.Nivcsw), true
}
