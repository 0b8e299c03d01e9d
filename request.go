package docket

import "time"

// Channels through which a request arrives.
const (
	ChannelAPI    = "api"    // an authority's POST /api/v1/requests
	ChannelNotice = "notice" // a public illegal-content notice (DSA art. 16)
	ChannelReply  = "reply"  // a requester's reply to a question on its case
)

// Request is one inbound communication. It is stored once, with its raw bytes and their
// SHA-256, and never changed afterwards.
type Request struct {
	ID          string    `json:"id"`
	CaseID      string    `json:"case_id"`
	Channel     string    `json:"channel"`
	AuthorityID string    `json:"authority_id,omitempty"`
	ReceivedAt  time.Time `json:"received_at"`
	// SHA256 is the hex digest of Raw, the body exactly as received.
	SHA256         string `json:"sha256"`
	Raw            []byte `json:"-"`
	ContentType    string `json:"content_type"`
	IdempotencyKey string `json:"-"`
	// Keys are further related-case keys (kind "simhash" for the bands of its text's
	// SimHash): stored with the targets, never shown.
	Keys []Target `json:"-"`

	Body RequestBody `json:"body"`
}

// RequestBody is the normalised content of a request.
type RequestBody struct {
	Regime string `json:"regime"`
	// RegimeSource says where Regime came from: "requester", or "default" when the requester
	// left it to triage.
	RegimeSource  string       `json:"regime_source,omitempty"`
	Kind          Kind         `json:"kind"`
	Reference     string       `json:"reference,omitempty"`
	Description   string       `json:"description,omitempty"`
	LegalBasis    string       `json:"legal_basis,omitempty"`
	Reasons       string       `json:"reasons,omitempty"`
	Redress       string       `json:"redress,omitempty"`
	Emergency     bool         `json:"emergency,omitempty"`
	Justification string       `json:"emergency_justification,omitempty"`
	Targets       []Target     `json:"targets,omitempty"`
	Attachments   []Attachment `json:"attachments,omitempty"`
	Notifier      *Notifier    `json:"notifier,omitempty"`
	Country       string       `json:"country,omitempty"`
	InReplyTo     string       `json:"in_reply_to,omitempty"`
}

// Notifier is who filed a public notice.
type Notifier struct {
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	GoodFaith bool   `json:"good_faith"`
	// CSAM marks a notice about child sexual abuse material, for which name and e-mail are
	// optional (DSA art. 16(2)(c)).
	CSAM bool `json:"csam,omitempty"`
}

// Attachment is a file that came with a request, stored content-addressed.
type Attachment struct {
	SHA256      string `json:"sha256"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// Blob is the content of an attachment.
type Blob struct {
	SHA256 string
	Data   []byte
}

// Receipt is what a requester gets back once its request is durably stored.
type Receipt struct {
	ID         string    `json:"id"`
	CaseID     string    `json:"case_id"`
	ReceivedAt time.Time `json:"received_at"`
	Deadline   *Time     `json:"deadline"`
	SHA256     string    `json:"sha256"`
}

// Time is a time that marshals to null when zero.
type Time struct{ time.Time }

// OptTime returns nil for the zero time, else a *Time.
func OptTime(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{t}
}
