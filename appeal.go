package docket

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Complaints and appeals (DSA art. 20–21). The user affected by an action on content or an
// account may contest it for six months after the platform applied it, through the public
// appeal page (a link with a token, given with the statement of reasons) or through the
// platform's own in-app appeal (the connector). An appeal is recorded on the case of the
// decision it contests (appeal_received), with a clock of its own, and decided by a person
// who took no part in the decision (appeal_decided); upholding it reverts the action on the
// platform (an action_requested of op restore or reinstate) with a new statement of reasons.

// Operations that revert an action on the platform after an upheld appeal: restore content
// removed or restricted, reinstate a suspended or terminated account. They are never asked
// for by a person directly (they are not in Ops): an upheld appeal asks for them.
const (
	OpRestore   = "restore"
	OpReinstate = "reinstate"
)

// RevertOp returns the operation that reverts op ("" when op is not reverted by an appeal).
func RevertOp(op string) string {
	switch op {
	case OpRemove, OpRestrict:
		return OpRestore
	case OpSuspend, OpTerminate:
		return OpReinstate
	}
	return ""
}

// Appellants: who contests a decision.
const (
	AppellantUser     = "user"     // the user whose content or account was acted on
	AppellantNotifier = "notifier" // the person who sent the notice
)

// Channels of an appeal.
const (
	AppealChannelWeb      = "web"      // the public appeal page or POST /api/v1/appeals
	AppealChannelPlatform = "platform" // the platform's in-app appeal, through the connector
)

// Appeal outcomes and states.
const (
	AppealOpen     = "open"
	AppealUpheld   = "upheld"   // the decision is reversed
	AppealRejected = "rejected" // the decision stands
)

// AppealWindow is how long after an action took effect it may be contested (DSA art.
// 20(1): at least six months).
const AppealWindow = "6 months"

// AppealCloses returns when the appeal window of an action that took effect at closes.
func AppealCloses(effective time.Time) time.Time { return effective.UTC().AddDate(0, 6, 0) }

// DisputeBody is an out-of-court dispute settlement body (DSA art. 21) that an appeal's
// answer names: operator data, with a default (DefaultDisputeBodies).
type DisputeBody struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
	Note string `json:"note,omitempty"`
}

// DefaultDisputeBodies is what an answer names when the operator lists no body: the
// Commission's register of the bodies certified under art. 21.
var DefaultDisputeBodies = []DisputeBody{{
	Name: "A certified out-of-court dispute settlement body of your choice (Regulation (EU) 2022/2065, art. 21)",
	URL:  "https://digital-strategy.ec.europa.eu/en/policies/dsa-out-court-dispute-settlement",
	Note: "The European Commission lists the bodies that the Digital Services Coordinators have certified. You may also go to court.",
}}

// DisputeBodiesText writes bodies as the paragraph an answer carries.
func DisputeBodiesText(bodies []DisputeBody) string {
	var b strings.Builder
	b.WriteString("If you disagree, you may refer this decision to an out-of-court dispute settlement body (DSA art. 21):")
	for _, d := range bodies {
		b.WriteString("\n- " + d.Name)
		if d.URL != "" {
			b.WriteString(" <" + d.URL + ">")
		}
		if d.Note != "" {
			b.WriteString(". " + d.Note)
		}
	}
	return b.String()
}

// Appeal is an appeal against an action of a case, and where it stands: its appeal_received
// event, then its appeal_decided.
type Appeal struct {
	Seq int64 `json:"seq"` // of its appeal_received event
	AppealReceived
	State      string    `json:"state"` // open, upheld, rejected
	ReceivedAt time.Time `json:"received_at"`
	DecidedBy  string    `json:"decided_by,omitempty"`
	DecidedAt  *Time     `json:"decided_at,omitempty"`
	Reasons    string    `json:"reasons,omitempty"`
	// Bodies are the out-of-court dispute settlement bodies its answer named.
	Bodies []DisputeBody `json:"bodies,omitempty"`
	// Revert is the seq of the action_requested that reverts the action (upheld).
	Revert int64 `json:"revert,omitempty"`
}

// AppealReceived is the data of EventAppealReceived: the action contested (the seq of its
// action_requested event, and its statement's puid), who contests it and how, what they
// say, and the deadline of the appeal's own clock.
type AppealReceived struct {
	Action    int64  `json:"action"`
	PUID      string `json:"puid"`
	Appellant string `json:"appellant"`
	Channel   string `json:"channel"`
	Text      string `json:"text"`
	// Contact is where the appellant asked to be answered (an e-mail address), if given.
	Contact string `json:"contact,omitempty"`
	// PlatformRef is the platform's id of an in-app appeal: the same one is filed once.
	PlatformRef string    `json:"platform_ref,omitempty"`
	FiledAt     time.Time `json:"filed_at"`
	DeadlineAt  time.Time `json:"deadline_at"`
}

