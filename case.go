package docket

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// CaseState is where a case stands.
type CaseState string

// Case states.
const (
	StateOpen              CaseState = "open"               // being worked
	StateAwaitingApproval  CaseState = "awaiting_approval"  // a decision waits for a second person
	StateDecided           CaseState = "decided"            // decision in effect, answer not yet sent
	StateAwaitingRequester CaseState = "awaiting_requester" // more information was asked for
	StateAnswered          CaseState = "answered"           // the answer went back; done
	StateMerged            CaseState = "merged"             // merged into another case, which answers for it
)

// CaseStates lists every state.
var CaseStates = []CaseState{StateOpen, StateAwaitingApproval, StateDecided, StateAwaitingRequester, StateAnswered, StateMerged}

// Pending reports whether the case still owes the requester an answer (a merged case's
// answer is owed by the case it was merged into).
func (s CaseState) Pending() bool { return s != StateAnswered && s != StateMerged }

// Outcome of a decision.
type Outcome string

// Decision outcomes.
const (
	OutcomeComply        Outcome = "comply"
	OutcomePartial       Outcome = "partial"
	OutcomeRefuse        Outcome = "refuse"
	OutcomeNeedInfo      Outcome = "need_info"
	OutcomeNotActionable Outcome = "not_actionable"
)

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeComply, OutcomePartial, OutcomeRefuse, OutcomeNeedInfo, OutcomeNotActionable:
		return true
	}
	return false
}

// QueuePolicy is the queue of requests that touch political speech, journalists, protest or
// religion, or come from authorities the operator lists as high-risk (see RolePolicy).
const QueuePolicy = "policy"

// Decision is what the platform decided on a case.
type Decision struct {
	Outcome       Outcome   `json:"outcome"`
	ReasonCode    string    `json:"reason_code,omitempty"`
	Statement     string    `json:"statement,omitempty"`
	DecidedBy     string    `json:"decided_by"`
	DecidedAt     time.Time `json:"decided_at"`
	NeedsApproval bool      `json:"needs_approval,omitempty"`
	ApprovedBy    string    `json:"approved_by,omitempty"`
	// Policy is the policy a decision on a policy case relies on (see RolePolicy);
	// Principled says its ground is a refusal on principle in the decision table in force.
	Policy     string `json:"policy,omitempty"`
	Principled bool   `json:"principled,omitempty"`
	ApprovedAt *Time  `json:"approved_at,omitempty"`
	// Coverage is what the approval in effect covers, and ApprovalSeq the seq of its
	// approved event (both empty for approvals recorded before coverage existed).
	Coverage    *Coverage `json:"coverage,omitempty"`
	ApprovalSeq int64     `json:"approval_seq,omitempty"`
}

