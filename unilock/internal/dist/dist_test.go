package dist

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestModuleVersion(t *testing.T) {
	for _, tt := range []struct {
		version string
		port    Port
		want    string
	}{
		{"go1.26.8-unilock.2", Port{"linux", "amd64"}, "v0.0.1-go1.26.8-unilock.2.linux-amd64"},
		{"go1.26.8-unilock.2", Port{"windows", "arm64"}, "v0.0.1-go1.26.8-unilock.2.windows-arm64"},
		{"go1.26.8", Port{"darwin", "arm64"}, "v0.0.1-go1.26.8.darwin-arm64"},
	} {
		if got := ModuleVersion(tt.version, tt.port); got != tt.want {
			t.Errorf("ModuleVersion(%q, %v) = %q, want %q", tt.version, tt.port, got, tt.want)
		}
	}
	pk := &Pack{Port: Port{"windows", "amd64"}, Version: "go1.26.8-unilock.2"}
	if got, want := pk.Archive(), "go1.26.8-unilock.2.windows-amd64.zip"; got != want {
		t.Errorf("Archive = %q, want %q", got, want)
	}
	pk.Port = Port{"linux", "arm64"}
	if got, want := pk.Archive(), "go1.26.8-unilock.2.linux-arm64.tar.gz"; got != want {
		t.Errorf("Archive = %q, want %q", got, want)
	}
}

func TestSumDB(t *testing.T) {
	dir := t.TempDir()
	db, err := OpenSumDB(dir, "sumdb.test")
	if err != nil {
		t.Fatal(err)
	}
	r1 := Record(ModulePath, "v0.0.1-go1.26.8-unilock.2.linux-amd64", "h1:AAAA", "h1:BBBB")
	r2 := Record(ModulePath, "v0.0.1-go1.26.8-unilock.2.linux-arm64", "h1:CCCC", "h1:BBBB")
	for _, tt := range []struct {
		rec       []byte
		added     bool
		wantError string
	}{
		{r1, true, ""},
		{r1, false, ""},
		{r2, true, ""},
		{Record(ModulePath, "v0.0.1-go1.26.8-unilock.2.linux-amd64", "h1:XXXX", "h1:BBBB"), false, "already in the checksum database"},
	} {
		added, err := db.Add(tt.rec)
		if added != tt.added || (err == nil) != (tt.wantError == "") || err != nil && !strings.Contains(err.Error(), tt.wantError) {
			t.Errorf("Add(%q) = %v, %v; want %v, error containing %q", tt.rec, added, err, tt.added, tt.wantError)
		}
	}
	if err := db.Save(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenSumDB(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if again.Size() != 2 || again.VerifierKey() != db.VerifierKey() || again.Name != "sumdb.test" {
		t.Errorf("reopened: %d records, key %q, name %q; want 2, %q, sumdb.test", again.Size(), again.VerifierKey(), again.Name, db.VerifierKey())
	}
	if _, err := OpenSumDB(dir, "other.name"); err == nil {
		t.Errorf("OpenSumDB with another name: no error")
	}
	static := t.TempDir()
	if err := again.WriteStatic(static); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"latest", "lookup/golang.org/toolchain@v0.0.1-go1.26.8-unilock.2.linux-arm64", "tile/8/0/000.p/2", "tile/8/data/000.p/2"} {
		if _, err := os.Stat(filepath.Join(static, p)); err != nil {
			t.Errorf("static database: %v", err)
		}
	}
}

// fakePack writes distpack-shaped files for a toolchain whose bin/go is a
// shell script printing its version, so that the go command's toolchain
// switch can be tested without building the fork.
func fakePack(t *testing.T, dir, version string, p Port) *Pack {
	t.Helper()
	pk := &Pack{Port: p, Version: version, Dir: dir, Files: map[string]string{}}
	mv := pk.ModVersion()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// What the go command expects of a toolchain module: bin/go (here a
	// script printing its version), bin/gofmt, pkg/tool/ and lib/.
	for name, data := range map[string]string{
		"bin/go":    fmt.Sprintf("#!/bin/sh\necho \"go version %s %s/%s\"\n", version, p.GOOS, p.GOARCH),
		"bin/gofmt": "#!/bin/sh\n",
		"pkg/tool/" + p.GOOS + "_" + p.GOARCH + "/compile": "#!/bin/sh\n",
		"lib/time/README": "fake\n",
	} {
		h := &zip.FileHeader{Name: ModulePath + "@" + mv + "/" + name, Method: zip.Deflate}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		pk.Archive(): []byte("binary archive"),
		pk.Source():  []byte("source archive"),
		mv + ".zip":  buf.Bytes(),
		mv + ".mod":  []byte("module golang.org/toolchain\n"),
		mv + ".info": fmt.Appendf(nil, "{\"Version\":%q, \"Time\":\"2026-08-28T16:20:06Z\"}\n", mv),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum, err := fileSHA256(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		pk.Files[name] = sum
	}
	return pk
}

func TestPublish(t *testing.T) {
	const version = "go1.26.8-unilock.2"
	work, out := t.TempDir(), t.TempDir()
	var packs []*Pack
	for _, p := range []Port{{"linux", "amd64"}, {"windows", "amd64"}} {
		dir := filepath.Join(work, p.dash())
		os.MkdirAll(dir, 0o777)
		packs = append(packs, fakePack(t, dir, version, p))
	}
	db, err := OpenSumDB(filepath.Join(work, "sumdb"), "sumdb.test")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := Publish(out, packs, db)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{"SHA256SUMS", version + ".linux-amd64.tar.gz", version + ".src.tar.gz", version + ".windows-amd64.zip"}
	if fmt.Sprint(pub.Files) != fmt.Sprint(wantFiles) {
		t.Errorf("files %v, want %v", pub.Files, wantFiles)
	}
	sums, _ := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if n := strings.Count(string(sums), "\n"); n != 3 || !strings.Contains(string(sums), packs[0].Files[packs[0].Archive()]+"  "+packs[0].Archive()+"\n") {
		t.Errorf("SHA256SUMS:\n%s", sums)
	}
	list, _ := os.ReadFile(filepath.Join(out, ProxyDir, "list"))
	if want := "v0.0.1-go1.26.8-unilock.2.linux-amd64\nv0.0.1-go1.26.8-unilock.2.windows-amd64\n"; string(list) != want {
		t.Errorf("list:\n%s\nwant:\n%s", list, want)
	}
	if pub.Added != 2 || len(pub.Hashes) != 2 || !strings.HasPrefix(pub.Hashes[0].Zip, "h1:") {
		t.Errorf("added %d records, hashes %v", pub.Added, pub.Hashes)
	}
	// Publishing the same packs again changes nothing.
	again, err := Publish(out, packs, db)
	if err != nil || again.Added != 0 {
		t.Errorf("second Publish: added %d, %v", again.Added, err)
	}
}

// readOnlyCleanup makes the module cache under dir writable again so that
// t.TempDir can remove it.
func readOnlyCleanup(t *testing.T, dir string) {
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(path, 0o777)
			}
			return nil
		})
	})
}

