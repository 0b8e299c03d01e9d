package docket

import (
	"context"
	"encoding/json"
	"time"

	"github.com/docket-dev/docket/translog"
)

// Store keeps requests, cases, their event log, authorities, users and background jobs.
// Implementations: sqlite.Open and postgres.Open; storetest holds the conformance suite.
// Methods that look one thing up return an error whose code is ENOTFOUND (ErrNotFound) when
// it does not exist.
type Store interface {
	// Update runs fn in one write transaction. Everything fn writes, and every event it
	// appends, commits together or not at all. Writers are serialised on the audit chain.
	Update(ctx context.Context, fn func(Tx) error) error

	Case(ctx context.Context, id string) (*Case, error)
	Cases(ctx context.Context, f CaseFilter) ([]*Case, error)
	Request(ctx context.Context, id string) (*Request, error)
	// RelatedKeys calls fn with the requester, and each reference (kind "reference") and
	// target, of the pending cases received at or after since.
	RelatedKeys(ctx context.Context, since time.Time, fn func(authorityID, kind, value string) error) error
	// RelatedOpenCase finds the oldest pending case of the same requester (an authority, or
	// the public when authorityID is empty) with the same reference, or naming one of the
	// targets, and says why. The case it returns carries its ID only. It returns
	// ErrNotFound when there is none.
	RelatedOpenCase(ctx context.Context, authorityID, reference string, targets []Target) (*Case, string, error)
	// RequestByIdempotencyKey finds the request an authority sent with this key.
	RequestByIdempotencyKey(ctx context.Context, authorityID, key string) (*Request, error)
	CaseRequests(ctx context.Context, caseID string) ([]*Request, error)
	// FirstRequest returns the request that opened a case.
	FirstRequest(ctx context.Context, caseID string) (*Request, error)
	CaseEvents(ctx context.Context, caseID string) ([]*Event, error)
	Blob(ctx context.Context, sha256 string) (*Blob, error)
	Stats(ctx context.Context, now time.Time) (*Stats, error)

	// RequestByKey returns the earliest request stored with a key (kind "message-id": the
	// Message-ID of an e-mail) or target of that kind and value.
	RequestByKey(ctx context.Context, kind, value string) (*Request, error)

	Authority(ctx context.Context, id string) (*Authority, error)
	Authorities(ctx context.Context) ([]*Authority, error)
	AuthorityByToken(ctx context.Context, tokenHash string) (*Authority, error)
	User(ctx context.Context, id string) (*User, error)
	UserByToken(ctx context.Context, tokenHash string) (*User, error)

	// ScanEvents calls fn for every event in Seq order; ScanCases for every case, and
	// ScanRequests for every request (ID, CaseID, SHA256 and Raw only), in no particular order.
	ScanEvents(ctx context.Context, fn func(*Event) error) error
	// ScanCorrections calls fn for every retriaged event (people's corrections of the
	// triage) in Seq order, without reading the rest of the log.
	ScanCorrections(ctx context.Context, fn func(*Event) error) error
	// ScanAutomationReviews calls fn for every automation_reviewed and rule_shadowed event
	// (people's reviews of automated actions, rules put in shadow mode) in Seq order,
	// without reading the rest of the log.
	ScanAutomationReviews(ctx context.Context, fn func(*Event) error) error
	ScanCases(ctx context.Context, fn func(*Case) error) error
	ScanRequests(ctx context.Context, fn func(*Request) error) error
	// Head returns the last event's Seq and Hash, as the store records them apart from the log.
	Head(ctx context.Context) (seq int64, hash string, err error)
	// Event returns the event with sequence number seq.
	Event(ctx context.Context, seq int64) (*Event, error)

	// The event log as a Merkle tree (see LogCommit): leaf i is event i+1. LatestTreeHead
	// returns the newest signed tree head and TreeHead the one of size leaves (ErrNotFound
	// when none was signed). InclusionProof returns the inclusion proof of leaf index in the
	// tree of size leaves, ConsistencyProof the consistency proof between the trees of size1
	// and size2 leaves; each reads O(log n) stored subtrees, and a size beyond the log's is an
	// EINVALID error.
	LatestTreeHead(ctx context.Context) (*translog.SignedTreeHead, error)
	TreeHead(ctx context.Context, size uint64) (*translog.SignedTreeHead, error)
	InclusionProof(ctx context.Context, index, size uint64) ([]translog.Hash, error)
	ConsistencyProof(ctx context.Context, size1, size2 uint64) ([]translog.Hash, error)

	// ClaimJobs marks up to n due jobs as running for lease and returns them. On PostgreSQL
	// several nodes may claim at once: each job goes to one of them.
	ClaimJobs(ctx context.Context, now time.Time, n int, lease time.Duration) ([]*Job, error)
	// FinishJob deletes a job that ran; RetryJob puts it back for later with the error, or
	// marks it failed for good when it has no attempts left.
	FinishJob(ctx context.Context, id int64) error
	// RenewJobs extends to until the lease of those of jobs that are still running under
	// the claim that returned them (the same attempt: a job another node took over is left
	// alone) and returns how many it extended.
	RenewJobs(ctx context.Context, jobs []*Job, until time.Time) (int, error)
	FinishJobs(ctx context.Context, ids []int64) error
	RetryJob(ctx context.Context, id int64, at time.Time, lastErr string) error

	// Users lists the staff.
	Users(ctx context.Context) ([]*User, error)
	// Login, LoginByEmail and LoginByConfirm find a sign-in account by its id, by kind and
	// e-mail address, or by the hash of its address-confirmation token; Logins lists them.
	Login(ctx context.Context, id string) (*Login, error)
	LoginByEmail(ctx context.Context, kind, email string) (*Login, error)
	LoginByConfirm(ctx context.Context, hash string) (*Login, error)
	Logins(ctx context.Context, f LoginFilter) ([]*Login, error)
	// Session returns a signed-in browser's session by the hash of its cookie, expired or
	// not: the caller checks ExpiresAt.
	Session(ctx context.Context, hash string) (*Session, error)
	// CaseTimes returns the dashboard's facts of the cases received, or answered, at or
	// after since.
	CaseTimes(ctx context.Context, since time.Time) ([]CaseTime, error)

	// Statements calls fn for each statement of reasons kept for the EU Transparency
	// Database that f selects, in the order they were queued (then by puid); Statement finds
	// one by its puid.
	Statements(ctx context.Context, f StatementFilter, fn func(*StatementRecord) error) error
	Statement(ctx context.Context, puid string) (*StatementRecord, error)
	// ClaimStatements takes up to n pending statements due at now (NextAt) for lease, counts
	// the attempt, and returns them in the order they fell due. On PostgreSQL several nodes
	// may claim at once: each statement goes to one of them. RetryStatements puts pending
	// statements back for at, with the error of the attempt (an empty one keeps the last).
	ClaimStatements(ctx context.Context, now time.Time, n int, lease time.Duration) ([]*StatementRecord, error)
	RetryStatements(ctx context.Context, puids []string, at time.Time, lastErr string) error

	// Banks lists the hash banks by name; Bank finds one by its name. BankHashes calls fn
	// for each hash that f selects, in no particular order.
	Banks(ctx context.Context) ([]*Bank, error)
	Bank(ctx context.Context, name string) (*Bank, error)
	BankHashes(ctx context.Context, f BankHashFilter, fn func(*BankHash) error) error

	// Flaggers lists the trusted flaggers by name; Flagger finds one by its id, and
	// FlaggerByToken by the hash of its API token (revoked ones too: the caller refuses them).
	Flaggers(ctx context.Context) ([]*Flagger, error)
	Flagger(ctx context.Context, id string) (*Flagger, error)
	FlaggerByToken(ctx context.Context, tokenHash string) (*Flagger, error)
	// Notifier finds what is kept of a notifier by its key (NotifierKey); Notifiers lists
	// the notifiers f selects, latest change first.
	Notifier(ctx context.Context, key string) (*NotifierStanding, error)
	Notifiers(ctx context.Context, f NotifierFilter) ([]*NotifierStanding, error)

	Ping(ctx context.Context) error
	Close() error
}

