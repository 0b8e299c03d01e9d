package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/docket-dev/docket"
)

// docket's two approval guarantees are checked here, at the moment user data leaves, inside
// the transaction that records it:
//
//   - no user data leaves without the approval of a second person (not the decider) that
//     covers exactly what leaves;
//   - no user data leaves on a case from an unverified e-mail sender before a person
//     recorded an independent verification of the sender (verify_sender).
//
// Every effect calls MayRelease: the disclose action (its action_requested), the recording
// of a built disclosure package (package_ready), each download of a package
// (package_downloaded) and an answer that carries data (answered). Whatever changes what an
// approval covers voids it (see record and scopeChange).

// Effects by which user data leaves docket.
const (
	EffectDisclose = "disclose" // a disclose action is asked for
	EffectPackage  = "package"  // a built disclosure package is recorded (and so offered)
	EffectDownload = "download" // a package is downloaded by the authority
	EffectAnswer   = "answer"   // an answer to a decision to comply on a disclosing case
)

// Effect is one release of user data: what it is and, for disclosures and packages, the
// target whose data leaves and the categories of data.
type Effect struct {
	Kind       string
	Target     *docket.Target
	Categories []string
}

// kindDiscloses reports whether a case of this kind under a regime that does (or does not)
// disclose hands user data over: a disclosure kind, or a kind left open ("other") under a
// regime whose requests ask for data.
func kindDiscloses(k docket.Kind, regimeDiscloses bool) bool {
	return k.Discloses() || (k == docket.KindOther && regimeDiscloses)
}

// Disclosing reports whether a case's decisions to comply hand user data over: the case is
// triaged as disclosing, or one of its requests asks for user data by its own kind.
func Disclosing(c *docket.Case, reqs []*docket.Request) bool {
	if c.Discloses {
		return true
	}
	for _, r := range reqs {
		if r.Body.Kind.Discloses() {
			return true
		}
	}
	return false
}

// CarriesData reports whether an answer on c now hands user data over: its decision is to
// comply (wholly or partly) and the case discloses.
func CarriesData(c *docket.Case, reqs []*docket.Request) bool {
	return c.Decision != nil && c.Decision.Outcome.Releases() && Disclosing(c, reqs)
}

// MayRelease is the one check every effect that hands user data over runs, on the case as
// the transaction tx that records the effect has just read it. It returns nil when the
// approval in effect was given by someone other than the decider and covers exactly this
// case (its requests, regime, kind and decision) and what leaves (target and categories),
// and when the sender, if unverified, was verified by a person.
func MayRelease(ctx context.Context, tx docket.Tx, c *docket.Case, eff Effect) error {
	reqs, err := tx.CaseRequests(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("check approval of case %s: %w", c.ID, err)
	}
	return mayRelease(c, reqs, eff)
}

// mayRelease is MayRelease on facts already read in the transaction.
func mayRelease(c *docket.Case, reqs []*docket.Request, eff Effect) error {
	if c.Sender == docket.SenderUnverified && c.SenderVerified == nil {
		return docket.Errorf(docket.ESTATE, "The request came from an unverified e-mail sender: no user data leaves before a person records an independent verification of the sender (verify_sender: a call-back to a known number, a supervisor).")
	}
	_, err := coveringApproval(c, reqs, eff)
	return err
}

// coveringApproval returns the coverage of the approval in effect on c when it covers eff,
// else an error that says what is missing.
func coveringApproval(c *docket.Case, reqs []*docket.Request, eff Effect) (*docket.Coverage, error) {
	d := c.Decision
	refuse := func(format string, args ...any) (*docket.Coverage, error) {
		return nil, docket.Errorf(docket.EFOUREYES, "User data leaves only with a second person's approval that covers it: "+format, args...)
	}
	switch {
	case d == nil:
		return refuse("the case has no decision.")
	case !d.Outcome.Releases():
		return refuse("the decision (%s) is not to comply.", d.Outcome)
	case d.ApprovedBy == "":
		return refuse("the decision has no approval in effect.")
	case d.ApprovedBy == d.DecidedBy:
		return refuse("the decision was approved by its own author.")
	case d.Coverage == nil:
		return refuse("the approval was recorded before approvals named what they cover: approve again.")
	}
	cov := d.Coverage
	if ids := requestIDs(reqs); !slices.Equal(ids, cov.Requests) {
		return refuse("the approval covers requests %s, the case now has %s.", strings.Join(cov.Requests, ", "), strings.Join(ids, ", "))
	}
	if cov.Regime != c.Regime || cov.Kind != c.Kind {
		return refuse("the approval covers regime %s, kind %s; the case is now %s, %s.", cov.Regime, cov.Kind, c.Regime, c.Kind)
	}
	if cov.Decision != docket.DecisionSHA256(d) {
		return refuse("the approval covers another decision.")
	}
	if eff.Target != nil && !slices.Contains(cov.Targets, *eff.Target) {
		return refuse("the approval does not cover %s %s.", eff.Target.Kind, eff.Target.Value)
	}
	for _, cat := range eff.Categories {
		if !slices.Contains(cov.Categories, cat) {
			return refuse("the approval does not cover %s data.", cat)
		}
	}
	return cov, nil
}

