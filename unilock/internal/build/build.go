// Package build runs the fork's goroot/src/make.bash with a bootstrap Go that
// is new enough, logging everything to a file and printing dist's phases.
package build

import (
	"bufio"
	"fmt"
	"go/version"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

var (
	requiresRE = regexp.MustCompile(`requires Go (1\.\d+(?:\.\d+)?) as the minimum bootstrap`)
	buildTagRE = regexp.MustCompile(`(?m)^//go:build !go(1\.\d+)$`)
)

// RequiredBootstrap returns the oldest Go release that can bootstrap the tree
// at goroot (e.g. go1.24.6), as cmd/dist's notgoNNN.go file states it.
func RequiredBootstrap(goroot string) (string, error) {
	files, _ := filepath.Glob(filepath.Join(goroot, "src", "cmd", "dist", "notgo*.go"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if m := requiresRE.FindSubmatch(data); m != nil {
			return "go" + string(m[1]), nil
		}
		if m := buildTagRE.FindSubmatch(data); m != nil {
			return "go" + string(m[1]), nil
		}
	}
	return "", fmt.Errorf("cannot tell which Go bootstraps %s: no src/cmd/dist/notgo*.go stating it", goroot)
}

// Candidate is a Go installation that might bootstrap the build.
type Candidate struct {
	Dir     string
	Version string // go1.26.8, or "" when it has none
	From    string // why it was considered
}

// Candidates lists the places a bootstrap Go may be, in order of preference:
// $GOROOT_BOOTSTRAP, the go command on PATH, $HOME/sdk/go*, $HOME/go1.*,
// /usr/local/go, /usr/lib/go.
func Candidates() []Candidate {
	var cs []Candidate
	add := func(dir, from string) {
		if dir == "" {
			return
		}
		dir = filepath.Clean(dir)
		for _, c := range cs {
			if c.Dir == dir {
				return
			}
		}
		cs = append(cs, Candidate{Dir: dir, Version: goVersion(dir), From: from})
	}
	add(os.Getenv("GOROOT_BOOTSTRAP"), "$GOROOT_BOOTSTRAP")
	if path, err := exec.LookPath("go"); err == nil {
		cmd := exec.Command(path, "env", "GOROOT")
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		if out, err := cmd.Output(); err == nil {
			add(strings.TrimSpace(string(out)), "go on $PATH")
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		for _, pat := range []string{"sdk/go*", "go1.*"} {
			dirs, _ := filepath.Glob(filepath.Join(home, pat))
			sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
			for _, d := range dirs {
				add(d, "$HOME")
			}
		}
	}
	add("/usr/local/go", "default location")
	add("/usr/lib/go", "default location")
	return cs
}

// goVersion returns the release of the Go at dir, or "".
func goVersion(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "bin", "go")); err != nil {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(dir, "VERSION"))
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSpace(line)
	if !version.IsValid(line) {
		// A fork or devel version: compare by its language version.
		line, _, _ = strings.Cut(line, "-")
	}
	if !version.IsValid(line) {
		return ""
	}
	return line
}

// FindBootstrap returns the first candidate at least min, never the tree
// itself (self).
func FindBootstrap(cs []Candidate, min, self string) (Candidate, error) {
	var seen []string
	for _, c := range cs {
		if sameDir(c.Dir, self) {
			continue
		}
		if c.Version != "" && version.Compare(c.Version, min) >= 0 {
			return c, nil
		}
		v := c.Version
		if v == "" {
			v = "no Go"
		}
		seen = append(seen, fmt.Sprintf("%s (%s): %s", c.Dir, c.From, v))
	}
	return Candidate{}, fmt.Errorf(`building the fork needs a bootstrap Go %s or newer, and none was found; looked at:
	%s
install one (https://go.dev/dl/, or: go install golang.org/dl/%s@latest && %s download)
and point to it with: GOROOT_BOOTSTRAP=/path/to/go ./make.bash`, min, strings.Join(seen, "\n\t"), min, min)
}

func sameDir(a, b string) bool {
	ai, err1 := os.Stat(a)
	bi, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ai, bi)
}

// dist prints one line per phase, each starting with "Building ".
var phaseRE = regexp.MustCompile(`^(Building .*|Installed Go for .*|distpack: .*)`)

// MakeBash runs goroot/src/make.bash with the bootstrap, appending all output
// to log and passing dist's phase lines to phase. The build writes into the
// build cache at gocache (see BuildingCache), never into the user's: dist
// restores the caller's GOCACHE for its last step, which builds std and cmd.
func MakeBash(goroot, bootstrap, gocache string, log io.Writer, phase func(string)) error {
	return MakeBashWith(goroot, bootstrap, gocache, nil, nil, log, phase)
}

// MakeBashWith is MakeBash with env added to make.bash's environment (after
// the variables it clears: GOOS=linux GOARCH=arm64 cross-compiles) and args
// passed to it (-distpack).
func MakeBashWith(goroot, bootstrap, gocache string, env, args []string, log io.Writer, phase func(string)) error {
	if gocache == "" {
		return fmt.Errorf("internal error: make.bash of %s with no build cache of the tool's own", goroot)
	}
	cmd := exec.Command("bash", append([]string{"make.bash"}, args...)...)
	cmd.Dir = filepath.Join(goroot, "src")
	cmd.Env = append(makeEnv(bootstrap, gocache), env...)
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(log, line)
			if m := phaseRE.FindString(line); m != "" {
				phase(m)
			}
		}
		io.Copy(log, pr)
	}()
	err := cmd.Wait()
	pw.Close()
	<-done
	return err
}

// makeEnv is the environment of make.bash: the caller's, without variables
// that would point the build elsewhere, with the tool's build cache.
func makeEnv(bootstrap, gocache string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOROOT", "GOROOT_BOOTSTRAP", "GOTOOLCHAIN", "GOBIN", "GOEXPERIMENT", "GOFLAGS", "GOOS", "GOARCH", "GOCACHE", "GOCACHEPROG":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOROOT_BOOTSTRAP="+bootstrap, "GOTOOLCHAIN=local", "GOCACHE="+gocache)
}
