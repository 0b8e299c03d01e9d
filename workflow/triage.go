package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/rules"
	"github.com/docket-dev/docket/triage"
)

// JobTriage is the kind of the job that sorts a request right after its receipt.
const JobTriage = "triage"

type triagePayload struct {
	RequestID string `json:"request_id"`
}

// TriageJob runs the triage of the request named in a JobTriage job.
func (s *Service) TriageJob(ctx context.Context, j *docket.Job) error {
	return s.TriageJobs(ctx, []*docket.Job{j})
}

// TriageJobs sorts the requests of several JobTriage jobs and records all the results in
// one transaction. The sorting itself runs before the transaction, so that the single
// writer is held only for the writes.
func (s *Service) TriageJobs(ctx context.Context, jobs []*docket.Job) error {
	ids := make([]string, 0, len(jobs))
	for _, j := range jobs {
		var p triagePayload
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			s.log.ErrorContext(ctx, "triage job with a bad payload: dropped", slog.Int64("job", j.ID), slog.Any("err", err))
			continue
		}
		ids = append(ids, p.RequestID)
	}
	return s.TriageRequests(ctx, ids...)
}

// TriageInput is what triage reads of a stored request.
func TriageInput(req *docket.Request, c *docket.Case) triage.Input {
	var text strings.Builder
	for _, part := range []string{req.Body.Description, req.Body.LegalBasis, req.Body.Reasons, req.Body.Justification, req.Body.Extracted} {
		if part != "" {
			text.WriteString(part)
			text.WriteString("\n")
		}
	}
	if req.Channel == docket.ChannelNotice || len(req.Body.Targets) > 0 {
		for _, t := range req.Body.Targets {
			text.WriteString(t.Value)
			text.WriteString("\n")
		}
	}
	subject, from := req.Body.Reference, ""
	if req.Body.Email != nil {
		subject, from = req.Body.Email.Subject, req.Body.Email.From
	}
	in := triage.Input{ID: req.ID, Channel: req.Channel, From: from, Subject: subject, Text: text.String(),
		Country: c.Country, Emergency: req.Body.Emergency, Authority: req.AuthorityID}
	if req.Body.RegimeSource != "default" {
		in.Regime, in.Kind = req.Body.Regime, req.Body.Kind
	}
	return in
}

// TriageRequests sorts stored requests and records each result on its case: language,
// content label, category, targets and the signals behind them; the regime (and so the
// deadline, recomputed from the time of receipt) when the requester left it to triage; a
// raised emergency flag (never a lowered one); the queue, priority and automatic steps the
// routing rules choose. A case sorted already (a retried job, a request joining a case) is
// left as it is.
func (s *Service) TriageRequests(ctx context.Context, requestIDs ...string) error {
	if s.triager == nil || len(requestIDs) == 0 {
		return nil
	}
	type sorted struct {
		req *docket.Request
		res triage.Result
	}
	var work []sorted
	for _, id := range requestIDs {
		req, err := s.store.Request(ctx, id)
		if err != nil {
			return fmt.Errorf("triage request %s: %w", id, err)
		}
		c, err := s.store.Case(ctx, req.CaseID)
		if err != nil {
			return fmt.Errorf("triage request %s: %w", id, err)
		}
		if c.Triage != nil {
			continue
		}
		work = append(work, sorted{req, s.triager.Triage(TriageInput(req, c))})
	}
	if len(work) == 0 {
		return nil
	}
	return s.store.Update(ctx, func(tx docket.Tx) error {
		for _, w := range work {
			if err := s.recordTriage(ctx, tx, w.req, w.res); err != nil {
				return err
			}
		}
		return nil
	})
}

// TriageRequest sorts one stored request (see TriageRequests).
func (s *Service) TriageRequest(ctx context.Context, requestID string) error {
	return s.TriageRequests(ctx, requestID)
}

func (s *Service) recordTriage(ctx context.Context, tx docket.Tx, req *docket.Request, res triage.Result) error {
	c, err := tx.Case(ctx, req.CaseID)
	if err != nil {
		return err
	}
	if c.Triage != nil {
		return nil // sorted meanwhile, or corrected by a person
	}
	events, err := s.triageEvents(req, c, res, s.Now().Truncate(time.Microsecond))
	if err != nil {
		return err
	}
	was := c.Emergency
	for _, e := range events {
		if err := record(ctx, tx, c, e); err != nil {
			return err
		}
	}
	if err := s.pageIfFlagged(ctx, tx, c, was, s.Now()); err != nil {
		return err
	}
	return tx.UpdateCase(ctx, c)
}

