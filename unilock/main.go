// Command unilock builds, tests and maintains the Unilock Go toolchain fork:
// upstream Go at the pinned release plus the runtime patch series in
// patches/, materialised as the git repository goroot/.
//
// Usage:
//
//	unilock make [--force]        materialise goroot/ and build it (./make.bash)
//	unilock test [-all] [tiers]   run the test tiers (./run.bash)
//	unilock ports [flags]         the port matrix: compile everywhere, run where possible
//	unilock emulators [-install]  what executes each port here, and what is missing
//	unilock dist [-ports LIST]    ship the fork: archives, GOPROXY layout, checksum database
//	unilock bench [flags]         upstream vs the fork: benchstat table, raw results, plot
//	unilock check-series          each patch alone on every port; commit message lint
//	unilock export [-onto DIR]    the series as an mbox (or branch) with Change-Ids
//	unilock upstream [-gerrit URL] each patch's CL on Go's Gerrit: status, votes, release
//	unilock rebase goX.Y.Z        move the series to another upstream release
//	unilock rebase -continue      go on after resolving a conflict (or -skip, -abort)
//	unilock status                base, series, build and unextracted work
//	unilock extract               write goroot/'s commits back to patches/
//	unilock materialise [--force] make goroot/ without building it
//	unilock base                  resolve and verify the upstream base
//	unilock pin [GOROOT]          pin a Go tree of VERSION's release as the base
//
// Run it from anywhere inside the repository.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"unilock/internal/base"
	"unilock/internal/fork"
)

