package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"unilock/internal/phase"
	"unilock/internal/review"
	"unilock/internal/series"
)

// defaultGerrit is the Gerrit that upstream and rebase ask; tests replace
// it, and "" asks none.
var defaultGerrit = review.DefaultURL

func runUpstream(env *Env, args []string) error {
	fs := newFlags("upstream", "[-gerrit URL]", `Ask Go's Gerrit where each patch in patches/ stands upstream, by its Change-Id: each CL
with that Change-Id (on master and any release branch), its link, its status (new, merged,
abandoned), its votes (Code-Review, LUCI-TryBot-Result, TryBot-Result), and for a merged CL
the first Go release that holds it. A patch without a Change-Id trailer is looked up by the
one unilock export derives and mails; store it with unilock export -store.`)
	url := fs.String("gerrit", defaultGerrit, "the Gerrit server to ask")
	timeout := fs.Duration("timeout", 30*time.Second, "the longest one request to Gerrit may take")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *url == "" {
		return fmt.Errorf("no Gerrit to ask: name one with -gerrit URL (Go's is %s)", review.DefaultURL)
	}
	ps, err := series.Load(env.Patches)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return fmt.Errorf("patches/ holds no patches")
	}
	rps, err := review.Patches(ps)
	if err != nil {
		return err
	}
	clock := phase.New(stdout)
	c := review.New(*url, *timeout)
	clock.Phase("asking %s about %s", c.URL, plural(len(rps), "patch"))
	sts, err := c.Lookup(context.Background(), rps)
	var ue *review.UnreachableError
	if errors.As(err, &ue) {
		// What is known without Gerrit: each patch's Change-Id.
		for _, p := range rps {
			how := "stored"
			if !p.Stored {
				how = "derived, not stored: unilock export -store"
			}
			fmt.Fprintf(stdout, "%s  Change-Id %s (%s)\n", p.Name, p.ChangeID, how)
		}
		return err
	}
	if err != nil {
		return err
	}
	sum := review.Report(stdout, sts)
	clock.Phase("%s", sum)
	return nil
}

// upstreamReasons asks Gerrit which of the patches named in names the
// release holds, for rebase to say why it drops them or why they conflict.
// A rebase never fails for it: a Gerrit that cannot be reached (or url "")
// only means no reasons, said in a phase line; the error is returned for
// the caller to stop asking.
func upstreamReasons(url string, ps []series.Patch, names []string, release string, clock *phase.Clock) (map[string]string, error) {
	if url == "" || len(names) == 0 {
		return nil, nil
	}
	var ask []series.Patch
	for _, p := range ps {
		for _, n := range names {
			if p.Name == n {
				ask = append(ask, p)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := review.New(url, 15*time.Second)
	if len(ask) == 1 {
		clock.Phase("asking %s whether %s holds the CL of %s", c.URL, release, ask[0].Name)
	} else {
		clock.Phase("asking %s whether %s holds the CL of each dropped or conflicting patch (%d)", c.URL, release, len(ask))
	}
	reasons, err := c.DroppedBy(ctx, ask, release)
	if err != nil {
		clock.Phase("could not ask Gerrit why (the rebase goes on without it): %v", err)
	}
	return reasons, err
}
