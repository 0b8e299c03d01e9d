package workflow

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/rules"
	"github.com/docket-dev/docket/sor"
)

// Automated action that people audit (issue 15, part 5): a routing rule whose condition reads
// the hash banks' matches may remove, restrict or suspend by itself. Its decision and its
// action on the platform are recorded like a person's, with a statement of reasons that says
// the detection and the decision were automated; a share of them (the rule's sample, and
// every match farther than its review_above) goes to a person's review; an overturn reverts
// the action through the connector with a corrected statement and counts against the rule,
// and a rule whose upheld share falls below its minimum is put in shadow mode by itself.

// ActReviewAutomation reviews an automated action (POST /api/v1/cases/{id}/events):
// Automated names it (the seq of its action_requested), Upheld says the verdict, Text why.
const ActReviewAutomation = "review_automation"

// defaultMinReviews is how many reviews a rule needs before its precision is judged.
const defaultMinReviews = 20

// ruleTally is what people's reviews said of a rule's automated decisions.
type ruleTally struct {
	mu    sync.Mutex
	byRul map[string]*tally
}

type tally struct{ reviews, overturned int }

// automatedAction returns the events of a rule's automated action on case c: the decision
// (by the rule), the action on the platform with its statement of reasons, and, when the
// case is sampled or the match is far, the review request. It returns nothing for a case that
// is not open, a policy case, or one that names nothing the action can act on.
func (s *Service) automatedAction(c *docket.Case, first *docket.Request, step rules.Step, now time.Time) ([]*docket.Event, error) {
	r := s.rules.Rule(step.Rule)
	// Only a public notice (by the notice form or API, or mailed to the abuse address), open,
	// that asks for no user data, is no policy case and no emergency: an authority's request
	// is never decided by a rule.
	notice := c.Channel == docket.ChannelNotice || (c.Kind == docket.KindNotice && c.AuthorityID == "")
	if r == nil || c.State != docket.StateOpen || !notice || c.Discloses || c.Policy || c.Emergency {
		return nil, nil
	}
	op := map[string]string{rules.ActionRemove: docket.OpRemove, rules.ActionRestrict: docket.OpRestrict, rules.ActionSuspend: docket.OpSuspend}[step.Action]
	target, ok := automationTarget(c, first, op)
	if !ok {
		return nil, nil
	}
	match := nearestMatch(c)
	actor := docket.Actor("system:rules")
	key := fmt.Sprintf("docket-%s-%d", c.ID, len(c.Actions)+1)
	facts := fmt.Sprintf("The %s matched %s in the hash bank %q (%s hash, distance %d, quality %d): known %s.",
		strings.TrimSpace(match.Filename+" attachment"), match.Hash, match.Bank, match.Kind, match.Distance, match.Quality, cmp.Or(match.Category, "content"))
	reasons := docket.StatementOfReasons{PUID: key, DecisionGround: r.Ground, LegalGround: r.LegalGround, Explanation: r.Explanation,
		Facts: truncate(facts, 5000), Category: match.DSACategory, AutomatedDetection: true, AutomatedDecision: "AUTOMATED_DECISION_FULLY",
		SourceType: sor.SourceArticle16}
	if c.TrustedFlagger != "" {
		reasons.SourceType = sor.SourceTrustedFlagger
	}
	if reasons.Category == "" && c.Triage != nil && strings.HasPrefix(c.Triage.Category, "STATEMENT_CATEGORY_") {
		reasons.Category = c.Triage.Category
	}
	if err := reasons.Complete(op, nil, nil); err != nil {
		return nil, fmt.Errorf("rule %s: its statement of reasons: %w", r.Name, err)
	}
	statement := fmt.Sprintf("Decided automatically by rule %s: known media (%s, distance %d).", r.Name, match.Bank, match.Distance)
	decided := docket.NewEvent(c.ID, docket.EventDecided, actor, now, docket.Decided{Decision: docket.Decision{
		Outcome: docket.OutcomeComply, Statement: statement, DecidedBy: "rules", DecidedAt: now}})
	requested := docket.NewEvent(c.ID, docket.EventActionRequested, actor, now, docket.ActionRequested{
		Op: op, Target: target, Statement: &reasons, Key: key, Rule: r.Name, RuleDef: RuleDef(r), Reason: statement})
	// The case is answered once the platform has confirmed the action (AnswerAutomated), or,
	// when sampled for review, once a person has reviewed it.
	return []*docket.Event{decided, requested}, nil
}

