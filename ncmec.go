package docket

import (
	"fmt"
	"strings"
	"time"
)

// Reports to NCMEC's CyberTipline (18 U.S.C. § 2258A): a provider under US law reports
// apparent child sexual abuse material as soon as reasonably possible and keeps what it
// reported for one year. A case's report is a projection of its events: queued in the
// transaction of the action on content that follows a decision on a child-protection case,
// then opened (/submit, NCMEC's report id), each file uploaded (/upload, NCMEC's file id)
// and described (/fileinfo), finished (/finish); a failed attempt is an event with NCMEC's
// answer; a reversed decision asks for a retraction (/retract).

// ActorNCMEC records what NCMEC's CyberTipline answered (or docket's own check of the report
// against its schema before sending).
const ActorNCMEC Actor = "system:ncmec"

// States of a case's CyberTipline report.
const (
	NCMECQueued    = "queued"    // to be sent; nothing reached NCMEC yet
	NCMECOpen      = "open"      // /submit answered with a report id; files and /finish to come
	NCMECFinished  = "finished"  // /finish answered: NCMEC holds the whole report
	NCMECFailed    = "failed"    // failed for good (a refusal retrying cannot mend, or the last attempt)
	NCMECRetracted = "retracted" // retracted at NCMEC (/retract), or cancelled before anything was sent
)

// NCMECReport is where a case's CyberTipline report stands.
type NCMECReport struct {
	State string `json:"state"`
	// Action is the seq of the action on content whose request queued the report.
	Action int64 `json:"action"`
	// Reason says why the case is one of child protection (the category, the bank matched).
	Reason string `json:"reason"`
	// ReportID is NCMEC's id of the report, once /submit gave it; SHA256 the digest of the
	// report's XML as sent.
	ReportID int64       `json:"report_id,omitempty"`
	SHA256   string      `json:"sha256,omitempty"`
	Files    []NCMECFile `json:"files"`
	QueuedAt time.Time   `json:"queued_at"`
	OpenedAt *Time       `json:"opened_at,omitempty"`
	DoneAt   *Time       `json:"done_at,omitempty"` // finished, failed for good, or retracted
	// Failures counts failed attempts; Error and Code are the last failure's (Code is
	// NCMEC's responseCode, 0 when the failure had none: no answer, an HTTP error).
	Failures int    `json:"failures,omitempty"`
	Error    string `json:"error,omitempty"`
	Code     int    `json:"code,omitempty"`
	// Retract is the seq of the ncmec_retract_requested event once the decision behind the
	// report was reversed.
	Retract int64 `json:"retract,omitempty"`
}

// NCMECFile is an attachment of the case reported to NCMEC: which one (its SHA-256 and name,
// the request it came with), and NCMEC's file id and MD5 once uploaded.
type NCMECFile struct {
	SHA256      string `json:"sha256"`
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size"`
	RequestID   string `json:"request_id"`
	// Match names the hash bank match that made the file known content, if any.
	Match     string `json:"match,omitempty"`
	FileID    string `json:"file_id,omitempty"`
	MD5       string `json:"md5,omitempty"`
	Described bool   `json:"described,omitempty"`
}

// Pending reports whether the report still has steps to go (nothing failed or ended it).
func (r *NCMECReport) Pending() bool { return r.State == NCMECQueued || r.State == NCMECOpen }

// File returns the reported file whose SHA-256 is sum, or nil.
func (r *NCMECReport) File(sum string) *NCMECFile {
	for i := range r.Files {
		if r.Files[i].SHA256 == sum {
			return &r.Files[i]
		}
	}
	return nil
}

// NCMECQueuedData is the data of EventNCMECQueued.
type NCMECQueuedData struct {
	Action int64       `json:"action"`
	Reason string      `json:"reason"`
	Files  []NCMECFile `json:"files"`
}

// NCMECOpenedData is the data of EventNCMECOpened: NCMEC's report id and the report's XML
// exactly as sent (18 U.S.C. § 2258A(h): the contents of the report are kept).
type NCMECOpenedData struct {
	ReportID int64  `json:"report_id"`
	SHA256   string `json:"sha256"`
	Report   string `json:"report"`
	Attempt  int    `json:"attempt"`
}

// NCMECUploadedData is the data of EventNCMECUploaded: a file of the report (SHA256, docket's
// digest) uploaded, NCMEC's file id and the MD5 it computed.
type NCMECUploadedData struct {
	ReportID int64  `json:"report_id"`
	SHA256   string `json:"sha256"`
	FileID   string `json:"file_id"`
	MD5      string `json:"md5,omitempty"`
}

// NCMECDescribedData is the data of EventNCMECDescribed: the details of an uploaded file sent
// (/fileinfo), as sent.
type NCMECDescribedData struct {
	ReportID int64  `json:"report_id"`
	FileID   string `json:"file_id"`
	Details  string `json:"details"`
}

// NCMECFinishedData is the data of EventNCMECFinished: the files NCMEC lists as received.
type NCMECFinishedData struct {
	ReportID int64    `json:"report_id"`
	Files    []string `json:"files,omitempty"`
	// Already is set when NCMEC answered that the report was finished already: an earlier
	// /finish whose answer was lost.
	Already bool `json:"already,omitempty"`
}

// NCMECFailedData is the data of EventNCMECFailed: one failed attempt of a step (submit,
// upload, fileinfo, finish, retract, build) with NCMEC's answer: the HTTP status, its
// responseCode and responseDescription. Final when no more attempts will be made.
type NCMECFailedData struct {
	Step        string `json:"step"`
	Attempt     int    `json:"attempt"`
	Status      int    `json:"status,omitempty"`
	Code        int    `json:"code,omitempty"`
	Description string `json:"description"`
	Final       bool   `json:"final,omitempty"`
	NextAt      *Time  `json:"next_at,omitempty"`
}

