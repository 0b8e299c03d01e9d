package workflow

import (
	"cmp"
	"context"
	"fmt"
	"github.com/docket-dev/docket/grounds"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docket-dev/docket"
)

// Action types staff may take on a case (POST /api/v1/cases/{id}/events).
const (
	ActAssign  = "assign"
	ActComment = "comment"
	ActDecide  = "decide"
	ActApprove = "approve"
	ActReject  = "reject"
	ActAnswer  = "answer"
	// ActRetriage corrects automatic triage.
	ActRetriage = "retriage"
	// ActVerifySender records that a person verified an e-mail's sender independently.
	ActVerifySender = "verify_sender"
)

// JobMailAnswer sends a case's answer by e-mail to the sender of the mail that opened it.
const JobMailAnswer = "mail.answer"

// MailAnswer is the payload of a JobMailAnswer job: the answered event to send.
type MailAnswer struct {
	CaseID string `json:"case_id"`
	Seq    int64  `json:"seq"`
}

// Methods of independent sender verification (ActVerifySender).
var verifyMethods = []string{"callback", "supervisor", "in_person", "other"}

// Action is one thing a staff member does to a case.
type Action struct {
	Type string `json:"type"`
	// Assignee is a user id; empty assigns the acting user (assign).
	Assignee string `json:"assignee,omitempty"`
	// Text is the comment (comment), the answer (answer) or the reason (reject).
	Text       string         `json:"text,omitempty"`
	Outcome    docket.Outcome `json:"outcome,omitempty"`
	ReasonCode string         `json:"reason_code,omitempty"`
	// Statement is the decision's text; empty, the decision table's statement for the
	// reason code (or the outcome) in the case's language.
	Statement string `json:"statement,omitempty"`
	// Policy is the policy a decision on a policy case relies on (required there).
	Policy string `json:"policy,omitempty"`
	// Retriage: the corrected triage (any of these); Text says why.
	Regime    string      `json:"regime,omitempty"`
	Kind      docket.Kind `json:"kind,omitempty"`
	Emergency *bool       `json:"emergency,omitempty"`
	Spam      *bool       `json:"spam,omitempty"`
	Label     string      `json:"label,omitempty"`
	Category  string      `json:"category,omitempty"`
	Queue     string      `json:"queue,omitempty"`
	Priority  *int        `json:"priority,omitempty"`
	// Method is how the sender was verified (verify_sender): callback, supervisor,
	// in_person or other; Text says who was reached and how.
	Method string `json:"method,omitempty"`

	// Actions on the platform (remove, restrict, suspend, terminate, preserve, disclose,
	// notify_user, report_threat): the target; where (restrict) and until when; the
	// statement of reasons (content actions); categories and date range (disclose); the
	// country to alert (report_threat; default the account's). Text is the reason for
	// suspicion (report_threat) or why (extend_hold).
	Target     *docket.Target             `json:"target,omitempty"`
	Countries  []string                   `json:"countries,omitempty"`
	Until      *docket.Time               `json:"until,omitempty"`
	Reasons    *docket.StatementOfReasons `json:"statement_of_reasons,omitempty"`
	Categories []string                   `json:"categories,omitempty"`
	From       *docket.Time               `json:"from,omitempty"`
	To         *docket.Time               `json:"to,omitempty"`
	Country    string                     `json:"country,omitempty"`
	// Hold is the seq of the hold_placed event to extend (extend_hold).
	Hold int64 `json:"hold,omitempty"`
	// Case is the case to merge into this one (merge); Requests the requests to split off
	// into a new case (split). Text is an optional note.
	Case     string   `json:"case,omitempty"`
	Requests []string `json:"requests,omitempty"`
	// Targets and Categories (approve) are the targets whose data and the categories of
	// data the approval covers; by default every target the case names and every category.
	Targets []docket.Target `json:"targets,omitempty"`
	// Appeal is the seq of the appeal_received event of the appeal decided (decide_appeal,
	// with Outcome upheld or rejected and Text the reasons).
	Appeal int64 `json:"appeal,omitempty"`
	// Automated is the seq of the automated action a review_automation reviews; Upheld
	// says whether the reviewer upholds it (false: overturned, and reverted); Text the reasons.
	Automated int64 `json:"automated,omitempty"`
	Upheld    *bool `json:"upheld,omitempty"`
}

