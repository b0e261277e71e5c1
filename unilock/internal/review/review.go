// Package review asks Go's Gerrit where each patch of the series stands
// upstream: the CLs that carry the patch's Change-Id, their status and
// votes, and, for a merged CL, the releases that hold it. A rebase uses it
// to say why a patch can be dropped.
//
// Changes are found with golang.org/x/build/gerrit, the client Go's own
// tools use. That client has no call for the "included in" endpoint
// (GET /changes/ID/in), so that one request is made here with net/http, with
// the same HTTP client, and Gerrit's XSSI prefix stripped the same way.
package review

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/build/gerrit"
	"golang.org/x/mod/semver"

	"unilock/internal/series"
)

// DefaultURL is Go's Gerrit.
const DefaultURL = "https://go-review.googlesource.com"

// Labels are the votes shown for a CL, in this order, when the CL has them:
// code review, and the trybots (LUCI's, and the older TryBot-Result on CLs
// from before LUCI).
var Labels = []string{"Code-Review", "LUCI-TryBot-Result", "TryBot-Result"}

// Client asks one Gerrit server.
type Client struct {
	URL     string // e.g. https://go-review.googlesource.com, no trailing slash
	Project string // the Gerrit project of the patches: "go"
	HTTP    *http.Client
	g       *gerrit.Client
}

// New returns a client of the Gerrit at url (DefaultURL when empty) for the
// project "go", with each request limited to timeout.
func New(url string, timeout time.Duration) *Client {
	if url == "" {
		url = DefaultURL
	}
	url = strings.TrimSuffix(url, "/")
	hc := &http.Client{Timeout: timeout}
	g := gerrit.NewClient(url, gerrit.NoAuth)
	g.HTTPClient = hc
	return &Client{URL: url, Project: "go", HTTP: hc, g: g}
}

// Patch is a patch of the series as Gerrit knows it: by its Change-Id.
type Patch struct {
	Name     string // the file in patches/
	Subject  string
	ChangeID string
	// Stored reports whether the Change-Id is a trailer in the patch. When
	// it is not, ChangeID is the one unilock export derives and mails.
	Stored bool
}

// Patches reads the Change-Id of each patch.
func Patches(ps []series.Patch) ([]Patch, error) {
	out := make([]Patch, 0, len(ps))
	for _, p := range ps {
		m, err := p.Parse()
		if err != nil {
			return nil, err
		}
		id, stored := m.ChangeID()
		out = append(out, Patch{Name: p.Name, Subject: m.Subject, ChangeID: id, Stored: stored})
	}
	return out, nil
}

// Change statuses, as printed.
const (
	StatusNew       = "new"
	StatusMerged    = "merged"
	StatusAbandoned = "abandoned"
)

// Vote is a label's standing on a CL: the strongest vote against it if
// there is one, else the strongest for it.
type Vote struct {
	Label string
	Value int
}

func (v Vote) String() string { return fmt.Sprintf("%s %+d", v.Label, v.Value) }

// CL is one change on Gerrit.
type CL struct {
	Number  int
	Branch  string // master, release-branch.go1.27, ...
	Status  string // StatusNew, StatusMerged or StatusAbandoned
	WIP     bool   // a new CL marked work in progress
	Subject string
	Link    string
	Votes   []Vote // of Labels, those with a vote
	// Releases are the Go releases (goX.Y.Z tags) that hold a merged CL,
	// lowest first; empty when merged but not yet released.
	Releases []string
}

// FirstRelease is the lowest release that holds the CL, or "".
func (c CL) FirstRelease() string {
	if len(c.Releases) == 0 {
		return ""
	}
	return c.Releases[0]
}

// Status is where one patch stands upstream.
type Status struct {
	Patch Patch
	// CLs are every CL with the patch's Change-Id in the project: the one on
	// master first, then its cherry-picks to release branches. None means
	// Gerrit has no CL with that Change-Id.
	CLs []CL
	// Err is why this patch could not be looked up (an HTTP error from
	// Gerrit); CLs is then empty.
	Err error
}

