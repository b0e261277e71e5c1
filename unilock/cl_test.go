package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"unilock/internal/review"
	"unilock/internal/review/gerrittest"
	"unilock/internal/series"
	"unilock/internal/testtree"
)

// patchChangeID returns the Change-Id of the fixture fork's first patch,
// 0001-runtime-set-ncpu.patch.
func patchChangeID(t *testing.T, env *Env) string {
	ps, err := series.Load(env.Patches)
	if err != nil || len(ps) == 0 || ps[0].Name != "0001-runtime-set-ncpu.patch" {
		t.Fatalf("patches/: %v, %d patches", err, len(ps))
	}
	rps, err := review.Patches(ps)
	if err != nil {
		t.Fatal(err)
	}
	return rps[0].ChangeID
}

// fakeGerrit serves a Gerrit on which the Change-Id id is CL 4242, merged
// on master and tagged with tags.
func fakeGerrit(t *testing.T, id string, tags ...string) *gerrittest.Server {
	q := fmt.Sprintf(`200
)]}'
[{"id": "go~master~%s", "project": "go", "branch": "master", "change_id": "%[1]s",
  "subject": "runtime: set ncpu", "status": "MERGED", "_number": 4242,
  "labels": {"Code-Review": {"all": [{"value": 2, "_account_id": 1}]},
             "LUCI-TryBot-Result": {"all": [{"value": 1, "_account_id": 2}]}}}]
`, id)
	in := fmt.Sprintf("200\n)]}'\n{\"branches\": [\"master\"], \"tags\": [%s]}\n", `"`+strings.Join(tags, `", "`)+`"`)
	return gerrittest.ServeArchive(t, &txtar.Archive{Files: []txtar.File{
		{Name: "query " + id, Data: []byte(q)},
		{Name: "in go~master~" + id, Data: []byte(in)},
	}})
}

