package statelock

import (
	"strings"
	"testing"
)

func TestAcquire(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "unilock dist")
	if err != nil {
		t.Fatal(err)
	}
	// A second open of the lock file conflicts with the first, in this
	// process too (flock and LockFileEx lock per open file).
	_, err = Acquire(dir, "unilock dist")
	if err == nil {
		t.Fatal("a second Acquire of a held lock succeeded")
	}
	for _, want := range []string{dir + " is in use by another command (unilock dist, pid ", "wait for it to finish"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(dir, "unilock dist")
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"123\nunilock dist\n2026-11-30T12:00:00Z\n", "unilock dist, pid 123, since 2026-11-30T12:00:00Z"},
		{"", "one that did not say which"},
		{"garbage", "one that did not say which"},
	} {
		if got := describe(tc.in); got != tc.want {
			t.Errorf("describe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
