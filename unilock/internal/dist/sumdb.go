package dist

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The go command checks every download of golang.org/toolchain against a
// checksum database, on every toolchain switch (cmd/go/internal/modfetch:
// useSumDB; go.sum is never consulted for it), and ignores GOSUMDB=off and
// GONOSUMDB for that module unless GOPROXY is exactly one file:// URL. The
// public database (sum.golang.org) knows only Google's toolchains, so the
// fork is checked against a database of the team's own: a transparency log
// of the fork's module hashes, signed with the team's key, written out as
// static files (the paths a checksum database server answers: latest,
// lookup/, tile/) next to the proxy layout. GOSUMDB names it with its
// verifier key, so a zip that does not match what the team signed fails
// with the go command's own "checksum mismatch ... SECURITY ERROR".
//
// The log is append-only: a go command remembers the latest tree it saw and
// rejects a database whose new tree does not extend it ("checksum database
// has forked"). So the log and the key live in one directory (SumDB.Dir,
// .unilock/dist/sumdb by default) that the team keeps, and a module version
// already in the log can never change its hash.

// DefaultSumDBName names the team's checksum database (in GOSUMDB and in the
// go command's cache); any host[/path] will do.
const DefaultSumDBName = "sumdb.unilock"

// SumDB is the team's checksum database for the fork's toolchain modules.
type SumDB struct {
	Dir     string // holds key (the private signer key), key.pub and log
	Name    string
	signer  note.Signer
	vkey    string
	records [][]byte // record texts, in log order
}

const (
	keyFile  = "key"
	vkeyFile = "key.pub"
	logFile  = "log"
)

// OpenSumDB opens the database in dir, creating it (and its signing key,
// for the database named name) when dir holds none.
func OpenSumDB(dir, name string) (*SumDB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	skeyPath := filepath.Join(dir, keyFile)
	skey, err := os.ReadFile(skeyPath)
	if errors.Is(err, os.ErrNotExist) {
		s, v, err := note.GenerateKey(rand.Reader, name)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(skeyPath, []byte(s+"\n"), 0o600); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, vkeyFile), []byte(v+"\n"), 0o644); err != nil {
			return nil, err
		}
		skey = []byte(s)
	} else if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, fmt.Errorf("%s: %v (it is the checksum database's signing key; restore it from the team's backup)", skeyPath, err)
	}
	vkey, err := os.ReadFile(filepath.Join(dir, vkeyFile))
	if err != nil {
		return nil, fmt.Errorf("%v (the verifier key of %s; restore it from the team's backup)", err, skeyPath)
	}
	db := &SumDB{Dir: dir, Name: signer.Name(), signer: signer, vkey: strings.TrimSpace(string(vkey))}
	if name != "" && name != db.Name {
		return nil, fmt.Errorf("%s signs for %q, not %q: give -sumdb-name %s, or another -sumdb directory", skeyPath, db.Name, name, db.Name)
	}
	data, err := os.ReadFile(filepath.Join(dir, logFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for rec := range strings.SplitSeq(string(data), "\n\n") {
		if strings.TrimSpace(rec) != "" {
			db.records = append(db.records, []byte(strings.Trim(rec, "\n")+"\n"))
		}
	}
	return db, nil
}

// VerifierKey is the database's public key, for GOSUMDB.
func (db *SumDB) VerifierKey() string { return db.vkey }

// Size is the number of records in the log.
func (db *SumDB) Size() int { return len(db.records) }

// Record is the checksum database record of a module version: its zip's
// and its go.mod's h1: hashes, as go.sum lines.
func Record(path, version, zipHash, modHash string) []byte {
	return fmt.Appendf(nil, "%s %s %s\n%s %s/go.mod %s\n", path, version, zipHash, path, version, modHash)
}

// recordModule returns the module version a record is about.
func recordModule(rec []byte) module.Version {
	f := strings.Fields(string(rec))
	if len(f) < 2 {
		return module.Version{}
	}
	return module.Version{Path: f[0], Version: f[1]}
}

// Add appends rec to the log unless it is there already. A different record
// for a module version already in the log is refused: the version was
// published with other contents, and every go command that saw it would
// reject the new one.
func (db *SumDB) Add(rec []byte) (added bool, err error) {
	m := recordModule(rec)
	for _, old := range db.records {
		if recordModule(old) != m {
			continue
		}
		if bytes.Equal(old, rec) {
			return false, nil
		}
		return false, fmt.Errorf("%s@%s is already in the checksum database %s with other hashes:\n%s\nnow:\n%s"+
			"a published version cannot change: go commands that fetched it would refuse it. Bump the fork revision in VERSION (and ./make.bash), "+
			"or, if the old one was never published, start a new database: rm -r %s",
			m.Path, m.Version, db.Dir, indent(old), indent(rec), db.Dir)
	}
	db.records = append(db.records, rec)
	return true, nil
}

func indent(b []byte) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(string(b), "\n"), "\n", "\n\t") + "\n"
}

