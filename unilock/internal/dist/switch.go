package dist

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/mod/semver"
)

// Switch checks that an upstream go command switches to the fork published
// in Layout, the way a developer's would: GOTOOLCHAIN, GOPROXY=file://Layout
// and GOSUMDB naming the team's checksum database, with a fresh GOPATH,
// module cache and build cache each time and no network.
type Switch struct {
	Go          string // the upstream go command
	Layout      string // what unilock dist wrote
	Version     string // the fork's toolchain version, go1.26.8-unilock.2
	VerifierKey string // the team checksum database's key, for GOSUMDB
	Port        Port   // the port the go command downloads (the host's)
	// Log, if set, is given each go command's output.
	Log func(format string, args ...any)
}

func (s *Switch) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(format, args...)
	}
}

// SwitchFor is the Switch of the host for the layout at out.
func SwitchFor(gocmd, out, version, vkey string) (*Switch, error) {
	if version == "" || vkey == "" {
		return nil, fmt.Errorf("the toolchain version and the checksum database's verifier key are needed (UNILOCK_DIST_VERSION, UNILOCK_DIST_VKEY; ./run.bash dist sets them)")
	}
	return &Switch{Go: gocmd, Layout: out, Version: version, VerifierKey: vkey, Port: Port{runtime.GOOS, runtime.GOARCH}}, nil
}

// A Case is one check, run in a fresh directory.
type Case struct {
	Name string
	Run  func(dir string) error
}

// release is the Go release the toolchain version is built on: 1.26.8 for
// go1.26.8-unilock.2 (the go command reads a version that way, dropping
// the suffix).
func release(version string) string {
	v := strings.TrimPrefix(version, "go")
	v, _, _ = strings.Cut(v, "-")
	return v
}

// compareGo compares Go versions 1.26.8 and 1.26.0 (no language versions).
func compareGo(a, b string) int { return semver.Compare("v"+a, "v"+b) }

// env is the environment of a go command in dir: nothing from the caller's
// go configuration, a fresh GOPATH and caches.
func (s *Switch) env(dir string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GO") || k == "CGO_ENABLED" || k == "HOME" || k == "PATH" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"PATH="+filepath.Dir(s.Go)+string(filepath.ListSeparator)+os.Getenv("PATH"),
		"HOME="+dir,
		"GOENV=off", "GOTELEMETRY=off",
		"GOPATH="+filepath.Join(dir, "gopath"),
		"GOCACHE="+filepath.Join(dir, "gocache"),
		"GOPROXY="+fileURL(s.Layout),
		"GOSUMDB="+s.VerifierKey,
		"GOTOOLCHAIN="+s.Version+"+auto",
	)
	return append(env, extra...)
}

func fileURL(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return "file://" + filepath.ToSlash(abs)
}

// module writes a module that asks for the fork and prints and checks its
// runtime.Version.
func (s *Switch) module(dir string) (string, error) {
	m := filepath.Join(dir, "hello")
	files := map[string]string{
		"go.mod":  fmt.Sprintf("module example.com/hello\n\ngo %s\n\ntoolchain %s\n", release(s.Version), s.Version),
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"runtime\"\n)\n\nfunc main() { fmt.Println(runtime.Version()) }\n",
		"hello_test.go": fmt.Sprintf("package main\n\nimport (\n\t\"runtime\"\n\t\"testing\"\n)\n\n"+
			"func TestVersion(t *testing.T) {\n\tif v := runtime.Version(); v != %q {\n\t\tt.Fatalf(\"runtime.Version() = %%q, want %%q\", v, %q)\n\t}\n}\n", s.Version, s.Version),
	}
	if err := os.MkdirAll(m, 0o777); err != nil {
		return "", err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(m, name), []byte(data), 0o644); err != nil {
			return "", err
		}
	}
	return m, nil
}

// run runs the go command (or another program) in the module and returns its
// combined output.
func (s *Switch) run(m string, env []string, prog string, args ...string) (string, error) {
	cmd := exec.Command(prog, args...)
	cmd.Dir = m
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *Switch) wantVersion() string {
	return "go version " + s.Version + " " + s.Port.String()
}

