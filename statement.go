package docket

import (
	"encoding/json"
	"time"
)

// Submission states of a statement of reasons sent to the EU Transparency Database (DSA
// art. 24(5)).
const (
	// SubmissionPending: queued when the platform applied the action; not yet accepted.
	SubmissionPending = "pending"
	// SubmissionAccepted: the database stored it and gave it an id.
	SubmissionAccepted = "accepted"
	// SubmissionRefused: the database (or docket, by the database's rules, before sending)
	// refused it, with its reasons. A refused statement is not sent again.
	SubmissionRefused = "refused"
)

// Submission is where the statement of reasons of an action stands with the EU
// Transparency Database. Each change is an event of the case (statement_queued,
// statement_accepted, statement_refused).
type Submission struct {
	PUID string `json:"puid"`
	// SHA256 is the digest of the statement as queued (the bytes sent).
	SHA256    string    `json:"sha256"`
	State     string    `json:"state"`
	ID        string    `json:"id,omitempty"`    // the database's uuid, once accepted
	Error     string    `json:"error,omitempty"` // why it was refused
	QueuedAt  time.Time `json:"queued_at"`
	DecidedAt *Time     `json:"decided_at,omitempty"` // accepted or refused
}

// StatementQueued is the data of EventStatementQueued: the statement of reasons of an action
// (Action: the seq of its action_requested event) with the EU Transparency Database's field
// names, as it will be sent, and the SHA-256 of those bytes.
type StatementQueued struct {
	Action    int64           `json:"action"`
	PUID      string          `json:"puid"`
	SHA256    string          `json:"sha256"`
	Statement json.RawMessage `json:"statement"`
}

// StatementAccepted is the data of EventStatementAccepted: the database's id of the
// statement. Existing is set when the database answered that it already held the puid
// after an earlier attempt whose answer docket never received (it gives no id then).
type StatementAccepted struct {
	Action   int64  `json:"action"`
	PUID     string `json:"puid"`
	ID       string `json:"id,omitempty"`
	Attempt  int    `json:"attempt"`
	Existing bool   `json:"existing,omitempty"`
}

// StatementRefused is the data of EventStatementRefused: the database's answer (Status, its
// HTTP status) or docket's own check by the database's rules before sending (Status 0).
type StatementRefused struct {
	Action  int64  `json:"action"`
	PUID    string `json:"puid"`
	Attempt int    `json:"attempt"`
	Status  int    `json:"status,omitempty"`
	Error   string `json:"error"`
}

// StatementRecord is a statement of reasons kept for the Transparency Database: the
// statement as sent (Payload) and its submission. State, RemoteID, Error and DecidedAt
// follow the case's events; Attempts, NextAt and LastError schedule the submission.
type StatementRecord struct {
	PUID      string          `json:"puid"`
	CaseID    string          `json:"case_id"`
	Action    int64           `json:"action"`
	Payload   json.RawMessage `json:"statement"`
	State     string          `json:"state"`
	RemoteID  string          `json:"id,omitempty"`
	Error     string          `json:"error,omitempty"`
	QueuedAt  time.Time       `json:"queued_at"`
	DecidedAt time.Time       `json:"decided_at"`
	Attempts  int             `json:"attempts"`
	NextAt    time.Time       `json:"next_at"`
	LastError string          `json:"last_error,omitempty"`
}

// StatementFilter selects statements for Store.Statements.
type StatementFilter struct {
	// Since keeps the statements queued at or after it.
	Since time.Time
	// State keeps the statements in that state (empty: all).
	State string
}
