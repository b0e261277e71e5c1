package tiers

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The sanitizers tier runs what would have caught series v1's crash of C
// ThreadSanitizer cgo programs (notesleep returned without sleeping when
// cgo_yield was set), none of which the other tiers reach:
//
//   - cmd/cgo/internal/testsanitizers: cgo programs built with C TSAN, ASAN,
//     LSAN (and MSAN, with clang) and the Go -asan/-msan modes, run and
//     checked; upstream's own test for exactly this;
//   - the runtime's cgo tests (go test -run Cgo runtime: testprogcgo's
//     callbacks, signals, tracebacks and threads);
//   - go test -race of the runtime's lock tests and of sync.
//
// testsanitizers skips a sanitizer whose C runtime does not link or run, and
// so would pass having tested nothing: the tier checks first that each C
// sanitizer works and fails, naming the package that installs it, if not.

// Sanitizer is a C sanitizer testsanitizers needs.
type Sanitizer struct {
	Name    string // as -fsanitize= takes it
	CC      string // the C compiler it needs ("" for go env CC)
	Install string // the command that installs its runtime (Debian)
}

// CSanitizers are the C sanitizers the tier requires (Debian 12, gcc 12).
var CSanitizers = []Sanitizer{
	{Name: "thread", Install: "apt-get install libtsan2"},
	{Name: "address", Install: "apt-get install libasan8"},
	{Name: "memory", CC: "clang", Install: "apt-get install clang"},
}

// InstallCommand is the one command that installs every C sanitizer runtime
// the tier needs (Debian 12).
const InstallCommand = "apt-get install -y libtsan2 libasan8 clang"

// SanitizerTier returns the tier for the toolchain whose go command is
// gobin, run with env added to the environment.
func SanitizerTier(gobin string, env []string) Tier {
	env = append(env[:len(env):len(env)], "CGO_ENABLED=1")
	test := func(args ...string) []string {
		return append([]string{gobin, "test", "-json", "-count=1"}, args...)
	}
	return Tier{
		Name: "sanitizers",
		Desc: "testsanitizers (C TSAN, ASAN, MSAN), go test -short -run Cgo runtime, -race runtime (lock tests) and sync",
		Check: func() error {
			return CheckSanitizers(gobin, env)
		},
		Parts: []Part{
			// GCC has no MSAN: testsanitizers skips the MSAN tests with gcc,
			// so the first part leaves TestMSAN out and the second runs the
			// MSAN tests (TestMSAN, TestShared/msan_shared) with clang.
			{Name: "testsanitizers", Cmd: test("-short", "-timeout=30m", "-skip=^TestMSAN$", "cmd/cgo/internal/testsanitizers"), Env: env},
			{Name: "msan", Cmd: test("-short", "-timeout=30m", "-run=^(TestMSAN|TestShared)$/msan", "cmd/cgo/internal/testsanitizers"), Env: append(env[:len(env):len(env)], "CC=clang")},
			{Name: "cgo", Cmd: test("-short", "-timeout=20m", "-run=Cgo", "runtime"), Env: env},
			{Name: "race-runtime", Cmd: test("-race", "-short", "-timeout=20m", "-run="+LockSubset, "runtime"), Env: env},
			{Name: "race-sync", Cmd: test("-race", "-short", "-timeout=20m", "sync"), Env: env},
		},
	}
}

// CheckSanitizers checks that each C sanitizer links and runs a C program
// here, as testsanitizers checks before it skips. It returns one error that
// names every one missing and the command that installs it.
func CheckSanitizers(gobin string, env []string) error {
	cc, err := exec.Command(gobin, "env", "CC").Output()
	if err != nil {
		return fmt.Errorf("%s env CC: %v (rebuild the fork: ./make.bash)", gobin, err)
	}
	defaultCC := strings.TrimSpace(string(cc))
	dir, err := os.MkdirTemp("", "unilock-sanitizers")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "return0.c")
	if err := os.WriteFile(src, []byte("int main() { return 0; }\n"), 0o666); err != nil {
		return err
	}
	var missing []string
	var installs []string
	for _, s := range CSanitizers {
		compiler := s.CC
		if compiler == "" {
			compiler = defaultCC
		}
		if why := tryCSanitizer(compiler, s.Name, src, filepath.Join(dir, s.Name)); why != "" {
			missing = append(missing, fmt.Sprintf("  -fsanitize=%s with %s: %s (install: %s)", s.Name, compiler, why, s.Install))
			installs = append(installs, strings.TrimPrefix(s.Install, "apt-get install "))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return errors.New("the C sanitizers testsanitizers needs do not work here (it would skip them and pass having tested nothing):\n" +
		strings.Join(missing, "\n") + "\ninstall them with: apt-get install -y " + strings.Join(installs, " ") + "   (as root; .ci/run does)")
}

// tryCSanitizer compiles and runs a C program with -fsanitize=name; it
// returns why that failed, or "".
func tryCSanitizer(cc, name, src, out string) string {
	fields := strings.Fields(cc)
	if len(fields) == 0 {
		return "no C compiler (go env CC is empty)"
	}
	if _, err := exec.LookPath(fields[0]); err != nil {
		return fmt.Sprintf("no %s on PATH", fields[0])
	}
	args := append(fields[1:len(fields):len(fields)], "-fsanitize="+name, "-o", out, src)
	if b, err := exec.Command(fields[0], args...).CombinedOutput(); err != nil {
		return fmt.Sprintf("%s %s: %v: %s", fields[0], strings.Join(args, " "), err, firstLine(string(b)))
	}
	if b, err := exec.Command(out).CombinedOutput(); err != nil {
		return fmt.Sprintf("the program it built does not run: %v: %s", err, firstLine(string(b)))
	}
	return ""
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