// requestIDs returns the sorted ids of reqs.
func requestIDs(reqs []*docket.Request) []string {
	ids := make([]string, 0, len(reqs))
	for _, r := range reqs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

// namedTargets returns the targets a case names: those of its triage and of its requests.
func namedTargets(c *docket.Case, reqs []*docket.Request) []docket.Target {
	var out []docket.Target
	add := func(ts []docket.Target) {
		for _, t := range ts {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	if c.Triage != nil {
		add(c.Triage.Targets)
	}
	for _, r := range reqs {
		add(r.Body.Targets)
	}
	return out
}

// coverage returns what an approval of c's decision given now covers: the case's requests,
// regime, kind and decision, and the targets and categories the approver named (by default
// every target the case names and every category).
func coverage(c *docket.Case, reqs []*docket.Request, a Action) *docket.Coverage {
	cov := &docket.Coverage{Requests: requestIDs(reqs), Regime: c.Regime, Kind: c.Kind,
		Decision: docket.DecisionSHA256(c.Decision), Targets: a.Targets, Categories: a.Categories}
	if len(cov.Targets) == 0 {
		cov.Targets = namedTargets(c, reqs)
	}
	if cov.Targets == nil {
		cov.Targets = []docket.Target{}
	}
	if len(cov.Categories) == 0 {
		cov.Categories = slices.Clone(docket.ExportCategories)
	}
	return cov
}

// scope is what an approval covers that an event may change.
type scope struct {
	regime    string
	kind      docket.Kind
	discloses bool
	targets   []docket.Target
}

func scopeOf(c *docket.Case) scope {
	s := scope{regime: c.Regime, kind: c.Kind, discloses: c.Discloses}
	if c.Triage != nil {
		s.targets = c.Triage.Targets
	}
	return s
}

// scopeChange says how event e, just applied to c, changed what the approval of c's
// decision covers (before is c's scope before e), or returns "".
func scopeChange(before scope, c *docket.Case, e *docket.Event) string {
	switch e.Type {
	case docket.EventRequestReceived:
		return "a request joined the case"
	case docket.EventMerged:
		return "another case was merged into this one"
	case docket.EventSplit:
		return "requests were split off the case"
	}
	after := scopeOf(c)
	switch {
	case before.regime != after.regime:
		return fmt.Sprintf("the regime changed from %s to %s", before.regime, after.regime)
	case before.kind != after.kind:
		return fmt.Sprintf("the kind changed from %s to %s", before.kind, after.kind)
	case before.discloses != after.discloses:
		return "the case now hands over user data"
	case !slices.Equal(before.targets, after.targets):
		return "the targets of the case changed"
	}
	return ""
}

// voidIfChanged records approval_voided when e, just applied to c, changed what the approval
// of its decision in effect covers, or made a decision in effect hand over user data: the
// decision then waits for an approval again.
func voidIfChanged(ctx context.Context, tx docket.Tx, c *docket.Case, e *docket.Event, before scope) error {
	d := c.Decision
	if d == nil || c.State != docket.StateDecided || !d.Outcome.Releases() {
		return nil
	}
	if d.ApprovedBy == "" && !c.Discloses {
		return nil // nothing was approved, and nothing needs to be
	}
	why := scopeChange(before, c, e)
	if why == "" {
		return nil
	}
	v := docket.NewEvent(c.ID, docket.EventApprovalVoided, e.Actor, e.At, docket.ApprovalVoided{Reason: why, Approval: d.ApprovalSeq})
	if err := tx.Append(ctx, v); err != nil {
		return err
	}
	if err := c.Apply(v); err != nil {
		return fmt.Errorf("record %s on case %s: %w", v.Type, c.ID, err)
	}
	return nil
}

// Releasable is MayRelease on facts the caller read outside a transaction: a refusal
// before work that would be wasted (the platform's export). It does not replace MayRelease
// in the transaction that records the effect.
func Releasable(c *docket.Case, reqs []*docket.Request, eff Effect) error {
	return mayRelease(c, reqs, eff)
}

// Download records that authority authorityID downloads package blob of case caseID, after
// checking, in the same transaction, that the package is the authority's and that the
// approval in effect covers the disclosure that built it. The caller sends the bytes only
// when it returns nil.
func (s *Service) Download(ctx context.Context, authorityID, caseID, blob string) error {
	return s.Change(ctx, caseID, docket.AuthorityActor(authorityID), func(tx docket.Tx, c *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
		if c.AuthorityID != authorityID {
			return notFound("package")
		}
		var built *docket.CaseAction
		for i := range c.Actions {
			if a := &c.Actions[i]; a.Op == docket.OpDisclose && a.Ref == blob && a.Status == docket.ActionDoneStatus {
				built = a
			}
		}
		found := slices.ContainsFunc(c.Packages, func(p docket.Package) bool { return p.Blob == blob })
		if built == nil || !found {
			return notFound("package")
		}
		if err := MayRelease(ctx, tx, c, Effect{Kind: EffectDownload, Target: &built.Target, Categories: built.Categories}); err != nil {
			return err
		}
		_, err := rec(docket.EventPackageDownloaded, docket.PackageDownloaded{Blob: blob})
		return err
	})
}
