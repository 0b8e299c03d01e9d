package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/sor"
)

// Actions on the platform, evidence and paging (POST /api/v1/cases/{id}/events). The
// operations themselves (remove, restrict…) are docket.Op* values.
const (
	// ActExtendHold extends a preservation hold once by the regime's extension.
	ActExtendHold = "extend_hold"
	// ActAcknowledgePage takes an emergency: its escalation stops.
	ActAcknowledgePage = "acknowledge_page"
)

// Jobs of the platform part.
const (
	// JobPlatformAction carries one action_requested event out on the platform.
	JobPlatformAction = "platform.action"
	// JobHoldRelease releases a hold when its time is up.
	JobHoldRelease = "hold.release"
	// JobPage pages the on-call person for an emergency, one step of the ladder.
	JobPage = "page"
)

// ActionJob is the payload of a JobPlatformAction job.
type ActionJob struct {
	CaseID string `json:"case_id"`
	Seq    int64  `json:"seq"`
}

// HoldJob is the payload of a JobHoldRelease job.
type HoldJob struct {
	CaseID string `json:"case_id"`
	Hold   int64  `json:"hold"`
}

// PageJob is the payload of a JobPage job: Step of the escalation ladder, counted from Since.
type PageJob struct {
	CaseID string    `json:"case_id"`
	Step   int       `json:"step"`
	Since  time.Time `json:"since"`
}

// ActionSummary is what an answer tells the requester of the actions on its case.
type ActionSummary struct {
	Op          string        `json:"op"`
	Target      docket.Target `json:"target"`
	Countries   []string      `json:"countries,omitempty"`
	Status      string        `json:"status"`
	EffectiveAt *docket.Time  `json:"effective_at,omitempty"`
}

func isPlatformOp(t string) bool { return slices.Contains(docket.Ops, t) }

// checkPlatformAction checks the fields of an action on the platform, before any read.
func checkPlatformAction(a Action) error {
	invalid := func(field, msg string) error {
		return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field %s %s.", field, msg), Fields: map[string]string{field: msg}}
	}
	if a.Type == ActExtendHold {
		if a.Hold <= 0 {
			return invalid("hold", "is required (the seq of the hold_placed event)")
		}
		if a.Text == "" {
			return invalid("text", "is required (why: the authority's extension request)")
		}
		return nil
	}
	if a.Type == ActAcknowledgePage {
		return nil
	}
	if a.Target == nil || a.Target.Value == "" || !slices.Contains(docket.TargetKinds, a.Target.Kind) {
		return invalid("target", "is required: {kind, value} with kind one of "+strings.Join(docket.TargetKinds, ", "))
	}
	for i, c := range a.Countries {
		c = strings.ToUpper(strings.TrimSpace(c))
		if len(c) != 2 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return invalid("countries", fmt.Sprintf("must be two-letter ISO 3166 codes, not %q", a.Countries[i]))
		}
		a.Countries[i] = c
	}
	switch a.Type {
	case docket.OpRestrict:
		if len(a.Countries) == 0 {
			return invalid("countries", "is required: where the content is withheld")
		}
	case docket.OpDisclose:
		if len(a.Categories) == 0 {
			return invalid("categories", "is required: "+strings.Join(docket.ExportCategories, ", "))
		}
		for _, c := range a.Categories {
			if !slices.Contains(docket.ExportCategories, c) {
				return invalid("categories", fmt.Sprintf("must be among %s, not %q", strings.Join(docket.ExportCategories, ", "), c))
			}
		}
		if a.From != nil && a.To != nil && a.To.Before(a.From.Time) {
			return invalid("to", "is before from")
		}
	case docket.OpReportThreat:
		if strings.TrimSpace(a.Text) == "" {
			return invalid("text", "is required: the reason for suspicion")
		}
		if a.Country != "" && len(a.Country) != 2 {
			return invalid("country", "must be a two-letter ISO 3166 code")
		}
	}
	if docket.ContentOp(a.Type) && a.Reasons == nil {
		return invalid("statement_of_reasons", "is required for "+a.Type+" (DSA art. 17)")
	}
	return nil
}

// platformFacts are what an action needs read from the store before its transaction.
type platformFacts struct {
	authority *docket.Authority
}

