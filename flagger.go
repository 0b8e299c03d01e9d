package docket

import (
	"strings"
	"time"
)

// Trusted flaggers (DSA art. 22) and the misuse of notices (DSA art. 23).
//
// A trusted flagger is an entity a Digital Services Coordinator awarded the status; the
// platform registers it, gives it an API token (prefix dkf_), and its notices are marked and
// handled first. Every notice whose case is answered by a person is assessed: action taken,
// or unfounded (manifestly unfounded when the person said so with the reason code
// ReasonManifestlyUnfounded). Counts are kept per notifier: a trusted flagger, or an e-mail
// address. A notifier that sends manifestly unfounded notices too often is warned, then, if
// it goes on, the processing of its notices is suspended for a stated period: they are still
// received and kept, and answered with a statement that says so, unreviewed.
//
// All of it is events outside any case (flagger_registered, flagger_changed,
// notice_assessed, notifier_warned, notifier_suspended); the flaggers, notifiers and
// notice_assessments tables are projections of them that docket audit verify checks.

// Statuses of a trusted flagger.
const (
	FlaggerActive    = "active"    // its notices are trusted-flagger notices
	FlaggerSuspended = "suspended" // until SuspendedUntil its notices are ordinary notices
	FlaggerRevoked   = "revoked"   // the status is gone for good; its token is refused
)

// ReasonManifestlyUnfounded is the reason code of a decision (refuse or not_actionable) that
// finds a notice manifestly unfounded (DSA art. 23): only such decisions, taken by a person,
// count towards a notifier's warning and suspension.
const ReasonManifestlyUnfounded = "manifestly_unfounded"

// ReasonNotifierSuspended is the reason code of the decision that closes, unreviewed, a
// notice received while its notifier's notices are suspended.
const ReasonNotifierSuspended = "notifier_suspended"

// ActorMisuse records what docket does under DSA art. 23: warnings, suspensions and the
// notices it closes unreviewed during one.
const ActorMisuse Actor = "system:misuse"

// FlaggerActor returns the actor of a trusted flagger's notices.
func FlaggerActor(id string) Actor { return Actor("flagger:" + id) }

