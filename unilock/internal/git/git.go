// Package git runs the git commands the fork tool needs, with a fixed,
// user-independent configuration so that what it writes (commits in goroot/,
// patch files in patches/) depends only on its inputs.
package git

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Committer is the identity the tool commits as in goroot/. Authors of
// patches are kept from the patch files.
const (
	CommitterName  = "Unilock"
	CommitterEmail = "unilock@localhost"
)

// Repo is a git work tree.
type Repo struct {
	Dir string
	// Env is added to the environment of every command (after the defaults).
	Env []string
}

// Env returns the environment git runs with: the caller's, minus global and
// system git configuration (a user's format.signature or diff.noprefix must not
// change a patch file), with a fixed locale and committer.
func Env(extra ...string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "LC_ALL=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"LC_ALL=C",
		"GIT_COMMITTER_NAME="+CommitterName,
		"GIT_COMMITTER_EMAIL="+CommitterEmail,
		"GIT_TERMINAL_PROMPT=0",
	)
	return append(env, extra...)
}

// Error is a failed git command with what it printed.
type Error struct {
	Dir    string
	Args   []string
	Stderr string
	Stdout string
	Err    error
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = strings.TrimSpace(e.Stdout)
	}
	return fmt.Sprintf("git %s (in %s): %v\n%s", strings.Join(e.Args, " "), e.Dir, e.Err, msg)
}

// Run runs git with args and returns its standard output.
func (r Repo) Run(args ...string) (string, error) {
	return r.RunInput(nil, args...)
}

// RunInput runs git with args, stdin as standard input, and returns its
// standard output.
func (r Repo) RunInput(stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = Env(r.Env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &Error{Dir: r.Dir, Args: args, Stderr: stderr.String(), Stdout: stdout.String(), Err: err}
	}
	return stdout.String(), nil
}

// Line runs git and returns its output with surrounding space removed.
func (r Repo) Line(args ...string) (string, error) {
	out, err := r.Run(args...)
	return strings.TrimSpace(out), err
}

// Lines runs git and returns the non-empty lines of its output.
func (r Repo) Lines(args ...string) ([]string, error) {
	out, err := r.Run(args...)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// Dirty returns the paths of tracked files with changes and untracked files
// that are not ignored, as "XY path" lines of git status --porcelain.
func (r Repo) Dirty() ([]string, error) {
	return r.Lines("status", "--porcelain", "--untracked-files=normal")
}
