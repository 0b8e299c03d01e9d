package docket

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Operations docket carries out on the platform (see Platform and ActionRequested).
const (
	OpRemove    = "remove"    // remove content everywhere
	OpRestrict  = "restrict"  // withhold content or a channel in some countries only
	OpSuspend   = "suspend"   // suspend an account
	OpTerminate = "terminate" // terminate an account
	OpPreserve  = "preserve"  // take a sealed snapshot and hold it
	OpDisclose  = "disclose"  // export data and package it for the requester
	OpNotify    = "notify_user"
	// OpReportThreat sends a proactive threat-to-life notice (DSA art. 18, TCO art. 14(5))
	// about content to the competent authority.
	OpReportThreat = "report_threat"
)

// Ops lists every operation.
var Ops = []string{OpRemove, OpRestrict, OpSuspend, OpTerminate, OpPreserve, OpDisclose, OpNotify, OpReportThreat}

// ContentOp reports whether op changes what users can see: such actions carry a statement of
// reasons and need a decision to comply.
func ContentOp(op string) bool {
	return op == OpRemove || op == OpRestrict || op == OpSuspend || op == OpTerminate
}

// Export categories (Platform.Export).
var ExportCategories = []string{"subscriber", "traffic", "content"}

// Platform is the contract between docket and the platform it serves. Every call that
// changes something carries an idempotency key: the same key twice does the thing once.
// Implementations: platform.Client (HTTP, signed); the reference platform serves it.
type Platform interface {
	Lookup(ctx context.Context, t Target) (*TargetInfo, error)
	// Act removes, restricts, suspends or terminates (PlatformAction.Op).
	Act(ctx context.Context, key string, a PlatformAction) (*ActionResult, error)
	// Preserve returns a sealed snapshot of the target's content and metadata.
	Preserve(ctx context.Context, key string, t Target) (*Snapshot, error)
	// Export returns the target's data of the categories asked, for a disclosure.
	Export(ctx context.Context, key string, x ExportRequest) (*Export, error)
	// Notify tells the user behind a target of an action, with its statement of reasons.
	Notify(ctx context.Context, key string, n UserNotice) (*ActionResult, error)
}

// Mailer sends a plain-text mail about a case — a page, a threat notice — and returns its
// Message-ID and the SHA-256 of what was sent (mailout.Mailer).
type Mailer interface {
	Mail(ctx context.Context, caseID, part, to, subject, text string) (id, sha string, err error)
	// Configured reports whether mail can be sent at all (a relay is set).
	Configured() bool
}

// TargetInfo is what the platform knows of a target.
type TargetInfo struct {
	Exists  bool   `json:"exists"`
	Kind    string `json:"kind,omitempty"` // message, channel, account
	ID      string `json:"id,omitempty"`
	Owner   string `json:"owner,omitempty"`   // the account that owns it
	Country string `json:"country,omitempty"` // of the owner's account
	Public  bool   `json:"public"`
	// CreatedAt is the time of publication, with the platform's time zone.
	CreatedAt string `json:"created_at,omitempty"`
}

// PlatformAction is an action on content or an account.
type PlatformAction struct {
	Op        string              `json:"op"`
	Target    Target              `json:"target"`
	Countries []string            `json:"countries,omitempty"` // restrict: where
	Until     *Time               `json:"until,omitempty"`     // restrict, suspend: for how long
	Statement *StatementOfReasons `json:"statement"`
	// AppealURL is the public page where the user may contest the action (DSA art. 20),
	// with its token: the platform shows it to the user with the statement, and publishes
	// it nowhere else.
	AppealURL string `json:"appeal_url,omitempty"`
}

// ActionResult is the platform's confirmation of an action.
type ActionResult struct {
	Status      string    `json:"status"` // "done"
	EffectiveAt time.Time `json:"effective_at"`
	Ref         string    `json:"ref,omitempty"`
	Detail      string    `json:"detail,omitempty"`
}

// Snapshot is preserved content and metadata, as the platform returned it.
type Snapshot struct {
	TakenAt     time.Time `json:"taken_at"`
	ContentType string    `json:"content_type"`
	Data        []byte    `json:"data"`
}

// ExportRequest asks for a target's data of some categories within a date range.
type ExportRequest struct {
	Target     Target   `json:"target"`
	Categories []string `json:"categories"`
	From       *Time    `json:"from,omitempty"`
	To         *Time    `json:"to,omitempty"`
}

