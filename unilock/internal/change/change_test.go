package change

import (
	"strings"
	"testing"
)

const good = `runtime: implement notes once for every OS

Every OS with threads now runs one implementation of notes, on the
semaphore contract.

	benchmark      old     new
	ChanContended  4.1µs   4.0µs

Fixes #12345
For golang/go#678

Change-Id: I0123456789abcdef0123456789abcdef01234567
`

func TestLint(t *testing.T) {
	long := strings.Repeat("word ", 17) // 85 characters
	tests := []struct {
		name string
		msg  string
		want string // substring of the one expected problem; "" for none
	}{
		{"good", good, ""},
		{"no trailers", "runtime: do a thing\n\nBecause.\n", ""},
		{"two packages", "runtime, sync: do a thing\n\nBecause.\n", ""},
		{"no package", "Do a thing\n\nBecause.\n", "does not start with the package path"},
		{"capital", "runtime: Implement notes\n\nBecause.\n", "starts with a capital"},
		{"period", "runtime: implement notes.\n\nBecause.\n", "ends with a period"},
		{"long subject", "runtime: " + long + "\n\nBecause.\n", "subject is 94 characters"},
		{"no blank line", "runtime: do a thing\nBecause.\n", "followed by a blank line"},
		{"no body", "runtime: do a thing\n", "no body"},
		{"only trailers", "runtime: do a thing\n\nChange-Id: I0123456789abcdef0123456789abcdef01234567\n", "no body"},
		{"long body line", "runtime: do a thing\n\n" + long + "\n", "body line is 85 characters"},
		{"indented table may be long", "runtime: do a thing\n\nWhy.\n\n\t" + long + "\n", ""},
		{"long link", "runtime: do a thing\n\nSee https://example.com/" + strings.Repeat("x", 80) + "\n", ""},
		{"fence", "runtime: do a thing\n\nWhy.\n\n```\ncode\n```\n", "code fence"},
		{"heading", "runtime: do a thing\n\n## Why\n\nBecause.\n", "heading"},
		{"bold", "runtime: do a thing\n\nThis is **important**.\n", "bold"},
		{"link", "runtime: do a thing\n\nSee [the doc](https://go.dev/doc).\n", "[link](url)"},
		{"fixes colon", "runtime: do a thing\n\nWhy.\n\nFixes: #123\n", "issue line"},
		{"closes", "runtime: do a thing\n\nWhy.\n\nCloses #123\n", "issue line"},
		{"fixes in body", "runtime: do a thing\n\nWhy.\nFixes #123\n", "goes after the body"},
		{"signed off", "runtime: do a thing\n\nWhy.\n\nSigned-off-by: A <a@b>\n", "Signed-off-by"},
		{"bad change id", "runtime: do a thing\n\nWhy.\n\nChange-Id: I123\n", "malformed Change-Id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := Lint(tt.msg)
			if tt.want == "" {
				if len(ps) > 0 {
					t.Errorf("Lint: %v, want no problems", ps)
				}
				return
			}
			if len(ps) != 1 || !strings.Contains(ps[0].Msg, tt.want) {
				t.Errorf("Lint: %v, want one problem containing %q", ps, tt.want)
			}
		})
	}
}

func TestChangeID(t *testing.T) {
	a := DeriveID("A <a@example.com>", "Mon, 1 Jan 2026 00:00:00 +0000", "runtime: do a thing")
	b := DeriveID("A <a@example.com>", "Mon, 1 Jan 2026 00:00:00 +0000", "runtime: do a thing")
	c := DeriveID("A <a@example.com>", "Mon, 1 Jan 2026 00:00:00 +0000", "runtime: do another thing")
	if a != b || a == c || !changeIDRE.MatchString("Change-Id: "+a) {
		t.Fatalf("DeriveID: %s, %s, %s; want equal for equal inputs, different otherwise, well-formed", a, b, c)
	}
	tests := []struct{ in, want string }{
		{"runtime: x\n\nWhy.\n", "runtime: x\n\nWhy.\n\nChange-Id: " + a + "\n"},
		{"runtime: x\n\nWhy.\n\nFixes #1\n", "runtime: x\n\nWhy.\n\nFixes #1\n\nChange-Id: " + a + "\n"},
		{"runtime: x\n\nWhy.\n\nReviewed-by: B <b@c>\n", "runtime: x\n\nWhy.\n\nReviewed-by: B <b@c>\nChange-Id: " + a + "\n"},
		{good, good},
	}
	for _, tt := range tests {
		got := WithID(tt.in, a)
		if got != tt.want {
			t.Errorf("WithID(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if ID(got) == "" || len(Lint(got)) != 0 {
			t.Errorf("WithID(%q): ID %q, lint %v", tt.in, ID(got), Lint(got))
		}
	}
}
