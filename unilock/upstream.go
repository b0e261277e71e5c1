package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"unilock/internal/build"
	"unilock/internal/goroot"
	"unilock/internal/phase"
)

// upstreamStamp, inside the upstream toolchain's directory, holds the base
// commit it was built from; it is written only after make.bash succeeds.
const upstreamStamp = ".unilock-built"

// upstreamToolchain returns the directory of a built toolchain of the
// unpatched base, .unilock/upstream/, building it from goroot/'s base commit
// when it is missing or was built from another base. It is what "old" and
// "upstream" mean in unilock ports -base and unilock bench.
func upstreamToolchain(env *Env, clock *phase.Clock) (string, error) {
	t := goroot.Tree{Dir: env.Goroot}
	if !t.Exists() {
		return "", fmt.Errorf("goroot/ does not exist: run ./make.bash first")
	}
	st, err := t.LoadState()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(env.State, "upstream")
	if stamp, err := os.ReadFile(filepath.Join(dir, upstreamStamp)); err == nil && strings.TrimSpace(string(stamp)) == st.Base {
		if v, err := goVersion(dir); err == nil {
			clock.Phase("upstream toolchain is up to date: %s (%s)", v, rel(env, dir))
			return dir, nil
		}
	}
	clock.Phase("upstream toolchain: unpacking the base commit %.12s into %s", st.Base, rel(env, dir))
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", err
	}
	archive := exec.Command("git", "-C", env.Goroot, "archive", "--format=tar", st.Base)
	untar := exec.Command("tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	untar.Stdin = pipe
	var aerr, uerr strings.Builder
	archive.Stderr, untar.Stderr = &aerr, &uerr
	if err := untar.Start(); err != nil {
		return "", err
	}
	if err := archive.Run(); err != nil {
		untar.Wait()
		return "", fmt.Errorf("git archive %s: %v: %s (remake goroot/ with: ./make.bash)", st.Base, err, aerr.String())
	}
	if err := untar.Wait(); err != nil {
		return "", fmt.Errorf("unpacking the base: tar: %v: %s", err, uerr.String())
	}
	min, err := build.RequiredBootstrap(dir)
	if err != nil {
		return "", err
	}
	boot, err := build.FindBootstrap(build.Candidates(), min, dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(env.State, "log"), 0o777); err != nil {
		return "", err
	}
	logPath := filepath.Join(env.State, "log", "make-upstream-"+time.Now().UTC().Format("20060102-150405")+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	clock.Phase("upstream toolchain: make.bash (bootstrap %s; log %s)", boot.Version, rel(env, logPath))
	cache := build.BuildingCache(env.State)
	if err := os.RemoveAll(cache); err != nil {
		return "", err
	}
	if err := build.MakeBash(dir, boot.Dir, cache, logf, func(line string) { clock.Phase("  %s", line) }); err != nil {
		os.RemoveAll(cache)
		return "", fmt.Errorf("building the upstream toolchain in %s failed: %v\nlast lines of the log:\n%s\nfull log: %s\nrun the command again to start over", rel(env, dir), err, tailFile(logPath, 25), logPath)
	}
	v, err := goVersion(dir)
	if err != nil {
		return "", fmt.Errorf("upstream make.bash succeeded but %s/bin/go does not run: %v", dir, err)
	}
	if _, err := build.KeepBuildCache(env.State, dir); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, upstreamStamp), []byte(st.Base+"\n"), 0o666); err != nil {
		return "", err
	}
	clock.Phase("upstream toolchain built: %s (%s)", v, rel(env, dir))
	return dir, nil
}
