package review

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"unilock/internal/review/gerrittest"
)

// Change-Ids the fake Gerrit of testdata/gerrit.txtar knows (or not).
const (
	idMerged     = "Ia000000000000000000000000000000000000001" // merged on master and cherry-picked to go1.26
	idReview     = "Ib000000000000000000000000000000000000002" // new, work in progress, Code-Review -1
	idAbandoned  = "Ic000000000000000000000000000000000000003"
	idEmpty      = "Id000000000000000000000000000000000000004" // the query finds no change
	id404        = "Ie000000000000000000000000000000000000005" // Gerrit answers 404
	id500        = "If000000000000000000000000000000000000006" // Gerrit answers 500
	idIn404      = "I1000000000000000000000000000000000000007" // merged; /in answers 404
	idNotGerrit  = "I2000000000000000000000000000000000000008" // a captive portal's HTML
	idUnreleased = "I3000000000000000000000000000000000000009" // merged, in no release yet
)

func TestLookup(t *testing.T) {
	srv := gerrittest.Serve(t, "testdata/gerrit.txtar")
	link := func(n string) string { return srv.URL + "/c/go/+/" + n }
	tests := []struct {
		name    string
		id      string
		cls     []CL
		first   string
		wantErr string // in Status.Err
	}{
		{"merged with a backport", idMerged, []CL{
			{Number: 700001, Branch: "master", Status: StatusMerged, Subject: "runtime: pad semtable entries to whole cache lines", Link: link("700001"),
				Votes:    []Vote{{"Code-Review", 2}, {"LUCI-TryBot-Result", 1}},
				Releases: []string{"go1.27.0", "go1.27.1", "go1.27.2", "go1.27.3", "go1.27.4", "go1.27.9", "go1.27.10"}},
			{Number: 700101, Branch: "release-branch.go1.26", Status: StatusMerged, Subject: "[release-branch.go1.26] runtime: pad semtable entries to whole cache lines", Link: link("700101"),
				Votes:    []Vote{{"Code-Review", 2}, {"LUCI-TryBot-Result", 1}},
				Releases: []string{"go1.26.10", "go1.26.11"}},
		}, "go1.26.10", ""},
		{"under review", idReview, []CL{
			{Number: 700002, Branch: "master", Status: StatusNew, WIP: true, Subject: "runtime: withdraw a timed-out semasleep on futex OSes", Link: link("700002"),
				Votes: []Vote{{"Code-Review", -1}, {"TryBot-Result", 1}}},
		}, "", ""},
		{"abandoned", idAbandoned, []CL{
			{Number: 700003, Branch: "master", Status: StatusAbandoned, Subject: "runtime: rank the windows callback lock", Link: link("700003")},
		}, "", ""},
		{"merged, in no release yet", idUnreleased, []CL{
			{Number: 700009, Branch: "master", Status: StatusMerged, Subject: "runtime: test the lock layer", Link: link("700009"),
				Votes: []Vote{{"Code-Review", 2}, {"LUCI-TryBot-Result", -1}}},
		}, "", ""},
		{"unknown: no change", idEmpty, nil, "", ""},
		{"unknown: 404", id404, nil, "", ""},
		{"500", id500, nil, "", "Gerrit answered 500 Internal Server Error"},
		{"included-in 404", idIn404, nil, "", "asking which releases hold go~master~" + idIn404 + ": Gerrit answered 404 Not Found"},
		{"not Gerrit", idNotGerrit, nil, "", "did not answer with Gerrit's JSON"},
	}
	c := New(srv.URL, 5*time.Second)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts, err := c.Lookup(context.Background(), []Patch{{Name: "0001-x.patch", ChangeID: tt.id, Stored: true}})
			if err != nil || len(sts) != 1 {
				t.Fatalf("Lookup: %v, %d statuses", err, len(sts))
			}
			s := sts[0]
			if tt.wantErr != "" {
				if s.Err == nil || !strings.Contains(s.Err.Error(), tt.wantErr) {
					t.Fatalf("Err = %v, want one with %q", s.Err, tt.wantErr)
				}
				return
			}
			if s.Err != nil {
				t.Fatalf("Err = %v", s.Err)
			}
			if !reflect.DeepEqual(s.CLs, tt.cls) {
				t.Errorf("CLs =\n%+v\nwant\n%+v", s.CLs, tt.cls)
			}
			if got := s.FirstRelease(); got != tt.first {
				t.Errorf("FirstRelease = %q, want %q", got, tt.first)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		want    string
	}{
		{"refused", gerrittest.Unreachable(t), 5 * time.Second, "connection refused"},
		{"no answer", gerrittest.Hanging(t), 200 * time.Millisecond, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.url, tt.timeout)
			ps := []Patch{{Name: "0001-a.patch", ChangeID: idMerged}, {Name: "0002-b.patch", ChangeID: idReview}}
			start := time.Now()
			sts, err := c.Lookup(context.Background(), ps)
			var ue *UnreachableError
			if !errors.As(err, &ue) {
				t.Fatalf("Lookup: %v, want an UnreachableError", err)
			}
			if len(sts) != 0 {
				t.Errorf("statuses before the first answer: %v", sts)
			}
			msg := err.Error()
			for _, w := range []string{"Gerrit at " + tt.url + " cannot be reached", tt.want, "-gerrit URL"} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			// One timeout, not one per patch.
			if d := time.Since(start); d > 2*tt.timeout+time.Second {
				t.Errorf("Lookup took %v", d)
			}
		})
	}
}

