package build

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func fakeToolchain(t *testing.T, goBinary string) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o777)
	os.WriteFile(filepath.Join(dir, "bin", "go"), []byte(goBinary), 0o755)
	return dir
}

// TestCacheEnv is issue 15 item 3: the go commands the tool runs get a
// cache under the tool's state directory, one per toolchain binaries.
func TestCacheEnv(t *testing.T) {
	state := t.TempDir()
	a, a2, b := fakeToolchain(t, "go A"), fakeToolchain(t, "go A"), fakeToolchain(t, "go B")
	envA := CacheEnv(state, a)
	if len(envA) != 2 || !strings.HasPrefix(envA[0], "GOCACHE="+filepath.Join(state, CacheRoot)+string(filepath.Separator)) || envA[1] != "GOCACHEPROG=" {
		t.Fatalf("CacheEnv = %q", envA)
	}
	if got := CacheEnv(state, a2); got[0] != envA[0] {
		t.Errorf("identical toolchains get different caches: %s, %s", got[0], envA[0])
	}
	if got := CacheEnv(state, b); got[0] == envA[0] {
		t.Errorf("different toolchains share the cache %s", got[0])
	}
	// A new compiler under the same bin/go is another toolchain.
	tool := filepath.Join(a2, "pkg", "tool", runtime.GOOS+"_"+runtime.GOARCH)
	os.MkdirAll(tool, 0o777)
	os.WriteFile(filepath.Join(tool, "compile"), []byte("compile 2"), 0o755)
	if got := CacheEnv(state, a2); got[0] == envA[0] {
		t.Errorf("a changed compiler keeps the cache %s", got[0])
	}
	if got := CacheEnv(state, t.TempDir()); got[0] != "GOCACHE="+filepath.Join(state, CacheRoot, "unbuilt") {
		t.Errorf("unbuilt toolchain: %q", got)
	}
}

func TestKeepAndPruneCaches(t *testing.T) {
	state := t.TempDir()
	a, b := fakeToolchain(t, "go A"), fakeToolchain(t, "go B")
	for _, gr := range []string{a, b} {
		os.MkdirAll(BuildingCache(state), 0o777)
		os.WriteFile(filepath.Join(BuildingCache(state), "entry"), []byte(gr), 0o644)
		dir, err := KeepBuildCache(state, gr)
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(filepath.Join(dir, "entry")); string(data) != gr {
			t.Errorf("%s does not hold make.bash's cache", dir)
		}
	}
	if _, err := os.Stat(BuildingCache(state)); err == nil {
		t.Errorf("the building cache is left")
	}
	keep, _ := CacheDir(state, b)
	removed, err := PruneCaches(state, keep)
	old, _ := CacheDir(state, a)
	if err != nil || len(removed) != 1 || removed[0] != old {
		t.Errorf("PruneCaches = %q, %v; want [%s]", removed, err, old)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("kept cache removed: %v", err)
	}
}

// TestMakeEnvOwnCache: make.bash never sees the user's GOCACHE.
func TestMakeEnvOwnCache(t *testing.T) {
	t.Setenv("GOCACHE", "/home/user/.cache/go-build")
	t.Setenv("GOCACHEPROG", "cacheprog")
	env := makeEnv("/boot", "/repo/.unilock/gocache/building")
	var caches []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOCACHE") {
			caches = append(caches, kv)
		}
	}
	if len(caches) != 1 || caches[0] != "GOCACHE=/repo/.unilock/gocache/building" {
		t.Errorf("make.bash cache variables: %q", caches)
	}
	if err := MakeBash(t.TempDir(), "/boot", "", nil, nil); err == nil {
		t.Errorf("MakeBash with no cache of the tool's own ran")
	}
}