// Act applies a staff member's action to a case and returns the case as it now stands with
// the event that recorded it.
func (s *Service) Act(ctx context.Context, u *docket.User, caseID string, a Action) (*docket.Case, *docket.Event, error) {
	if !u.Role.CanWork() {
		return nil, nil, docket.Errorf(docket.EFORBIDDEN, "Role %s may read cases but not change them.", u.Role)
	}
	if err := checkAction(u, a); err != nil {
		return nil, nil, err
	}
	kind := actionKinds[a.Type]
	if kind.run != nil {
		return kind.run(s, ctx, u, caseID, a)
	}
	if a.Type == ActAssign && a.Assignee != "" && a.Assignee != u.ID {
		target, err := s.store.User(ctx, a.Assignee)
		if isNotFound(err) {
			return nil, nil, docket.Errorf(docket.EINVALID, "No staff member has id %q.", a.Assignee)
		} else if err != nil {
			return nil, nil, fmt.Errorf("assign: %w", err)
		}
		if !target.Role.CanWork() {
			return nil, nil, docket.Errorf(docket.EINVALID, "%s is an %s and cannot work cases.", target.Email, target.Role)
		}
	}
	var facts *platformFacts
	if isPlatformOp(a.Type) {
		var err error
		if facts, err = s.readPlatformFacts(ctx, caseID, a); err != nil {
			return nil, nil, fmt.Errorf("%s on case %s: %w", a.Type, caseID, err)
		}
	}
	var c *docket.Case
	var ev *docket.Event
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		var err error
		c, err = tx.Case(ctx, caseID)
		if isNotFound(err) {
			return notFound("case")
		} else if err != nil {
			return err
		}
		if c.State == docket.StateMerged {
			return docket.Errorf(docket.ESTATE, "Case %s was merged into case %s: work it there.", c.ID, c.MergedInto)
		}
		x := &effect{s: s, c: c, u: u, a: a, facts: facts, now: s.Now().Truncate(time.Microsecond)}
		// What an approval covers, and whether data leaves, is judged on the requests as
		// this transaction sees them.
		if kind.requests {
			if x.reqs, err = tx.CaseRequests(ctx, c.ID); err != nil {
				return err
			}
		}
		if ev, err = kind.event(x); err != nil {
			return err
		}
		wasEmergency := c.Emergency
		if err := record(ctx, tx, c, ev); err != nil {
			return err
		}
		// What the event sets off (the answer's mail, the platform call, paging) is queued
		// in the same transaction: it cannot be lost.
		if err := s.followUp(ctx, tx, c, ev, wasEmergency); err != nil {
			return err
		}
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s on case %s: %w", a.Type, caseID, err)
	}
	if ev.Type == docket.EventRetriaged {
		s.learn(ctx, ev)
	}
	s.wake()
	return c, ev, nil
}

// wake tells the job runner that a job may have been queued: it looks now.
func (s *Service) wake() {
	if s.onIntake != nil {
		s.onIntake()
	}
}

func checkAction(u *docket.User, a Action) error {
	tooLong := func(field, v string, n int) error {
		if utf8.RuneCountInString(v) > n {
			return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field %s: at most %d characters.", field, n), Fields: map[string]string{field: "too long"}}
		}
		return nil
	}
	for _, f := range []struct {
		name, v string
		n       int
	}{{"text", a.Text, 100_000}, {"statement", a.Statement, 100_000}, {"reason_code", a.ReasonCode, 200}, {"policy", a.Policy, 500}, {"assignee", a.Assignee, 100},
		{"category", a.Category, 200}, {"queue", a.Queue, 100}, {"case", a.Case, 100}} {
		if err := tooLong(f.name, f.v, f.n); err != nil {
			return err
		}
	}
	kind, ok := actionKinds[a.Type]
	if !ok {
		return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Unknown event type %q: assign, comment, decide, approve, reject, answer, retriage, verify_sender, merge, split, decide_appeal, %s, extend_hold or acknowledge_page.", a.Type, strings.Join(docket.Ops, ", ")), Fields: map[string]string{"type": "unknown"}}
	}
	if kind.check == nil {
		return nil
	}
	return kind.check(u, a)
}