func TestReleases(t *testing.T) {
	tests := []struct {
		tags []string
		want []string
	}{
		{nil, nil},
		{[]string{"go1.27rc1", "go1.27beta1", "weekly.2011-01-01", "release.r60"}, nil},
		{[]string{"go1.27.10", "go1.27.2", "go1.27.0", "go1.27rc2"}, []string{"go1.27.0", "go1.27.2", "go1.27.10"}},
		{[]string{"go1.21.0", "go1.20.1", "go1.20", "go1.9.2"}, []string{"go1.9.2", "go1.20", "go1.20.1", "go1.21.0"}},
		{[]string{"refs/tags/go1.26.11", "go1.26.11"}, []string{"go1.26.11"}},
	}
	for _, tt := range tests {
		if got := releases(tt.tags); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("releases(%q) = %q, want %q", tt.tags, got, tt.want)
		}
	}
}

func TestReasons(t *testing.T) {
	srv := gerrittest.Serve(t, "testdata/gerrit.txtar")
	c := New(srv.URL, 5*time.Second)
	ps := []Patch{
		{Name: "0001-merged.patch", ChangeID: idMerged},
		{Name: "0002-review.patch", ChangeID: idReview},
		{Name: "0003-unreleased.patch", ChangeID: idUnreleased},
		{Name: "0004-unknown.patch", ChangeID: id404},
	}
	sts, err := c.Lookup(context.Background(), ps)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		release string
		want    map[string]string
	}{
		{"go1.27.4", map[string]string{"0001-merged.patch": "CL 700001 (" + srv.URL + "/c/go/+/700001) was merged into master, first released in go1.27.0, and go1.27.4 holds it"}},
		{"go1.26.11", map[string]string{"0001-merged.patch": "CL 700101 (" + srv.URL + "/c/go/+/700101) was merged into release-branch.go1.26, first released in go1.26.10, and go1.26.11 holds it"}},
		{"go1.26.9", map[string]string{}},
		{"go1.27.5", map[string]string{}}, // not in the recorded tags
	}
	for _, tt := range tests {
		if got := Reasons(sts, tt.release); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Reasons(%s) = %q, want %q", tt.release, got, tt.want)
		}
	}
}

func TestReport(t *testing.T) {
	srv := gerrittest.Serve(t, "testdata/gerrit.txtar")
	c := New(srv.URL, 5*time.Second)
	ps := []Patch{
		{Name: "0001-merged.patch", ChangeID: idMerged, Stored: true},
		{Name: "0002-review.patch", ChangeID: idReview, Stored: true},
		{Name: "0003-abandoned.patch", ChangeID: idAbandoned, Stored: true},
		{Name: "0004-unknown.patch", ChangeID: idEmpty},
		{Name: "0005-broken.patch", ChangeID: id500, Stored: true},
	}
	sts, err := c.Lookup(context.Background(), ps)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sum := Report(&b, sts)
	out := b.String()
	for _, w := range []string{
		"0001-merged.patch\n    Change-Id " + idMerged + "\n    CL 700001  master  merged  Code-Review +2, LUCI-TryBot-Result +1\n        " + srv.URL + "/c/go/+/700001\n        first released in go1.27.0\n",
		"    CL 700101  release-branch.go1.26  merged  Code-Review +2, LUCI-TryBot-Result +1\n",
		"    CL 700002  master  new (work in progress)  Code-Review -1, TryBot-Result +1\n",
		"    CL 700003  master  abandoned  no votes\n",
		"0004-unknown.patch\n    Change-Id " + idEmpty + ": derived, not stored in the patch (what unilock export mails; store it: unilock export -store)\n    not on Gerrit: no CL has this Change-Id",
		"0005-broken.patch\n    Change-Id " + id500 + "\n    not known: looking up " + id500 + ": Gerrit answered 500",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
	want := "5 patches: 1 merged upstream (0001 in go1.26.10), 1 under review, 1 abandoned, 1 not on Gerrit, 1 not known (Gerrit answered an error); 1 without a stored Change-Id (unilock export -store)"
	if sum != want {
		t.Errorf("summary\n%s\nwant\n%s", sum, want)
	}
}
