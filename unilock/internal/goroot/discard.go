package goroot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DiscardedPrefix starts the name of a folder beside goroot/ that holds a
// tree a forced remake replaced while it held work: goroot.discarded-DATE.
const DiscardedPrefix = ".discarded-"

// Discard is the work a forced remake moved aside: the whole old tree,
// renamed, as it was (commits, uncommitted and untracked files, branches,
// stashes, build output).
type Discard struct {
	Dir      string // where the old tree is now
	Work     Work   // what it held that patches/ did not
	Foreign  bool   // the tree was not made by unilock: all of it is work
	FromHead string // the commit the work starts after ("" when unknown)
}

// workToDiscard returns what a forced remake would discard, or nil when the
// tree holds nothing that is not in patches/.
func (t Tree) workToDiscard() (*Discard, error) {
	st, err := t.LoadState()
	if err != nil {
		return &Discard{Foreign: true}, nil
	}
	w, err := t.LocalWork(st)
	if err != nil {
		// A tree git cannot read is kept whole, as one that was not
		// made here.
		return &Discard{Foreign: true}, nil
	}
	if w.Empty() {
		return nil, nil
	}
	d := &Discard{Work: w, FromHead: st.Head}
	if w.Rewritten {
		d.FromHead = st.Base
	}
	return d, nil
}

// discardedName is the folder beside dir that discarded work goes to.
func discardedName(dir string, now func() time.Time) string {
	if now == nil {
		now = time.Now
	}
	name := dir + DiscardedPrefix + now().UTC().Format("20060102-150405")
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); os.IsNotExist(err) {
			return name
		}
		name = fmt.Sprintf("%s%s%s-%d", dir, DiscardedPrefix, now().UTC().Format("20060102-150405"), i)
	}
}

// String says what was moved and how to get it back, with commands run from
// the directory that holds goroot/.
func (d *Discard) String() string {
	old := filepath.Base(d.Dir)
	var b strings.Builder
	if d.Foreign {
		fmt.Fprintf(&b, "--force: goroot/ was not made by unilock (or git cannot read it); moved it aside whole, nothing deleted: %s/\n", old)
	} else {
		fmt.Fprintf(&b, "--force: goroot/ held work that is not in patches/; moved it aside, nothing deleted: %s/ (the whole old tree, as it was)\n", old)
		fmt.Fprintf(&b, "%s\n", indent(d.Work.String()))
	}
	b.WriteString("get it back:\n")
	if len(d.Work.Commits) > 0 {
		pick := fmt.Sprintf("%.12s..FETCH_HEAD", d.FromHead)
		note := ""
		if d.Work.Rewritten {
			note = "   (history was rewritten: the range starts at the base; pick the commits you want)"
		}
		fmt.Fprintf(&b, "\tits commits onto the new tree:  git -C goroot fetch ../%s HEAD && git -C goroot cherry-pick %s%s\n", old, pick, note)
	}
	if len(d.Work.Dirty) > 0 || d.Foreign {
		fmt.Fprintf(&b, "\tits uncommitted edits:         git -C %s diff HEAD | git -C goroot apply --3way   (copy the untracked files git -C %s status lists)\n", old, old)
	}
	fmt.Fprintf(&b, "\tthe old tree as it was:        rm -rf goroot && mv %s goroot\n", old)
	fmt.Fprintf(&b, "once nothing in it is needed:   rm -rf %s   (unilock status lists it)", old)
	return b.String()
}