// required is the error of a missing field.
func required(a Action, field string) error {
	return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field %s is required for %s.", field, a.Type), Fields: map[string]string{field: "required"}}
}

// needText checks that an action has its text.
func needText(_ *docket.User, a Action) error {
	if a.Text == "" {
		return required(a, "text")
	}
	return nil
}

// mayApprove checks that the user may approve or send back a decision.
func mayApprove(u *docket.User, what string) error {
	if !u.Role.CanApprove() {
		return docket.Errorf(docket.EFORBIDDEN, "Only a reviewer or an admin may %s.", what)
	}
	return nil
}

func stateError(c *docket.Case, format string, args ...any) error {
	return docket.Errorf(docket.ESTATE, "Case is %s: %s", c.State, fmt.Sprintf(format, args...))
}

// effect is what an action's event is built from, inside the transaction that records it:
// the case (and, for the actions that need them, its requests) as that transaction read it.
type effect struct {
	s     *Service
	c     *docket.Case
	reqs  []*docket.Request
	u     *docket.User
	a     Action
	facts *platformFacts
	now   time.Time
}

func (x *effect) actor() docket.Actor { return docket.UserActor(x.u.ID) }

func (x *effect) newEvent(typ docket.EventType, data any) *docket.Event {
	return docket.NewEvent(x.c.ID, typ, x.actor(), x.now, data)
}

// actionKind is one kind of staff action (POST /api/v1/cases/{id}/events): check looks at
// its fields and the actor's role before anything is read; event checks, on the case read
// in the transaction that records it, that the action may be done now, and returns the
// event that does it; requests says that event needs the case's requests. run replaces the
// one-case transaction for the actions that change two cases (merge, split).
type actionKind struct {
	check    func(u *docket.User, a Action) error
	requests bool
	event    func(x *effect) (*docket.Event, error)
	run      func(s *Service, ctx context.Context, u *docket.User, caseID string, a Action) (*docket.Case, *docket.Event, error)
}

// actionKinds is the table of staff actions. The operations on the platform, extend_hold
// and acknowledge_page are added from platform.go.
var actionKinds = map[string]actionKind{
	ActAssign: {event: func(x *effect) (*docket.Event, error) {
		if !x.c.State.Pending() {
			return nil, stateError(x.c, "an answered case needs no assignee.")
		}
		return x.newEvent(docket.EventAssigned, docket.Assigned{AssigneeID: cmp.Or(x.a.Assignee, x.u.ID)}), nil
	}},
	ActComment: {check: needText, event: func(x *effect) (*docket.Event, error) {
		return x.newEvent(docket.EventCommented, docket.Commented{Text: x.a.Text}), nil
	}},
	ActDecide:           {check: checkDecide, requests: true, event: decide},
	ActApprove:          {check: checkApprove, requests: true, event: approveOrReject},
	ActReject:           {check: checkReject, event: approveOrReject},
	ActAnswer:           {check: needText, requests: true, event: answer},
	ActRetriage:         {event: func(x *effect) (*docket.Event, error) { return x.s.retriage(x.c, x.u, x.a, x.now) }},
	ActVerifySender:     {check: checkVerifySender, event: verifySender},
	ActMerge:            {check: checkMerge, run: (*Service).merge},
	ActSplit:            {check: checkSplit, run: (*Service).split},
	ActDecideAppeal:     {check: checkDecideAppeal, run: (*Service).decideAppeal},
	ActReviewAutomation: {check: checkReviewAutomation, run: (*Service).reviewAutomation},

	// The platform part (platform.go).
	docket.OpRemove:       {check: checkPlatform, event: platformOp},
	docket.OpRestrict:     {check: checkPlatform, event: platformOp},
	docket.OpSuspend:      {check: checkPlatform, event: platformOp},
	docket.OpTerminate:    {check: checkPlatform, event: platformOp},
	docket.OpPreserve:     {check: checkPlatform, event: platformOp},
	docket.OpDisclose:     {check: checkPlatform, requests: true, event: platformOp},
	docket.OpNotify:       {check: checkPlatform, requests: true, event: platformOp},
	docket.OpReportThreat: {check: checkPlatform, event: platformOp},
	ActExtendHold:         {check: checkPlatform, event: extendHold},
	ActAcknowledgePage:    {check: checkPlatform, event: acknowledgePage},
}

