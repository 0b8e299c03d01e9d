package workflow

import (
	"context"
	"fmt"

	"github.com/docket-dev/docket"
)

// UserChange is a change of a staff member: a new role, and/or a new API token.
type UserChange struct {
	Role        docket.Role
	RotateToken bool
}

// ChangeUser changes a staff member's role or API token, recorded as a user_changed event in
// the same transaction. It returns the new token, shown once, when one was made.
func (s *Service) ChangeUser(ctx context.Context, by docket.Actor, id string, ch UserChange) (token string, err error) {
	if ch.Role != "" && !ch.Role.Valid() {
		return "", docket.Errorf(docket.EINVALID, "Unknown role %q: agent, reviewer, policy, admin or auditor.", ch.Role)
	}
	if ch.Role == "" && !ch.RotateToken {
		return "", docket.Errorf(docket.EINVALID, "Nothing to change: give a role or ask for a new token.")
	}
	d := &docket.UserChanged{ID: id, Role: ch.Role}
	if ch.RotateToken {
		token, d.TokenHash = docket.NewToken("dku")
	}
	err = s.store.Update(ctx, func(tx docket.Tx) error {
		if err := tx.UpdateUser(ctx, d); err != nil {
			return err
		}
		return tx.Append(ctx, docket.NewEvent("", docket.EventUserChanged, by, s.Now(), d))
	})
	if isNotFound(err) {
		return "", notFound("user")
	} else if err != nil {
		return "", fmt.Errorf("change user %s: %w", id, err)
	}
	return token, nil
}

// AuthorityChange is a change of an authority: its official domains (nil: unchanged), its
// age key (nil: unchanged; empty: none), and/or a new API token.
type AuthorityChange struct {
	Domains      []string
	AgeRecipient *string
	RotateToken  bool
}

// ChangeAuthority changes an authority's domains, age key or API token, recorded as an
// authority_changed event in the same transaction. It returns the new token, shown once,
// when one was made.
func (s *Service) ChangeAuthority(ctx context.Context, by docket.Actor, id string, ch AuthorityChange) (token string, err error) {
	d := &docket.AuthorityChanged{ID: id}
	if ch.Domains != nil {
		domains := normalDomains(ch.Domains)
		d.Domains = &domains
	}
	if ch.AgeRecipient != nil {
		key, err := checkAgeRecipient(*ch.AgeRecipient)
		if err != nil {
			return "", err
		}
		d.AgeRecipient = &key
	}
	if ch.RotateToken {
		token, d.TokenHash = docket.NewToken("dka")
	}
	if d.Domains == nil && d.AgeRecipient == nil && d.TokenHash == "" {
		return "", docket.Errorf(docket.EINVALID, "Nothing to change: give domains, an age key or ask for a new token.")
	}
	err = s.store.Update(ctx, func(tx docket.Tx) error {
		if err := tx.UpdateAuthority(ctx, d); err != nil {
			return err
		}
		return tx.Append(ctx, docket.NewEvent("", docket.EventAuthorityChanged, by, s.Now(), d))
	})
	if isNotFound(err) {
		return "", notFound("authority")
	} else if err != nil {
		return "", fmt.Errorf("change authority %s: %w", id, err)
	}
	return token, nil
}
