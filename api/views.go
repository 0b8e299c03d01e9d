package api

import (
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/workflow"
)

// caseView is a case as staff see it.
type caseView struct {
	ID          string           `json:"id"`
	State       docket.CaseState `json:"state"`
	Regime      string           `json:"regime"`
	Kind        docket.Kind      `json:"kind"`
	Channel     string           `json:"channel"`
	AuthorityID string           `json:"authority_id,omitempty"`
	Country     string           `json:"country,omitempty"`
	Reference   string           `json:"reference,omitempty"`
	Emergency   bool             `json:"emergency"`
	// TrustedFlagger is the trusted flagger (DSA art. 22) whose notice opened or joined the
	// case while its status was in effect.
	TrustedFlagger string `json:"trusted_flagger,omitempty"`
	// Sender is the verification level of an e-mail sender; SenderVerified a person's
	// independent verification of it.
	Sender         string                 `json:"sender,omitempty"`
	SenderVerified *docket.SenderVerified `json:"sender_verified,omitempty"`
	Queue          string                 `json:"queue"`
	Priority       int                    `json:"priority"`
	Discloses      bool                   `json:"discloses"`
	AssigneeID     string                 `json:"assignee_id,omitempty"`
	ReceivedAt     time.Time              `json:"received_at"`
	Deadline       *docket.Time           `json:"deadline"`
	DueSoonAt      *docket.Time           `json:"due_soon_at"`
	PausedAt       *docket.Time           `json:"paused_at,omitempty"`
	DueSoon        bool                   `json:"due_soon"`
	Overdue        bool                   `json:"overdue"`
	Decision       *docket.Decision       `json:"decision,omitempty"`
	Answer         *docket.Answer         `json:"answer,omitempty"`
	Triage         *docket.CaseTriage     `json:"triage,omitempty"`
	Actions        []docket.CaseAction    `json:"actions,omitempty"`
	Holds          []docket.Hold          `json:"holds,omitempty"`
	Packages       []docket.Package       `json:"packages,omitempty"`
	Paging         *docket.Paging         `json:"paging,omitempty"`
	Media          []docket.CaseMedia     `json:"media,omitempty"`
	// Appeals are the complaints against the case's actions (DSA art. 20), each with
	// overdue set when its own clock ran out undecided.
	Appeals    []appealView `json:"appeals,omitempty"`
	MergedInto string       `json:"merged_into,omitempty"`
	MergedFrom []string     `json:"merged_from,omitempty"`
	SplitFrom  string       `json:"split_from,omitempty"`
	SplitTo    []string     `json:"split_to,omitempty"`
	UpdatedAt  time.Time    `json:"updated_at"`
}

func viewCase(c *docket.Case, now time.Time) caseView {
	return caseView{
		ID: c.ID, State: c.State, Regime: c.Regime, Kind: c.Kind, Channel: c.Channel,
		AuthorityID: c.AuthorityID, Country: c.Country, Reference: c.Reference, Emergency: c.Emergency, TrustedFlagger: c.TrustedFlagger,
		Sender: c.Sender, SenderVerified: c.SenderVerified, Queue: c.Queue, Priority: c.Priority, Discloses: c.Discloses, AssigneeID: c.AssigneeID,
		ReceivedAt: c.ReceivedAt, Deadline: docket.OptTime(c.DeadlineAt), DueSoonAt: docket.OptTime(c.DueSoonAt),
		PausedAt: docket.OptTime(c.PausedAt), DueSoon: c.DueSoon, Overdue: c.Overdue || c.OverdueAt(now),
		Decision: c.Decision, Answer: c.Answer, Triage: c.Triage, UpdatedAt: c.UpdatedAt,
		Actions: c.Actions, Holds: c.Holds, Packages: c.Packages, Paging: c.Paging, Media: c.Media,
		MergedInto: c.MergedInto, MergedFrom: c.MergedFrom, SplitFrom: c.SplitFrom, SplitTo: c.SplitTo,
		Appeals: viewAppeals(c, now),
	}
}

// appealView is an appeal as staff see it.
type appealView struct {
	docket.Appeal
	Overdue bool `json:"overdue"`
}

func viewAppeals(c *docket.Case, now time.Time) []appealView {
	var out []appealView
	for _, a := range c.Appeals {
		out = append(out, appealView{Appeal: a, Overdue: a.State == docket.AppealOpen && !now.Before(a.DeadlineAt)})
	}
	return out
}

// requestView is a request with its raw body left out (it is served apart).
type requestView struct {
	ID          string             `json:"id"`
	CaseID      string             `json:"case_id"`
	Channel     string             `json:"channel"`
	AuthorityID string             `json:"authority_id,omitempty"`
	ReceivedAt  time.Time          `json:"received_at"`
	SHA256      string             `json:"sha256"`
	ContentType string             `json:"content_type"`
	Body        docket.RequestBody `json:"body"`
}

func viewRequest(r *docket.Request) requestView {
	return requestView{ID: r.ID, CaseID: r.CaseID, Channel: r.Channel, AuthorityID: r.AuthorityID,
		ReceivedAt: r.ReceivedAt, SHA256: r.SHA256, ContentType: r.ContentType, Body: r.Body}
}

// statusView is what a requester sees of its request: where it stands, the deadline, and the
// decision and answer once they are in effect. Internal notes, assignees and pending
// decisions stay inside.
type statusView struct {
	requestView
	State    string        `json:"state"`
	Deadline *docket.Time  `json:"deadline"`
	Paused   bool          `json:"clock_paused"`
	Decision *decisionView `json:"decision"`
	Answer   *answerView   `json:"answer"`
	// Actions are what was carried out on the platform, once answered.
	Actions []workflow.ActionSummary `json:"actions,omitempty"`
	// Packages counts the disclosure packages ready to download (GET …/packages).
	Packages int `json:"packages,omitempty"`
}

type decisionView struct {
	Outcome    docket.Outcome `json:"outcome"`
	ReasonCode string         `json:"reason_code,omitempty"`
	Statement  string         `json:"statement,omitempty"`
	DecidedAt  time.Time      `json:"decided_at"`
}

type answerView struct {
	Text       string    `json:"text"`
	AnsweredAt time.Time `json:"answered_at"`
}

// requesterState hides the internal steps between receipt and answer.
func requesterState(s docket.CaseState) string {
	switch s {
	case docket.StateAwaitingRequester:
		return "awaiting_your_reply"
	case docket.StateAnswered:
		return "answered"
	}
	return "in_progress"
}

func viewStatus(r *docket.Request, c *docket.Case) statusView {
	v := statusView{requestView: viewRequest(r), State: requesterState(c.State), Deadline: docket.OptTime(c.DeadlineAt), Paused: !c.PausedAt.IsZero()}
	if c.Answer != nil && c.Decision != nil {
		v.Decision = &decisionView{Outcome: c.Decision.Outcome, ReasonCode: c.Decision.ReasonCode, Statement: c.Decision.Statement, DecidedAt: c.Decision.DecidedAt}
		v.Answer = &answerView{Text: c.Answer.Text, AnsweredAt: c.Answer.AnsweredAt}
		v.Actions = workflow.ActionSummaries(c)
	}
	v.Packages = len(c.Packages)
	return v
}
