// Package gerrittest serves recorded Gerrit answers over HTTP, for tests of
// what the tool asks Go's Gerrit, with no network.
package gerrittest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/tools/txtar"
)

// Server is a fake Gerrit. Its answers are the files of a txtar archive,
// named for the request they answer:
//
//	query CHANGE-ID   GET /changes/?q=change:CHANGE-ID+project:go&o=DETAILED_LABELS
//	in CHANGE         GET /changes/CHANGE/in
//
// Each file's first line is the HTTP status; the rest is the body, as Gerrit
// sends it (JSON after the )]}' line). A request with no file is answered
// 404 "Not found", as Gerrit does; a query without o=DETAILED_LABELS or
// project:go is answered 400.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	Requests []string // "query ID" or "in CHANGE", in order
	answers  map[string]string
}

// Serve starts a fake Gerrit answering with the archive at path, closed
// when the test ends.
func Serve(t testing.TB, path string) *Server {
	t.Helper()
	a, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ServeArchive(t, a)
}

// ServeArchive is Serve of an archive in memory.
func ServeArchive(t testing.TB, a *txtar.Archive) *Server {
	s := &Server{answers: map[string]string{}}
	for _, f := range a.Files {
		s.answers[f.Name] = string(f.Data)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var key string
	switch {
	case r.URL.Path == "/changes/":
		q := r.URL.Query()
		id, ok := strings.CutPrefix(q.Get("q"), "change:")
		id, ok2 := strings.CutSuffix(id, " project:go")
		if !ok || !ok2 || q.Get("o") != "DETAILED_LABELS" {
			http.Error(w, fmt.Sprintf("fake Gerrit: unexpected query %q", r.URL.RawQuery), http.StatusBadRequest)
			return
		}
		key = "query " + id
	case strings.HasPrefix(r.URL.Path, "/changes/") && strings.HasSuffix(r.URL.Path, "/in"):
		key = "in " + strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/changes/"), "/in")
	default:
		http.Error(w, "Not found: "+r.URL.Path, http.StatusNotFound)
		return
	}
	s.mu.Lock()
	s.Requests = append(s.Requests, key)
	s.mu.Unlock()
	ans, ok := s.answers[key]
	if !ok {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "Not found: %s\n", strings.Fields(key)[1])
		return
	}
	status, body, _ := strings.Cut(ans, "\n")
	code, err := strconv.Atoi(strings.TrimSpace(status))
	if err != nil {
		http.Error(w, "fake Gerrit: answer "+key+" does not start with an HTTP status", http.StatusInternalServerError)
		return
	}
	if strings.HasPrefix(body, ")]}'") {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	}
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}

// Unreachable returns the URL of a Gerrit that cannot be reached: a server
// that was started and closed, so that connections to it are refused.
func Unreachable(t testing.TB) string {
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL
	s.Close()
	return url
}

// Hanging returns the URL of a Gerrit that accepts requests and never
// answers (until the test ends), for timeouts.
func Hanging(t testing.TB) string {
	done := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	t.Cleanup(func() { close(done); s.Close() })
	return s.URL
}
