package docket

import (
	"strings"
	"time"
)

// Authority is a registered public body that may send requests: a police unit, a prosecutor,
// a court, a regulator, an intelligence service.
type Authority struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Country string   `json:"country"`
	Kind    string   `json:"kind,omitempty"`
	Domains []string `json:"domains,omitempty"`
	// AgeRecipient is the authority's public key (age X25519, "age1…"): disclosure packages
	// are encrypted to it.
	AgeRecipient string    `json:"age_recipient,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// OwnsDomain reports whether domain is one of the authority's official domains, or a
// subdomain of one.
func (a *Authority) OwnsDomain(domain string) bool {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	for _, d := range a.Domains {
		d = strings.ToLower(strings.Trim(d, "."))
		if d != "" && (domain == d || strings.HasSuffix(domain, "."+d)) {
			return true
		}
	}
	return false
}

// Role is a staff member's role.
type Role string

// Staff roles.
const (
	RoleAgent    Role = "agent"    // works cases: assign, comment, decide, answer
	RoleReviewer Role = "reviewer" // legal: everything an agent does, and approves
	RoleAdmin    Role = "admin"    // everything
	RoleAuditor  Role = "auditor"  // reads everything, changes nothing
	// RolePolicy is a reviewer who may also decide the cases of the policy queue (requests
	// touching political speech, journalists, protest or religion, or from authorities the
	// operator lists as high-risk): only such a reviewer may decide them.
	RolePolicy Role = "policy"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAgent, RoleReviewer, RoleAdmin, RoleAuditor, RolePolicy:
		return true
	}
	return false
}

// CanWork reports whether the role may change cases.
func (r Role) CanWork() bool {
	return r == RoleAgent || r == RoleReviewer || r == RoleAdmin || r == RolePolicy
}

// CanApprove reports whether the role may give the second approval of a decision.
func (r Role) CanApprove() bool { return r == RoleReviewer || r == RoleAdmin || r == RolePolicy }

// User is a member of the platform's staff.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// Actor names who caused an event: "user:<id>", "authority:<id>", "email:<address>" (an
// e-mail sender that is no registered authority), "public" or "system:<part>".
type Actor string

// EmailActor returns the actor for an e-mail sender that is no registered authority.
func EmailActor(address string) Actor { return Actor("email:" + address) }

// UserActor returns the actor for a staff member.
func UserActor(id string) Actor { return Actor("user:" + id) }

// AuthorityActor returns the actor for an authority.
func AuthorityActor(id string) Actor { return Actor("authority:" + id) }

// Actors that are not people.
const (
	ActorPublic Actor = "public"
	ActorClock  Actor = "system:clock"
	ActorMail   Actor = "system:mail"
	// ActorPlatform records what the platform confirmed (or refused) of an action.
	ActorPlatform Actor = "system:platform"
	// ActorPager records pages sent for emergencies.
	ActorPager Actor = "system:pager"
	// ActorTransparency records what the EU Transparency Database answered of a statement
	// of reasons (or docket's own check by its rules).
	ActorTransparency Actor = "system:transparency"
	// ActorMatch records the hash check of attachments against the hash banks.
	ActorMatch Actor = "system:match"
)
