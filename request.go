package docket

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Channels through which a request arrives.
const (
	ChannelAPI    = "api"    // an authority's POST /api/v1/requests
	ChannelNotice = "notice" // a public illegal-content notice (DSA art. 16)
	ChannelPortal = "portal" // an officer's form in the authority portal
	ChannelReply  = "reply"  // a requester's reply to a question on its case
	ChannelEmail  = "email"  // a message delivered to one of the platform's legal addresses
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
	// Seq is the sequence number of the event that recorded the request's receipt (its
	// case_opened, request_received or requester_replied): the request's leaf in the event
	// log's Merkle tree is Seq-1.
	Seq int64 `json:"-"`

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
	// NonDisclosure says the user must not be told (a gag order): no notice goes to them.
	NonDisclosure bool `json:"non_disclosure,omitempty"`
	// Extracted is text read out of the attachments (PDF letters), for triage and search.
	Extracted string `json:"extracted_text,omitempty"`
	// Email describes a request that arrived by e-mail: its headers and how its sender was
	// verified.
	Email *Email `json:"email,omitempty"`
}

// Email is what docket keeps of an e-mail's envelope and headers, and of the checks of its
// sender. The raw message is kept byte-exact as the request's Raw.
type Email struct {
	MailFrom   string      `json:"mail_from"` // the envelope sender (SMTP MAIL FROM)
	From       string      `json:"from"`      // the address of the From header
	FromName   string      `json:"from_name,omitempty"`
	ReplyTo    string      `json:"reply_to,omitempty"`
	To         []string    `json:"to"` // the envelope recipients at the platform's domain
	Subject    string      `json:"subject,omitempty"`
	MessageID  string      `json:"message_id,omitempty"`
	InReplyTo  []string    `json:"in_reply_to,omitempty"`
	References []string    `json:"references,omitempty"`
	Date       *Time       `json:"date,omitempty"`
	RemoteIP   string      `json:"remote_ip,omitempty"`
	Helo       string      `json:"helo,omitempty"`
	TLS        bool        `json:"tls"`
	HTML       bool        `json:"html,omitempty"` // the text came from an HTML part
	Sender     SenderCheck `json:"sender"`
	// Problems lists what could not be read of the message (a formatting defect, a broken
	// part): it was kept anyway, byte-exact, and the case shows what was odd.
	Problems []string `json:"problems,omitempty"`
}

// Sender verification levels, from the most trusted down.
const (
	// SenderRegistered: the From domain is an official domain of a registered authority and
	// the message passed DMARC (DKIM or SPF aligned with it).
	SenderRegistered = "registered"
	// SenderOfficial: aligned with a known official domain (a government's), but no
	// registered authority owns it.
	SenderOfficial = "official"
	// SenderUnverified: an unknown domain, or checks that failed.
	SenderUnverified = "unverified"
)

// SenderCheck is how an e-mail's sender was verified: SPF, DKIM and DMARC results, and the
// level they give.
type SenderCheck struct {
	Level       string       `json:"level"`
	Domain      string       `json:"domain"` // the From header's domain
	AuthorityID string       `json:"authority_id,omitempty"`
	SPF         string       `json:"spf"` // pass, fail, softfail, neutral, none, temperror, permerror
	SPFDomain   string       `json:"spf_domain,omitempty"`
	DKIM        []DKIMResult `json:"dkim,omitempty"`
	// DMARC is pass when SPF or a DKIM signature passed and is aligned with the From domain;
	// fail otherwise; none when the domain publishes no policy and nothing aligned.
	DMARC       string `json:"dmarc"`
	DMARCPolicy string `json:"dmarc_policy,omitempty"`
	Aligned     bool   `json:"aligned"`
	Reason      string `json:"reason"` // in words, for the people who read the case
}

// DKIMResult is one DKIM signature's check.
type DKIMResult struct {
	Domain   string `json:"domain"`
	Selector string `json:"selector,omitempty"`
	Result   string `json:"result"` // pass, fail, temperror, permerror
	Error    string `json:"error,omitempty"`
}

// Notifier is who filed a public notice.
type Notifier struct {
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	GoodFaith bool   `json:"good_faith"`
	// CSAM marks a notice about child sexual abuse material, for which name and e-mail are
	// optional (DSA art. 16(2)(c)).
	CSAM bool `json:"csam,omitempty"`
	// FlaggerID is the trusted flagger (DSA art. 22) whose API token sent the notice, and
	// Trusted whether its status made it a trusted-flagger notice at receipt (it was not
	// suspended).
	FlaggerID string `json:"flagger_id,omitempty"`
	Trusted   bool   `json:"trusted,omitempty"`
}

// Attachment is a file that came with a request, stored content-addressed.
type Attachment struct {
	SHA256      string `json:"sha256"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	// TextNotRead says why the text of an e-mailed PDF was not read (the message's budget
	// for PDF work was spent); the file is kept all the same.
	TextNotRead string `json:"text_not_read,omitempty"`
}

// Blob is the content of an attachment.
type Blob struct {
	SHA256 string
	Data   []byte
}

// Receipt is what a requester gets back once its request is durably stored. Log, when the
// platform signs its log's tree heads, proves every other field against the signed head
// of the log after the request's commit (see ReceiptLog and audit.VerifyReceipt).
type Receipt struct {
	ID         string      `json:"id"`
	CaseID     string      `json:"case_id"`
	ReceivedAt time.Time   `json:"received_at"`
	Deadline   *Time       `json:"deadline"`
	SHA256     string      `json:"sha256"`
	Log        *ReceiptLog `json:"log,omitempty"`
}

// Time is a time that marshals to null when zero.
type Time struct{ time.Time }

// OrZero returns the time, or the zero time for nil.
func (t *Time) OrZero() time.Time { return t.orZero() }

// OptTime returns nil for the zero time, else a *Time.
func OptTime(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{t}
}

// BodySHA256 returns the hex SHA-256 of a request's normalised body as stores keep it: its
// JSON encoding. Receipt events record it, so that audit verify proves the stored body.
func BodySHA256(b *RequestBody) (string, error) {
	js, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("encode request body: %w", err)
	}
	sum := sha256.Sum256(js)
	return hex.EncodeToString(sum[:]), nil
}

// TargetsDigest returns the digest of the target rows stored with a request: its body's
// targets and its keys (see TargetSum). Receipt events record it.
func (r *Request) TargetsDigest() string {
	var s TargetSum
	for _, t := range r.Body.Targets {
		s.Add(t.Kind, t.Value)
	}
	for _, t := range r.Keys {
		s.Add(t.Kind, t.Value)
	}
	return s.String()
}

// TargetSum is a digest of a multiset of targets that does not depend on the order they are
// read in: the sum, modulo 2^256, of the SHA-256 of each target's kind and value. A target
// added, removed or changed changes the sum.
type TargetSum [32]byte

// Add adds one target to the sum.
func (s *TargetSum) Add(kind, value string) {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(value))
	var d [32]byte
	h.Sum(d[:0])
	var carry uint16
	for i := 31; i >= 0; i-- {
		v := uint16(s[i]) + uint16(d[i]) + carry
		s[i], carry = byte(v), v>>8
	}
}

// String returns the sum in hex.
func (s TargetSum) String() string { return hex.EncodeToString(s[:]) }
