// Package statelock keeps two unilock commands from working on the same
// files at once: a second unilock dist in the same clone would remove the
// first one's build tree under it, and two appending to one checksum
// database log at once could fork the log every developer's go command
// has already seen.
package statelock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A Lock is held on a directory until Release.
type Lock struct {
	f *os.File
}

// errHeld is what tryLock returns when another process holds the lock.
var errHeld = errors.New("held")

// Acquire takes the lock of dir (the file dir/.lock), for the command what
// ("unilock dist"), or says who holds it. It does not wait: the commands it
// guards take minutes.
func Acquire(dir, what string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errHeld) {
			holder, _ := os.ReadFile(path)
			return nil, fmt.Errorf("%s is in use by another command (%s): wait for it to finish, or work in another clone", dir, describe(string(holder)))
		}
		return nil, fmt.Errorf("locking %s: %v", path, err)
	}
	// Who holds it, for the message of the next one: written only while
	// the lock is held.
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "%d\n%s\n%s\n", os.Getpid(), what, time.Now().UTC().Format(time.RFC3339))
	}
	return &Lock{f: f}, nil
}

// describe turns what a holder wrote into "unilock dist, pid 123, since
// 2026-11-30T12:00:00Z".
func describe(holder string) string {
	fields := strings.Split(strings.TrimSpace(holder), "\n")
	if len(fields) != 3 {
		return "one that did not say which"
	}
	return fmt.Sprintf("%s, pid %s, since %s", fields[1], fields[0], fields[2])
}

// Release gives the lock up. The file stays: removing it would let a third
// command lock a new file while a second still waits on the old one.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