// NotifierFilter selects notifiers for Store.Notifiers.
type NotifierFilter struct {
	// Flaggers keeps the trusted flaggers; Warned those ever warned (suspended ones
	// included).
	Flaggers bool
	Warned   bool
	Limit    int
}

// BankHashFilter selects hashes for Store.BankHashes; the zero filter selects every row,
// withdrawn ones included.
type BankHashFilter struct {
	BankID string // one bank's hashes
	Live   bool   // only hashes not withdrawn
	// Since, when above 0, keeps the hashes added (or with Withdrawn, withdrawn) by an event
	// after it: what changed since a reader last looked.
	Since     int64
	Withdrawn bool
}

// Tx is one write transaction (see Store.Update).
type Tx interface {
	// Append seals e into the audit chain (sets Seq, PrevHash, Hash) and stores it, and adds
	// it to the event log's Merkle tree.
	Append(ctx context.Context, e *Event) error
	// Log returns what the transaction makes of the event log's Merkle tree: once Update has
	// returned nil, the head it signed and proofs of its events against that head.
	Log() LogCommit
	InsertRequest(ctx context.Context, r *Request) error
	InsertBlob(ctx context.Context, b *Blob) error
	// DeleteBlob deletes stored bytes that are no longer kept (a released hold's snapshot).
	DeleteBlob(ctx context.Context, sha256 string) error
	RequestByIdempotencyKey(ctx context.Context, authorityID, key string) (*Request, error)
	// MoveRequests makes the requests ids of case from (nil: all of them) the requests of
	// case to (a merge or a split), with their targets, and returns the ids moved in the
	// order they were received. It fails with ENOTFOUND unless each is from's.
	MoveRequests(ctx context.Context, from, to string, ids []string) ([]string, error)
	InsertCase(ctx context.Context, c *Case) error
	UpdateCase(ctx context.Context, c *Case) error
	// Case reads a case inside the transaction.
	Case(ctx context.Context, id string) (*Case, error)
	// CaseRequests returns the requests of a case as this transaction sees them, in order of
	// receipt, without their raw bytes (Raw is nil): what an approval covers is checked on
	// them at the moment of effect.
	CaseRequests(ctx context.Context, caseID string) ([]*Request, error)
	// RelatedOpenCase is Store.RelatedOpenCase among the cases opened earlier in this
	// transaction (not yet visible to the store's readers).
	RelatedOpenCase(ctx context.Context, authorityID, reference string, targets []Target) (*Case, string, error)
	// CasesToMark returns open cases whose due-soon or deadline time has passed at now and
	// that have not been marked yet, with their clock running; at most n.
	CasesToMark(ctx context.Context, now time.Time, n int) ([]*Case, error)
	InsertAuthority(ctx context.Context, a *Authority, tokenHash string) error
	InsertUser(ctx context.Context, u *User, tokenHash string) error
	// UpdateUser and UpdateAuthority apply a change as its event records it (empty fields
	// unchanged); an unknown id is ErrNotFound.
	UpdateUser(ctx context.Context, ch *UserChanged) error
	UpdateAuthority(ctx context.Context, ch *AuthorityChanged) error
	// PutLogin inserts or replaces a sign-in account; another of the same kind with the same
	// e-mail address is an ECONFLICT error.
	PutLogin(ctx context.Context, l *Login) error
	// CountSignIn counts an attempt to sign in to an account before its password and code
	// are checked, in one statement, so that attempts made at once cannot all pass the
	// lockout: it returns the attempts counted since the last success, this one included,
	// or 0 when the account is locked at now (or does not exist).
	CountSignIn(ctx context.Context, id string, now time.Time) (int, error)
	// LockLogin locks an account until until and clears its count of attempts.
	LockLogin(ctx context.Context, id string, until time.Time) error
	// UseTOTPStep records a sign-in with the second-factor code of step: it clears the count
	// of attempts and advances the last step used only if step is after it (compare-and-set).
	// It returns false when that step or a later one was used first: each code is good once.
	UseTOTPStep(ctx context.Context, id string, step int64) (bool, error)
	// InsertSession stores a new session (and drops expired ones); DeleteSession ends one.
	InsertSession(ctx context.Context, s *Session) error
	DeleteSession(ctx context.Context, hash string) error
	// EndSessions ends every session of an account (its password or second factor changed).
	EndSessions(ctx context.Context, loginID string) error
	// Enqueue adds a job. A job with a UniqueKey is not added while another with the same key
	// waits or runs.
	Enqueue(ctx context.Context, j *Job) error
	// InsertStatement keeps a statement of reasons queued for the EU Transparency Database,
	// due at r.NextAt; a puid kept already is an ECONFLICT error. DecideStatement records
	// the outcome of a pending one (State, RemoteID, Error, DecidedAt), as the event
	// appended in the same transaction says; one not pending is an ECONFLICT error.
	InsertStatement(ctx context.Context, r *StatementRecord) error
	DecideStatement(ctx context.Context, r *StatementRecord) error
	// InsertBank stores a new hash bank; another of the same name is an ECONFLICT error.
	// Bank reads one by its name inside the transaction (PostgreSQL locks its row), and
	// UpdateBank stores its enabled flag, count of hashes and ChangedSeq.
	InsertBank(ctx context.Context, b *Bank) error
	Bank(ctx context.Context, name string) (*Bank, error)
	UpdateBank(ctx context.Context, b *Bank) error
	// LiveBankHashes returns those of hashes (hex, of one kind) that the bank holds and has
	// not withdrawn.
	LiveBankHashes(ctx context.Context, bankID, kind string, hashes []string) (map[string]bool, error)
	// AddBankHashes stores hashes of a bank, each with its AddedSeq, AddedBy and AddedAt; a
	// hash the bank holds live already is an ECONFLICT error. WithdrawBankHashes marks live
	// hashes withdrawn (WithdrawnSeq, WithdrawnBy, WithdrawnAt of each); one the bank does
	// not hold live is ENOTFOUND.
	AddBankHashes(ctx context.Context, hs []BankHash) error
	WithdrawBankHashes(ctx context.Context, hs []BankHash) error

	// InsertFlagger stores a new trusted flagger with the hash of its API token; another of
	// the same name is an ECONFLICT error. Flagger reads one inside the transaction, and
	// UpdateFlagger stores its status, SuspendedUntil, Reason and ChangedSeq, and a new
	// token's hash when tokenHash is not empty.
	InsertFlagger(ctx context.Context, f *Flagger, tokenHash string) error
	Flagger(ctx context.Context, id string) (*Flagger, error)
	UpdateFlagger(ctx context.Context, f *Flagger, tokenHash string) error
	// Notifiers returns what is kept of the notifiers named by keys (those unknown are
	// absent), in one query; PutNotifier stores a notifier's row, new or changed.
	Notifiers(ctx context.Context, keys []string) (map[string]*NotifierStanding, error)
	PutNotifier(ctx context.Context, n *NotifierStanding) error
	// InsertAssessments stores assessed notices; a notice assessed already is an
	// ECONFLICT error. RecentAssessments counts a notifier's notices assessed at or after
	// since, and those of them manifestly unfounded.
	InsertAssessments(ctx context.Context, as []NoticeAssessment) error
	RecentAssessments(ctx context.Context, key string, since time.Time) (assessed, manifest int, err error)
}