// AppealDecided is the data of EventAppealDecided: the outcome of the appeal Appeal (the seq
// of its appeal_received), the reasons given to the appellant and the out-of-court dispute
// settlement bodies named (art. 21). Its actor must be a person who took no part in the
// decision contested (Case.CheckAppealDecider).
type AppealDecided struct {
	Appeal  int64         `json:"appeal"`
	Outcome string        `json:"outcome"`
	Reasons string        `json:"reasons"`
	Bodies  []DisputeBody `json:"bodies"`
}

// AppealOf returns the appeal whose appeal_received is seq, or nil.
func (c *Case) AppealOf(seq int64) *Appeal {
	for i := range c.Appeals {
		if c.Appeals[i].Seq == seq {
			return &c.Appeals[i]
		}
	}
	return nil
}

// ActionByPUID returns the action whose statement of reasons has puid, or nil.
func (c *Case) ActionByPUID(puid string) *CaseAction {
	for i := range c.Actions {
		if a := &c.Actions[i]; a.Statement != nil && a.Statement.PUID == puid {
			return a
		}
	}
	return nil
}

// DecisionTakers lists the people who took the decision behind an action: who decided
// the case, who approved it, and who asked for the action.
func (c *Case) DecisionTakers(a *CaseAction) []string {
	var out []string
	add := func(id string) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if c.Decision != nil {
		add(c.Decision.DecidedBy)
		add(c.Decision.ApprovedBy)
	}
	add(a.RequestedBy)
	add(a.ReviewedBy) // who upheld an automated action took part in it
	return out
}

// Reverting returns the action that reverts (or is asked to revert) the action seq and has
// not failed, or nil: an action is reverted once, whether by an upheld appeal or an
// overturned automated decision.
func (c *Case) Reverting(seq int64) *CaseAction {
	for i := range c.Actions {
		if a := &c.Actions[i]; a.Reverts == seq && a.Status != ActionFailedStatus {
			return a
		}
	}
	return nil
}

// CheckAppealDecider reports why actor may not decide the appeal seq of c: an appeal is
// decided by a person (never by automation: the actor must be a user) who took no part
// in the decision it contests. It returns an EFOUREYES error, ESTATE when the appeal is not
// open, or nil.
func (c *Case) CheckAppealDecider(seq int64, actor Actor) error {
	ap := c.AppealOf(seq)
	if ap == nil {
		return Errorf(ENOTFOUND, "The case has no appeal %d.", seq)
	}
	if ap.State != AppealOpen {
		return Errorf(ESTATE, "Appeal %d was %s already.", seq, ap.State)
	}
	if !strings.HasPrefix(string(actor), "user:") {
		return Errorf(EFOUREYES, "An appeal is decided by a person, never by automation (actor %s).", actor)
	}
	a := c.Action(ap.Action)
	if a == nil {
		return fmt.Errorf("appeal %d contests no action of case %s", seq, c.ID)
	}
	if slices.Contains(c.DecisionTakers(a), actorID(actor)) {
		return Errorf(EFOUREYES, "An appeal is decided by someone who took no part in the decision it contests (DSA art. 20(6)); you decided, approved or carried it out.")
	}
	return nil
}

func (c *Case) applyAppealReceived(e *Event, d *AppealReceived) error {
	a := c.Action(d.Action)
	if a == nil || a.Statement == nil || a.Statement.PUID != d.PUID {
		return fmt.Errorf("apply event %d: appeal against no action %d (%s) of case %s", e.Seq, d.Action, d.PUID, c.ID)
	}
	c.Appeals = append(c.Appeals, Appeal{Seq: e.Seq, AppealReceived: *d, State: AppealOpen, ReceivedAt: e.At})
	return nil
}

func (c *Case) applyAppealDecided(e *Event, d *AppealDecided) error {
	// The rule holds in the transaction that records the decision (record applies the
	// event before writing it) and in every replay of the log.
	if err := c.CheckAppealDecider(d.Appeal, e.Actor); err != nil {
		return fmt.Errorf("apply event %d: %w", e.Seq, err)
	}
	if d.Outcome != AppealUpheld && d.Outcome != AppealRejected {
		return fmt.Errorf("apply event %d: appeal outcome %q", e.Seq, d.Outcome)
	}
	ap := c.AppealOf(d.Appeal)
	ap.State, ap.DecidedBy, ap.DecidedAt, ap.Reasons, ap.Bodies = d.Outcome, actorID(e.Actor), &Time{e.At}, d.Reasons, d.Bodies
	return nil
}