// Flagger is a trusted flagger (DSA art. 22).
type Flagger struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Coordinator is the Digital Services Coordinator that awarded the status (for example
	// "Arcom (FR)"); Reference its decision's reference, when given.
	Coordinator string `json:"coordinator"`
	Reference   string `json:"reference,omitempty"`
	// Areas are the DSA statement categories (STATEMENT_CATEGORY_…) of its expertise.
	Areas          []string  `json:"areas"`
	Email          string    `json:"email,omitempty"` // where the platform writes to it
	Status         string    `json:"status"`
	SuspendedUntil time.Time `json:"suspended_until"`
	// Reason is why its status last changed.
	Reason     string    `json:"reason,omitempty"`
	CreatedBy  Actor     `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	ChangedSeq int64     `json:"changed_seq,omitempty"`
}

// Trusted reports whether the flagger's notices are trusted-flagger notices at t.
func (f *Flagger) Trusted(t time.Time) bool {
	return f.Status == FlaggerActive || (f.Status == FlaggerSuspended && !t.Before(f.SuspendedUntil))
}

// StatusAt is the flagger's status at t (a suspension that ran out is active again).
func (f *Flagger) StatusAt(t time.Time) string {
	if f.Status == FlaggerSuspended && !t.Before(f.SuspendedUntil) {
		return FlaggerActive
	}
	return f.Status
}

// FlaggerRegistered is the data of EventFlaggerRegistered: the flagger as registered and
// the hash of its API token.
type FlaggerRegistered struct {
	Flagger
	TokenHash string `json:"token_hash"`
}

// FlaggerChanged is the data of EventFlaggerChanged: a new status (with Until for a
// suspension and Reason), and/or a new API token (by its hash); empty fields are unchanged.
type FlaggerChanged struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Status    string `json:"status,omitempty"`
	Until     *Time  `json:"until,omitempty"`
	Reason    string `json:"reason,omitempty"`
	TokenHash string `json:"token_hash,omitempty"`
}

// NotifierKey names who sent a notice, for counting: "flagger:ID" for a trusted flagger
// (whatever its status), "email:ADDRESS" (lower-cased) for anyone else, "" when the notice
// names nobody (a child sexual abuse notice may be anonymous).
func NotifierKey(n *Notifier) string {
	switch {
	case n == nil:
		return ""
	case n.FlaggerID != "":
		return "flagger:" + n.FlaggerID
	case n.Email != "":
		return "email:" + strings.ToLower(strings.TrimSpace(n.Email))
	}
	return ""
}

// Assessments of a notice.
const (
	NoticeActioned  = "actioned"  // a decision to comply (or partly)
	NoticeUnfounded = "unfounded" // refused or not actionable
)

// NotifierStanding is what docket keeps of one notifier: its assessed notices and its
// standing under DSA art. 23.
type NotifierStanding struct {
	Key       string `json:"key"`
	FlaggerID string `json:"flagger_id,omitempty"`
	// Actioned, Unfounded and Manifest count its assessed notices (Manifest: those of
	// Unfounded found manifestly unfounded).
	Actioned  int64 `json:"actioned"`
	Unfounded int64 `json:"unfounded"`
	Manifest  int64 `json:"manifestly_unfounded"`
	// WarnedSeq is the notifier_warned event of its latest warning, SuspendedSeq the
	// notifier_suspended event of its latest suspension, which lasts until SuspendedUntil.
	Warnings       int       `json:"warnings"`
	WarnedSeq      int64     `json:"warned_seq,omitempty"`
	WarnedAt       time.Time `json:"warned_at"`
	Suspensions    int       `json:"suspensions"`
	SuspendedSeq   int64     `json:"suspended_seq,omitempty"`
	SuspendedUntil time.Time `json:"suspended_until"`
	ChangedSeq     int64     `json:"changed_seq"`
}

// Suspended reports whether the processing of the notifier's notices is suspended at t.
func (n *NotifierStanding) Suspended(t time.Time) bool {
	return n != nil && t.Before(n.SuspendedUntil)
}

// Warned reports whether a warning is in effect: one given after its latest suspension.
func (n *NotifierStanding) Warned() bool { return n != nil && n.WarnedSeq > n.SuspendedSeq }

// Accuracy is the share of its assessed notices on which action was taken (0 when none).
func (n *NotifierStanding) Accuracy() float64 {
	if total := n.Actioned + n.Unfounded; total > 0 {
		return float64(n.Actioned) / float64(total)
	}
	return 0
}

// NoticeAssessment is one notice assessed when its case was answered (a row of
// notice_assessments; Seq is its notice_assessed event).
type NoticeAssessment struct {
	RequestID string    `json:"request_id"`
	CaseID    string    `json:"case_id"`
	Notifier  string    `json:"notifier"`
	FlaggerID string    `json:"flagger_id,omitempty"`
	Outcome   string    `json:"outcome"`
	Manifest  bool      `json:"manifest,omitempty"`
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
}

// AssessedNotice is one notice of a NoticeAssessed event.
type AssessedNotice struct {
	RequestID string `json:"request_id"`
	Notifier  string `json:"notifier"`
	FlaggerID string `json:"flagger_id,omitempty"`
}

// NoticeAssessed is the data of EventNoticeAssessed: the notices of a case answered by a
// person, and what the answer made of them: action taken, or unfounded (Manifest: found
// manifestly unfounded). Answer is the seq of the answered event.
type NoticeAssessed struct {
	CaseID   string           `json:"case_id"`
	Answer   int64            `json:"answer"`
	Outcome  string           `json:"outcome"`
	Manifest bool             `json:"manifest,omitempty"`
	Notices  []AssessedNotice `json:"notices"`
}

// MisuseFigures are the notifier's figures that a warning or a suspension rests on: its
// notices assessed within Window before the event, and how many were manifestly unfounded.
type MisuseFigures struct {
	Window   Duration `json:"window"`
	Assessed int      `json:"assessed"`
	Manifest int      `json:"manifest"`
}

// NotifierWarned is the data of EventNotifierWarned: the prior warning DSA art. 23(1)
// requires before a suspension, with the figures it rests on and its text.
type NotifierWarned struct {
	Notifier  string `json:"notifier"`
	FlaggerID string `json:"flagger_id,omitempty"`
	MisuseFigures
	Text string `json:"text"`
}

// NotifierSuspended is the data of EventNotifierSuspended: the processing of the
// notifier's notices suspended until Until, after the warning Warning (its seq).
type NotifierSuspended struct {
	Notifier  string    `json:"notifier"`
	FlaggerID string    `json:"flagger_id,omitempty"`
	Warning   int64     `json:"warning"`
	Until     time.Time `json:"until"`
	MisuseFigures
	Text string `json:"text"`
}

// ApplyChange applies a flagger_changed event (seq) to f: the one place its status changes,
// which audit verify replays.
func (f *Flagger) ApplyChange(d *FlaggerChanged, seq int64) {
	if d.Status != "" {
		f.Status, f.Reason, f.SuspendedUntil = d.Status, d.Reason, d.Until.orZero()
	}
	f.ChangedSeq = seq
}

// ApplyAssessed counts one notice of a notice_assessed event (seq) for its notifier.
func (n *NotifierStanding) ApplyAssessed(d *NoticeAssessed, flaggerID string, seq int64) {
	if n.FlaggerID == "" {
		n.FlaggerID = flaggerID
	}
	switch d.Outcome {
	case NoticeActioned:
		n.Actioned++
	case NoticeUnfounded:
		n.Unfounded++
		if d.Manifest {
			n.Manifest++
		}
	}
	n.ChangedSeq = seq
}

// ApplyWarned records a notifier_warned event on the notifier.
func (n *NotifierStanding) ApplyWarned(e *Event) {
	n.Warnings++
	n.WarnedSeq, n.WarnedAt, n.ChangedSeq = e.Seq, e.At.UTC(), e.Seq
}

// ApplySuspended records a notifier_suspended event on the notifier, suspended until until.
func (n *NotifierStanding) ApplySuspended(e *Event, until time.Time) {
	n.Suspensions++
	n.SuspendedSeq, n.SuspendedUntil, n.ChangedSeq = e.Seq, until.UTC(), e.Seq
}