func (s *Service) readPlatformFacts(ctx context.Context, caseID string, a Action) (*platformFacts, error) {
	f := &platformFacts{}
	switch a.Type {
	case docket.OpDisclose:
		c, err := s.store.Case(ctx, caseID)
		if isNotFound(err) {
			return nil, notFound("case")
		} else if err != nil {
			return nil, err
		}
		if c.AuthorityID == "" {
			return nil, docket.Errorf(docket.ESTATE, "The case has no registered authority to disclose to: data goes only to a registered authority, encrypted to its key.")
		}
		if f.authority, err = s.store.Authority(ctx, c.AuthorityID); err != nil {
			return nil, err
		}
		if f.authority.AgeRecipient == "" {
			return nil, docket.Errorf(docket.ESTATE, "Authority %s has no encryption key (age recipient) on record: register it before disclosing.", f.authority.Name)
		}
	}
	return f, nil
}

// checkPlatform is the check of the platform part's actions, before any read.
func checkPlatform(_ *docket.User, a Action) error { return checkPlatformAction(a) }

// extendHold extends a hold once by the regime's extension.
func extendHold(x *effect) (*docket.Event, error) {
	c, a := x.c, x.a
	h := c.Hold(a.Hold)
	switch {
	case h == nil:
		return nil, docket.Errorf(docket.ENOTFOUND, "The case has no hold %d.", a.Hold)
	case h.ReleasedAt != nil:
		return nil, docket.Errorf(docket.ESTATE, "Hold %d was released on %s; preserve again instead.", a.Hold, h.ReleasedAt.Format(time.RFC3339))
	case h.Extended:
		return nil, docket.Errorf(docket.ESTATE, "Hold %d was already extended once; the regime allows one extension.", a.Hold)
	case h.Extension <= 0:
		return nil, docket.Errorf(docket.ESTATE, "Hold %d (%s) allows no extension; preserve again on a new request.", a.Hold, h.Basis)
	}
	return x.newEvent(docket.EventHoldExtended, docket.HoldExtended{
		Hold: h.Seq, Until: h.Until.Add(time.Duration(h.Extension)), Reason: a.Text}), nil
}

// acknowledgePage takes an emergency: its escalation stops.
func acknowledgePage(x *effect) (*docket.Event, error) {
	c := x.c
	if !c.Emergency {
		return nil, docket.Errorf(docket.ESTATE, "The case is not an emergency: there is no page to acknowledge.")
	}
	if c.Paging != nil && c.Paging.AcknowledgedAt != nil {
		return nil, docket.Errorf(docket.ESTATE, "The page was already acknowledged by %s.", c.Paging.AcknowledgedBy)
	}
	return x.newEvent(docket.EventPageAcknowledged, docket.PageAcknowledged{}), nil
}

// platformOp returns the action_requested event of an operation on the platform, after
// checking that the case allows it now.
func platformOp(x *effect) (*docket.Event, error) {
	c, a, f, reqs := x.c, x.a, x.facts, x.reqs
	d := docket.ActionRequested{Op: a.Type, Target: *a.Target, Countries: a.Countries, Until: a.Until,
		Reason: a.Text, Key: fmt.Sprintf("docket-%s-%d", c.ID, len(c.Actions)+1)}
	decided := c.State == docket.StateDecided && c.Decision != nil &&
		(c.Decision.Outcome == docket.OutcomeComply || c.Decision.Outcome == docket.OutcomePartial)
	switch {
	case docket.ContentOp(a.Type):
		if !decided {
			return nil, stateError(c, "act on content only once a decision to comply is in effect (decide, and approve where needed).")
		}
		reasons := *a.Reasons
		reasons.PUID = d.Key
		if c.Channel == docket.ChannelNotice {
			reasons.SourceType = sor.SourceArticle16
			if c.TrustedFlagger != "" {
				reasons.SourceType = sor.SourceTrustedFlagger
			}
		}
		if reasons.Category == "" && c.Triage != nil && strings.HasPrefix(c.Triage.Category, "STATEMENT_CATEGORY_") {
			reasons.Category = c.Triage.Category
		}
		if err := reasons.Complete(a.Type, a.Countries, a.Until); err != nil {
			return nil, err
		}
		d.Statement = &reasons
		if err := checkStatement(c, &docket.CaseAction{ActionRequested: d, EffectiveAt: docket.OptTime(x.now)}); err != nil {
			return nil, err
		}
	case a.Type == docket.OpNotify:
		// A gag order on any request of the case, as this transaction reads them: a request
		// that joined since the action was asked for counts too.
		if slices.ContainsFunc(reqs, func(r *docket.Request) bool { return r.Body.NonDisclosure }) {
			return nil, docket.Errorf(docket.ESTATE, "A request of this case forbids telling the user (non-disclosure order).")
		}
		var last *docket.CaseAction
		for i := range c.Actions {
			if ca := &c.Actions[i]; docket.ContentOp(ca.Op) && ca.Target == *a.Target && ca.Status == docket.ActionDoneStatus {
				last = ca
			}
		}
		if last == nil {
			return nil, docket.Errorf(docket.ESTATE, "No action on %s was carried out: there is nothing to notify.", a.Target.Value)
		}
		d.Statement = last.Statement
	case a.Type == docket.OpDisclose:
		if !decided || !Disclosing(c, reqs) {
			return nil, stateError(c, "disclose only on a disclosure case whose decision to comply was approved by a second person.")
		}
		if err := mayRelease(c, reqs, Effect{Kind: EffectDisclose, Target: a.Target, Categories: a.Categories}); err != nil {
			return nil, err
		}
		d.Categories, d.From, d.To = a.Categories, a.From, a.To
		d.Recipient = f.authority.AgeRecipient // the key the package is encrypted to, fixed now
	case a.Type == docket.OpReportThreat:
		d.Country = strings.ToUpper(a.Country)
	case a.Type == docket.OpPreserve:
		// Preservation comes first, before any decision (EPOC: preserve on receipt).
	}
	return x.newEvent(docket.EventActionRequested, d), nil
}