func checkDecide(_ *docket.User, a Action) error {
	if !a.Outcome.Valid() {
		return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field outcome must be comply, partial, refuse, need_info or not_actionable, not %q.", a.Outcome), Fields: map[string]string{"outcome": "invalid"}}
	}
	if a.ReasonCode == "" && (a.Outcome == docket.OutcomeRefuse || a.Outcome == docket.OutcomePartial || a.Outcome == docket.OutcomeNotActionable) {
		return required(a, "reason_code")
	}
	return nil
}

func decide(x *effect) (*docket.Event, error) {
	c := x.c
	switch c.State {
	case docket.StateAwaitingApproval:
		return nil, stateError(c, "approve or reject the pending decision first.")
	case docket.StateAwaitingRequester:
		return nil, stateError(c, "the requester has been asked for more information; wait for the reply.")
	case docket.StateAnswered:
		return nil, stateError(c, "it has been answered.")
	}
	// Checked here, in the transaction that records the decision: a case that has been in
	// the policy queue is decided by a policy reviewer only, who names the policy relied on.
	if c.Policy {
		if x.u.Role != docket.RolePolicy {
			return nil, docket.Errorf(docket.EFORBIDDEN, "This case is in the policy queue (political speech, journalists, protest, religion or a high-risk authority): only a policy reviewer may decide it.")
		}
		if strings.TrimSpace(x.a.Policy) == "" {
			return nil, required(x.a, "policy")
		}
	}
	statement, principled, err := x.s.statement(c, x.a)
	if err != nil {
		return nil, err
	}
	needs := x.a.Outcome.Releases() && Disclosing(c, x.reqs)
	return x.newEvent(docket.EventDecided, docket.Decided{Decision: docket.Decision{
		Outcome: x.a.Outcome, ReasonCode: x.a.ReasonCode, Statement: statement,
		DecidedBy: x.u.ID, DecidedAt: x.now, NeedsApproval: needs, Policy: strings.TrimSpace(x.a.Policy), Principled: principled,
	}}), nil
}

// statement checks a decision's reason code against the decision table (a refusal, a
// partial answer or a not-actionable decision gives a ground of the table that allows its
// outcome) and returns its statement: the one given, else the table's for the reason code
// (or the outcome) in the case's language.
func (s *Service) statement(c *docket.Case, a Action) (statement string, principled bool, err error) {
	var e *grounds.Entry
	if a.ReasonCode != "" {
		g, ok := s.grounds.Get(a.ReasonCode)
		if !ok || !g.Ground || g.System {
			return "", false, &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field reason_code must be a ground of the decision table (%s), not %q.", strings.Join(s.grounds.Grounds(), ", "), a.ReasonCode), Fields: map[string]string{"reason_code": "unknown"}}
		}
		if !g.Allows(a.Outcome) {
			return "", false, &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Ground %s is not given for outcome %s.", g.ID, a.Outcome), Fields: map[string]string{"reason_code": "not for this outcome"}}
		}
		e = g
	} else if g, ok := s.grounds.Get(string(a.Outcome)); ok && !g.Ground {
		e = g
	}
	if strings.TrimSpace(a.Statement) != "" {
		return a.Statement, e != nil && e.Principled, nil
	}
	if e == nil {
		return "", false, required(a, "statement")
	}
	lang := "en"
	if c.Triage != nil && c.Triage.Language != "" {
		lang = c.Triage.Language
	}
	return e.Statement(lang), e.Principled, nil
}

func checkApprove(u *docket.User, a Action) error {
	if err := mayApprove(u, "approve a decision"); err != nil {
		return err
	}
	if len(a.Targets) > maxSplit {
		return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field targets: at most %d.", maxSplit), Fields: map[string]string{"targets": "too many"}}
	}
	for _, t := range a.Targets {
		if t.Value == "" || !slices.Contains(docket.TargetKinds, t.Kind) {
			return &docket.Error{Code: docket.EINVALID, Message: "Field targets: each is {kind, value} with kind one of " + strings.Join(docket.TargetKinds, ", ") + ".", Fields: map[string]string{"targets": "invalid"}}
		}
	}
	for _, cat := range a.Categories {
		if !slices.Contains(docket.ExportCategories, cat) {
			return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field categories must be among %s, not %q.", strings.Join(docket.ExportCategories, ", "), cat), Fields: map[string]string{"categories": "invalid"}}
		}
	}
	return nil
}