// reviewWhy says whether a rule's automated action on case c goes to a person's review:
// "distance" for a match farther than the rule's review_above, "sample" when the case falls
// in the rule's sample (by its id: the same case is always in or out), "" otherwise.
func reviewWhy(r *rules.Rule, c *docket.Case) string {
	if m := nearestMatch(c); r.ReviewAbove > 0 && m.Kind == "pdq" && m.Distance > r.ReviewAbove {
		return "distance"
	}
	h := fnv.New32a()
	h.Write([]byte(c.ID))
	if float64(h.Sum32()%10000) < r.Sample*10000 {
		return "sample"
	}
	return ""
}

// requestReviews sends to review the automated actions of c just requested that the rules
// sample: called after their events are recorded (an action's seq is known then).
func (s *Service) requestReviews(ctx context.Context, tx docket.Tx, c *docket.Case, events []*docket.Event, now time.Time) error {
	for _, e := range events {
		if e.Type != docket.EventActionRequested {
			continue
		}
		a := c.Action(e.Seq)
		if a == nil || a.Rule == "" {
			continue
		}
		r := s.rules.Rule(a.Rule)
		if r == nil {
			continue
		}
		if why := reviewWhy(r, c); why != "" {
			if err := record(ctx, tx, c, docket.NewEvent(c.ID, docket.EventReviewRequested, docket.Actor("system:rules"), now,
				docket.ReviewRequested{Action: e.Seq, Rule: a.Rule, Why: why})); err != nil {
				return err
			}
		}
	}
	return nil
}

// automationTarget is what an automated op acts on: for content, the first message the case
// names (else a link, else a channel); for an account, the first handle (else a channel).
// The targets are the triage's, or the first request's own when the case is not triaged yet.
func automationTarget(c *docket.Case, first *docket.Request, op string) (docket.Target, bool) {
	var targets []docket.Target
	if c.Triage != nil {
		targets = c.Triage.Targets
	}
	if len(targets) == 0 && first != nil {
		targets = first.Body.Targets
	}
	order := []string{"message", "url", "channel"}
	if op == docket.OpSuspend {
		order = []string{"username", "channel"}
	}
	for _, kind := range order {
		for _, t := range targets {
			if t.Kind == kind {
				return t, true
			}
		}
	}
	return docket.Target{}, false
}

// RuleDef identifies a rule's definition (its condition and action): reviews count against
// a definition, and a rule rewritten starts afresh.
func RuleDef(r *rules.Rule) string {
	sum := sha256.Sum256([]byte(r.When + "\x00" + r.Action))
	return hex.EncodeToString(sum[:8])
}

// nearestMatch is the case's match nearest its bank's hash.
func nearestMatch(c *docket.Case) docket.MediaMatch {
	var best docket.MediaMatch
	for i, m := range c.MediaMatches() {
		if i == 0 || m.Distance < best.Distance {
			best = m
		}
	}
	return best
}

func checkReviewAutomation(_ *docket.User, a Action) error {
	switch {
	case a.Automated <= 0:
		return required(a, "automated")
	case a.Upheld == nil:
		return required(a, "upheld")
	case strings.TrimSpace(a.Text) == "":
		return required(a, "text")
	}
	return nil
}