func TestUpstream(t *testing.T) {
	env, _ := rebaseRepo(t, func(string) {})
	id := patchChangeID(t, env)
	srv := fakeGerrit(t, id, "go1.99.2rc1", "go1.99.2", "go1.99.3")
	tests := []struct {
		name    string
		url     string
		want    []string
		wantErr string
	}{
		{"merged", srv.URL, []string{
			"asking " + srv.URL + " about 2 patches",
			"0001-runtime-set-ncpu.patch\n    Change-Id " + id + ": derived, not stored in the patch",
			"    CL 4242  master  merged  Code-Review +2, LUCI-TryBot-Result +1\n        " + srv.URL + "/c/go/+/4242\n        first released in go1.99.2\n",
			"0002-runtime-document-futexsleep.patch\n",
			"2 patches: 1 merged upstream (0001 in go1.99.2), 1 not on Gerrit; 2 without a stored Change-Id (unilock export -store)",
		}, ""},
		{"unknown", fakeGerrit(t, "I0000000000000000000000000000000000000000").URL, []string{
			"    not on Gerrit: no CL has this Change-Id",
			"2 patches: 2 not on Gerrit",
		}, ""},
		{"unreachable", gerrittest.Unreachable(t), []string{
			"0001-runtime-set-ncpu.patch  Change-Id " + id + " (derived, not stored: unilock export -store)",
		}, "cannot be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := capture(t, func() error { return runUpstream(env, []string{"-gerrit", tt.url}) })
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("upstream: %v, want error %q\n%s", err, tt.wantErr, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestRebaseSaysWhy: rebase asks Gerrit why a patch drops or conflicts,
// and goes on without an answer when Gerrit cannot be reached; -check asks
// too.
func TestRebaseSaysWhy(t *testing.T) {
	same := func(dir string) { // the release holds the patch: it drops
		testtree.Edit(t, filepath.Join(dir, "src/runtime/os_linux.go"), "func osinit() {}", "func osinit() { ncpu = 1 }")
	}
	other := func(dir string) { // the release holds another version: it conflicts
		testtree.Edit(t, filepath.Join(dir, "src/runtime/os_linux.go"), "func osinit() {}", "func osinit() { ncpu = 2 }")
	}
	const stopped = "stopped at 0001-runtime-set-ncpu.patch"
	tests := []struct {
		name    string
		check   bool // rebase -check
		edit    func(string)
		gerrit  func(t *testing.T, id string) string
		want    []string
		wantErr string
	}{
		{"dropped, merged", false, same, func(t *testing.T, id string) string { return fakeGerrit(t, id, "go1.99.2", "go1.99.3").URL }, []string{
			"whether go1.99.2 holds the CL of 0001-runtime-set-ncpu.patch",
			"1/2 0001-runtime-set-ncpu.patch is dropped: go1.99.2 already holds its change: CL 4242 (",
			"/c/go/+/4242) was merged into master, first released in go1.99.2, and go1.99.2 holds it",
			"0001-runtime-set-ncpu.patch                                         dropped: already upstream\n    upstream: CL 4242 (",
		}, ""},
		{"dropped, unreachable", false, same, func(t *testing.T, id string) string { return gerrittest.Unreachable(t) }, []string{
			"could not ask Gerrit why (the rebase goes on without it): Gerrit at http://127.0.0.1:",
			"0001-runtime-set-ncpu.patch is dropped: go1.99.2 already holds its change\n",
		}, ""},
		{"dropped, not asked", false, same, func(t *testing.T, id string) string { return "" }, []string{
			"0001-runtime-set-ncpu.patch is dropped: go1.99.2 already holds its change\n",
		}, ""},
		{"conflict, merged", false, other, func(t *testing.T, id string) string { return fakeGerrit(t, id, "go1.99.1", "go1.99.2").URL }, []string{
			"1/2 0001-runtime-set-ncpu.patch: CONFLICT",
			"    upstream: CL 4242 (",
			"first released in go1.99.1, and go1.99.2 holds it: drop this patch from the series rather than port it: unilock/unilock.bash rebase -skip\n",
		}, stopped},
		{"conflict, not merged", false, other, func(t *testing.T, id string) string { return fakeGerrit(t, id).URL }, []string{"CONFLICT"}, stopped},
		{"conflict, unreachable", false, other, func(t *testing.T, id string) string { return gerrittest.Unreachable(t) }, []string{
			"could not ask Gerrit why (the rebase goes on without it)",
			"patch 1 of 2, 0001-runtime-set-ncpu.patch, does not apply to go1.99.2",
		}, stopped},
		{"check, conflict, merged", true, other, func(t *testing.T, id string) string { return fakeGerrit(t, id, "go1.99.1", "go1.99.2").URL }, []string{
			"CONFLICT\n    src/runtime/os_linux.go: ",
			"    upstream: CL 4242 (",
			"first released in go1.99.1, and go1.99.2 holds it: drop this patch from the series rather than port it",
			"nothing was changed",
		}, ""},
		{"check, dropped, merged", true, same, func(t *testing.T, id string) string { return fakeGerrit(t, id, "go1.99.2").URL }, []string{
			"dropped: already upstream\n    upstream: CL 4242 (",
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := rebaseRepo(t, tt.edit)
			url := tt.gerrit(t, patchChangeID(t, env))
			args := []string{"-module", "-gerrit", url, "go1.99.2"}
			if tt.check {
				args = append([]string{"-check"}, args...)
			}
			out, err := rebaseCmd(t, env, args...)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("rebase: %v, want error %q\n%s", err, tt.wantErr, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(tt.name, "not merged") && strings.Contains(out, "upstream:") {
				t.Errorf("a CL the release does not hold is given as a reason:\n%s", out)
			}
		})
	}
}

// TestRebaseSaysWhyAfterStop: the reason a rebase stopped at a patch is
// kept in the journal: -continue says it again while the conflict is
// unresolved, and -skip's final table gives it.
func TestRebaseSaysWhyAfterStop(t *testing.T) {
	env, _ := rebaseRepo(t, conflicting(t))
	srv := fakeGerrit(t, patchChangeID(t, env), "go1.99.1", "go1.99.2")
	if out, err := rebaseCmd(t, env, "-gerrit", srv.URL, "go1.99.2"); err == nil {
		t.Fatalf("no conflict:\n%s", out)
	}
	j := journal(t, env)
	if j == nil || j.Gerrit != srv.URL || !strings.HasPrefix(j.Patches[0].Upstream, "CL 4242 (") {
		t.Fatalf("journal: %+v", j)
	}
	out, err := rebaseCmd(t, env, "-continue")
	if err == nil || !strings.Contains(err.Error(), "upstream: CL 4242 (") || !strings.Contains(err.Error(), "drop this patch from the series rather than port it: unilock/unilock.bash rebase -skip") {
		t.Fatalf("-continue with the conflict unresolved: %v\n%s", err, out)
	}
	out, err = rebaseCmd(t, env, "-skip")
	if err != nil {
		t.Fatalf("-skip: %v\n%s", err, out)
	}
	if !strings.Contains(out, "skipped (-skip): left out of the series\n    upstream: CL 4242 (") {
		t.Errorf("-skip's table does not say why:\n%s", out)
	}
}
