package emu

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

//go:embed shim/bcryptprimitives.c
var shimSource []byte

// shimDir is where a prefix keeps the DLLs of a GOARCH: Wine loads 64-bit
// system DLLs from system32 and 32-bit ones from syswow64.
func shimDir(prefix, goarch string) string {
	if goarch == "386" {
		return filepath.Join(prefix, "drive_c", "windows", "syswow64")
	}
	return filepath.Join(prefix, "drive_c", "windows", "system32")
}

// setupWine makes the tool's Wine prefix once (wineboot --init) and builds
// the ProcessPrng shim into it for goarch, again whenever its source changes.
func setupWine(h Host, goarch string) error {
	prefix := WinePrefix(h)
	env := append(os.Environ(), "WINEPREFIX="+prefix, "WINEDEBUG=-all")
	if !h.Exists(filepath.Join(prefix, "system.reg")) {
		if err := os.MkdirAll(prefix, 0o777); err != nil {
			return err
		}
		cmd := exec.Command("wineboot", "--init")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("making the Wine prefix %s: wineboot --init: %v\n%s\nremove the prefix and retry: rm -rf %s", prefix, err, out, prefix)
		}
		// wineboot returns before the server has written the registry.
		wait := exec.Command("wineserver", "-w")
		wait.Env = env
		wait.Run()
	}
	dir := shimDir(prefix, goarch)
	dll := filepath.Join(dir, "bcryptprimitives.dll")
	src := filepath.Join(h.State, "wine-shim", goarch, "bcryptprimitives.c")
	if old, err := os.ReadFile(src); err == nil && bytes.Equal(old, shimSource) && h.Exists(dll) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(src), 0o777); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	if err := os.WriteFile(src, shimSource, 0o666); err != nil {
		return err
	}
	args := []string{"-O2", "-shared", "-o", dll, src, "-ladvapi32"}
	if goarch == "386" {
		// Export ProcessPrng, not the stdcall name ProcessPrng@8.
		args = append(args, "-Wl,--kill-at")
	}
	cmd := exec.Command(mingw[goarch], args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(src)
		return fmt.Errorf("building the ProcessPrng shim: %s %v: %v\n%s", mingw[goarch], args, err, out)
	}
	return nil
}
