package suite

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// actionlintModule is the pinned actionlint (github.com/rhysd/actionlint):
// installed from the module proxy (checked against the checksum database),
// or from the module cache once it has been.
const actionlintModule = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// workflow is the GitHub Actions workflow of the whole suite;
// benchWorkflow, that of the benchmarks (unilock bench on hosted runners).
const (
	workflow      = "../../../.github/workflows/suite.yml"
	benchWorkflow = "../../../.github/workflows/bench.yml"
)

func actionlint(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not building actionlint")
	}
	bin := t.TempDir()
	cmd := exec.Command("go", "install", actionlintModule)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOOS=", "GOARCH=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("actionlint cannot be had here, so %s is not checked: go install %s: %v\n%s\n(it needs the module proxy once, or the module in the module cache: GOFLAGS=-mod=mod go install %s)", workflow, actionlintModule, err, out, actionlintModule)
	}
	exe := "actionlint"
	if filepath.Separator == '\\' {
		exe += ".exe"
	}
	return filepath.Join(bin, exe)
}

// TestWorkflow checks the workflows with actionlint, and that actionlint
// finds the mistakes of a broken one (so a pass means something).
func TestWorkflow(t *testing.T) {
	data, err := os.ReadFile(workflow)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{
		"runner: ubuntu-24.04 }", "runner: ubuntu-24.04-arm }", "runner: macos-15 }", "runner: macos-15-intel }", "runner: windows-2025 }",
		"shard: [1, 2, 3, 4]", `suite -list -shard "${{ matrix.shard }}/4"`, `-shard "${{ matrix.shard }}/4" -o`,
		"needs: [suite, ports]", "unilock/unilock.bash suite merge", "unilock/unilock.bash ports -base",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q", workflow, want)
		}
	}
	bench, err := os.ReadFile(benchWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"runner: ubuntu-24.04 }", "runner: ubuntu-24.04-arm }", "runner: macos-15 }", "runner: windows-2025 }",
		"unilock/unilock.bash bench", "-counters", "kernel.perf_event_paranoid", "benchstat.txt",
	} {
		if !strings.Contains(string(bench), want) {
			t.Errorf("%s lacks %q", benchWorkflow, want)
		}
	}
	lint := actionlint(t)
	for _, w := range []string{workflow, benchWorkflow} {
		if out, err := exec.Command(lint, "-no-color", w).CombinedOutput(); err != nil {
			t.Errorf("actionlint %s: %v\n%s", w, err, out)
		}
	}
	out, err := exec.Command(lint, "-no-color", "testdata/broken-workflow.yml").CombinedOutput()
	if err == nil {
		t.Errorf("actionlint passed a broken workflow")
	}
	for _, want := range []string{"nosuch", "nosuchjob"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("actionlint did not report %q:\n%s", want, out)
		}
	}
}

// TestToolBuildsOnRunners builds the tool for the windows runners the
// workflows run it on: unilock/unilock.bash builds it there with the
// runner's go, so a Unix-only call outside a build-tagged file (the mutation
// check's process groups were one) fails the windows jobs before any test
// runs.
func TestToolBuildsOnRunners(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not cross-building the tool")
	}
	// windows/amd64 only: darwin builds what every unix port builds, and
	// each cross build of the tool's ~200 packages costs CI a minute.
	for _, port := range []string{"windows/amd64"} {
		goos, goarch, _ := strings.Cut(port, "/")
		cmd := exec.Command("go", "build", "-o", os.DevNull, "unilock")
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOOS=%s GOARCH=%s go build unilock: %v\n%s", goos, goarch, err, out)
		}
	}
}
