// Package fork holds the fork's identity: its version (the VERSION file) and
// the upstream base it is pinned to (the upstream.pin file), both at the top of
// the repository.
package fork

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/version"
	"os"
	"path/filepath"
	"strings"
)

const (
	// VersionFile holds one line, the fork version: RELEASE-unilock.N.
	VersionFile = "VERSION"
	// PinFile pins the upstream base: its release and content hashes.
	PinFile = "upstream.pin"
)

// Identity is what VERSION and upstream.pin say.
type Identity struct {
	// Version is the fork's version, e.g. go1.26.8-unilock.1.
	Version string
	// Release is the pinned upstream release, e.g. go1.26.8: the part of
	// Version before the first '-'.
	Release string
	// TreeHash is the content hash of the whole upstream tree (see package
	// base for what it covers).
	TreeHash string
	// SrcHash is the content hash of the part of the tree that the
	// golang.org/toolchain module carries (no api/, misc/, test/, doc/).
	SrcHash string
}

// Load reads VERSION and upstream.pin from the repository root.
func Load(root string) (*Identity, error) {
	v, err := os.ReadFile(filepath.Join(root, VersionFile))
	if err != nil {
		return nil, fmt.Errorf("reading the fork version: %v (run unilock from the repository root)", err)
	}
	id, err := ParseVersion(string(v))
	if err != nil {
		return nil, err
	}
	p, err := os.ReadFile(filepath.Join(root, PinFile))
	if err != nil {
		return nil, fmt.Errorf("reading the upstream pin: %v\n\tto pin the installed Go as the base, run: unilock pin", err)
	}
	release, tree, src, err := ParsePin(p)
	if err != nil {
		return nil, err
	}
	if release != id.Release {
		return nil, fmt.Errorf("%s says %s but %s pins %s: the two must name the same release\n\tset %s back to a %s fork version, or pin a full %s tree: unilock pin /path/to/%s", VersionFile, id.Version, PinFile, release, VersionFile, release, id.Release, id.Release)
	}
	id.TreeHash, id.SrcHash = tree, src
	return id, nil
}

// ParseVersion parses the contents of VERSION.
func ParseVersion(text string) (*Identity, error) {
	line := strings.TrimSpace(text)
	if line == "" || strings.ContainsAny(line, " \t\n") {
		return nil, fmt.Errorf("%s must hold one line, the fork version (like go1.26.8-unilock.1), not %q", VersionFile, text)
	}
	release, suffix, ok := strings.Cut(line, "-")
	if !ok || !strings.HasPrefix(suffix, "unilock.") || !version.IsValid(release) {
		return nil, fmt.Errorf("%s: %q is not a fork version: want RELEASE-unilock.N with RELEASE an upstream Go release such as go1.26.8", VersionFile, line)
	}
	return &Identity{Version: line, Release: release}, nil
}

// ParsePin parses upstream.pin: '#' comments and lines of "key value" with the
// keys release, tree and src.
func ParsePin(data []byte) (release, tree, src string, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, " ")
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			return "", "", "", fmt.Errorf("%s:%d: want \"key value\", got %q", PinFile, n, line)
		}
		switch k {
		case "release":
			release = v
		case "tree":
			tree = v
		case "src":
			src = v
		default:
			return "", "", "", fmt.Errorf("%s:%d: unknown key %q (want release, tree or src)", PinFile, n, k)
		}
	}
	switch {
	case release == "":
		err = errors.New("no release line")
	case !strings.HasPrefix(tree, "h1:") && tree != "none":
		err = errors.New("no tree h1: hash (or \"none\", for a base pinned from the toolchain module)")
	case !strings.HasPrefix(src, "h1:"):
		err = errors.New("no src h1: hash")
	}
	if err != nil {
		return "", "", "", fmt.Errorf("%s: %v\n\tto pin the installed Go as the base, run: unilock pin", PinFile, err)
	}
	return release, tree, src, nil
}

// FormatPin returns the contents of upstream.pin.
func FormatPin(release, tree, src string) []byte {
	return fmt.Appendf(nil, `# The upstream Go release this fork is built on, and the content hashes
# every base must match before anything is built on it (see unilock/README.md).
# "tree none": pinned from the golang.org/toolchain module, which carries
# no full tree. Written by "unilock pin" or "unilock rebase"; do not edit.
release %s
tree %s
src %s
`, release, tree, src)
}