// expect runs go with args and checks it succeeds with output containing
// every want.
func (s *Switch) expect(m string, env []string, want []string, args ...string) error {
	out, err := s.run(m, env, s.Go, args...)
	s.logf("go %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			return fmt.Errorf("go %s: output has no %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	return nil
}

// expectFail runs go with args and checks it fails with output containing
// every want.
func (s *Switch) expectFail(m string, env []string, want []string, args ...string) error {
	out, err := s.run(m, env, s.Go, args...)
	s.logf("go %s (must fail):\n%s", strings.Join(args, " "), out)
	if err == nil {
		return fmt.Errorf("go %s succeeded, want a failure saying %q:\n%s", strings.Join(args, " "), want, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			return fmt.Errorf("go %s failed without %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	return nil
}

// Cases are the checks; full adds those that need a real toolchain (go
// build, go test).
func (s *Switch) Cases(full bool) []Case {
	downloading := fmt.Sprintf("go: downloading %s (%s)", s.Version, s.Port)
	cs := []Case{
		{"download and run", func(dir string) error {
			m, err := s.module(dir)
			if err != nil {
				return err
			}
			return s.expect(m, s.env(dir), []string{downloading, s.wantVersion()}, "version")
		}},
		{"GOTOOLCHAIN=auto", func(dir string) error {
			// The go command reads go1.26.8-unilock.2 as 1.26.8 and switches
			// only to a newer toolchain than its own: with upstream 1.26.8
			// or newer, the toolchain line alone does not select the fork.
			m, err := s.module(dir)
			if err != nil {
				return err
			}
			up, err := s.run(m, s.env(dir, "GOTOOLCHAIN=local"), s.Go, "env", "GOVERSION")
			if err != nil {
				return fmt.Errorf("go env GOVERSION: %v\n%s", err, up)
			}
			up = strings.TrimSpace(up)
			want := s.wantVersion()
			if compareGo(release(up), release(s.Version)) >= 0 {
				want = "go version " + up + " "
			}
			return s.expect(m, s.env(dir, "GOTOOLCHAIN=auto"), []string{want}, "version")
		}},
		{"tampered zip fails", func(dir string) error {
			bad, err := s.tamper(dir)
			if err != nil {
				return err
			}
			m, err := s.module(dir)
			if err != nil {
				return err
			}
			return s.expectFail(m, s.env(dir, "GOPROXY="+fileURL(bad)), []string{"checksum mismatch", "SECURITY ERROR"}, "version")
		}},
		{"GONOSUMDB is ignored unless GOPROXY is one file URL", func(dir string) error {
			bad, err := s.tamper(dir)
			if err != nil {
				return err
			}
			m, err := s.module(dir)
			if err != nil {
				return err
			}
			return s.expectFail(m, s.env(dir, "GOPROXY="+fileURL(bad)+"|off", "GONOSUMDB=golang.org/toolchain"), []string{"checksum mismatch", "SECURITY ERROR"}, "version")
		}},
		{"GOSUMDB=off is refused unless GOPROXY is one file URL", func(dir string) error {
			m, err := s.module(dir)
			if err != nil {
				return err
			}
			return s.expectFail(m, s.env(dir, "GOPROXY="+fileURL(s.Layout)+"|off", "GOSUMDB=off"), []string{"checksum database disabled by GOSUMDB=off"}, "version")
		}},
		{"GONOSUMDB with one file URL accepts a tampered zip", func(dir string) error {
			// The trade-off of the file:// exception: nothing checks the zip.
			bad, err := s.tamper(dir)
			if err != nil {
				return err
			}
			m, err := s.module(dir)
			if err != nil {
				return err
			}
			return s.expect(m, s.env(dir, "GOPROXY="+fileURL(bad), "GONOSUMDB=golang.org/toolchain"), []string{s.wantVersion()}, "version")
		}},
		{"on PATH after download", func(dir string) error {
			// Verified once, linked as go1.26.8-unilock.2 on PATH: the go
			// command runs it without the module cache, the proxy or the
			// checksum database (GOPROXY=off, GOSUMDB the default).
			m, err := s.module(dir)
			if err != nil {
				return err
			}
			if err := s.expect(m, s.env(dir), []string{s.wantVersion()}, "version"); err != nil {
				return err
			}
			bin := filepath.Join(dir, "bin")
			if err := os.MkdirAll(bin, 0o777); err != nil {
				return err
			}
			gobin := filepath.Join(dir, "gopath", "pkg", "mod", ModulePath+"@"+ModuleVersion(s.Version, s.Port), "bin", "go")
			if err := os.Symlink(gobin, filepath.Join(bin, s.Version)); err != nil {
				return err
			}
			env := s.env(dir, "GOPROXY=off", "GOSUMDB=sum.golang.org", "PATH="+bin+string(filepath.ListSeparator)+filepath.Dir(s.Go)+string(filepath.ListSeparator)+os.Getenv("PATH"))
			return s.expect(m, env, []string{s.wantVersion()}, "version")
		}},
	}
	if full {
		cs = append(cs, Case{"go build and go test use the fork", func(dir string) error {
			m, err := s.module(dir)
			if err != nil {
				return err
			}
			env := s.env(dir)
			if err := s.expect(m, env, nil, "build", "-o", "hello"); err != nil {
				return err
			}
			out, err := s.run(m, env, filepath.Join(m, "hello"))
			if err != nil || strings.TrimSpace(out) != s.Version {
				return fmt.Errorf("the program built prints %q (%v), want runtime.Version() %s", strings.TrimSpace(out), err, s.Version)
			}
			return s.expect(m, env, []string{"ok  \texample.com/hello"}, "test", "-count=1", "-v", ".")
		}})
	}
	return cs
}

// tamper copies the layout into dir/layout with the port's module zip
// changed (a file added), and returns the copy.
func (s *Switch) tamper(dir string) (string, error) {
	bad := filepath.Join(dir, "layout")
	zipName := ModuleVersion(s.Version, s.Port) + ".zip"
	err := filepath.WalkDir(s.Layout, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(s.Layout, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(bad, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o777)
		}
		if d.Name() == zipName {
			return tamperZip(path, dst, ModulePath+"@"+ModuleVersion(s.Version, s.Port)+"/TAMPERED")
		}
		if os.Link(path, dst) == nil {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	return bad, err
}

// tamperZip writes src with one more file, extra, to dst.
func tamperZip(src, dst, extra string) error {
	r, err := zip.OpenReader(src)
	if err != nil {
		return err
	}
	defer r.Close()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range r.File {
		if err := w.Copy(f); err != nil {
			return err
		}
	}
	fw, err := w.Create(extra)
	if err != nil {
		return err
	}
	fmt.Fprintln(fw, "not what the team built")
	if err := w.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}
