package docket

import (
	"strings"
	"time"
)

// Kinds of Login: staff sign in to the console, an authority's officers to the portal.
const (
	LoginStaff   = "staff"
	LoginOfficer = "officer"
)

// Statuses of a Login.
const (
	LoginActive = "active"
	// LoginConfirmEmail: an officer registered (or was added as a delegate) and has not yet
	// followed the link sent to the address.
	LoginConfirmEmail = "confirm_email"
	// LoginAwaitingApproval: an officer confirmed the address and set up a second factor;
	// docket staff have not yet approved the account.
	LoginAwaitingApproval = "awaiting_approval"
	LoginDisabled         = "disabled"
)

// Login is a person's means of signing in to the web console (staff) or the authority
// portal (officers): a password hash and a TOTP second factor. A staff member's Login has
// the ID of their User; an officer's names the Authority they act for.
type Login struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Email       string `json:"email"`
	Name        string `json:"name,omitempty"`
	AuthorityID string `json:"authority_id,omitempty"`
	Status      string `json:"status"`
	// PasswordHash is an argon2id PHC string; TOTPSecret the base32 secret of the second
	// factor; TOTPStep the last time step accepted (a code is good once).
	PasswordHash string    `json:"-"`
	TOTPSecret   string    `json:"-"`
	TOTPStep     int64     `json:"-"`
	Failures     int       `json:"-"`
	LockedUntil  time.Time `json:"-"`
	// ConfirmHash is the SHA-256 of the address-confirmation token sent by e-mail.
	ConfirmHash    string    `json:"-"`
	ConfirmExpires time.Time `json:"-"`
	CreatedBy      string    `json:"created_by,omitempty"`
	ApprovedBy     string    `json:"approved_by,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// Session is a signed-in browser. Only the hash of its cookie's value is stored.
type Session struct {
	Hash      string
	LoginID   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LoginFilter selects logins for Store.Logins; empty fields match all.
type LoginFilter struct {
	Kind        string
	AuthorityID string
	Status      string
}

// CaseTime is what the dashboard needs of one case.
type CaseTime struct {
	Regime         string
	Country        string
	ReceivedAt     time.Time
	AcknowledgedAt time.Time // zero when not acknowledged
	AnsweredAt     time.Time // zero when not answered
}

// maxSearchText bounds the text of one request kept for full-text search.
const maxSearchText = 64 << 10

// SearchText is the text of a request that full-text search finds it by: its reference,
// description, legal basis, targets, notifier, e-mail subject and sender, and text read out
// of its attachments.
func SearchText(r *Request) string {
	b := &r.Body
	parts := []string{b.Reference, b.Description, b.LegalBasis, b.Reasons}
	for _, t := range b.Targets {
		parts = append(parts, t.Value)
	}
	if n := b.Notifier; n != nil {
		parts = append(parts, n.Name, n.Email)
	}
	if e := b.Email; e != nil {
		parts = append(parts, e.Subject, e.From, e.FromName)
	}
	for _, a := range b.Attachments {
		parts = append(parts, a.Filename)
	}
	parts = append(parts, b.Extracted)
	s := strings.Join(parts, "\n")
	if len(s) > maxSearchText {
		s = s[:maxSearchText]
	}
	return strings.ToValidUTF8(s, "")
}