func TestToolchainSwitchFake(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake toolchain is a shell script")
	}
	up := upstreamGo(t)
	const version = "go1.26.8-unilock.2"
	host := Port{runtime.GOOS, runtime.GOARCH}
	work, out := t.TempDir(), t.TempDir()
	pk := fakePack(t, work, version, host)
	db, err := OpenSumDB(filepath.Join(work, "sumdb"), "sumdb.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(out, []*Pack{pk}, db); err != nil {
		t.Fatal(err)
	}
	sw := &Switch{Go: up, Layout: out, Version: version, VerifierKey: db.VerifierKey(), Port: host}
	for _, c := range sw.Cases(false) {
		t.Run(c.Name, func(t *testing.T) {
			sw.Log = t.Logf
			dir := t.TempDir()
			readOnlyCleanup(t, dir)
			if err := c.Run(dir); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestToolchainSwitch is the end-to-end test on a real layout that unilock
// dist wrote, named by $UNILOCK_DIST_OUT (the dist tier sets it): the
// upstream go command on PATH downloads the fork from the layout, checks it
// against the team's checksum database and runs it; go build and go test
// use it; a tampered zip fails with the go command's checksum error.
func TestToolchainSwitch(t *testing.T) {
	out := os.Getenv("UNILOCK_DIST_OUT")
	if out == "" {
		t.Skip("UNILOCK_DIST_OUT is not set: run ./run.bash dist (it builds the host's distribution with unilock dist first)")
	}
	up := upstreamGo(t)
	sw, err := SwitchFor(up, out, os.Getenv("UNILOCK_DIST_VERSION"), os.Getenv("UNILOCK_DIST_VKEY"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sw.Cases(true) {
		t.Run(c.Name, func(t *testing.T) {
			sw.Log = t.Logf
			dir := t.TempDir()
			readOnlyCleanup(t, dir)
			if err := c.Run(dir); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: ok", c.Name)
		})
	}
}

// upstreamGo is the go command on PATH, the one a developer has.
func upstreamGo(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	return gocmd
}

func TestEstimate(t *testing.T) {
	a, b, c := Port{"linux", "amd64"}, Port{"linux", "arm64"}, Port{"windows", "amd64"}
	min := time.Minute
	last := map[Port]time.Duration{a: 5 * min, b: 7 * min}
	for _, tc := range []struct {
		name   string
		ports  []Port
		reused map[Port]bool
		avg    time.Duration
		want   time.Duration
		known  bool
	}{
		{"each port's last build", []Port{a, b}, nil, 0, 12 * min, true},
		{"a reused port takes nothing", []Port{a, b}, map[Port]bool{b: true}, 0, 5 * min, true},
		{"never built: the average so far", []Port{b, c}, nil, 6 * min, 13 * min, true},
		{"never built and nothing built yet", []Port{a, c}, nil, 0, 5 * min, false},
		{"nothing left", nil, nil, 0, 0, true},
	} {
		d, known := Estimate(tc.ports, func(p Port) bool { return tc.reused[p] }, func(p Port) time.Duration { return last[p] }, tc.avg)
		if d != tc.want || known != tc.known {
			t.Errorf("%s: Estimate = %v, %v; want %v, %v", tc.name, d, known, tc.want, tc.known)
		}
	}
}