// FirstRelease is the lowest release that holds any of the patch's CLs, or
// "" when none is merged and released.
func (s Status) FirstRelease() string {
	var rels []string
	for _, c := range s.CLs {
		rels = append(rels, c.Releases...)
	}
	return lowest(rels)
}

// In returns the CL of the patch that release holds.
func (s Status) In(release string) (CL, bool) {
	for _, c := range s.CLs {
		if slices.Contains(c.Releases, release) {
			return c, true
		}
	}
	return CL{}, false
}

// UnreachableError is a Gerrit that did not answer: no route, no name, a
// refused connection, a timeout.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("Gerrit at %s cannot be reached: %v\n(check the network, or name another server with -gerrit URL)", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Lookup asks Gerrit about each patch. An error for one patch (Gerrit
// answering 500, say) is kept in its Status; a Gerrit that cannot be reached
// stops the lookup with an *UnreachableError, so that an offline machine
// waits for one timeout, not one per patch.
func (c *Client) Lookup(ctx context.Context, ps []Patch) ([]Status, error) {
	out := make([]Status, 0, len(ps))
	for _, p := range ps {
		cls, err := c.changes(ctx, p.ChangeID)
		var ue *UnreachableError
		if errors.As(err, &ue) {
			return out, err
		}
		out = append(out, Status{Patch: p, CLs: cls, Err: err})
	}
	return out, nil
}

// changes returns the CLs with Change-Id id.
func (c *Client) changes(ctx context.Context, id string) ([]CL, error) {
	q := "change:" + id
	if c.Project != "" {
		q += " project:" + c.Project
	}
	infos, err := c.g.QueryChanges(ctx, q, gerrit.QueryChangesOpt{Fields: []string{"DETAILED_LABELS"}})
	if err != nil {
		// Gerrit answers a query for an unknown Change-Id with no changes;
		// asked for the change itself it answers 404: the same thing.
		if errors.Is(err, gerrit.ErrResourceNotExist) {
			return nil, nil
		}
		return nil, c.explain(err, "looking up "+id)
	}
	var cls []CL
	for _, ci := range infos {
		cl := CL{
			Number:  ci.ChangeNumber,
			Branch:  ci.Branch,
			Status:  strings.ToLower(ci.Status),
			WIP:     ci.WorkInProgress,
			Subject: ci.Subject,
			Link:    fmt.Sprintf("%s/c/%s/+/%d", c.URL, ci.Project, ci.ChangeNumber),
			Votes:   votes(ci.Labels),
		}
		if ci.Status == gerrit.ChangeStatusMerged {
			ref := ci.ID
			if ref == "" {
				ref = url.PathEscape(ci.Project) + "~" + strconv.Itoa(ci.ChangeNumber)
			}
			tags, err := c.includedIn(ctx, ref)
			if err != nil {
				return nil, err
			}
			cl.Releases = releases(tags)
		}
		cls = append(cls, cl)
	}
	slices.SortStableFunc(cls, func(a, b CL) int {
		if (a.Branch == "master") != (b.Branch == "master") {
			if a.Branch == "master" {
				return -1
			}
			return 1
		}
		return a.Number - b.Number
	})
	return cls, nil
}

// includedInInfo is Gerrit's IncludedInInfo.
type includedInInfo struct {
	Branches []string `json:"branches"`
	Tags     []string `json:"tags"`
}

// includedIn returns the tags that hold the merged change ref.
func (c *Client) includedIn(ctx context.Context, ref string) ([]string, error) {
	u := c.URL + "/changes/" + ref + "/in"
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, c.explain(err, "asking which releases hold "+ref)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
		return nil, fmt.Errorf("asking which releases hold %s: Gerrit answered %s for %s: %s", ref, res.Status, u, strings.TrimSpace(string(body)))
	}
	var in includedInInfo
	if err := decodeJSON(res.Body, &in); err != nil {
		return nil, fmt.Errorf("asking which releases hold %s: %s did not answer with Gerrit's JSON: %v", ref, u, err)
	}
	return in.Tags, nil
}

