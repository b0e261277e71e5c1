package tiers

import (
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestRunCounts(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to play the go command")
	}
	events := []string{
		`{"Action":"run","Package":"runtime","Test":"TestA"}`,
		`{"Action":"pass","Package":"runtime","Test":"TestA"}`,
		`{"Action":"run","Package":"runtime","Test":"TestB"}`,
		`{"Action":"skip","Package":"runtime","Test":"TestB"}`,
		`{"Action":"run","Package":"runtime","Test":"TestC"}`,
		`{"Action":"output","Package":"runtime","Test":"TestC","Output":"fatal error: forEachP: not done\n"}`,
		`{"Action":"fail","Package":"runtime"}`,
		`{"Action":"run","Package":"sync","Test":"TestD"}`,
		`{"Action":"fail","Package":"sync","Test":"TestD"}`,
		`{"Action":"fail","Package":"sync"}`,
	}
	script := "cat <<'EOF'\n" + strings.Join(events, "\n") + "\nEOF\nexit 1\n"
	var w strings.Builder
	r := Run(Tier{Name: "t", Cmd: []string{"sh", "-c", script}}, &w, io.Discard)
	if r.Passed != 1 || r.Skipped != 1 || r.Failed != 2 {
		t.Errorf("counts %d passed %d failed %d skipped; want 1, 2, 1", r.Passed, r.Failed, r.Skipped)
	}
	want := []string{"runtime.TestC (did not finish: the test binary died)", "sync.TestD"}
	if strings.Join(r.Failures, "|") != strings.Join(want, "|") {
		t.Errorf("failures %q, want %q", r.Failures, want)
	}
	if !strings.Contains(w.String(), "fatal error: forEachP: not done") {
		t.Errorf("the dead test's output was not shown:\n%s", w.String())
	}
	if r.OK() {
		t.Errorf("OK() with failures")
	}
}