// reviewAutomation records a person's review of an automated action, in one transaction:
// automation_reviewed (whose application refuses anyone but a person, and an action that
// awaits no review); when overturned, the action that reverts it on the platform (restore,
// reinstate) with a corrected statement of reasons; and, when the rule's upheld share falls
// below its minimum, the rule put in shadow mode (rule_shadowed).
func (s *Service) reviewAutomation(ctx context.Context, u *docket.User, caseID string, act Action) (*docket.Case, *docket.Event, error) {
	var c *docket.Case
	var ev *docket.Event
	var shadowed *docket.RuleShadowed
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		shadowed = nil
		var err error
		c, err = tx.Case(ctx, caseID)
		if isNotFound(err) {
			return notFound("case")
		} else if err != nil {
			return err
		}
		orig := c.Action(act.Automated)
		if orig == nil || orig.Rule == "" {
			return docket.Errorf(docket.EINVALID, "Action %d is no automated action of case %s.", act.Automated, caseID)
		}
		if c.Policy && u.Role != docket.RolePolicy {
			return docket.Errorf(docket.EFORBIDDEN, "This case is in the policy queue: only a policy reviewer may review its automated action.")
		}
		if orig.Review != docket.ReviewPending {
			return docket.Errorf(docket.ESTATE, "Action %d awaits no review (%s).", act.Automated, cmp.Or(orig.Review, "not sampled"))
		}
		if !*act.Upheld && orig.Status != docket.ActionDoneStatus {
			return docket.Errorf(docket.ESTATE, "Action %d is %s: overturn it once the platform has confirmed it, so that the revert follows it.", act.Automated, orig.Status)
		}
		actor := docket.UserActor(u.ID)
		now := s.Now().Truncate(time.Microsecond)
		rule := orig.Rule
		ev = docket.NewEvent(c.ID, docket.EventAutomationReviewed, actor, now, docket.AutomationReviewed{
			Action: orig.Seq, Rule: rule, RuleDef: orig.RuleDef, Upheld: *act.Upheld, Reasons: strings.TrimSpace(act.Text)})
		if err := record(ctx, tx, c, ev); err != nil {
			return err
		}
		orig = c.Action(act.Automated)
		if !*act.Upheld && orig.RevertedBy == 0 && c.Reverting(orig.Seq) == nil && docket.RevertOp(orig.Op) != "" {
			key := fmt.Sprintf("docket-%s-%d", c.ID, len(c.Actions)+1)
			st := *orig.Statement
			st.PUID = key
			st.DecisionVisibility, st.DecisionAccount, st.TerritorialScope, st.EndDate = nil, "", nil, nil
			st.AutomatedDetection, st.AutomatedDecision = true, "AUTOMATED_DECISION_PARTIALLY"
			st.Explanation = truncate(fmt.Sprintf("The automated decision %s was reviewed by a person and overturned on %s: %s",
				orig.Statement.PUID, now.Format("2006-01-02"), strings.TrimSpace(act.Text)), 2000)
			st.Facts = truncate(fmt.Sprintf("The %s of decision %s is lifted.", orig.Op, orig.Statement.PUID), 5000)
			d := docket.ActionRequested{Op: docket.RevertOp(orig.Op), Target: orig.Target, Statement: &st, Key: key,
				Reverts: orig.Seq, Overturn: ev.Seq, Reason: "automated decision overturned on review"}
			e := docket.NewEvent(c.ID, docket.EventActionRequested, actor, now, d)
			if err := record(ctx, tx, c, e); err != nil {
				return err
			}
			if err := s.followUp(ctx, tx, c, e, c.Emergency); err != nil {
				return err
			}
		}
		if err := AnswerAutomated(c, func(typ docket.EventType, data any) (*docket.Event, error) {
			e := docket.NewEvent(c.ID, typ, actor, now, data)
			return e, record(ctx, tx, c, e)
		}); err != nil {
			return err
		}
		if r := s.rules.Rule(rule); r != nil && r.MinPrecision > 0 && !r.InShadow() && RuleDef(r) == orig.RuleDef {
			t := s.tally.get(rule + "/" + orig.RuleDef)
			t.reviews++
			if !*act.Upheld {
				t.overturned++
			}
			need := r.MinReviews
			if need == 0 {
				need = defaultMinReviews
			}
			if p := float64(t.reviews-t.overturned) / float64(t.reviews); t.reviews >= need && p < r.MinPrecision {
				shadowed = &docket.RuleShadowed{Rule: rule, When: r.When, Action: r.Action, Reviews: t.reviews, Overturned: t.overturned, Precision: p, Minimum: r.MinPrecision}
				if err := tx.Append(ctx, docket.NewEvent("", docket.EventRuleShadowed, docket.Actor("system:rules"), now, shadowed)); err != nil {
					return err
				}
			}
		}
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s on case %s: %w", act.Type, caseID, err)
	}
	if a := c.Action(act.Automated); a != nil {
		s.tally.add(a.Rule+"/"+a.RuleDef, *act.Upheld, shadowed != nil)
	}
	if shadowed != nil && s.rules.ForceShadow(shadowed.Rule) {
		s.log.WarnContext(ctx, "rule put in shadow mode: people overturned too many of its automated decisions",
			slog.String("rule", shadowed.Rule), slog.Int("reviews", shadowed.Reviews), slog.Int("overturned", shadowed.Overturned))
	}
	s.wake()
	return c, ev, nil
}