// ExportItem is one file of an export.
type ExportItem struct {
	Name        string `json:"name"`
	Category    string `json:"category"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// Export is the platform's answer to an ExportRequest.
type Export struct {
	Items []ExportItem `json:"items"`
	// Missing says, per category asked, why nothing was given (data not held…).
	Missing map[string]string `json:"missing,omitempty"`
}

// UserNotice tells a user of an action.
type UserNotice struct {
	Target    Target              `json:"target"`
	Statement *StatementOfReasons `json:"statement"`
	Text      string              `json:"text,omitempty"`
	// Appeal is the platform's id of the in-app appeal this notice answers.
	Appeal string `json:"appeal,omitempty"`
}

// AppealInbox is a platform whose users contest decisions in the app (DSA art. 20): docket
// collects the appeals filed there and acknowledges each (platform.Client implements it).
type AppealInbox interface {
	// Appeals acknowledges the appeals of acks (received, or refused with the reason) and
	// returns the appeals filed in the app that were not acknowledged yet.
	Appeals(ctx context.Context, acks []AppealAck) ([]PlatformAppeal, error)
}

// PlatformAppeal is an appeal filed in the platform's app against a decision (its statement
// of reasons' puid) by the user it concerns (or, with Appellant "notifier", the notice's
// sender).
type PlatformAppeal struct {
	ID        string    `json:"id"`
	PUID      string    `json:"puid"`
	Appellant string    `json:"appellant,omitempty"` // default user
	Text      string    `json:"text"`
	FiledAt   time.Time `json:"filed_at"`
}

// AppealAck tells the platform what became of an in-app appeal: "received" (recorded;
// the answer follows with a notify naming it) or "refused" (Detail says why: too late…).
type AppealAck struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// PlatformError is an answer of the platform that refused a call. Permanent errors (the
// request was wrong) are not retried.
type PlatformError struct {
	Status    int
	Message   string
	Permanent bool
}

func (e *PlatformError) Error() string {
	return fmt.Sprintf("platform answered %d: %s", e.Status, e.Message)
}

// Statement of reasons values (DSA art. 17; the names of the EU Transparency Database).
const (
	GroundIllegal      = "DECISION_GROUND_ILLEGAL_CONTENT"
	GroundIncompatible = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
)

// StatementOfReasons says why content or an account was acted on (DSA art. 17): what was
// restricted, where, for how long, on which facts and grounds, whether automatically, and
// the redress open to the user. Field names follow the EU Transparency Database.
type StatementOfReasons struct {
	PUID               string   `json:"puid"`
	DecisionVisibility []string `json:"decision_visibility,omitempty"`
	DecisionAccount    string   `json:"decision_account,omitempty"`
	TerritorialScope   []string `json:"territorial_scope,omitempty"` // empty: everywhere
	EndDate            *Time    `json:"end_date,omitempty"`          // empty: indefinite
	DecisionGround     string   `json:"decision_ground"`
	LegalGround        string   `json:"legal_ground"` // the law, or the terms' clause
	Explanation        string   `json:"explanation"`
	Facts              string   `json:"decision_facts"`
	Category           string   `json:"category,omitempty"`
	SourceType         string   `json:"source_type"`
	AutomatedDetection bool     `json:"automated_detection"`
	AutomatedDecision  string   `json:"automated_decision"`
	Redress            string   `json:"redress"`
	// Optional details of the Transparency Database that the agent may give: the type of
	// the content (CONTENT_TYPE_…, with content_type_other for CONTENT_TYPE_OTHER; by
	// default from the target's kind), the account's type (ACCOUNT_TYPE_BUSINESS or
	// _PRIVATE) and keywords (KEYWORD_…). Package sor checks them.
	ContentType           []string `json:"content_type,omitempty"`
	ContentTypeOther      string   `json:"content_type_other,omitempty"`
	AccountType           string   `json:"account_type,omitempty"`
	CategorySpecification []string `json:"category_specification,omitempty"`
}

// DefaultRedress is the redress a statement names when the agent gives none.
const DefaultRedress = "You may contest this decision through the platform's internal complaint system (DSA art. 20), an out-of-court dispute settlement body (art. 21), or before the courts."

// Complete fills what the action itself says (visibility, scope, end date, automation) and
// checks the rest; it returns an EINVALID error naming the missing or wrong field.
func (s *StatementOfReasons) Complete(op string, countries []string, until *Time) error {
	switch op {
	case OpRemove:
		s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_REMOVED"}
	case OpRestrict:
		s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_DISABLED"}
	case OpSuspend:
		s.DecisionAccount = "DECISION_ACCOUNT_SUSPENDED"
	case OpTerminate:
		s.DecisionAccount = "DECISION_ACCOUNT_TERMINATED"
	}
	s.TerritorialScope = countries
	s.EndDate = until
	if s.AutomatedDecision == "" {
		s.AutomatedDecision = "AUTOMATED_DECISION_NOT_AUTOMATED"
	}
	if s.SourceType == "" {
		s.SourceType = "SOURCE_TYPE_OTHER_NOTIFICATION"
	}
	if strings.TrimSpace(s.Redress) == "" {
		s.Redress = DefaultRedress
	}
	bad := func(field, msg string) error {
		return &Error{Code: EINVALID, Message: "Statement of reasons: " + field + " " + msg + ".", Fields: map[string]string{"statement." + field: msg}}
	}
	if !slices.Contains([]string{GroundIllegal, GroundIncompatible}, s.DecisionGround) {
		return bad("decision_ground", "must be "+GroundIllegal+" or "+GroundIncompatible)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"legal_ground", s.LegalGround, 500}, {"explanation", s.Explanation, 2000}, {"decision_facts", s.Facts, 5000}, {"redress", s.Redress, 2000}} {
		if strings.TrimSpace(f.v) == "" {
			return bad(f.name, "is required")
		}
		if utf8.RuneCountInString(f.v) > f.max {
			return bad(f.name, fmt.Sprintf("must be at most %d characters", f.max))
		}
	}
	if s.Category != "" && !strings.HasPrefix(s.Category, "STATEMENT_CATEGORY_") {
		return bad("category", "must be a STATEMENT_CATEGORY_… value")
	}
	return nil
}