// checkStatement refuses, when it is asked for, an action whose statement of reasons the
// EU Transparency Database would refuse: the statement is built as it will be once the
// platform has acted (a draft dated today) and checked by the database's rules. What the
// agent wrote cannot be changed afterwards.
func checkStatement(c *docket.Case, a *docket.CaseAction) error {
	st, err := sor.FromAction(c, a, time.Time{})
	if errors.Is(err, sor.ErrOutsideEEA) {
		return nil // not a statement for the database
	} else if err != nil {
		return err
	}
	if field, t := namesTarget(c, a); field != "" {
		return &docket.Error{Code: docket.EINVALID, Fields: map[string]string{"statement." + field: "names " + t.Kind + " " + t.Value},
			Message: fmt.Sprintf("The statement of reasons names %s %q in %s: it is published in the EU Transparency Database, which must receive no personal data. Describe the content without naming it.", t.Kind, t.Value, field)}
	}
	errs := sor.Check(st)
	if len(errs) == 0 {
		return nil
	}
	fields := map[string]string{}
	for _, f := range errs {
		fields[agentField(f.Field)] = f.Messages[0]
	}
	return &docket.Error{Code: docket.EINVALID, Fields: fields,
		Message: "The EU Transparency Database would refuse this statement of reasons: " + errs.Summary()}
}

// namesTarget returns the published text of a statement (legal_ground, explanation,
// decision_facts) that names the action's target or a target of the case (an account, a
// handle, a number, a link: personal data, or a way to it), and the target. Values shorter
// than three characters (a message's number) are not looked for.
func namesTarget(c *docket.Case, a *docket.CaseAction) (string, docket.Target) {
	targets := []docket.Target{a.Target}
	if c.Triage != nil {
		targets = append(targets, c.Triage.Targets...)
	}
	for _, t := range targets {
		v := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t.Value), "@"))
		if utf8.RuneCountInString(v) < 3 {
			continue
		}
		for _, f := range []struct{ name, text string }{{"legal_ground", a.Statement.LegalGround},
			{"explanation", a.Statement.Explanation}, {"decision_facts", a.Statement.Facts}} {
			if strings.Contains(strings.ToLower(f.text), v) {
				return f.name, t
			}
		}
	}
	return "", docket.Target{}
}

// agentField names a field of the Transparency Database as the agent gives it: in the
// statement of reasons, or the action's until.
func agentField(api string) string {
	switch {
	case api == "illegal_content_legal_ground" || api == "incompatible_content_ground":
		return "statement.legal_ground"
	case strings.HasSuffix(api, "_explanation"):
		return "statement.explanation"
	case strings.HasPrefix(api, "end_date_"):
		return "until"
	}
	return "statement." + api
}

// followUp queues the background work an event sets off, in the event's transaction:
// the platform call of an action, the release of an extended hold, the mail of an answer,
// and the paging of a case that has just become an emergency.
func (s *Service) followUp(ctx context.Context, tx docket.Tx, c *docket.Case, ev *docket.Event, wasEmergency bool) error {
	enqueue := func(kind, key string, at time.Time, attempts int, payload any) error {
		b, err := json.Marshal(payload)
		if err != nil {
			return err
		}
		return tx.Enqueue(ctx, &docket.Job{Kind: kind, UniqueKey: key, Payload: b, RunAt: at, MaxAttempts: attempts})
	}
	switch ev.Type {
	case docket.EventAnswered:
		if c.Channel == docket.ChannelEmail {
			if err := enqueue(JobMailAnswer, "", ev.At, 12, MailAnswer{CaseID: c.ID, Seq: ev.Seq}); err != nil {
				return err
			}
		}
		if c.Channel == docket.ChannelNotice {
			if err := s.assessNotices(ctx, tx, c, ev); err != nil {
				return err
			}
		}
	case docket.EventActionRequested:
		if err := enqueue(JobPlatformAction, "", ev.At, 12, ActionJob{CaseID: c.ID, Seq: ev.Seq}); err != nil {
			return err
		}
		if err := s.ncmecFollowUp(ctx, tx, c, ev); err != nil {
			return err
		}
	case docket.EventHoldExtended:
		var d docket.HoldExtended
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			return err
		}
		if err := s.QueueHoldRelease(ctx, tx, c.ID, d.Hold, d.Until); err != nil {
			return err
		}
	}
	return s.pageIfFlagged(ctx, tx, c, wasEmergency, ev.At)
}