// NCMECRetractData is the data of EventNCMECRetractRequested: the decision behind the
// report was reversed by the action Reverts' revert (Action, the seq of its request).
type NCMECRetractData struct {
	Action  int64  `json:"action"`
	Reverts int64  `json:"reverts"`
	Reason  string `json:"reason"`
}

// NCMECRetractedData is the data of EventNCMECRetracted: the report retracted at NCMEC, or
// (Unsent) cancelled before anything reached NCMEC.
type NCMECRetractedData struct {
	ReportID int64 `json:"report_id,omitempty"`
	Unsent   bool  `json:"unsent,omitempty"`
}

// applyNCMEC applies the events of a case's CyberTipline report; the checks keep the steps
// in their order, in the transaction that records them and in every replay.
func (c *Case) applyNCMEC(e *Event, data any) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("apply event %d (%s) on case %s: %s", e.Seq, e.Type, c.ID, fmt.Sprintf(format, args...))
	}
	if d, ok := data.(*NCMECQueuedData); ok {
		if c.NCMEC != nil {
			return bad("a CyberTipline report was queued already")
		}
		if d.Action == 0 {
			return bad("a report is queued by an action on content")
		}
		c.NCMEC = &NCMECReport{State: NCMECQueued, Action: d.Action, Reason: d.Reason, Files: append([]NCMECFile(nil), d.Files...), QueuedAt: e.At}
		return nil
	}
	r := c.NCMEC
	if r == nil {
		return bad("the case has no CyberTipline report")
	}
	switch d := data.(type) {
	case *NCMECOpenedData:
		if r.State != NCMECQueued || r.ReportID != 0 {
			return bad("report %d is %s: it was opened already", r.ReportID, r.State)
		}
		if d.ReportID <= 0 || sha256Hex([]byte(d.Report)) != d.SHA256 {
			return bad("no report id, or the report does not match its SHA-256")
		}
		r.State, r.ReportID, r.SHA256, r.OpenedAt = NCMECOpen, d.ReportID, d.SHA256, &Time{e.At}
	case *NCMECUploadedData:
		f := r.File(d.SHA256)
		switch {
		case r.State != NCMECOpen || d.ReportID != r.ReportID:
			return bad("report %d is not open (%s, report %d)", d.ReportID, r.State, r.ReportID)
		case f == nil:
			return bad("file %s is not one of the report", d.SHA256)
		case f.FileID != "" || d.FileID == "":
			return bad("file %s uploaded twice, or without a file id", d.SHA256)
		}
		f.FileID, f.MD5 = d.FileID, d.MD5
	case *NCMECDescribedData:
		var f *NCMECFile
		for i := range r.Files {
			if r.Files[i].FileID == d.FileID && d.FileID != "" {
				f = &r.Files[i]
			}
		}
		switch {
		case r.State != NCMECOpen || d.ReportID != r.ReportID:
			return bad("report %d is not open", d.ReportID)
		case f == nil || f.Described:
			return bad("file %q is not an undescribed upload of the report", d.FileID)
		}
		f.Described = true
	case *NCMECFinishedData:
		if r.State != NCMECOpen || d.ReportID != r.ReportID {
			return bad("report %d is not open (%s)", d.ReportID, r.State)
		}
		for _, f := range r.Files {
			if !f.Described {
				return bad("file %s was not uploaded and described before the report was finished", f.SHA256)
			}
		}
		r.State, r.DoneAt, r.Error, r.Code = NCMECFinished, &Time{e.At}, "", 0
	case *NCMECFailedData:
		r.Failures++
		r.Error, r.Code = d.Description, d.Code
		if d.Final && d.Step != "retract" {
			if !r.Pending() {
				return bad("report %d is %s: nothing to fail", r.ReportID, r.State)
			}
			r.State, r.DoneAt = NCMECFailed, &Time{e.At}
		}
	case *NCMECRetractData:
		if r.Retract != 0 || r.State == NCMECRetracted {
			return bad("the report's retraction was asked for already")
		}
		r.Retract = e.Seq
	case *NCMECRetractedData:
		switch {
		case r.Retract == 0 || r.State == NCMECRetracted:
			return bad("no retraction was asked for")
		case d.Unsent != (r.ReportID == 0) || d.ReportID != r.ReportID:
			return bad("report %d is not the case's (%d)", d.ReportID, r.ReportID)
		}
		r.State, r.DoneAt = NCMECRetracted, &Time{e.At}
	default:
		return bad("unexpected data %T", data)
	}
	return nil
}

// ncmec registers an event of a case's CyberTipline report whose data is a D.
func ncmec[D any]() eventKind {
	return with(func(c *Case, e *Event, d *D) error { return c.applyNCMEC(e, d) })
}

// ChildProtection says why a case is one of child protection — its DSA category
// (STATEMENT_CATEGORY_PROTECTION_OF_MINORS, as triaged or as an action's statement of
// reasons says) or a match of a hash bank of child sexual abuse material (its category
// csam, or its DSA category that of minors) — or "" when it is not.
func (c *Case) ChildProtection() string {
	const minors = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
	for _, m := range c.MediaMatches() {
		if strings.EqualFold(m.Category, "csam") || m.DSACategory == minors {
			return fmt.Sprintf("match in hash bank %s (%s, %s)", m.Bank, m.Category, m.DSACategory)
		}
	}
	if c.Triage != nil && c.Triage.Category == minors {
		return "DSA category " + minors
	}
	for _, a := range c.Actions {
		if a.Statement != nil && a.Statement.Category == minors && ContentOp(a.Op) {
			return "statement of reasons: " + minors
		}
	}
	return ""
}