// CaseFilter selects cases for Store.Cases.
type CaseFilter struct {
	States      []CaseState
	Queue       string
	Regime      string
	AuthorityID string
	AssigneeID  string
	Country     string
	Overdue     bool // only pending cases past their deadline with the clock running
	// Pending keeps the cases that still owe an answer; Emergency only emergencies.
	Pending   bool
	Emergency bool
	// Query is a full-text search over the cases' requests (words, all must match).
	Query string
	Now   time.Time
	// Sort is "deadline" (soonest first, cases without deadline last; the default),
	// "queue" (the console's order, docket.QueueKey: emergencies first, then by deadline),
	// "received" (oldest first) or "-received" (newest first).
	Sort   string
	Limit  int
	Offset int
}

// Stats are the figures that must be visible at all times.
type Stats struct {
	Open        int            `json:"open"`
	ByState     map[string]int `json:"by_state"`
	DueSoon     int            `json:"due_soon"`
	Overdue     int            `json:"overdue"`
	Paused      int            `json:"paused"`
	Emergencies int            `json:"emergencies_open"`
	JobsWaiting int            `json:"jobs_waiting"`
	JobsFailed  int            `json:"jobs_failed"`
	// Statements of reasons not yet accepted by the EU Transparency Database, and refused.
	StatementsPending int    `json:"statements_pending"`
	StatementsRefused int    `json:"statements_refused"`
	OldestOverdueCase string `json:"oldest_overdue_case,omitempty"`
}

// Job is a unit of background work kept in the database.
type Job struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Payload     json.RawMessage `json:"payload"`
	UniqueKey   string          `json:"unique_key,omitempty"`
	RunAt       time.Time       `json:"run_at"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	LastError   string          `json:"last_error,omitempty"`
}