func checkReject(u *docket.User, a Action) error {
	if err := needText(u, a); err != nil {
		return err
	}
	return mayApprove(u, "send a decision back")
}

func approveOrReject(x *effect) (*docket.Event, error) {
	c, a, u := x.c, x.a, x.u
	// A decision in effect that hands data over but has no approval naming what it
	// covers (one recorded before approvals did) may be approved again.
	reapprove := a.Type == ActApprove && c.State == docket.StateDecided && c.Decision != nil &&
		c.Decision.Coverage == nil && c.Decision.Outcome.Releases() && Disclosing(c, x.reqs)
	if (c.State != docket.StateAwaitingApproval && !reapprove) || c.Decision == nil {
		return nil, stateError(c, "no decision is waiting for approval.")
	}
	if c.Decision.DecidedBy == u.ID {
		return nil, docket.Errorf(docket.EFOUREYES, "A decision that discloses user data must be approved by someone other than its author.")
	}
	if a.Type == ActReject {
		return x.newEvent(docket.EventApprovalRejected, docket.ApprovalRejected{Reason: a.Text}), nil
	}
	if c.Sender == docket.SenderUnverified && c.SenderVerified == nil {
		return nil, docket.Errorf(docket.ESTATE, "The request came from an unverified e-mail sender: record an independent verification of the sender (verify_sender: a call-back to a known number, a supervisor) before approving a disclosure.")
	}
	return x.newEvent(docket.EventApproved, docket.Approved{Coverage: coverage(c, x.reqs, a)}), nil
}

func checkVerifySender(u *docket.User, a Action) error {
	if !slices.Contains(verifyMethods, a.Method) {
		return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field method must be one of %s, not %q.", strings.Join(verifyMethods, ", "), a.Method), Fields: map[string]string{"method": "invalid"}}
	}
	return needText(u, a)
}

func verifySender(x *effect) (*docket.Event, error) {
	if x.c.Sender == "" {
		return nil, docket.Errorf(docket.ESTATE, "The case did not come by e-mail: its requester authenticated with a token or is the public.")
	}
	return x.newEvent(docket.EventSenderVerified, docket.SenderVerified{Method: x.a.Method, Note: x.a.Text}), nil
}

func answer(x *effect) (*docket.Event, error) {
	c := x.c
	switch c.State {
	case docket.StateDecided:
	case docket.StateAwaitingApproval:
		return nil, stateError(c, "the decision discloses user data and waits for a second person's approval.")
	default:
		return nil, stateError(c, "decide before answering.")
	}
	if n := c.PendingActions(); n > 0 {
		return nil, docket.Errorf(docket.ESTATE, "%d action(s) on the platform are not confirmed yet: answer once the platform has confirmed them (or they have failed for good), so that the answer reports what was done.", n)
	}
	if CarriesData(c, x.reqs) {
		if err := mayRelease(c, x.reqs, Effect{Kind: EffectAnswer}); err != nil {
			return nil, err
		}
	}
	pauses := c.Decision.Outcome == docket.OutcomeNeedInfo && c.PauseOnNeedInfo
	d := docket.Answered{Text: x.a.Text, PausesClock: pauses}
	if sums := ActionSummaries(c); len(sums) > 0 {
		d.Actions = sums
	}
	return x.newEvent(docket.EventAnswered, d), nil
}

func checkMerge(_ *docket.User, a Action) error {
	if a.Case == "" {
		return required(a, "case")
	}
	return nil
}

func checkSplit(_ *docket.User, a Action) error {
	if len(a.Requests) == 0 {
		return required(a, "requests")
	}
	if len(a.Requests) > maxSplit {
		return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field requests: at most %d.", maxSplit), Fields: map[string]string{"requests": "too many"}}
	}
	seen := map[string]bool{}
	for _, id := range a.Requests {
		if seen[id] {
			return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field requests names %s twice.", id), Fields: map[string]string{"requests": "duplicate"}}
		}
		seen[id] = true
	}
	return nil
}