// decodeJSON decodes a Gerrit JSON answer, which starts with the line )]}'
// so that a browser will not run it as script.
func decodeJSON(r io.Reader, v any) error {
	br := bufio.NewReader(r)
	first, err := br.ReadString('\n')
	if err != nil {
		return fmt.Errorf("no XSSI line: %v", err)
	}
	if strings.TrimSpace(first) != ")]}'" {
		return fmt.Errorf("starts with %q, not )]}'", strings.TrimSpace(first))
	}
	return json.NewDecoder(br).Decode(v)
}

// explain turns an error of a request to Gerrit into one that says what
// happened: unreachable, or what Gerrit answered.
func (c *Client) explain(err error, doing string) error {
	var he *gerrit.HTTPError
	if errors.As(err, &he) {
		return fmt.Errorf("%s: Gerrit answered %s for %s: %s", doing, he.Res.Status, he.Res.Request.URL, strings.TrimSpace(string(he.Body)))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &UnreachableError{URL: c.URL, Err: ue.Err}
	}
	return fmt.Errorf("%s: %s did not answer with Gerrit's JSON: %v", doing, c.URL, err)
}

// votes sums up each of Labels the CL has a vote on.
func votes(labels map[string]gerrit.LabelInfo) []Vote {
	var out []Vote
	for _, name := range Labels {
		li, ok := labels[name]
		if !ok {
			continue
		}
		lo, hi := 0, 0
		for _, a := range li.All {
			lo, hi = min(lo, a.Value), max(hi, a.Value)
		}
		switch {
		case lo < 0:
			out = append(out, Vote{name, lo})
		case hi > 0:
			out = append(out, Vote{name, hi})
		}
	}
	return out
}

// releaseRE is a Go release tag: go1.21.0 and later, or go1.20-style .0
// releases of before.
var releaseRE = regexp.MustCompile(`^go[0-9]+\.[0-9]+(\.[0-9]+)?$`)

// releases returns the Go release tags of tags, lowest first: no betas, no
// release candidates, no weekly.* or other tags.
func releases(tags []string) []string {
	var out []string
	for _, t := range tags {
		t = strings.TrimPrefix(t, "refs/tags/")
		if releaseRE.MatchString(t) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return semver.Compare(semverOf(a), semverOf(b)) })
	return slices.Compact(out)
}

func lowest(rels []string) string {
	rels = releases(rels)
	if len(rels) == 0 {
		return ""
	}
	return rels[0]
}

// semverOf maps go1.27.4 to v1.27.4 and go1.20 to v1.20.0.
func semverOf(release string) string {
	v := "v" + strings.TrimPrefix(release, "go")
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	return v
}

// Reasons says, for each patch with a CL that release holds, why a rebase
// onto release can drop it, by patch file name.
func Reasons(sts []Status, release string) map[string]string {
	out := map[string]string{}
	for _, s := range sts {
		cl, ok := s.In(release)
		if !ok {
			continue
		}
		out[s.Patch.Name] = fmt.Sprintf("CL %d (%s) was merged into %s, first released in %s, and %s holds it", cl.Number, cl.Link, cl.Branch, cl.FirstRelease(), release)
	}
	return out
}

// DroppedBy asks Gerrit which of ps release holds, and returns why each can
// be dropped (Reasons). A Gerrit that cannot be reached is an
// *UnreachableError, with the reasons found before it.
func (c *Client) DroppedBy(ctx context.Context, ps []series.Patch, release string) (map[string]string, error) {
	rps, err := Patches(ps)
	if err != nil {
		return nil, err
	}
	sts, err := c.Lookup(ctx, rps)
	return Reasons(sts, release), err
}
