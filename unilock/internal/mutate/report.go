package mutate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"unilock/internal/phase"
)

// caughtWord is the table's "caught" column.
func (r Result) caughtWord() string {
	if r.Caught {
		return "yes"
	}
	return "NO: " + string(r.Outcome)
}

func (r Result) inWord() string {
	switch r.Outcome {
	case Caught, TimedOut:
		return phase.Format(r.In)
	}
	return "-"
}

func (r Result) testWord() string {
	if r.Test == "" {
		return "-"
	}
	return r.Test
}

// Text writes the table: mutation, caught, by test, in, note.
func (rep *Report) Text(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "mutation\tcaught\tby test\tin\tnote\n")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Mutation, r.caughtWord(), r.testWord(), r.inWord(), oneLine(r.Note, 100))
	}
	tw.Flush()
	fmt.Fprintf(w, "%s; bound %s per test run (build time not counted); goroot/ at %.12s\n", rep.summary(), phase.Format(rep.Bound), rep.Commit)
}

func (rep *Report) summary() string {
	n := len(rep.Results) - len(rep.NotCaught())
	return fmt.Sprintf("%d of %d mutations caught", n, len(rep.Results))
}

// Markdown is the table as Markdown, with each mutation's description.
func (rep *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Mutation check\n\n")
	fmt.Fprintf(&b, "goroot/ at `%.12s`, %s, bound %s per test run (build time not counted), run %s, took %s.\n\n",
		rep.Commit, rep.summary(), phase.Format(rep.Bound), rep.Started.UTC().Format("2006-01-02 15:04 UTC"), phase.Format(rep.Elapsed))
	fmt.Fprintf(&b, "| mutation | caught | by test | in | note |\n|---|---|---|---|---|\n")
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.Mutation, r.caughtWord(), md(r.testWord()), r.inWord(), md(oneLine(r.Note, 200)))
	}
	if len(rep.Baseline) > 0 {
		fmt.Fprintf(&b, "\nBaseline (no mutation):\n\n")
		for _, r := range rep.Baseline {
			fmt.Fprintf(&b, "- `%s`: %s, %s, build %s, tests %s\n", r.Desc, r.Outcome, r.Note, phase.Format(r.Build), phase.Format(r.TestTime))
		}
	}
	fmt.Fprintf(&b, "\nThe mutations:\n\n")
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "- `%s` (%s): %s\n", r.Mutation, r.File, md(r.Desc))
	}
	return b.String()
}

// JSON is the report as indented JSON.
func (rep *Report) JSON() []byte {
	data, _ := json.MarshalIndent(rep, "", "\t")
	return append(data, '\n')
}

func md(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