// TestFaults feeds the collector the event streams of every way a package
// can fail, as go test -json and go tool dist test -json print them (taken
// from real runs of go1.26), and checks that each is a failure with its name.
func TestFaults(t *testing.T) {
	exit1 := errors.New("exit status 1")
	for _, tc := range []struct {
		name                   string
		events                 []string
		werr                   error
		passed, failed, skiped int
		failures               []string
		shown                  []string // in what the tier prints
		outcomes               map[string]Status
		err                    string // in Result.Err
	}{{
		name: "build failed",
		events: []string{
			`{"ImportPath":"jx/bad [jx/bad.test]","Action":"build-output","Output":"# jx/bad [jx/bad.test]\n"}`,
			`{"ImportPath":"jx/bad [jx/bad.test]","Action":"build-output","Output":"bad/bad.go:2:23: cannot use \"x\" (untyped string constant) as int value in return statement\n"}`,
			`{"ImportPath":"jx/bad [jx/bad.test]","Action":"build-fail"}`,
			`{"Action":"start","Package":"jx/bad"}`,
			`{"Action":"output","Package":"jx/bad","Output":"FAIL\tjx/bad [build failed]\n"}`,
			`{"Action":"fail","Package":"jx/bad","Elapsed":0,"FailedBuild":"jx/bad [jx/bad.test]"}`,
		},
		werr:     exit1,
		failed:   1,
		failures: []string{"jx/bad [build failed: jx/bad [jx/bad.test]]"},
		shown:    []string{"cannot use \"x\""},
		outcomes: map[string]Status{"jx/bad": Fail},
	}, {
		name: "setup failed",
		events: []string{
			`{"ImportPath":"jx/nonexistent","Action":"build-output","Output":"# jx/setup\n"}`,
			`{"ImportPath":"jx/nonexistent","Action":"build-output","Output":"setup/s.go:2:8: package jx/nonexistent is not in std\n"}`,
			`{"ImportPath":"jx/nonexistent","Action":"build-fail"}`,
			`{"Action":"start","Package":"jx/setup"}`,
			`{"Action":"output","Package":"jx/setup","Output":"FAIL\tjx/setup [setup failed]\n"}`,
			`{"Action":"fail","Package":"jx/setup","Elapsed":0,"FailedBuild":"jx/nonexistent"}`,
		},
		werr:     exit1,
		failed:   1,
		failures: []string{"jx/setup [setup failed: jx/nonexistent]"},
		shown:    []string{"is not in std"},
	}, {
		name: "build failed in a dist variant, old go command without FailedBuild",
		events: []string{
			`{"Action":"start","Package":"runtime:cpu2"}`,
			`{"Action":"output","Package":"runtime:cpu2","Output":"# runtime\nlock_sema.go:12: undefined: semacreate\n"}`,
			`{"Action":"output","Package":"runtime:cpu2","Output":"FAIL\truntime [build failed]\n"}`,
			`{"Action":"fail","Package":"runtime:cpu2"}`,
		},
		werr:     exit1,
		failed:   1,
		failures: []string{"runtime:cpu2 [build failed]"},
		shown:    []string{"undefined: semacreate"},
	}, {
		name: "many packages fail to build: each is named",
		events: []string{
			`{"Action":"fail","Package":"cmd/go","FailedBuild":"cmd/go [cmd/go.test]"}`,
			`{"Action":"fail","Package":"cmd/link","FailedBuild":"cmd/link [cmd/link.test]"}`,
			`{"Action":"run","Package":"sort","Test":"TestS"}`,
			`{"Action":"pass","Package":"sort","Test":"TestS"}`,
			`{"Action":"pass","Package":"sort"}`,
			`{"Action":"fail","Package":"cmd/vet","FailedBuild":"cmd/vet [cmd/vet.test]"}`,
		},
		werr:     exit1,
		passed:   1,
		failed:   3,
		failures: []string{"cmd/go [build failed: cmd/go [cmd/go.test]]", "cmd/link [build failed: cmd/link [cmd/link.test]]", "cmd/vet [build failed: cmd/vet [cmd/vet.test]]"},
	}, {
		name: "binary exits non-zero without a test event",
		events: []string{
			`{"Action":"start","Package":"jx/die"}`,
			`{"Action":"output","Package":"jx/die","Output":"exit status 3\n"}`,
			`{"Action":"output","Package":"jx/die","Output":"FAIL\tjx/die\t0.002s\n"}`,
			`{"Action":"fail","Package":"jx/die","Elapsed":0.003}`,
		},
		werr:     exit1,
		failed:   1,
		failures: []string{"jx/die (test binary failed without a failing test: exit status 3)"},
	}, {
		name: "tests pass, then TestMain fails",
		events: []string{
			`{"Action":"run","Package":"p","Test":"TestA"}`,
			`{"Action":"pass","Package":"p","Test":"TestA"}`,
			`{"Action":"output","Package":"p","Output":"PASS\n"}`,
			`{"Action":"output","Package":"p","Output":"leaked goroutines: 3\n"}`,
			`{"Action":"output","Package":"p","Output":"exit status 1\n"}`,
			`{"Action":"fail","Package":"p"}`,
		},
		werr:     exit1,
		passed:   1,
		failed:   1,
		failures: []string{"p (test binary failed without a failing test: leaked goroutines: 3; exit status 1)"},
		outcomes: map[string]Status{"p.TestA": Pass, "p": Fail},
	}, {
		name: "a failing test and the package's fail: counted once",
		events: []string{
			`{"Action":"run","Package":"p","Test":"TestA"}`,
			`{"Action":"run","Package":"p","Test":"TestA/sub"}`,
			`{"Action":"fail","Package":"p","Test":"TestA/sub"}`,
			`{"Action":"fail","Package":"p","Test":"TestA"}`,
			`{"Action":"fail","Package":"p"}`,
		},
		werr:     exit1,
		failed:   2,
		failures: []string{"p.TestA/sub", "p.TestA"},
	}, {
		name: "the binary dies in a test with a parallel one paused",
		events: []string{
			`{"Action":"run","Package":"runtime","Test":"TestP"}`,
			`{"Action":"pause","Package":"runtime","Test":"TestP"}`,
			`{"Action":"run","Package":"runtime","Test":"TestQ"}`,
			`{"Action":"output","Package":"runtime","Test":"TestQ","Output":"SIGSEGV: segmentation violation\n"}`,
			`{"Action":"fail","Package":"runtime"}`,
		},
		werr:     exit1,
		failed:   2,
		failures: []string{"runtime.TestP (did not finish: the test binary died)", "runtime.TestQ (did not finish: the test binary died)"},
		shown:    []string{"SIGSEGV"},
	}, {
		name: "the stream ends in a test (go command killed)",
		events: []string{
			`{"Action":"run","Package":"os","Test":"TestHang"}`,
		},
		werr:     errors.New("signal: killed"),
		failed:   1,
		failures: []string{"os.TestHang (did not finish: the test binary died)"},
	}, {
		name:   "a command that fails with no event is an error",
		events: []string{`go: cannot find GOROOT directory: /nonexistent`},
		werr:   exit1,
		err:    "with no failing test or package named",
	}, {
		name: "vet fails with build events only",
		events: []string{
			`{"ImportPath":"p","Action":"build-output","Output":"# p\nvet: p.go:3:2: unreachable code\n"}`,
			`{"ImportPath":"p","Action":"build-fail"}`,
		},
		werr: exit1,
		err:  "build output for: p",
	}, {
		name: "noise lines between events, all passing",
		events: []string{
			`ok   some text dist printed`,
			`{"Action":"run","Package":"p","Test":"TestA"}`,
			`{"Action":"skip","Package":"p","Test":"TestA"}`,
			`{"Action":"skip","Package":"q"}`,
		},
		skiped: 1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var w strings.Builder
			c := NewCollector(&w, io.Discard)
			Scan(strings.NewReader(strings.Join(tc.events, "\n")+"\n"), c)
			r := c.Finish("t", []string{"go", "test"}, tc.werr, time.Second)
			if r.Passed != tc.passed || r.Failed != tc.failed || r.Skipped != tc.skiped {
				t.Errorf("counts %d passed %d failed %d skipped; want %d, %d, %d", r.Passed, r.Failed, r.Skipped, tc.passed, tc.failed, tc.skiped)
			}
			if strings.Join(r.Failures, "|") != strings.Join(tc.failures, "|") {
				t.Errorf("failures\n%q\nwant\n%q", r.Failures, tc.failures)
			}
			for _, s := range tc.shown {
				if !strings.Contains(w.String(), s) {
					t.Errorf("%q not shown:\n%s", s, w.String())
				}
			}
			for k, s := range tc.outcomes {
				if c.Outcomes[k] != s {
					t.Errorf("outcome of %s: %q, want %q", k, c.Outcomes[k], s)
				}
			}
			switch {
			case tc.err == "" && r.Err != nil:
				t.Errorf("unexpected error: %v", r.Err)
			case tc.err != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tc.err)):
				t.Errorf("error %v, want one containing %q", r.Err, tc.err)
			}
			if want := tc.failed == 0 && tc.err == ""; r.OK() != want {
				t.Errorf("OK() = %v, want %v", r.OK(), want)
			}
		})
	}
}

