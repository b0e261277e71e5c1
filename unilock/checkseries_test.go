package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"unilock/internal/testtree"
)

// fakeGo is a go command for check-series: two ports, every build and vet
// logged to $FAKE_GO_CALLS; the build of $FAKE_GO_FAIL's runtime fails.
const fakeGo = `#!/bin/sh
case "$*" in
version) echo "go version go1.99.1-unilock.1 linux/amd64";;
"tool dist list -json") echo '[{"GOOS":"linux","GOARCH":"amd64","FirstClass":true},{"GOOS":"linux","GOARCH":"arm64","FirstClass":true}]';;
list*) echo lock_futex.go;;
"build runtime")
	echo "$(git -C "$GOROOT" log -1 --format=%s) $GOOS/$GOARCH build" >> "$FAKE_GO_CALLS"
	if [ "$GOOS/$GOARCH" = "$FAKE_GO_FAIL" ]; then echo "runtime: broken on $GOOS/$GOARCH" >&2; exit 1; fi;;
"vet runtime") ;;
*) echo "fake go: unexpected: $*" >&2; exit 2;;
esac
`

// seriesRepo is a built fork of two patches whose go command is fakeGo.
func seriesRepo(t *testing.T) (*Env, string) {
	env := twoPatchFork(t)
	buildFake(t, env)
	calls := filepath.Join(t.TempDir(), "calls")
	t.Setenv("FAKE_GO_CALLS", calls)
	return env, calls
}

// buildFake runs make (the fixture's make.bash) and puts fakeGo and the tools
// in place.
func buildFake(t *testing.T, env *Env) {
	t.Helper()
	if out, err := capture(t, func() error { return runMake(env, nil) }); err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(env.Goroot, "bin", "go"), []byte(fakeGo), 0o777)
	for _, tool := range []string{"compile", "asm", "cgo", "vet"} {
		p := filepath.Join(env.Goroot, "pkg", "tool", runtime.GOOS+"_"+runtime.GOARCH, tool)
		os.MkdirAll(filepath.Dir(p), 0o777)
		os.WriteFile(p, []byte(tool), 0o777)
	}
}

// builds returns the builds logged since the last call, and forgets them.
func builds(t *testing.T, calls string) []string {
	data, _ := os.ReadFile(calls)
	os.Remove(calls)
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(data)), " build", ""))
}

// TestCheckSeriesRemembers: a rerun checks nothing that passed before; a
// failure is checked again; a changed patch is checked again, and only it;
// -fresh checks everything.
func TestCheckSeriesRemembers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake go command is an sh script")
	}
	env, calls := seriesRepo(t)
	steps := []struct {
		name    string
		args    []string
		fail    string // FAKE_GO_FAIL
		edit    bool   // change patch 2 first
		wantErr bool
		want    string // the builds, "subject-word port ..."
		wantOut string
	}{
		{name: "first run", want: "runtime: set ncpu linux/amd64 runtime: set ncpu linux/arm64 runtime: document futexsleep linux/amd64 runtime: document futexsleep linux/arm64"},
		{name: "rerun", want: "", wantOut: "4 of 4 checks passed before"},
		{name: "fresh, one port broken", args: []string{"-fresh"}, fail: "linux/arm64", wantErr: true,
			want: "runtime: set ncpu linux/amd64 runtime: set ncpu linux/arm64 runtime: document futexsleep linux/amd64 runtime: document futexsleep linux/arm64", wantOut: "FAIL linux/arm64"},
		{name: "the failure again", wantErr: false, want: "runtime: set ncpu linux/arm64 runtime: document futexsleep linux/arm64", wantOut: "2 of 4 checks passed before"},
		{name: "patch 2 changed", edit: true, want: "runtime: document futexsleep linux/amd64 runtime: document futexsleep linux/arm64", wantOut: "patch 1/2 runtime: set ncpu: all 2 ports passed before"},
	}
	for _, st := range steps {
		t.Setenv("FAKE_GO_FAIL", st.fail)
		if st.edit {
			testtree.Edit(t, filepath.Join(env.Goroot, "src/runtime/lock_futex.go"), "// futexsleep sleeps until woken.", "// futexsleep sleeps until it is woken.")
			testtree.Git(t, env.Goroot, "commit", "-q", "-a", "--amend", "--no-edit")
			if _, err := capture(t, func() error { return runExtract(env, nil) }); err != nil {
				t.Fatal(err)
			}
			buildFake(t, env)
		}
		// One port at a time: the builds come in order.
		args := append([]string{"-j", "1"}, st.args...)
		out, err := capture(t, func() error { return runCheckSeries(env, args) })
		if (err != nil) != st.wantErr {
			t.Fatalf("%s: check-series: %v\n%s", st.name, err, out)
		}
		got := strings.Join(builds(t, calls), " ")
		want := strings.Join(strings.Fields(st.want), " ")
		if got != want {
			t.Errorf("%s: built\n\t%s\nwant\n\t%s\noutput:\n%s", st.name, got, want, out)
		}
		if !strings.Contains(out, st.wantOut) {
			t.Errorf("%s: output lacks %q:\n%s", st.name, st.wantOut, out)
		}
	}
}
