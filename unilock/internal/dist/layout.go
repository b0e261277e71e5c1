package dist

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
)

// ModulePath is the module the go command downloads toolchains as.
const ModulePath = "golang.org/toolchain"

// ProxyDir is the directory of the toolchain module in GOPROXY layout,
// relative to the layout's root.
var ProxyDir = filepath.Join("golang.org", "toolchain", "@v")

// ModuleVersion is the version of the golang.org/toolchain module that
// carries toolchain version (go1.26.8-unilock.2) for port, as distpack
// names it and the go command asks for it.
func ModuleVersion(version string, p Port) string {
	return "v0.0.1-" + version + "." + p.GOOS + "-" + p.GOARCH
}

// ModHashes are the h1: hashes the go command computes for a module version
// (golang.org/x/mod/sumdb/dirhash): of its zip and of its go.mod.
type ModHashes struct {
	Version string // v0.0.1-go1.26.8-unilock.2.linux-amd64
	Zip     string // h1:...
	Mod     string // h1:... of the go.mod file
}

// HashModule computes the h1: hashes of the module files zip and mod.
func HashModule(version, zip, mod string) (ModHashes, error) {
	zh, err := dirhash.HashZip(zip, dirhash.Hash1)
	if err != nil {
		return ModHashes{}, fmt.Errorf("hashing %s: %v", zip, err)
	}
	mh, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) { return os.Open(mod) })
	if err != nil {
		return ModHashes{}, fmt.Errorf("hashing %s: %v", mod, err)
	}
	return ModHashes{Version: version, Zip: zh, Mod: mh}, nil
}

// GoSumLines are the hashes as go.sum (and checksum database) lines.
func (h ModHashes) GoSumLines() string {
	return string(Record(ModulePath, h.Version, h.Zip, h.Mod))
}

// fileSHA256 returns the hex SHA-256 of the file.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// place copies src to dst unless dst already holds a file with SHA-256 sum.
func place(src, dst, sum string) error {
	if got, err := fileSHA256(dst); err == nil && got == sum {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

// WriteSHA256SUMS writes the sums of the named files (name -> hex SHA-256)
// in sha256sum's format, sorted by name.
func WriteSHA256SUMS(path string, sums map[string]string) error {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(sums)) {
		fmt.Fprintf(&b, "%s  %s\n", sums[name], name)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// WriteList writes the proxy's list file: every version of the toolchain
// module the layout holds (each with its .info), in semver order, so that a
// layout copied over an older one lists both.
func WriteList(layout string) ([]string, error) {
	dir := filepath.Join(layout, ProxyDir)
	infos, err := filepath.Glob(filepath.Join(dir, "*.info"))
	if err != nil {
		return nil, err
	}
	var vs []string
	for _, info := range infos {
		data, err := os.ReadFile(info)
		if err != nil {
			return nil, err
		}
		var i struct{ Version string }
		if err := json.Unmarshal(data, &i); err != nil || i.Version+".info" != filepath.Base(info) {
			return nil, fmt.Errorf("%s: not the .info file of its version (%v); remove it", info, err)
		}
		vs = append(vs, i.Version)
	}
	semver.Sort(vs)
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(v + "\n")
	}
	return vs, os.WriteFile(filepath.Join(dir, "list"), []byte(b.String()), 0o644)
}