// triageEvents returns the events that record a triage on a case not sorted yet: the triaged
// event, then the automatic steps the routing rules take. It changes nothing itself.
func (s *Service) triageEvents(req *docket.Request, c *docket.Case, res triage.Result, now time.Time) ([]*docket.Event, error) {
	spam := res.Spam
	d := docket.Triaged{Language: res.Language, Label: res.Label, Category: res.Category, Spam: &spam,
		Confidence: res.Confidence, Targets: res.Targets, Signals: res.Signals}
	regimeID, emergency := c.Regime, c.Emergency
	// A regime left to triage is set from the triage, "none" included: spam, a scam or a
	// misdirected question is no legal request, has no legal clock and is never overdue.
	if req.Body.RegimeSource == "default" && res.Regime != c.Regime {
		if _, ok := s.regimes.Lookup(res.Regime); ok {
			regimeID = res.Regime
			d.Regime = res.Regime
		}
	}
	if res.Emergency && !c.Emergency {
		emergency = true
		d.Emergency = &emergency
	}
	if regimeID != c.Regime || emergency != c.Emergency {
		s.reclock(c, regimeID, emergency, &d)
	}
	out := s.rules.Evaluate(facts(req, c, res, emergency))
	prio, queue := max(res.Priority, out.Priority), res.Queue
	if c.TrustedFlagger != "" {
		// A trusted flagger's notice keeps at least its regime's priority (DSA art. 22).
		if r, ok := s.regimes.Lookup(c.Regime); ok {
			prio = max(prio, r.Priority)
		}
	}
	if out.Queue != "" {
		queue = out.Queue
	}
	if emergency {
		prio, queue = 100, cmp.Or(out.Queue, "emergency")
	}
	d.Priority, d.Queue = &prio, queue
	d.Rules, d.ShadowRules = out.Matched, out.Shadow
	for _, m := range c.MediaMatches() {
		d.Signals = append(d.Signals, m.HashSignal())
	}
	for _, e := range out.Errors {
		d.Signals = append(d.Signals, "rule failed: "+e)
	}
	steps, err := s.ruleSteps(c, req, out.Actions, now, false)
	if err != nil {
		return nil, err
	}
	return append([]*docket.Event{docket.NewEvent(c.ID, docket.EventTriaged, docket.Actor("system:triage"), now, d)}, steps...), nil
}

// ruleSteps returns the events of the automatic steps that routing rules take on case c.
//
// Automated actions on the platform (remove, restrict, suspend) are taken only when automate
// is set: by the hash check, on the matches that made the rule true.
func (s *Service) ruleSteps(c *docket.Case, first *docket.Request, steps []rules.Step, now time.Time, automate bool) ([]*docket.Event, error) {
	var events []*docket.Event
	actor := docket.Actor("system:rules")
	automated := false
	for _, step := range steps {
		switch step.Action {
		case rules.ActionAcknowledge:
			if !c.AcknowledgedAt.IsZero() {
				continue
			}
			events = append(events, docket.NewEvent(c.ID, docket.EventAcknowledged, actor, now, docket.Acknowledged{Rule: step.Rule}))
		case rules.ActionCloseNotActionable:
			if c.State != docket.StateOpen || c.Policy { // only a policy reviewer decides a policy case
				continue
			}
			statement := fmt.Sprintf("Closed automatically as not actionable (%s) by rule %s.", step.Reason, step.Rule)
			events = append(events,
				docket.NewEvent(c.ID, docket.EventDecided, actor, now, docket.Decided{Decision: docket.Decision{
					Outcome: docket.OutcomeNotActionable, ReasonCode: step.Reason, Statement: statement, DecidedBy: "rules", DecidedAt: now,
				}}),
				docket.NewEvent(c.ID, docket.EventAnswered, actor, now, docket.Answered{Text: statement}))
		case rules.ActionRemove, rules.ActionRestrict, rules.ActionSuspend:
			if !automate || automated {
				continue // one automated decision a case: the first rule's
			}
			evs, err := s.automatedAction(c, first, step, now)
			automated = automated || len(evs) > 0
			if err != nil {
				return nil, err
			}
			events = append(events, evs...)
		default:
			return nil, fmt.Errorf("rule %s: unknown action %q", step.Rule, step.Action)
		}
	}
	return events, nil
}

// facts are what the routing rules see of a request and its triage.
func facts(req *docket.Request, c *docket.Case, res triage.Result, emergency bool) rules.Facts {
	targets := make([]map[string]string, 0, len(res.Targets))
	for _, t := range res.Targets {
		targets = append(targets, map[string]string{"kind": t.Kind, "value": t.Value})
	}
	return rules.Facts{
		Request: rules.RequestFacts{Channel: req.Channel, Regime: c.Regime, Kind: string(c.Kind), Country: c.Country,
			Authority: req.AuthorityID, Reference: req.Body.Reference, Emergency: req.Body.Emergency},
		Triage: rules.TriageFacts{Language: res.Language, Regime: res.Regime, Kind: string(res.Kind), Label: res.Label,
			Category: res.Category, Queue: res.Queue, Emergency: emergency, Spam: res.Spam, Policy: res.Policy, Priority: res.Priority,
			Confidence: res.Confidence, Targets: targets, Signals: res.Signals},
		Matches: matchFacts(c.MediaMatches()),
	}
}

