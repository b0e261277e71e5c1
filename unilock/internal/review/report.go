package review

import (
	"fmt"
	"io"
	"strings"
)

// Report writes where each patch stands: its Change-Id (and, when the patch
// does not store it, how to store it), then each CL with its link, status,
// votes and first release. It returns the closing summary line.
func Report(w io.Writer, sts []Status) string {
	var merged, review, abandoned, missing, failed, derived int
	var firsts []string
	notFound := true
	for _, s := range sts {
		p := s.Patch
		fmt.Fprintf(w, "%s\n", p.Name)
		if p.Stored {
			fmt.Fprintf(w, "    Change-Id %s\n", p.ChangeID)
		} else {
			derived++
			fmt.Fprintf(w, "    Change-Id %s: derived, not stored in the patch (what unilock export mails; store it: unilock export -store)\n", p.ChangeID)
		}
		switch {
		case s.Err != nil:
			failed++
			notFound = false
			fmt.Fprintf(w, "    not known: %v\n", s.Err)
			continue
		case len(s.CLs) == 0:
			missing++
			fmt.Fprintf(w, "    not on Gerrit: no CL has this Change-Id (mail it: unilock export -onto CHECKOUT, then git codereview mail)\n")
			continue
		}
		notFound = false
		for _, cl := range s.CLs {
			status := cl.Status
			if cl.WIP && status == StatusNew {
				status += " (work in progress)"
			}
			votes := "no votes"
			if len(cl.Votes) > 0 {
				var vs []string
				for _, v := range cl.Votes {
					vs = append(vs, v.String())
				}
				votes = strings.Join(vs, ", ")
			}
			fmt.Fprintf(w, "    CL %d  %s  %s  %s\n", cl.Number, cl.Branch, status, votes)
			fmt.Fprintf(w, "        %s\n", cl.Link)
			if cl.Status == StatusMerged {
				if r := cl.FirstRelease(); r != "" {
					fmt.Fprintf(w, "        first released in %s\n", r)
				} else {
					fmt.Fprintf(w, "        in no release yet\n")
				}
			}
		}
		switch {
		case anyStatus(s.CLs, StatusMerged):
			merged++
			if r := s.FirstRelease(); r != "" {
				firsts = append(firsts, s.Patch.Name[:min(4, len(s.Patch.Name))]+" in "+r)
			}
		case anyStatus(s.CLs, StatusNew):
			review++
		default:
			abandoned++
		}
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	if merged > 0 && len(firsts) > 0 {
		add(merged, "merged upstream ("+strings.Join(firsts, "; ")+")")
	} else {
		add(merged, "merged upstream")
	}
	add(review, "under review")
	add(abandoned, "abandoned")
	add(missing, "not on Gerrit")
	add(failed, "not known (Gerrit answered an error)")
	noun := "patches"
	if len(sts) == 1 {
		noun = "patch"
	}
	sum := fmt.Sprintf("%d %s: %s", len(sts), noun, strings.Join(parts, ", "))
	if derived > 0 {
		sum += fmt.Sprintf("; %d without a stored Change-Id (unilock export -store)", derived)
	}
	if notFound && len(sts) > 1 {
		sum += "\nno patch has a CL there: if the series was mailed, check that -gerrit names Go's Gerrit"
	}
	return sum
}

func anyStatus(cls []CL, status string) bool {
	for _, c := range cls {
		if c.Status == status {
			return true
		}
	}
	return false
}
