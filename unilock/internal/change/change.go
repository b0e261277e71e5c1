// Package change holds what Go's Gerrit expects of a change: the commit
// message conventions of go.dev/wiki/CommitMessage, checked by Lint, and the
// Change-Id trailer that ties a commit to its review across re-uploads.
package change

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLine is the longest subject, and the width body text wraps at, that
// go.dev/wiki/CommitMessage asks for.
const MaxLine = 76

// Problem is one way a message breaks the conventions.
type Problem struct {
	Line int // 1-based line of the message
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

var (
	subjectRE = regexp.MustCompile(`^([a-zA-Z0-9_./{}*-]+(?:, ?[a-zA-Z0-9_./{}*-]+)*): (.*)$`)
	// issueRE is a well-formed issue line.
	issueRE = regexp.MustCompile(`^(Fixes|Updates|For) ((golang/[a-z]+)?#\d+)(, ((golang/[a-z]+)?#\d+))*\.?$`)
	// issueLike catches lines meant as issue references.
	issueLike    = regexp.MustCompile(`(?i)^(fix(es|ed)?|updates?|for|close[sd]?|resolve[sd]?|refs?)\b:?\s*(golang/[a-z]+)?#\d+`)
	changeIDRE   = regexp.MustCompile(`^Change-Id: I[0-9a-f]{40}$`)
	trailerRE    = regexp.MustCompile(`^[A-Z][A-Za-z-]*: \S`)
	markdownLink = regexp.MustCompile(`\[[^\]]+\]\((https?://|/)[^)]*\)`)
)

// Lint checks a commit message (subject, blank line, body, trailers) against
// Go's conventions. It also asks for a body: this fork's patches say why.
func Lint(msg string) []Problem {
	var ps []Problem
	add := func(line int, format string, args ...any) {
		ps = append(ps, Problem{line, fmt.Sprintf(format, args...)})
	}
	lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
	subject := lines[0]
	m := subjectRE.FindStringSubmatch(subject)
	switch {
	case subject == "":
		add(1, "empty subject")
	case m == nil:
		add(1, "subject %q does not start with the package path and a colon, like \"runtime: fix the frob\"", subject)
	default:
		summary := m[2]
		r, _ := utf8.DecodeRuneInString(summary)
		if unicode.IsUpper(r) {
			add(1, "the summary after %q starts with a capital: the verb after the colon is lowercase", m[1]+":")
		}
		if summary == "" {
			add(1, "no summary after the colon")
		}
	}
	if strings.HasSuffix(subject, ".") {
		add(1, "subject ends with a period")
	}
	if n := utf8.RuneCountInString(subject); n > MaxLine {
		add(1, "subject is %d characters; keep it under %d", n, MaxLine)
	}
	if len(lines) == 1 {
		add(1, "no body: say why the change is needed (and what was measured)")
		return ps
	}
	if lines[1] != "" {
		add(2, "the subject must be followed by a blank line")
	}

	// The trailer block: the last paragraph, if every line is a trailer.
	end := len(lines)
	start := end
	for start > 1 && lines[start-1] != "" && trailerRE.MatchString(lines[start-1]) && !issueLike.MatchString(lines[start-1]) {
		start--
	}
	if start == end || lines[start-1] != "" {
		start = end // no trailer paragraph
	}
	ids := 0
	for i := start; i < end; i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "Change-Id:"):
			ids++
			if !changeIDRE.MatchString(l) {
				add(i+1, "malformed Change-Id %q: want \"Change-Id: I\" and 40 hex digits", l)
			}
		case strings.HasPrefix(l, "Signed-off-by:"):
			add(i+1, "Go does not use Signed-off-by lines; remove it")
		}
	}
	if ids > 1 {
		add(start+1, "%d Change-Id lines; a change has one", ids)
	}

	body := 0
	inFence := false
	first := 2
	if lines[1] != "" {
		first = 1
	}
	for i := first; i < start; i++ {
		l := lines[i]
		n := i + 1
		if strings.TrimSpace(l) != "" && !issueRE.MatchString(l) {
			body++
		}
		switch {
		case strings.HasPrefix(strings.TrimSpace(l), "```"):
			if !inFence {
				add(n, "no Markdown: a ``` code fence; indent code by a tab instead")
			}
			inFence = !inFence
		case strings.HasPrefix(l, "#") && len(l) > 1 && (l[1] == ' ' || l[1] == '#'):
			add(n, "no Markdown: a heading %q", l)
		case strings.Contains(l, "**"):
			add(n, "no Markdown: bold text in %q", l)
		case markdownLink.MatchString(l):
			add(n, "no Markdown: a [link](url); write the URL alone")
		}
		if issueLike.MatchString(l) && !issueRE.MatchString(l) {
			add(n, "issue line %q: write \"Fixes #nnnn\", \"Updates #nnnn\" or \"For #nnnn\" (no colon; no other verbs)", l)
		}
		if issueRE.MatchString(l) && i > 2 && lines[i-1] != "" && !issueRE.MatchString(lines[i-1]) {
			add(n, "the %s line goes after the body, with a blank line before it", strings.Fields(l)[0])
		}
		if c := utf8.RuneCountInString(l); c > MaxLine && !longLineOK(l) {
			add(n, "body line is %d characters; wrap at %d (longer only for indented tables, code or a long link)", c, MaxLine)
		}
	}
	if body == 0 {
		add(3, "no body: say why the change is needed (and what was measured)")
	}
	return ps
}

// longLineOK reports whether a body line may pass the wrap width: indented
// text (tables, code, benchstat output) and lines with a URL or one unbroken
// token.
func longLineOK(l string) bool {
	return strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") ||
		strings.Contains(l, "://") || !strings.Contains(strings.TrimSpace(l), " ")
}

// ID returns the message's Change-Id trailer, or "".
func ID(msg string) string {
	for _, l := range strings.Split(msg, "\n") {
		if changeIDRE.MatchString(l) {
			return strings.TrimPrefix(l, "Change-Id: ")
		}
	}
	return ""
}

// DeriveID derives a Change-Id from what identifies a patch for as long as it
// lives: its author, its author date and its subject. The same patch derives
// the same Change-Id on every export; storing it in the message (WithID)
// keeps it when the subject is later edited.
func DeriveID(author, date, subject string) string {
	h := sha1.Sum([]byte("unilock change\n" + author + "\n" + date + "\n" + subject + "\n"))
	return "I" + hex.EncodeToString(h[:])
}

// WithID returns msg with the Change-Id trailer id, added to its trailer
// paragraph (or as a new one). A message that has a Change-Id keeps it.
func WithID(msg, id string) string {
	if ID(msg) != "" {
		return msg
	}
	msg = strings.TrimRight(msg, "\n")
	lines := strings.Split(msg, "\n")
	last := lines[len(lines)-1]
	line := "Change-Id: " + id
	if len(lines) > 2 && trailerRE.MatchString(last) && !issueRE.MatchString(last) {
		return msg + "\n" + line + "\n"
	}
	return msg + "\n\n" + line + "\n"
}