// TestParts counts a tier of several commands into one result, naming each
// failure with its part, and fails a tier whose check fails without running it.
func TestParts(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to play the go command")
	}
	play := func(exit string, lines ...string) []string {
		return []string{"sh", "-c", "cat <<'EOF'\n" + strings.Join(lines, "\n") + "\nEOF\nexit " + exit + "\n"}
	}
	tier := Tier{Name: "s", Parts: []Part{
		{Name: "a", Cmd: play("0", `{"Action":"pass","Package":"p","Test":"TestA"}`)},
		{Name: "b", Cmd: play("1", `{"Action":"fail","Package":"q","Test":"TestB"}`)},
	}}
	r := Run(tier, io.Discard, io.Discard)
	if r.Passed != 1 || r.Failed != 1 || len(r.Parts) != 2 {
		t.Fatalf("got %+v", r)
	}
	if want := "b: q.TestB"; len(r.Failures) != 1 || r.Failures[0] != want {
		t.Errorf("failures %q, want [%q]", r.Failures, want)
	}
	tier.Check = func() error { return errors.New("no libtsan: apt-get install libtsan2") }
	r = Run(tier, io.Discard, io.Discard)
	if r.Err == nil || r.Passed != 0 || !strings.Contains(r.Err.Error(), "apt-get install") {
		t.Errorf("a failing check: %+v", r)
	}
}