// QueueHoldRelease queues the release of a hold at until.
func (s *Service) QueueHoldRelease(ctx context.Context, tx docket.Tx, caseID string, hold int64, until time.Time) error {
	b, err := json.Marshal(HoldJob{CaseID: caseID, Hold: hold})
	if err != nil {
		return err
	}
	key := fmt.Sprintf("hold:%s:%d:%d", caseID, hold, until.Unix())
	return tx.Enqueue(ctx, &docket.Job{Kind: JobHoldRelease, UniqueKey: key, Payload: b, RunAt: until, MaxAttempts: 100})
}

// pageIfFlagged queues the first page of a case that has just become an emergency, when
// paging is on.
func (s *Service) pageIfFlagged(ctx context.Context, tx docket.Tx, c *docket.Case, wasEmergency bool, at time.Time) error {
	if !s.paging || wasEmergency || !c.Emergency {
		return nil
	}
	return s.QueuePage(ctx, tx, PageJob{CaseID: c.ID, Step: 0, Since: at}, at)
}

// QueuePage queues one step of an emergency's paging, at at.
func (s *Service) QueuePage(ctx context.Context, tx docket.Tx, p PageJob, at time.Time) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("page:%s:%d:%d", p.CaseID, p.Step, p.Since.UnixMicro())
	return tx.Enqueue(ctx, &docket.Job{Kind: JobPage, UniqueKey: key, Payload: b, RunAt: at, MaxAttempts: 1000})
}

// ActionSummaries lists what a case's answer reports of its actions on the platform (not
// the internal ones: user notices, threat reports).
func ActionSummaries(c *docket.Case) []ActionSummary {
	var out []ActionSummary
	for _, a := range c.Actions {
		if a.Op == docket.OpReportThreat || a.Op == docket.OpNotify {
			continue
		}
		out = append(out, ActionSummary{Op: a.Op, Target: a.Target, Countries: a.Countries, Status: a.Status, EffectiveAt: a.EffectiveAt})
	}
	return out
}

// Change runs fn on one case inside one transaction: fn records events with rec (each
// applied to c) and may write blobs and jobs with tx. The case is saved at the end.
func (s *Service) Change(ctx context.Context, caseID string, actor docket.Actor, fn func(tx docket.Tx, c *docket.Case, rec func(typ docket.EventType, data any) (*docket.Event, error)) error) error {
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		c, err := tx.Case(ctx, caseID)
		if err != nil {
			return err
		}
		now := s.Now().Truncate(time.Microsecond)
		rec := func(typ docket.EventType, data any) (*docket.Event, error) {
			e := docket.NewEvent(caseID, typ, actor, now, data)
			return e, record(ctx, tx, c, e)
		}
		if err := fn(tx, c, rec); err != nil {
			return err
		}
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		return fmt.Errorf("change case %s: %w", caseID, err)
	}
	s.wake()
	return nil
}

// extendHolds extends, once, the live holds of a case that a further preservation request
// joined: the law extends a preservation on a new request (EPOC-PR art. 11: by 30 days;
// 18 U.S.C. 2703(f): by 90).
func (s *Service) extendHolds(ctx context.Context, tx docket.Tx, c *docket.Case, req *docket.Request, actor docket.Actor) error {
	if req.Body.Kind != docket.KindPreservation {
		return nil
	}
	for _, h := range c.Holds {
		if h.ReleasedAt != nil || h.Extended || h.Extension <= 0 {
			continue
		}
		d := docket.HoldExtended{Hold: h.Seq, Until: h.Until.Add(time.Duration(h.Extension)), Reason: "extended by request " + req.ID}
		if err := record(ctx, tx, c, docket.NewEvent(c.ID, docket.EventHoldExtended, actor, req.ReceivedAt, d)); err != nil {
			return err
		}
		if err := s.QueueHoldRelease(ctx, tx, c.ID, h.Seq, d.Until); err != nil {
			return err
		}
	}
	return nil
}