type command struct {
	name  string
	args  string
	short string
	run   func(env *Env, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"make", "[--force] [-from DIR]", "materialise goroot/ from the base and patches/, then build it", runMake},
		{"test", "[-all] [tier ...]", "run the test tiers on the built fork", runTest},
		{"ports", "[flags]", "compile every port; run the lock tests on those this machine can execute", runPorts},
		{"emulators", "[-install]", "show (or install) how this machine executes each port", runEmulators},
		{"dist", "[-ports LIST] [-out DIR]", "ship the fork: distpack archives, GOPROXY layout and checksum database for every port", runDist},
		{"mutate", "[-run RE] [-list]", "apply each deliberate lock-layer bug in turn; the lock tests must catch every one", runMutate},
		{"bench", "[flags]", "benchmark upstream against the fork: interleaved, benchstat, plot, syscall counts", runBench},
		{"check-series", "[-ports LIST]", "check each patch alone: compile and vet runtime for every port; lint its message", runCheckSeries},
		{"export", "[-onto DIR] [-store]", "export the series as an mbox with Change-Ids for upstream review", runExport},
		{"upstream", "[-gerrit URL]", "ask Go's Gerrit where each patch stands: CL, status, votes, first release", runUpstream},
		{"rebase", "[-from DIR] [-gerrit URL] goX.Y.Z", "move the fork to another upstream release; at a conflict: -continue, -skip, -abort", runRebase},
		{"status", "", "show the base, the series, the build and unextracted work", runStatus},
		{"extract", "", "write goroot/'s commits above the base back to patches/", runExtract},
		{"materialise", "[--force] [-from DIR]", "make goroot/ from the base and patches/ without building", runMaterialise},
		{"base", "[-from DIR]", "resolve and verify the upstream base", runBase},
		{"pin", "[GOROOT|-from DIR]", "pin the Go tree at GOROOT (default: go env GOROOT) as the base; -from: verified first", runPin},
	}
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: unilock <command> [arguments]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-12s %-22s %s\n", c.name, c.args, c.short)
	}
	fmt.Fprintf(os.Stderr, "\nRun unilock <command> -h for a command's flags.\n")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "help" || os.Args[1] == "--help" {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	for _, c := range commands {
		if c.name == name {
			env, err := NewEnv()
			if err == nil {
				err = c.run(env, os.Args[2:])
			}
			if errors.Is(err, flag.ErrHelp) {
				os.Exit(2)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "unilock %s: %v\n", name, err)
				os.Exit(1)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "unilock: unknown command %q\n", name)
	usage()
	os.Exit(2)
}

// Env is where the repository is.
type Env struct {
	Root    string // repository root
	Goroot  string // goroot/
	Patches string // patches/
	State   string // .unilock/: logs and tool state, never committed
	// From is a tree of the pinned release to take the base from (-from),
	// or "": then the one remembered in .unilock/base-from, if any.
	From string
}

// NewEnv finds the repository root: $UNILOCK_ROOT, or the nearest directory
// above the current one holding VERSION, patches/ or upstream.pin, and
// unilock/go.mod.
func NewEnv() (*Env, error) {
	root := os.Getenv("UNILOCK_ROOT")
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		for dir := wd; ; dir = filepath.Dir(dir) {
			if isRoot(dir) {
				root = dir
				break
			}
			if filepath.Dir(dir) == dir {
				return nil, fmt.Errorf("not inside a Unilock repository (no VERSION and unilock/go.mod above %s): cd into your clone, or set UNILOCK_ROOT", wd)
			}
		}
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	return &Env{
		Root:    root,
		Goroot:  filepath.Join(root, "goroot"),
		Patches: filepath.Join(root, "patches"),
		State:   filepath.Join(root, ".unilock"),
	}, nil
}

func isRoot(dir string) bool {
	for _, f := range []string{"VERSION", "unilock/go.mod"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// newFlags returns a flag set for a command that prints its usage.
func newFlags(name, args, doc string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: unilock %s %s\n\n%s\n", name, args, doc)
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintf(fs.Output(), "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// plural says "1 patch", "2 patches".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	if strings.HasSuffix(word, "ch") || strings.HasSuffix(word, "s") {
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// stdout is where commands print; tests capture it.
var stdout io.Writer = os.Stdout

// fromFile remembers, per clone, the tree a -from named: "RELEASE DIR".
func fromFile(env *Env) string { return filepath.Join(env.State, "base-from") }

// rememberFrom records dir as the tree of release to take the base from.
func rememberFrom(env *Env, release, dir string) error {
	if err := os.MkdirAll(env.State, 0o777); err != nil {
		return err
	}
	return os.WriteFile(fromFile(env), []byte(release+" "+dir+"\n"), 0o666)
}

// rememberedFrom returns the tree -from last named for release, or "".
func rememberedFrom(env *Env, release string) string {
	data, err := os.ReadFile(fromFile(env))
	if err != nil {
		return ""
	}
	rel, dir, ok := strings.Cut(strings.TrimSpace(string(data)), " ")
	if !ok || rel != release {
		return ""
	}
	return dir
}

// resolver returns the base resolver for id, with the tree -from named (or
// remembered) tried first.
func resolver(env *Env, id *fork.Identity) *base.Resolver {
	r := newResolver(id)
	if env.From != "" {
		r.From = env.From
	} else if dir := rememberedFrom(env, id.Release); dir != "" {
		r.From, r.FromOptional = dir, true
	}
	return r
}

// fromFlag adds -from to a command's flags; setFrom applies it.
func fromFlag(fs *flag.FlagSet) *string {
	return fs.String("from", "", "take the base from `DIR`, a tree of the pinned release you have (a git checkout at the release tag, or an unpacked goX.Y.Z.src.tar.gz: full, with api/ misc/ test/), verified against the pin or the golang.org/toolchain module; remembered for later runs")
}

func setFrom(env *Env, dir string) error {
	if dir == "" {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	env.From = abs
	return nil
}

// newResolver returns the base resolver for id; tests replace it.
var newResolver = func(id *fork.Identity) *base.Resolver {
	return &base.Resolver{Release: id.Release, TreeHash: id.TreeHash, SrcHash: id.SrcHash, Log: stdout}
}
