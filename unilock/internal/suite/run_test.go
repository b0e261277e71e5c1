package suite

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"unilock/internal/phase"
)

// fakeGoroot writes a GOROOT whose bin/go plays go tool dist test and
// go test: script is the body of a sh case on "$*".
func fakeGoroot(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o777)
	os.MkdirAll(filepath.Join(dir, "src"), 0o777)
	body := "#!/bin/sh\ncase \"$*\" in\n" + script + "\n*) echo \"fake go: unexpected: $*\" >&2; exit 2;;\nesac\n"
	if err := os.WriteFile(filepath.Join(dir, "bin", "go"), []byte(body), 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

func events(lines ...string) string {
	return "cat <<'EOF'\n" + strings.Join(lines, "\n") + "\nEOF\n"
}

// TestRunSuite runs the whole flow on two fake toolchains: the list, the
// run of each side, the reruns of every disagreement on both sides, and the
// classes they make.
func TestRunSuite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake toolchains are sh scripts")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	list := "'tool dist test -list') printf 'sync\\nruntime:cpu2\\nos\\ncmd/api:check\\n';;\n"
	fork := fakeGoroot(t, list+
		"'tool dist test -k -json sync runtime:cpu2 os') "+events(
		`{"Action":"run","Package":"sync","Test":"TestA"}`,
		`{"Action":"pass","Package":"sync","Test":"TestA"}`,
		`{"Action":"run","Package":"sync","Test":"TestNew"}`,
		`{"Action":"fail","Package":"sync","Test":"TestNew"}`,
		`{"Action":"fail","Package":"sync"}`,
		`{"Action":"output","Package":"runtime:cpu2","Output":"FAIL\truntime [build failed]\n"}`,
		`{"Action":"fail","Package":"runtime:cpu2","FailedBuild":"runtime"}`,
		`{"Action":"run","Package":"os","Test":"TestShared"}`,
		`{"Action":"fail","Package":"os","Test":"TestShared"}`,
		`{"Action":"run","Package":"os","Test":"TestFlaky"}`,
		`{"Action":"fail","Package":"os","Test":"TestFlaky"}`,
		`{"Action":"fail","Package":"os"}`,
	)+"exit 1;;\n"+
		"'test -json -count=1 -timeout=10m0s -run=^(TestNew)$ -short sync') "+events(
		`{"Action":"run","Package":"sync","Test":"TestNew"}`,
		`{"Action":"fail","Package":"sync","Test":"TestNew"}`,
		`{"Action":"fail","Package":"sync"}`,
	)+"exit 1;;\n"+
		"'test -json -count=1 -timeout=10m0s -run=^(TestFlaky)$ -short os') "+events(
		`{"Action":"run","Package":"os","Test":"TestFlaky"}`,
		`{"Action":"pass","Package":"os","Test":"TestFlaky"}`,
		`{"Action":"pass","Package":"os"}`,
	)+";;\n"+
		"'tool dist test -k -json runtime:cpu2') "+events(
		`{"Action":"fail","Package":"runtime:cpu2","FailedBuild":"runtime"}`,
	)+"exit 1;;")
	upstream := fakeGoroot(t, list+
		"'tool dist test -k -json sync runtime:cpu2 os') "+events(
		`{"Action":"run","Package":"sync","Test":"TestA"}`,
		`{"Action":"pass","Package":"sync","Test":"TestA"}`,
		`{"Action":"run","Package":"sync","Test":"TestNew"}`,
		`{"Action":"pass","Package":"sync","Test":"TestNew"}`,
		`{"Action":"pass","Package":"sync"}`,
		`{"Action":"run","Package":"runtime:cpu2","Test":"TestR"}`,
		`{"Action":"pass","Package":"runtime:cpu2","Test":"TestR"}`,
		`{"Action":"pass","Package":"runtime:cpu2"}`,
		`{"Action":"run","Package":"os","Test":"TestShared"}`,
		`{"Action":"fail","Package":"os","Test":"TestShared"}`,
		`{"Action":"run","Package":"os","Test":"TestFlaky"}`,
		`{"Action":"pass","Package":"os","Test":"TestFlaky"}`,
		`{"Action":"fail","Package":"os"}`,
	)+"exit 1;;\n"+
		"'test -json -count=1 -timeout=10m0s -run=^(TestNew)$ -short sync') "+events(
		`{"Action":"run","Package":"sync","Test":"TestNew"}`,
		`{"Action":"pass","Package":"sync","Test":"TestNew"}`,
		`{"Action":"pass","Package":"sync"}`,
	)+";;\n"+
		"'test -json -count=1 -timeout=10m0s -run=^(TestFlaky)$ -short os') "+events(
		`{"Action":"run","Package":"os","Test":"TestFlaky"}`,
		`{"Action":"pass","Package":"os","Test":"TestFlaky"}`,
		`{"Action":"pass","Package":"os"}`,
	)+";;\n"+
		"'tool dist test -k -json runtime:cpu2') "+events(
		`{"Action":"run","Package":"runtime:cpu2","Test":"TestR"}`,
		`{"Action":"pass","Package":"runtime:cpu2","Test":"TestR"}`,
		`{"Action":"pass","Package":"runtime:cpu2"}`,
	)+";;")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "patches"), 0o777)
	for _, k := range Knobs {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	var out strings.Builder
	r, err := RunSuite(Options{
		Root: root, Fork: fork, Upstream: upstream, Versions: [2]string{"fork", "upstream"},
		Reruns: 2, Skip: func(n string) string {
			if strings.HasPrefix(n, "cmd/api") {
				return "base has no api/"
			}
			return ""
		},
		Out: &out, LogDir: t.TempDir(), Clock: phase.New(io.Discard),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, row := range r.Rows {
		got[row.Name] = string(row.Class) + " " + row.Fork + " / " + row.Upstream
	}
	want := map[string]string{
		"sync.TestNew":  "new failure fail,fail,fail / pass,pass,pass",
		"runtime:cpu2":  "new failure fail,fail,fail / pass,pass,pass",
		"os.TestShared": "shared failure fail / fail",
		"os.TestFlaky":  "flaky fail,pass,pass / pass,pass,pass",
		// The fork's build failed: upstream alone ran the package's tests.
		"runtime:cpu2.TestR": "upstream only  / pass",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if strings.Join(r.Units, " ") != "sync runtime:cpu2 os" || !strings.Contains(out.String(), "cmd/api:check: skipped: base has no api/") {
		t.Errorf("units %q; output:\n%s", r.Units, out.String())
	}
	if !slices.Contains(r.LeftOut, LeftOut{"cmd/api:check", "base has no api/"}) {
		t.Errorf("left out %v, want cmd/api:check among them", r.LeftOut)
	}
	if r.Counts[Passed] != 1 || r.Counts[UpstreamOnly] != 1 || r.Fork.Passed != 1 || r.Upstream.Passed != 4 || r.Fork.Failed != 4 {
		t.Errorf("counts %v, fork %+v, upstream %+v", r.Counts, r.Fork, r.Upstream)
	}
	if !strings.Contains(out.String(), "--- FAIL runtime:cpu2 [build failed: runtime]") {
		t.Errorf("the fork's build failure was not shown:\n%s", out.String())
	}
}