// DecisionSHA256 returns the hex SHA-256 of what a decision says and who took it when: an
// approval names it, so that it covers this decision and no other.
func DecisionSHA256(d *Decision) string {
	b, err := json.Marshal(struct {
		Outcome    Outcome   `json:"outcome"`
		ReasonCode string    `json:"reason_code"`
		Statement  string    `json:"statement"`
		DecidedBy  string    `json:"decided_by"`
		DecidedAt  time.Time `json:"decided_at"`
		Policy     string    `json:"policy,omitempty"`
	}{d.Outcome, d.ReasonCode, d.Statement, d.DecidedBy, d.DecidedAt.UTC(), d.Policy})
	if err != nil {
		panic("docket: marshal decision: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Releases reports whether the outcome, on a case that discloses, hands user data over.
func (o Outcome) Releases() bool { return o == OutcomeComply || o == OutcomePartial }

// Answer is the response that went back to the requester.
type Answer struct {
	Text       string    `json:"text"`
	AnsweredBy string    `json:"answered_by"`
	AnsweredAt time.Time `json:"answered_at"`
}

// Case is the unit of work: one or more requests about the same matter. Every field is the
// projection of the case's events (see Apply).
type Case struct {
	ID          string    `json:"id"`
	State       CaseState `json:"state"`
	Regime      string    `json:"regime"`
	Kind        Kind      `json:"kind"`
	Channel     string    `json:"channel"`
	AuthorityID string    `json:"authority_id,omitempty"`
	Country     string    `json:"country,omitempty"`
	Reference   string    `json:"reference,omitempty"`
	Emergency   bool      `json:"emergency"`
	// TrustedFlagger is the trusted flagger (DSA art. 22) whose notice opened or joined the
	// case while its status was in effect.
	TrustedFlagger string `json:"trusted_flagger,omitempty"`
	// Sender is the verification level of an e-mail sender (empty for API and notices);
	// SenderVerified is set once a person has verified an unverified sender independently.
	Sender         string          `json:"sender,omitempty"`
	SenderVerified *SenderVerified `json:"sender_verified,omitempty"`
	Queue          string          `json:"queue"`
	// Policy is set once the case has been in the policy queue, and stays: only a policy
	// reviewer decides it, whatever queue it is moved to afterwards.
	Policy          bool      `json:"policy,omitempty"`
	Priority        int       `json:"priority"`
	Discloses       bool      `json:"discloses"`
	PauseOnNeedInfo bool      `json:"pause_on_need_info"`
	AssigneeID      string    `json:"assignee_id,omitempty"`
	ReceivedAt      time.Time `json:"received_at"`
	DeadlineAt      time.Time `json:"deadline_at"`
	DueSoonAt       time.Time `json:"due_soon_at"`
	PausedAt        time.Time `json:"paused_at"`
	DueSoon         bool      `json:"due_soon"`
	Overdue         bool      `json:"overdue"`
	Decision        *Decision `json:"decision,omitempty"`
	Answer          *Answer   `json:"answer,omitempty"`
	UpdatedAt       time.Time `json:"updated_at"`
	// AcknowledgedAt is when receipt was first acknowledged to the requester.
	AcknowledgedAt time.Time `json:"acknowledged_at"`
	// Triage is the latest triage: automatic, or corrected by a person.
	Triage *CaseTriage `json:"triage,omitempty"`
	// Actions on the platform, holds on evidence, disclosure packages, emergency paging.
	Actions  []CaseAction `json:"actions,omitempty"`
	Holds    []Hold       `json:"holds,omitempty"`
	Packages []Package    `json:"packages,omitempty"`
	Paging   *Paging      `json:"paging,omitempty"`
	// Appeals are the complaints against the case's actions (DSA art. 20).
	Appeals []Appeal `json:"appeals,omitempty"`
	// Media are the attachments of the case's requests as the hash check saw them, with
	// what they matched in the hash banks.
	Media []CaseMedia `json:"media,omitempty"`
	// NCMEC is the case's report to NCMEC's CyberTipline (18 U.S.C. § 2258A), once queued.
	NCMEC *NCMECReport `json:"ncmec,omitempty"`
	// MergedInto is the case this one was merged into; MergedFrom the cases merged into
	// this one; SplitFrom the case this one was split off; SplitTo the cases split off it.
	MergedInto string   `json:"merged_into,omitempty"`
	MergedFrom []string `json:"merged_from,omitempty"`
	SplitFrom  string   `json:"split_from,omitempty"`
	SplitTo    []string `json:"split_to,omitempty"`
	// Events counts the events applied; stores use it to check projections.
	Events int `json:"events"`
}

// CaseTriage is what the triage said of a case, and why.
type CaseTriage struct {
	Language   string    `json:"language,omitempty"`
	Label      string    `json:"label,omitempty"`
	Category   string    `json:"category,omitempty"`
	Spam       bool      `json:"spam"`
	Confidence float64   `json:"confidence,omitempty"`
	Targets    []Target  `json:"targets,omitempty"`
	Signals    []string  `json:"signals,omitempty"`
	Rules      []string  `json:"rules,omitempty"`
	By         string    `json:"by"` // "triage", or the id of the person who corrected it
	At         time.Time `json:"at"`
}

// OverdueAt reports whether the case is past its deadline at now with its clock running.
func (c *Case) OverdueAt(now time.Time) bool {
	return c.State.Pending() && c.PausedAt.IsZero() && !c.DeadlineAt.IsZero() && !now.Before(c.DeadlineAt)
}

// Apply changes c as event e says. It is the only place where a case changes: the stores
// persist its result, and the audit replays it to prove the stored state.
func (c *Case) Apply(e *Event) error {
	data, err := DecodeEvent(e)
	if err != nil {
		return err
	}
	return c.ApplyDecoded(e, data)
}

// DecodeEvent returns the typed data of a case event (CaseOpened, Decided…), or nil for types
// that carry nothing Apply needs. The type of each event's data is registered in eventKinds.
func DecodeEvent(e *Event) (any, error) {
	k, ok := eventKinds[e.Type]
	if !ok || k.decode == nil {
		return nil, nil
	}
	v, err := k.decode(e.Data)
	if err != nil {
		return nil, fmt.Errorf("apply event %d (%s): decode data: %w", e.Seq, e.Type, err)
	}
	return v, nil
}

// ApplyDecoded is Apply with the event's data already decoded by DecodeEvent.
func (c *Case) ApplyDecoded(e *Event, data any) error {
	if c.ID != "" && e.CaseID != c.ID {
		return fmt.Errorf("apply event %d of case %s to case %s", e.Seq, e.CaseID, c.ID)
	}
	if c.ID == "" && e.Type != EventCaseOpened {
		return fmt.Errorf("apply event %d: case %s has no %s event before %s", e.Seq, e.CaseID, EventCaseOpened, e.Type)
	}
	k, ok := eventKinds[e.Type]
	if !ok {
		return fmt.Errorf("apply event %d: unknown type %q", e.Seq, e.Type)
	}
	if k.decode != nil {
		if data == nil {
			return fmt.Errorf("apply event %d (%s): its data was not decoded", e.Seq, e.Type)
		}
	}
	if err := k.apply(c, e, data); err != nil {
		return err
	}
	if c.Queue == QueuePolicy {
		c.Policy = true
	}
	c.UpdatedAt = e.At
	c.Events++
	return nil
}

// applyJoined applies what a request or a case joining c brings with it: an earlier clock,
// the emergency flag, user data asked for (four eyes), an unverified sender (a verification
// recorded before no longer covers the case).
func (c *Case) applyJoined(deadline, dueSoon *Time, emergency, discloses, unverified bool) {
	if deadline != nil {
		c.DeadlineAt, c.DueSoonAt = deadline.orZero(), dueSoon.orZero()
	}
	if emergency {
		c.Emergency = true
	}
	if discloses {
		c.Discloses = true
	}
	if unverified {
		c.Sender, c.SenderVerified = SenderUnverified, nil
	}
}

func (c *Case) applyMerged(d *Merged) {
	c.MergedFrom = append(c.MergedFrom, d.From)
	if d.Policy {
		c.Policy = true
	}
	c.applyJoined(d.DeadlineAt, d.DueSoonAt, d.Emergency, d.Discloses, d.Unverified)
	if d.Queue != "" {
		c.Queue = d.Queue
	}
	if d.Priority != 0 {
		c.Priority = d.Priority
	}
	if len(d.Targets) > 0 {
		t := CaseTriage{By: "triage"}
		if c.Triage != nil {
			t = *c.Triage
		}
		t.Targets = mergeTargets(t.Targets, d.Targets)
		c.Triage = &t
	}
}

// mergeTargets returns a followed by the targets of b it lacks.
func mergeTargets(a, b []Target) []Target {
	out := append([]Target(nil), a...)
	for _, t := range b {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func (c *Case) applyTriage(e *Event, d *Triaged) {
	t := CaseTriage{}
	if c.Triage != nil {
		t = *c.Triage
	}
	t.By, t.At = "triage", e.At
	if e.Type == EventRetriaged {
		t.By = actorID(e.Actor)
	}
	if d.Language != "" {
		t.Language = d.Language
	}
	if d.Label != "" {
		t.Label = d.Label
	}
	if d.Category != "" {
		t.Category = d.Category
	}
	if d.Spam != nil {
		t.Spam = *d.Spam
	}
	if d.Confidence != 0 {
		t.Confidence = d.Confidence
	}
	if d.Targets != nil {
		t.Targets = d.Targets
	}
	if d.Signals != nil {
		t.Signals = d.Signals
	}
	if d.Rules != nil {
		t.Rules = d.Rules
	}
	c.Triage = &t
	if d.Regime != "" {
		c.Regime = d.Regime
	}
	if d.Kind != "" {
		c.Kind = d.Kind
	}
	if d.Emergency != nil {
		c.Emergency = *d.Emergency
	}
	if d.Priority != nil {
		c.Priority = *d.Priority
	}
	if d.Queue != "" {
		c.Queue = d.Queue
	}
	if d.Discloses != nil {
		c.Discloses = *d.Discloses
	}
	if d.PauseOnNeedInfo != nil {
		c.PauseOnNeedInfo = *d.PauseOnNeedInfo
	}
	if d.ClockChanged {
		c.DeadlineAt, c.DueSoonAt = d.DeadlineAt.orZero(), d.DueSoonAt.orZero()
		c.DueSoon = !c.DueSoonAt.IsZero() && !e.At.Before(c.DueSoonAt) && c.DueSoon
		c.Overdue = !c.DeadlineAt.IsZero() && !e.At.Before(c.DeadlineAt) && c.Overdue
	}
}

func (t *Time) orZero() time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time.UTC()
}

func actorID(a Actor) string {
	s := string(a)
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[i+1:]
		}
	}
	return s
}

// ResumedDeadlines returns the deadline and due-soon times of c moved by the time its clock
// has been paused until now.
func (c *Case) ResumedDeadlines(now time.Time) (deadline, dueSoon time.Time) {
	if c.PausedAt.IsZero() || now.Before(c.PausedAt) {
		return c.DeadlineAt, c.DueSoonAt
	}
	paused := now.Sub(c.PausedAt)
	if !c.DeadlineAt.IsZero() {
		deadline = c.DeadlineAt.Add(paused)
	}
	if !c.DueSoonAt.IsZero() {
		dueSoon = c.DueSoonAt.Add(paused)
	}
	return deadline, dueSoon
}

// CaseAction is an action on the platform — what was asked, as its action_requested event
// says — and where it stands.
type CaseAction struct {
	Seq int64 `json:"seq"` // of its action_requested event
	ActionRequested
	Status      string    `json:"status"` // pending, done, failed
	Attempts    int       `json:"attempts"`
	Error       string    `json:"error,omitempty"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	DoneAt      *Time     `json:"done_at,omitempty"`
	EffectiveAt *Time     `json:"effective_at,omitempty"`
	Ref         string    `json:"ref,omitempty"`
	Detail      string    `json:"detail,omitempty"`
	// Submission is where the action's statement of reasons stands with the EU
	// Transparency Database, once queued.
	Submission *Submission `json:"submission,omitempty"`
	// RevertedBy is the seq of the action that reverted this one once the platform confirmed
	// it (an upheld appeal), and RevertedAt when it took effect.
	RevertedBy int64 `json:"reverted_by,omitempty"`
	RevertedAt *Time `json:"reverted_at,omitempty"`
	// Review is where a person's review of an automated action stands: pending, upheld or
	// overturned; ReviewedBy who reviewed it.
	Review     string `json:"review,omitempty"`
	ReviewedBy string `json:"reviewed_by,omitempty"`
}

// Review states of an automated action.
const (
	ReviewPending    = "pending"
	ReviewUpheld     = "upheld"
	ReviewOverturned = "overturned"
)

// QueueAutomationReview is the queue of automated actions sampled for a person's review.
const QueueAutomationReview = "automation-review"

// Action statuses.
const (
	ActionPending      = "pending"
	ActionDoneStatus   = "done"
	ActionFailedStatus = "failed"
)

// Hold is preserved evidence kept until a time.
type Hold struct {
	Seq        int64     `json:"seq"` // of its hold_placed event
	Target     Target    `json:"target"`
	SHA256     string    `json:"sha256"`
	Blob       string    `json:"blob"`
	PlacedAt   time.Time `json:"placed_at"`
	Until      time.Time `json:"until"`
	Extension  Duration  `json:"extension,omitempty"`
	Extended   bool      `json:"extended,omitempty"`
	ReleasedAt *Time     `json:"released_at,omitempty"`
	Basis      string    `json:"basis"`
}

// Package is a disclosure package built for the requester.
type Package struct {
	Seq       int64     `json:"seq"`
	Blob      string    `json:"blob"`
	SHA256    string    `json:"sha256"`
	Size      int       `json:"size"`
	Items     int       `json:"items"`
	ReadyAt   time.Time `json:"ready_at"`
	Downloads int       `json:"downloads"`
	// Approval is the seq of the approved event that covered the package when it was built.
	Approval int64 `json:"approval,omitempty"`
}

// Paging is where the paging of an emergency stands.
type Paging struct {
	Pages          int    `json:"pages"`
	Step           int    `json:"step"` // the highest escalation step paged
	LastTo         string `json:"last_to,omitempty"`
	LastPagedAt    *Time  `json:"last_paged_at,omitempty"`
	Failures       int    `json:"failures"`
	AcknowledgedBy string `json:"acknowledged_by,omitempty"`
	AcknowledgedAt *Time  `json:"acknowledged_at,omitempty"`
}

// Action returns the action recorded by the action_requested event seq, or nil.
func (c *Case) Action(seq int64) *CaseAction {
	for i := range c.Actions {
		if c.Actions[i].Seq == seq {
			return &c.Actions[i]
		}
	}
	return nil
}

// Hold returns the hold placed by event seq, or nil.
func (c *Case) Hold(seq int64) *Hold {
	for i := range c.Holds {
		if c.Holds[i].Seq == seq {
			return &c.Holds[i]
		}
	}
	return nil
}

// PendingActions counts the actions the platform has not confirmed and that will still be tried.
func (c *Case) PendingActions() int {
	n := 0
	for _, a := range c.Actions {
		if a.Status == ActionPending {
			n++
		}
	}
	return n
}

// actionOf returns the action an outcome event e is about.
func (c *Case) actionOf(e *Event, seq int64) (*CaseAction, error) {
	if a := c.Action(seq); a != nil {
		return a, nil
	}
	return nil, fmt.Errorf("apply event %d: no action %d on case %s", e.Seq, seq, c.ID)
}

func (c *Case) applyPlatform(e *Event, data any) error {
	switch e.Type {
	case EventActionRequested:
		d := data.(*ActionRequested)
		if d.Appeal != 0 {
			ap := c.AppealOf(d.Appeal)
			if ap == nil || ap.State != AppealUpheld || d.Reverts != ap.Action || ap.Revert != 0 {
				return fmt.Errorf("apply event %d: action %s for appeal %d, which is not upheld on action %d of case %s", e.Seq, d.Op, d.Appeal, d.Reverts, c.ID)
			}
			ap.Revert = e.Seq
		}
		c.Actions = append(c.Actions, CaseAction{Seq: e.Seq, ActionRequested: *d,
			Status: ActionPending, RequestedBy: actorID(e.Actor), RequestedAt: e.At})
	case EventActionDone:
		d := data.(*ActionDone)
		a, err := c.actionOf(e, d.Action)
		if err != nil {
			return err
		}
		a.Status, a.Error, a.DoneAt, a.Ref, a.Detail = ActionDoneStatus, "", &Time{e.At}, d.Ref, d.Detail
		a.EffectiveAt = OptTime(d.EffectiveAt.UTC())
		a.Attempts++
		if a.Reverts != 0 {
			orig, err := c.actionOf(e, a.Reverts)
			if err != nil {
				return err
			}
			orig.RevertedBy, orig.RevertedAt = a.Seq, a.EffectiveAt
		}
	case EventActionFailed:
		d := data.(*ActionFailed)
		a, err := c.actionOf(e, d.Action)
		if err != nil {
			return err
		}
		a.Attempts++
		a.Error = d.Error
		if d.Final {
			a.Status = ActionFailedStatus
		}
	case EventHoldPlaced:
		d := data.(*HoldPlaced)
		c.Holds = append(c.Holds, Hold{Seq: e.Seq, Target: d.Target, SHA256: d.SHA256, Blob: d.Blob, PlacedAt: e.At,
			Until: d.Until.UTC(), Extension: d.Extension, Basis: d.Basis})
	case EventHoldExtended:
		d := data.(*HoldExtended)
		h := c.Hold(d.Hold)
		if h == nil {
			return fmt.Errorf("apply event %d: no hold %d on case %s", e.Seq, d.Hold, c.ID)
		}
		h.Until, h.Extended = d.Until.UTC(), true
	case EventHoldReleased:
		d := data.(*HoldReleased)
		h := c.Hold(d.Hold)
		if h == nil {
			return fmt.Errorf("apply event %d: no hold %d on case %s", e.Seq, d.Hold, c.ID)
		}
		h.ReleasedAt = &Time{e.At}
	case EventPackageReady:
		d := data.(*PackageReady)
		c.Packages = append(c.Packages, Package{Seq: e.Seq, Blob: d.Blob, SHA256: d.SHA256, Size: d.Size, Items: d.Items, ReadyAt: e.At, Approval: d.Approval})
	case EventPackageDownloaded:
		d := data.(*PackageDownloaded)
		for i := range c.Packages {
			if c.Packages[i].Blob == d.Blob {
				c.Packages[i].Downloads++
			}
		}
	case EventStatementQueued:
		d := data.(*StatementQueued)
		a, err := c.actionOf(e, d.Action)
		if err != nil {
			return err
		}
		switch {
		case a.Status != ActionDoneStatus || a.Statement == nil:
			return fmt.Errorf("apply event %d: action %d of case %s has no statement of reasons in effect", e.Seq, d.Action, c.ID)
		case a.Submission != nil:
			return fmt.Errorf("apply event %d: the statement of action %d of case %s was queued already", e.Seq, d.Action, c.ID)
		case d.PUID != a.Statement.PUID:
			return fmt.Errorf("apply event %d: puid %q is not the one of action %d's statement", e.Seq, d.PUID, d.Action)
		case sha256Hex(d.Statement) != d.SHA256:
			return fmt.Errorf("apply event %d: the statement it queues does not match its SHA-256", e.Seq)
		}
		a.Submission = &Submission{PUID: d.PUID, SHA256: d.SHA256, State: SubmissionPending, QueuedAt: e.At}
	case EventStatementAccepted, EventStatementRefused:
		var action int64
		var puid string
		switch d := data.(type) {
		case *StatementAccepted:
			action, puid = d.Action, d.PUID
		case *StatementRefused:
			action, puid = d.Action, d.PUID
		}
		a, err := c.actionOf(e, action)
		if err != nil {
			return err
		}
		if a.Submission == nil || a.Submission.PUID != puid || a.Submission.State != SubmissionPending {
			return fmt.Errorf("apply event %d: the statement %q of action %d of case %s is not waiting for the database", e.Seq, puid, action, c.ID)
		}
		a.Submission.DecidedAt = &Time{e.At}
		if d, ok := data.(*StatementAccepted); ok {
			a.Submission.State, a.Submission.ID = SubmissionAccepted, d.ID
		} else {
			a.Submission.State, a.Submission.Error = SubmissionRefused, data.(*StatementRefused).Error
		}
	case EventPaged, EventPageFailed:
		d := data.(*Paged)
		if c.Paging == nil {
			c.Paging = &Paging{}
		}
		if e.Type == EventPageFailed {
			c.Paging.Failures++
			break
		}
		c.Paging.Pages++
		c.Paging.Step = max(c.Paging.Step, d.Step)
		c.Paging.LastTo, c.Paging.LastPagedAt = d.To, &Time{e.At}
	case EventPageAcknowledged:
		if c.Paging == nil {
			c.Paging = &Paging{}
		}
		c.Paging.AcknowledgedBy, c.Paging.AcknowledgedAt = actorID(e.Actor), &Time{e.At}
	}
	return nil
}
