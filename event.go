package docket

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// EventType names what an event records. The list is append-only: the audit log holds
// them forever. Each type of a case event is registered once, in eventKinds (eventkinds.go),
// with the data it carries and how it changes a case.
type EventType string

// Event types.
const (
	EventCaseOpened       EventType = "case_opened"
	EventRequestReceived  EventType = "request_received"
	EventAssigned         EventType = "assigned"
	EventCommented        EventType = "commented"
	EventDecided          EventType = "decided"
	EventApproved         EventType = "approved"
	EventApprovalRejected EventType = "approval_rejected"
	// EventApprovalVoided: what the approval in effect covered changed (a request joined,
	// a merge or a split, a correction of the regime, kind or targets), or a decision in
	// effect came to hand over user data: the decision waits for an approval again.
	EventApprovalVoided   EventType = "approval_voided"
	EventAnswered         EventType = "answered"
	EventRequesterReplied EventType = "requester_replied"
	EventDueSoon          EventType = "deadline_due_soon"
	EventOverdue          EventType = "deadline_overdue"
	EventTriaged          EventType = "triaged"   // automatic triage
	EventRetriaged        EventType = "retriaged" // a person corrected the triage
	EventAcknowledged     EventType = "acknowledged"
	// A person merges case B into case A: B records merged_into and A records merged, with
	// B's requests now A's. A person splits requests off case A: A records split, and the
	// new case opens with case_opened naming A (split_from).
	EventMerged     EventType = "merged"
	EventMergedInto EventType = "merged_into"
	EventSplit      EventType = "split"
	// EventSenderVerified: a person verified the sender independently (a call-back to a
	// known number, a supervisor) — needed before a disclosure to an unverified sender.
	EventSenderVerified EventType = "sender_verified"
	// EventMailSent and EventMailFailed record each attempt to send a mail about the case
	// (its receipt, its answer) through the relay.
	EventMailSent   EventType = "mail_sent"
	EventMailFailed EventType = "mail_failed"
	// Actions on the platform: asked for by a person, then confirmed or failed per attempt.
	EventActionRequested EventType = "action_requested"
	EventActionDone      EventType = "action_done"
	EventActionFailed    EventType = "action_failed"
	// Preservation holds: placed with a sealed snapshot, extended, released by the clock.
	EventHoldPlaced   EventType = "hold_placed"
	EventHoldExtended EventType = "hold_extended"
	EventHoldReleased EventType = "hold_released"
	// Disclosure packages: built after approval, downloaded by the requesting authority.
	EventPackageReady      EventType = "package_ready"
	EventPackageDownloaded EventType = "package_downloaded"
	// Statements of reasons for the EU Transparency Database (DSA art. 24(5)): queued when
	// the platform applied an action on content or an account, then accepted with the
	// database's id or refused with its reasons.
	EventStatementQueued   EventType = "statement_queued"
	EventStatementAccepted EventType = "statement_accepted"
	EventStatementRefused  EventType = "statement_refused"
	// Emergency paging: each page sent (or failed) and its acknowledgement.
	EventPaged            EventType = "paged"
	EventPageFailed       EventType = "page_failed"
	EventPageAcknowledged EventType = "page_acknowledged"
	// Hash checks of attachments: the hashes of a request's attachments (always), and the
	// attachments found in enabled hash banks.
	EventMediaHashed  EventType = "media_hashed"
	EventMediaMatched EventType = "media_matched"
	// Complaints (DSA art. 20): an appeal against an action received, and decided by a
	// person who took no part in the decision (upheld: the action is reverted).
	EventAppealReceived EventType = "appeal_received"
	EventAppealDecided  EventType = "appeal_decided"
	// Automated actions that people audit: a rule's automated action sampled for review,
	// and a person's review of it (overturned: the action is reverted).
	EventReviewRequested    EventType = "review_requested"
	EventAutomationReviewed EventType = "automation_reviewed"
	// Reports to NCMEC's CyberTipline (18 U.S.C. § 2258A; ncmec.go): queued with the action
	// on content of a decided child-protection case, then each step of the API (/submit,
	// /upload, /fileinfo, /finish) as NCMEC answered it, each failed attempt, and the
	// retraction asked for when the decision is reversed, and done (/retract).
	EventNCMECQueued           EventType = "ncmec_report_queued"
	EventNCMECOpened           EventType = "ncmec_report_opened"
	EventNCMECUploaded         EventType = "ncmec_file_uploaded"
	EventNCMECDescribed        EventType = "ncmec_file_described"
	EventNCMECFinished         EventType = "ncmec_report_finished"
	EventNCMECFailed           EventType = "ncmec_report_failed"
	EventNCMECRetractRequested EventType = "ncmec_retract_requested"
	EventNCMECRetracted        EventType = "ncmec_report_retracted"

	// Events outside any case (CaseID is empty): who was given credentials, and when.
	EventAuthorityRegistered EventType = "authority_registered"
	EventUserAdded           EventType = "user_added"
	// EventLoginChanged records a sign-in account created, or changed in what decides
	// whether and as whom it signs in (see LoginState).
	EventLoginChanged EventType = "login_changed"
	// EventCredentialsBaseline records, once, the staff, authorities and sign-in accounts
	// that a store held when docket began to record their changes as events (a store
	// created by an older version); later events change them from there.
	EventCredentialsBaseline EventType = "credentials_baseline"
	// EventSessionOpened records a browser session opened for a sign-in account.
	EventSessionOpened EventType = "session_opened"
	// EventUserChanged and EventAuthorityChanged record a change of a staff member (role, API
	// token) or of an authority (domains, age key, API token).
	EventUserChanged      EventType = "user_changed"
	EventAuthorityChanged EventType = "authority_changed"
	// Hash banks (outside any case): a bank created, enabled or disabled, and batches of its
	// hashes added or withdrawn.
	EventBankCreated         EventType = "bank_created"
	EventBankChanged         EventType = "bank_changed"
	EventBankHashesAdded     EventType = "bank_hashes_added"
	EventBankHashesWithdrawn EventType = "bank_hashes_withdrawn"
	// EventRuleShadowed (outside any case) records a rule put in shadow mode by itself: the
	// share of its reviewed automated decisions that people upheld fell below its minimum.
	EventRuleShadowed EventType = "rule_shadowed"
	// Trusted flaggers and the misuse of notices (outside any case; see flagger.go): a
	// flagger registered or changed (status, token), the notices of an answered case
	// assessed, a notifier warned, a notifier's notices suspended.
	EventFlaggerRegistered EventType = "flagger_registered"
	EventFlaggerChanged    EventType = "flagger_changed"
	EventNoticeAssessed    EventType = "notice_assessed"
	EventNotifierWarned    EventType = "notifier_warned"
	EventNotifierSuspended EventType = "notifier_suspended"
)

