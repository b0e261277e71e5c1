package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
)

// The go commands the tool runs with a toolchain it built (goroot/, or the
// upstream one in .unilock/upstream/), and make.bash itself, use a build
// cache of the tool's own, never the user's (go env GOCACHE): that one is
// shared with every other Go toolchain and every go command running at the
// time, and the tool must neither fill it with the fork's objects nor ever
// clean it.
//
// The go command keys its cache by a release toolchain's version string,
// not by its binaries, and the fork's version (go1.26.8-unilock.1) stays the
// same across series changes: a patch to the compiler would otherwise meet
// objects the old compiler wrote. So each toolchain gets its own directory,
// named by a hash of its binaries: .unilock/gocache/<key>/. A rebuild that
// changes no toolchain binary (a runtime-only patch; Go builds are
// reproducible) keeps its cache.

// CacheRoot is the directory under the tool's state directory (.unilock/)
// that holds the build caches.
const CacheRoot = "gocache"

// cacheBuilding is the cache make.bash writes into; it is renamed to the
// key of the toolchain it built once the build succeeds.
const cacheBuilding = "building"

// toolchainFiles are the binaries that decide what a toolchain compiles,
// relative to its GOROOT.
func toolchainFiles() []string {
	tool := filepath.Join("pkg", "tool", runtime.GOOS+"_"+runtime.GOARCH)
	return []string{
		filepath.Join("bin", "go"),
		filepath.Join(tool, "compile"), filepath.Join(tool, "asm"),
		filepath.Join(tool, "link"), filepath.Join(tool, "cgo"),
	}
}

// ToolchainKey returns a short hash of the toolchain binaries at goroot:
// bin/go and, where they exist, the compiler, assembler, linker and cgo.
func ToolchainKey(goroot string) (string, error) {
	h := sha256.New()
	for i, name := range toolchainFiles() {
		f, err := os.Open(filepath.Join(goroot, name))
		if err != nil {
			if i > 0 && os.IsNotExist(err) {
				continue
			}
			return "", fmt.Errorf("the toolchain at %s is not built (%v): run ./make.bash", goroot, err)
		}
		fmt.Fprintf(h, "%s\n", filepath.ToSlash(name))
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// CacheDir returns the build cache of the toolchain at goroot, under the
// tool's state directory: state/gocache/<key>. It does not create it (the
// go command does).
func CacheDir(state, goroot string) (string, error) {
	key, err := ToolchainKey(goroot)
	if err != nil {
		return "", err
	}
	return filepath.Join(state, CacheRoot, key), nil
}

// CacheEnv returns the environment entries that give a go command run with
// the toolchain at goroot the tool's own build cache, under the tool's state
// directory (.unilock/). Append them to the command's environment after
// os.Environ(). A toolchain that is not built gets state/gocache/unbuilt
// (its go command will not run anyway, and says why).
func CacheEnv(state, goroot string) []string {
	dir, err := CacheDir(state, goroot)
	if err != nil {
		dir = filepath.Join(state, CacheRoot, "unbuilt")
	}
	// GOCACHEPROG would send every object to another program instead.
	return []string{"GOCACHE=" + dir, "GOCACHEPROG="}
}

// BuildingCache is the cache a make.bash of a toolchain writes into; see
// KeepBuildCache.
func BuildingCache(state string) string {
	return filepath.Join(state, CacheRoot, cacheBuilding)
}

// KeepBuildCache, after make.bash built the toolchain at goroot with
// BuildingCache(state), makes that cache the toolchain's own (or removes it
// when the toolchain already has one) and returns the toolchain's cache.
func KeepBuildCache(state, goroot string) (string, error) {
	dir, err := CacheDir(state, goroot)
	if err != nil {
		return "", err
	}
	tmp := BuildingCache(state)
	if _, err := os.Stat(dir); err == nil {
		return dir, os.RemoveAll(tmp)
	}
	if _, err := os.Stat(tmp); err != nil {
		return dir, nil
	}
	return dir, os.Rename(tmp, dir)
}

// PruneCaches removes the build caches under state/gocache other than those
// named in keep (full paths), and returns the ones it removed. Call it only
// when the toolchains that wrote them are gone (replaced by a new build).
func PruneCaches(state string, keep ...string) ([]string, error) {
	root := filepath.Join(state, CacheRoot)
	entries, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if !e.IsDir() || e.Name() == cacheBuilding || contains(keep, dir) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			return removed, fmt.Errorf("removing the stale build cache %s: %v (remove it by hand: rm -rf %s)", dir, err, dir)
		}
		removed = append(removed, dir)
	}
	sort.Strings(removed)
	return removed, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if filepath.Clean(x) == filepath.Clean(s) {
			return true
		}
	}
	return false
}
