//go:build !unix && !windows

package statelock

import "os"

// Plan 9 and wasm have no advisory locks here; the tool does not run its
// long commands there.
func tryLock(f *os.File) error { return nil }

func unlock(f *os.File) error { return nil }