// Save writes the log.
func (db *SumDB) Save() error {
	var buf bytes.Buffer
	for i, rec := range db.records {
		if i > 0 {
			buf.WriteString("\n")
		}
		buf.Write(rec)
	}
	tmp := filepath.Join(db.Dir, logFile+".tmp")
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(db.Dir, logFile))
}

// tree is the log as a tlog tree with its stored hashes.
type tree struct {
	db     *SumDB
	hashes []tlog.Hash
	size   int64
	signed []byte
}

func (db *SumDB) tree() (*tree, error) {
	t := &tree{db: db}
	for i, rec := range db.records {
		hs, err := tlog.StoredHashes(int64(i), rec, t)
		if err != nil {
			return nil, err
		}
		t.hashes = append(t.hashes, hs...)
	}
	t.size = int64(len(db.records))
	h, err := tlog.TreeHash(t.size, t)
	if err != nil {
		return nil, err
	}
	t.signed, err = note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: t.size, Hash: h}))}, db.signer)
	return t, err
}

func (t *tree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("no stored hash %d (have %d)", x, len(t.hashes))
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}

func (t *tree) Signed(context.Context) ([]byte, error) { return t.signed, nil }

func (t *tree) ReadRecords(_ context.Context, id, n int64) ([][]byte, error) {
	if id < 0 || id+n > t.size {
		return nil, fmt.Errorf("records %d..%d: the log has %d", id, id+n-1, t.size)
	}
	return t.db.records[id : id+n], nil
}

func (t *tree) Lookup(_ context.Context, m module.Version) (int64, error) {
	for i, rec := range t.db.records {
		if recordModule(rec) == m {
			return int64(i), nil
		}
	}
	return 0, os.ErrNotExist
}

func (t *tree) ReadTileData(_ context.Context, tile tlog.Tile) ([]byte, error) {
	return tlog.ReadTileData(tile, t)
}

// WriteStatic writes the database as the static files a checksum database
// server would answer with (latest, lookup/M@V, tile/...) into dir, so that
// any file or HTTP server can serve it: GOSUMDB="KEY URL-of-dir".
func (db *SumDB) WriteStatic(dir string) error {
	t, err := db.tree()
	if err != nil {
		return err
	}
	paths := []string{"/latest"}
	for _, rec := range db.records {
		m := recordModule(rec)
		p, err := module.EscapePath(m.Path)
		if err != nil {
			return err
		}
		v, err := module.EscapeVersion(m.Version)
		if err != nil {
			return err
		}
		paths = append(paths, "/lookup/"+p+"@"+v)
	}
	for _, tile := range tlog.NewTiles(8, 0, t.size) {
		paths = append(paths, "/"+tile.Path())
		if tile.L == 0 {
			data := tile
			data.L = -1
			paths = append(paths, "/"+data.Path())
		}
	}
	srv := sumdb.NewServer(t)
	for _, p := range paths {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != http.StatusOK {
			return fmt.Errorf("checksum database %s: %s: %d %s", db.Dir, p, rec.Code, strings.TrimSpace(rec.Body.String()))
		}
		file := filepath.Join(dir, filepath.FromSlash(p[1:]))
		if err := os.MkdirAll(filepath.Dir(file), 0o777); err != nil {
			return err
		}
		if err := os.WriteFile(file, rec.Body.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