// get returns a rule's counts since it was last put in shadow mode.
func (t *ruleTally) get(rule string) tally {
	t.mu.Lock()
	defer t.mu.Unlock()
	if x := t.byRul[rule]; x != nil {
		return *x
	}
	return tally{}
}

// add counts one review of rule's decisions; shadowed starts the counts afresh.
func (t *ruleTally) add(rule string, upheld, shadowed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byRul == nil {
		t.byRul = map[string]*tally{}
	}
	x := t.byRul[rule]
	if x == nil {
		x = &tally{}
		t.byRul[rule] = x
	}
	if shadowed {
		*x = tally{}
		return
	}
	x.reviews++
	if !upheld {
		x.overturned++
	}
}

// LoadAutomationReviews counts people's reviews of each rule's automated decisions from the
// log (since the rule was last put in shadow mode), and puts back in shadow mode the rules
// the log shadowed that are loaded unchanged (same condition and action): a rule its
// operator rewrote starts afresh. Serve calls it at start.
func (s *Service) LoadAutomationReviews(ctx context.Context) error {
	shadow := map[string]*docket.RuleShadowed{}
	err := s.store.ScanAutomationReviews(ctx, func(e *docket.Event) error {
		switch e.Type {
		case docket.EventAutomationReviewed:
			var d docket.AutomationReviewed
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return fmt.Errorf("event %d: %w", e.Seq, err)
			}
			s.tally.add(d.Rule+"/"+d.RuleDef, d.Upheld, false)
		case docket.EventRuleShadowed:
			var d docket.RuleShadowed
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return fmt.Errorf("event %d: %w", e.Seq, err)
			}
			if r := s.rules.Rule(d.Rule); r != nil {
				s.tally.add(d.Rule+"/"+RuleDef(&rules.Rule{When: d.When, Action: d.Action}), false, true)
			}
			shadow[d.Rule] = &d
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load automation reviews: %w", err)
	}
	for name, d := range shadow {
		if r := s.rules.Rule(name); r != nil && r.When == d.When && r.Action == d.Action {
			s.rules.ForceShadow(name)
		}
	}
	return nil
}

// AnswerAutomated records the answer of a case a rule decided, once nothing of it is left
// to happen: every action confirmed (or failed for good) and no review pending. rec records
// an event on the case in the caller's transaction. It does nothing on other cases.
func AnswerAutomated(c *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
	if c.State != docket.StateDecided || c.Decision == nil || c.Decision.DecidedBy != "rules" || c.PendingActions() > 0 {
		return nil
	}
	for _, a := range c.Actions {
		if a.Review == docket.ReviewPending {
			return nil
		}
	}
	d := docket.Answered{Text: c.Decision.Statement}
	if sums := ActionSummaries(c); len(sums) > 0 {
		d.Actions = sums
	}
	_, err := rec(docket.EventAnswered, d)
	return err
}