// Event is one entry of the audit log. Seq orders all events of all cases; Hash covers the
// event's content and PrevHash, the hash of the event before it in Seq order, so that a
// changed, deleted or reordered event breaks the chain.
type Event struct {
	Seq      int64           `json:"seq"`
	CaseID   string          `json:"case_id"`
	Type     EventType       `json:"type"`
	Actor    Actor           `json:"actor"`
	At       time.Time       `json:"at"`
	Data     json.RawMessage `json:"data"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// NewEvent returns an event with data marshalled; Seq and hashes are set by the store.
func NewEvent(caseID string, typ EventType, actor Actor, at time.Time, data any) *Event {
	b, err := json.Marshal(data)
	if err != nil {
		panic("docket: marshal event data: " + err.Error()) // only our own types reach here
	}
	return &Event{CaseID: caseID, Type: typ, Actor: actor, At: at.UTC(), Data: b}
}

// CaseOpened is the data of the first event of a case: the request that opened it (its id
// and SHA-256 fix it in the chain) and everything the case's clock starts from.
type CaseOpened struct {
	RequestID   string `json:"request_id"`
	SHA256      string `json:"sha256"`
	Regime      string `json:"regime"`
	Kind        Kind   `json:"kind"`
	Channel     string `json:"channel"`
	AuthorityID string `json:"authority_id,omitempty"`
	Country     string `json:"country,omitempty"`
	Reference   string `json:"reference,omitempty"`
	Emergency   bool   `json:"emergency,omitempty"`
	// Sender is the verification level of an e-mail's sender (SenderRegistered…); empty
	// for requests made with an authority's API token or through the notice form.
	Sender   string `json:"sender,omitempty"`
	Queue    string `json:"queue"`
	Priority int    `json:"priority"`
	// Discloses marks a case whose compliance hands over user data: its decisions need a
	// second person's approval.
	Discloses bool `json:"discloses,omitempty"`
	// PauseOnNeedInfo says whether asking the requester for more stops the clock.
	PauseOnNeedInfo bool      `json:"pause_on_need_info,omitempty"`
	ReceivedAt      time.Time `json:"received_at"`
	DeadlineAt      *Time     `json:"deadline_at"`
	DueSoonAt       *Time     `json:"due_soon_at"`
	// SplitFrom is set when a person split this case off another: Requests are the
	// requests it took over (RequestID, the first of them, was received by the other case).
	SplitFrom string   `json:"split_from,omitempty"`
	Requests  []string `json:"requests,omitempty"`
	// BodySHA256 and TargetsDigest fix the stored request's normalised body and its target
	// rows (BodySHA256, Request.TargetsDigest); events written before they were recorded
	// lack them.
	BodySHA256    string `json:"body_sha256,omitempty"`
	TargetsDigest string `json:"targets_digest,omitempty"`
	// Receipt is what the receipt given for RequestID said beyond the request (set at intake
	// by versions whose receipts carry proofs; not on a case split off another).
	Receipt *ReceiptFacts `json:"receipt,omitempty"`
	// TrustedFlagger is the trusted flagger (DSA art. 22) whose notice opened the case,
	// when its status was in effect at receipt: the case is handled with priority.
	TrustedFlagger string `json:"trusted_flagger,omitempty"`
}

// Merged records, on the case that remains, that another case was merged into it: its
// requests are now this case's. The case owes its answer by the earlier of the two
// deadlines and is an emergency if either was.
type Merged struct {
	From     string   `json:"from"`
	Requests []string `json:"requests"`
	Note     string   `json:"note,omitempty"`
	// DeadlineAt and DueSoonAt are set when the merged case's clock ran out sooner.
	DeadlineAt *Time `json:"deadline_at,omitempty"`
	DueSoonAt  *Time `json:"due_soon_at,omitempty"`
	// Emergency, Queue and Priority are set when the merged case was an emergency and this
	// one was not, or ranked higher.
	Emergency bool     `json:"emergency,omitempty"`
	Queue     string   `json:"queue,omitempty"`
	Priority  int      `json:"priority,omitempty"`
	Targets   []Target `json:"targets,omitempty"` // the merged case's sorted targets, added
	// Discloses is set when the merged case disclosed and this one did not.
	Discloses bool `json:"discloses,omitempty"`
	// Unverified is set when the merged case came from an unverified sender that no person
	// verified: the case is then unverified, and a verification must be recorded again.
	Unverified bool `json:"unverified,omitempty"`
	// Policy is set when the merged case was a policy case and this one was not: a policy
	// reviewer decides the merged whole.
	Policy bool `json:"policy,omitempty"`
}

// MergedInto records, on the case that ends, that it was merged into another.
type MergedInto struct {
	Into     string   `json:"into"`
	Requests []string `json:"requests"`
	Note     string   `json:"note,omitempty"`
}

// Split records, on the case that keeps the rest, that requests were split off into a new case.
type Split struct {
	To       string   `json:"to"`
	Requests []string `json:"requests"`
	Note     string   `json:"note,omitempty"`
}

// RequestReceived records a further request joining an open case.
type RequestReceived struct {
	RequestID string `json:"request_id"`
	Channel   string `json:"channel"`
	SHA256    string `json:"sha256"`
	// Unverified is set when the request came from an unverified sender: the case is then
	// unverified, and an earlier verification no longer covers it.
	Unverified bool `json:"unverified,omitempty"`
	// Why the request joined this case rather than opening its own.
	Why string `json:"why,omitempty"`
	// DeadlineAt and DueSoonAt are set when the new request's own clock runs out sooner:
	// the case then owes its answer by the earlier time.
	DeadlineAt *Time `json:"deadline_at,omitempty"`
	DueSoonAt  *Time `json:"due_soon_at,omitempty"`
	Emergency  bool  `json:"emergency,omitempty"`
	// Discloses is set when the request asks for user data and the case did not: the case
	// now discloses (its decisions to comply need a second person's approval).
	Discloses bool `json:"discloses,omitempty"`
	// TrustedFlagger is set when the request is a trusted flagger's notice and the case
	// had none: the case is now a trusted flagger's.
	TrustedFlagger string `json:"trusted_flagger,omitempty"`
	// What the receipt fixes of the stored request besides its raw bytes (see
	// StoredRequest); events written before it was recorded lack it.
	StoredRequest
	// Receipt is what the receipt given for the request said beyond it (see ReceiptFacts).
	Receipt *ReceiptFacts `json:"receipt,omitempty"`
}

// StoredRequest is what a receipt event fixes of the stored request besides its raw bytes:
// who sent it, when, through which channel, its normalised body and its target rows. It is
// recorded when BodySHA256 is set (events written by older versions lack it).
type StoredRequest struct {
	AuthorityID   string `json:"authority_id,omitempty"`
	ReceivedAt    *Time  `json:"received_at,omitempty"`
	BodySHA256    string `json:"body_sha256,omitempty"`
	TargetsDigest string `json:"targets_digest,omitempty"`
}

// StoredRequestOf returns what a receipt event records of r.
func StoredRequestOf(r *Request) (StoredRequest, error) {
	body, err := BodySHA256(&r.Body)
	if err != nil {
		return StoredRequest{}, err
	}
	return StoredRequest{AuthorityID: r.AuthorityID, ReceivedAt: OptTime(r.ReceivedAt), BodySHA256: body, TargetsDigest: r.TargetsDigest()}, nil
}

// Assigned records who works a case.
type Assigned struct {
	AssigneeID string `json:"assignee_id"`
}

// Commented is an internal note.
type Commented struct {
	Text string `json:"text"`
}

// Decided records a decision; with NeedsApproval it takes effect only once approved.
type Decided struct {
	Decision
}

// Approved records the second person's approval of the pending decision and exactly what it
// covers. Approvals recorded before coverage existed carry none: they cover no effect.
type Approved struct {
	Coverage *Coverage `json:"coverage,omitempty"`
}

// Coverage is what an approval covers: the requests of the case when it was given, the
// targets whose data and the data categories that may be handed over, the regime and kind
// the case was triaged under, and the SHA-256 of the decision approved (DecisionSHA256).
// An effect that hands user data over (a disclosure package, its download, an answer to a
// decision to comply on a disclosing case) is allowed only while the case still has exactly
// these requests, this regime, this kind and this decision, and only for these targets and
// categories.
type Coverage struct {
	Requests   []string `json:"requests"` // sorted
	Targets    []Target `json:"targets"`
	Categories []string `json:"categories"`
	Regime     string   `json:"regime"`
	Kind       Kind     `json:"kind"`
	Decision   string   `json:"decision_sha256"`
}

// ApprovalVoided records that the approval in effect (Approval, the seq of its approved
// event; 0 when the decision had none) no longer covers the case, and why.
type ApprovalVoided struct {
	Reason   string `json:"reason"`
	Approval int64  `json:"approval,omitempty"`
}

// ApprovalRejected sends a pending decision back.
type ApprovalRejected struct {
	Reason string `json:"reason"`
}

// Answered records the response sent back to the requester. When it asks for more
// information on a regime that allows it, the clock pauses at At.
type Answered struct {
	Text        string `json:"text"`
	PausesClock bool   `json:"pauses_clock,omitempty"`
	// Actions reports what was carried out on the platform, with when it took effect.
	Actions any `json:"actions,omitempty"`
}

// RequesterReplied records the requester's reply; a paused clock resumes with the deadline
// moved by the time it was paused.
type RequesterReplied struct {
	RequestID  string `json:"request_id"`
	SHA256     string `json:"sha256"`
	DeadlineAt *Time  `json:"deadline_at"`
	DueSoonAt  *Time  `json:"due_soon_at"`
	// Channel is the reply's channel (recorded with StoredRequest).
	Channel string `json:"channel,omitempty"`
	StoredRequest
	// Receipt is what the receipt given for the reply said beyond it (see ReceiptFacts).
	Receipt *ReceiptFacts `json:"receipt,omitempty"`
}

// Triaged is how a case is triaged, by triage (EventTriaged) or by a person correcting it
// (EventRetriaged). Empty fields leave the case as it was.
type Triaged struct {
	Language   string   `json:"language,omitempty"`
	Regime     string   `json:"regime,omitempty"`
	Kind       Kind     `json:"kind,omitempty"`
	Emergency  *bool    `json:"emergency,omitempty"`
	Spam       *bool    `json:"spam,omitempty"`
	Label      string   `json:"label,omitempty"`
	Category   string   `json:"category,omitempty"`
	Priority   *int     `json:"priority,omitempty"`
	Queue      string   `json:"queue,omitempty"`
	Targets    []Target `json:"targets,omitempty"`
	Signals    []string `json:"signals,omitempty"`
	Confidence float64  `json:"confidence,omitempty"`
	// Reason is why a person corrected the triage.
	Reason string `json:"reason,omitempty"`
	// Rules that routed the case, and shadow rules that would have acted.
	Rules       []string `json:"rules,omitempty"`
	ShadowRules []string `json:"shadow_rules,omitempty"`
	// When the regime changes, the clock is recomputed from the time of receipt.
	ClockChanged    bool  `json:"clock_changed,omitempty"`
	DeadlineAt      *Time `json:"deadline_at,omitempty"`
	DueSoonAt       *Time `json:"due_soon_at,omitempty"`
	Discloses       *bool `json:"discloses,omitempty"`
	PauseOnNeedInfo *bool `json:"pause_on_need_info,omitempty"`
}

// Acknowledged records that receipt was acknowledged to the requester (by a rule or a person).
type Acknowledged struct {
	Rule string `json:"rule,omitempty"`
}

// SenderVerified records a person's independent verification of a request's sender.
type SenderVerified struct {
	// Method is how: "callback" (a call to a number known independently of the request),
	// "supervisor", "in_person" or "other".
	Method string `json:"method"`
	Note   string `json:"note"`
}

// MailSent records a mail handed to the relay; MailFailed an attempt that failed.
type MailSent struct {
	Purpose   string `json:"purpose"` // "receipt" or "answer"
	To        string `json:"to"`
	MessageID string `json:"message_id"`
	Attempt   int    `json:"attempt"`
	Relay     string `json:"relay"`
	SHA256    string `json:"sha256"` // of the message as sent
}

// MailFailed records a failed attempt to send; Final when no more attempts will be made.
type MailFailed struct {
	Purpose string `json:"purpose"`
	To      string `json:"to"`
	Attempt int    `json:"attempt"`
	Error   string `json:"error"`
	Final   bool   `json:"final,omitempty"`
	NextAt  *Time  `json:"next_at,omitempty"`
}

// ActionRequested records a person asking docket to carry an action out on the platform.
type ActionRequested struct {
	Op         string              `json:"op"`
	Target     Target              `json:"target"`
	Countries  []string            `json:"countries,omitempty"`
	Until      *Time               `json:"until,omitempty"`
	Categories []string            `json:"categories,omitempty"` // disclose
	From       *Time               `json:"from,omitempty"`       // disclose
	To         *Time               `json:"to,omitempty"`         // disclose
	Statement  *StatementOfReasons `json:"statement,omitempty"`
	// Reason is the suspicion of a report_threat, or a note.
	Reason string `json:"reason,omitempty"`
	// Country is where a report_threat goes.
	Country string `json:"country,omitempty"`
	// Recipient is the age key a disclosure package is encrypted to.
	Recipient string `json:"recipient,omitempty"`
	// Key is the idempotency key sent to the platform with every attempt.
	Key string `json:"key"`
	// Reverts is the seq of the action that this one reverts (restore, reinstate), and
	// Appeal the seq of the upheld appeal that asked for it.
	Reverts int64 `json:"reverts,omitempty"`
	Appeal  int64 `json:"appeal,omitempty"`
	// PlatformAppeal is the platform's id of the in-app appeal a notify_user answers.
	PlatformAppeal string `json:"platform_appeal,omitempty"`
	// Rule is the routing rule that took this action by itself (automated decision), and
	// Overturn the seq of the review (automation_reviewed) that overturned the automated
	// action this one reverts.
	Rule     string `json:"rule,omitempty"`
	RuleDef  string `json:"rule_def,omitempty"`
	Overturn int64  `json:"overturn,omitempty"`
}

// ReviewRequested sends an automated action (the seq of its action_requested) to a person's
// review: Why is "sample" (the rule's share) or "distance" (a far match).
type ReviewRequested struct {
	Action int64  `json:"action"`
	Rule   string `json:"rule"`
	Why    string `json:"why"`
}

// AutomationReviewed is a person's review of an automated action: Upheld, or overturned
// (the action is reverted by another, named in its Review field), with the reasons.
type AutomationReviewed struct {
	Action  int64  `json:"action"`
	Rule    string `json:"rule"`
	RuleDef string `json:"rule_def,omitempty"` // the definition reviewed (see workflow.RuleDef)
	Upheld  bool   `json:"upheld"`
	Reasons string `json:"reasons"`
}

// RuleShadowed is the data of EventRuleShadowed.
type RuleShadowed struct {
	Rule string `json:"rule"`
	// When and Action are the rule's definition when it was shadowed: loaded unchanged, it
	// stays in shadow mode; rewritten, it starts afresh.
	When       string  `json:"when"`
	Action     string  `json:"action"`
	Reviews    int     `json:"reviews"`
	Overturned int     `json:"overturned"`
	Precision  float64 `json:"precision"`
	Minimum    float64 `json:"minimum"`
}

// ActionDone records the platform's confirmation of an action (Action is the Seq of its
// action_requested event).
type ActionDone struct {
	Action      int64     `json:"action"`
	Op          string    `json:"op"`
	EffectiveAt time.Time `json:"effective_at"`
	Ref         string    `json:"ref,omitempty"`
	Detail      string    `json:"detail,omitempty"`
}

// ActionFailed records a failed attempt; Final when no more attempts will be made.
type ActionFailed struct {
	Action  int64  `json:"action"`
	Op      string `json:"op"`
	Attempt int    `json:"attempt"`
	Error   string `json:"error"`
	Final   bool   `json:"final,omitempty"`
	NextAt  *Time  `json:"next_at,omitempty"`
}

// HoldPlaced records preserved evidence: the snapshot's SHA-256 (of its plain bytes) and the
// blob that keeps it encrypted, held until Until.
type HoldPlaced struct {
	Action  int64     `json:"action"`
	Target  Target    `json:"target"`
	SHA256  string    `json:"sha256"`
	Blob    string    `json:"blob"`
	Size    int       `json:"size"`
	TakenAt time.Time `json:"taken_at"`
	Until   time.Time `json:"until"`
	// Extension is how much longer the regime allows the hold to be extended, once.
	Extension Duration `json:"extension,omitempty"`
	Basis     string   `json:"basis"` // the regime, or why
}

// HoldExtended moves a hold's end.
type HoldExtended struct {
	Hold   int64     `json:"hold"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

// HoldReleased records the end of a hold: its snapshot is deleted.
type HoldReleased struct {
	Hold int64 `json:"hold"`
}

// PackageReady records a disclosure package built and encrypted to the requester.
type PackageReady struct {
	Action int64 `json:"action"`
	// Approval is the seq of the approved event that covered the package when it was built.
	Approval  int64  `json:"approval,omitempty"`
	Blob      string `json:"blob"`   // SHA-256 of the encrypted package
	SHA256    string `json:"sha256"` // of the zip before encryption
	Size      int    `json:"size"`
	Items     int    `json:"items"`
	Recipient string `json:"recipient"` // the age recipient it is encrypted to
}

// PackageDownloaded records one download of a package.
type PackageDownloaded struct {
	Blob string `json:"blob"`
}

// Paged records one page sent for an emergency: step of the escalation ladder, who, and
// through which notifiers.
type Paged struct {
	Step      int            `json:"step"`
	To        string         `json:"to"`
	Notifiers []NotifyResult `json:"notifiers"`
}

// NotifyResult is one notifier's attempt.
type NotifyResult struct {
	Notifier string `json:"notifier"` // "webhook", "email"
	Target   string `json:"target"`
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"`
}

// PageAcknowledged records that a person took the emergency: escalation stops.
type PageAcknowledged struct{}

// AuthorityRegistered is the data of EventAuthorityRegistered: the authority as registered,
// and the hash of its API token (older events lack it: the credentials baseline has it).
type AuthorityRegistered struct {
	Authority
	TokenHash string `json:"token_hash,omitempty"`
}

// UserAdded is the data of EventUserAdded: the staff member as added, and the hash of its
// API token (older events lack it: the credentials baseline has it).
type UserAdded struct {
	User
	TokenHash string `json:"token_hash,omitempty"`
}

// LoginState is what the audit chain holds of a sign-in account: everything that decides
// whether and as whom it signs in. Its secrets (password hash, second-factor secret,
// confirmation-link hash) are kept as SecretDigest, never themselves. The counter of failed
// sign-ins, the lock it sets and the last second-factor step used change at every sign-in
// and are not recorded.
type LoginState struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	Email          string    `json:"email"`
	Name           string    `json:"name,omitempty"`
	AuthorityID    string    `json:"authority_id,omitempty"`
	Status         string    `json:"status"`
	Password       string    `json:"password,omitempty"`
	TOTP           string    `json:"totp,omitempty"`
	Confirm        string    `json:"confirm,omitempty"`
	ConfirmExpires time.Time `json:"confirm_expires"`
	CreatedBy      string    `json:"created_by,omitempty"`
	ApprovedBy     string    `json:"approved_by,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// LoginStateOf returns what the chain records of l.
func LoginStateOf(l *Login) LoginState {
	return LoginState{
		ID: l.ID, Kind: l.Kind, Email: l.Email, Name: l.Name, AuthorityID: l.AuthorityID, Status: l.Status,
		Password: SecretDigest(l.PasswordHash), TOTP: SecretDigest(l.TOTPSecret), Confirm: SecretDigest(l.ConfirmHash),
		ConfirmExpires: l.ConfirmExpires.UTC().Truncate(time.Microsecond), CreatedBy: l.CreatedBy, ApprovedBy: l.ApprovedBy,
		CreatedAt: l.CreatedAt.UTC().Truncate(time.Microsecond),
	}
}

// Diff names the fields in which two states differ (the JSON names), in a fixed order.
func (a LoginState) Diff(b LoginState) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"kind", a.Kind == b.Kind}, {"email", a.Email == b.Email}, {"name", a.Name == b.Name},
		{"authority_id", a.AuthorityID == b.AuthorityID}, {"status", a.Status == b.Status},
		{"password", a.Password == b.Password}, {"totp", a.TOTP == b.TOTP}, {"confirm", a.Confirm == b.Confirm},
		{"confirm_expires", Micros(a.ConfirmExpires) == Micros(b.ConfirmExpires)},
		{"created_by", a.CreatedBy == b.CreatedBy}, {"approved_by", a.ApprovedBy == b.ApprovedBy},
		{"created_at", Micros(a.CreatedAt) == Micros(b.CreatedAt)},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

// SecretDigest returns the hex SHA-256 of a stored secret, or "" for none.
func SecretDigest(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// LoginChanged is the data of EventLoginChanged: the account's new state and which of its
// fields changed (all of them when it was created).
type LoginChanged struct {
	LoginState
	Changed []string `json:"changed"`
}

// CredentialsBaseline is the data of EventCredentialsBaseline: every staff member,
// authority, sign-in account and open session the store held at that moment.
type CredentialsBaseline struct {
	Users       []UserAdded           `json:"users"`
	Authorities []AuthorityRegistered `json:"authorities"`
	Logins      []LoginState          `json:"logins"`
	Sessions    []SessionOpened       `json:"sessions,omitempty"`
}

// SessionOpened is the data of EventSessionOpened: the session's cookie hash as a
// SecretDigest, its account and its lifetime.
type SessionOpened struct {
	Session   string    `json:"session"`
	LoginID   string    `json:"login_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionOpenedOf returns what the chain records of a session.
func SessionOpenedOf(se *Session) SessionOpened {
	return SessionOpened{Session: SecretDigest(se.Hash), LoginID: se.LoginID,
		CreatedAt: se.CreatedAt.UTC().Truncate(time.Microsecond), ExpiresAt: se.ExpiresAt.UTC().Truncate(time.Microsecond)}
}

// UserChanged is the data of EventUserChanged: what changed of a staff member; empty fields
// are unchanged. A new API token is recorded by its hash.
type UserChanged struct {
	ID        string `json:"id"`
	Role      Role   `json:"role,omitempty"`
	TokenHash string `json:"token_hash,omitempty"`
}

// AuthorityChanged is the data of EventAuthorityChanged: what changed of an authority; nil
// and empty fields are unchanged. A new API token is recorded by its hash.
type AuthorityChanged struct {
	ID           string    `json:"id"`
	Domains      *[]string `json:"domains,omitempty"`
	AgeRecipient *string   `json:"age_recipient,omitempty"`
	TokenHash    string    `json:"token_hash,omitempty"`
}
