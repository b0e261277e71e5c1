package tiers

import (
	"io"
	"strings"
	"testing"
)

func TestRunCounts(t *testing.T) {
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
	want := []string{"sync.TestD", "runtime.TestC (did not finish: the test binary died)"}
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