// reclock recomputes a case's clock from its receipt under another regime or emergency flag.
func (s *Service) reclock(c *docket.Case, regimeID string, emergency bool, d *docket.Triaged) {
	r, ok := s.regimes.Lookup(regimeID)
	if !ok {
		return
	}
	deadline, dueSoon := r.Deadlines(c.ReceivedAt, emergency || r.Emergency)
	discloses := kindDiscloses(c.Kind, r.Discloses)
	pause := r.PauseOnNeedInfo
	d.ClockChanged, d.DeadlineAt, d.DueSoonAt = true, docket.OptTime(deadline), docket.OptTime(dueSoon)
	d.Discloses, d.PauseOnNeedInfo = &discloses, &pause
}

// retriage corrects the triage of a case; the correction is an event, and a training line
// for `docket triage export-corrections`.
func (s *Service) retriage(c *docket.Case, u *docket.User, a Action, now time.Time) (*docket.Event, error) {
	if a.Text == "" {
		return nil, &docket.Error{Code: docket.EINVALID, Message: "Field text is required for retriage: say why the triage was wrong.", Fields: map[string]string{"text": "required"}}
	}
	d := docket.Triaged{Reason: a.Text, Label: a.Label, Category: a.Category, Queue: a.Queue, Spam: a.Spam, Priority: a.Priority, Kind: a.Kind}
	if a.Label != "" && !slices.Contains(triage.Labels, a.Label) {
		return nil, &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field label must be one of %v.", triage.Labels), Fields: map[string]string{"label": "unknown"}}
	}
	if a.Kind != "" && !a.Kind.Valid() {
		return nil, &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Field kind must be one of %v.", docket.Kinds), Fields: map[string]string{"kind": "unknown"}}
	}
	if a.Priority != nil && (*a.Priority < 0 || *a.Priority > 100) {
		return nil, &docket.Error{Code: docket.EINVALID, Message: "Field priority must be between 0 and 100.", Fields: map[string]string{"priority": "out of range"}}
	}
	regimeID, emergency := c.Regime, c.Emergency
	if a.Regime != "" {
		if _, ok := s.regimes.Lookup(a.Regime); !ok {
			return nil, &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("Unknown regime %q.", a.Regime), Fields: map[string]string{"regime": "unknown"}}
		}
		regimeID, d.Regime = a.Regime, a.Regime
	}
	if a.Emergency != nil {
		emergency, d.Emergency = *a.Emergency, a.Emergency
	}
	if regimeID != c.Regime || emergency != c.Emergency {
		if !c.State.Pending() {
			return nil, stateError(c, "an answered case keeps the clock it was answered under.")
		}
		s.reclock(c, regimeID, emergency, &d)
	}
	// Whether the case hands over user data follows the corrected kind and regime, one way
	// only: a person's correction may make a case disclose, never the reverse, so that no
	// correction takes the four eyes (or the sender's verification) off a case that asked
	// for data.
	if r, ok := s.regimes.Lookup(regimeID); ok && (d.Discloses != nil || (a.Kind != "" && a.Kind != c.Kind)) {
		kind := cmp.Or(a.Kind, c.Kind)
		discloses := c.Discloses || kindDiscloses(kind, r.Discloses)
		d.Discloses = &discloses
	}
	return docket.NewEvent(c.ID, docket.EventRetriaged, docket.UserActor(u.ID), now, d), nil
}

// LearnCorrections teaches the triager every correction people have made (retriaged
// events), so that requests like a corrected one are triaged as the person said; serve
// calls it at start, and each new correction is learnt as it commits. It returns how many
// were learnt.
func (s *Service) LearnCorrections(ctx context.Context) (int, error) {
	if s.triager == nil {
		return 0, nil
	}
	n := 0
	err := s.store.ScanCorrections(ctx, func(e *docket.Event) error {
		if s.learn(ctx, e) {
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("learn corrections: %w", err)
	}
	return n, nil
}

// learn teaches the triager one retriaged event, read with the request that opened its case.
func (s *Service) learn(ctx context.Context, e *docket.Event) bool {
	if s.triager == nil {
		return false
	}
	var d docket.Triaged
	if err := json.Unmarshal(e.Data, &d); err != nil {
		s.log.WarnContext(ctx, "correction not learnt: unreadable event", slog.Int64("seq", e.Seq), slog.Any("err", err))
		return false
	}
	req, err := s.store.FirstRequest(ctx, e.CaseID)
	if err != nil {
		s.log.WarnContext(ctx, "correction not learnt: the request of its case", slog.String("case", e.CaseID), slog.Any("err", err))
		return false
	}
	c, err := s.store.Case(ctx, e.CaseID)
	if err != nil {
		s.log.WarnContext(ctx, "correction not learnt: its case", slog.String("case", e.CaseID), slog.Any("err", err))
		return false
	}
	s.triager.Learn(triage.Correction{Input: TriageInput(req, c), Regime: d.Regime, Kind: d.Kind,
		Emergency: d.Emergency, Spam: d.Spam, Label: d.Label, Ref: "case " + e.CaseID})
	return true
}
