package api

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/docket-dev/docket"
)

// principal is who is calling: an authority or a staff member.
type principal struct {
	authority *docket.Authority
	user      *docket.User
	// flagger is a trusted flagger: it may only send notices.
	flagger *docket.Flagger
}

type ctxKey int

const principalKey ctxKey = 0

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey).(*principal)
	return p
}

// tokenCache keeps recent token lookups for a short time, so that each API call does not hit
// the database to authenticate. Revocation therefore takes up to its TTL.
type tokenCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[string]cached
}

type cached struct {
	p       *principal
	expires time.Time
}

const tokenCacheMax = 10_000

func (c *tokenCache) get(hash string, now time.Time) *principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || now.After(e.expires) {
		return nil
	}
	return e.p
}

func (c *tokenCache) put(hash string, p *principal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= tokenCacheMax {
		clear(c.entries)
	}
	c.entries[hash] = cached{p, now.Add(c.ttl)}
}

// authenticate resolves the bearer token of a call. It returns nil, nil when no token was
// given, and an EUNAUTHORIZED error when the token is wrong.
func (s *Server) authenticate(ctx context.Context, header string) (*principal, error) {
	if header == "" {
		return nil, nil
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Use an Authorization: Bearer <token> header.")
	}
	token = strings.TrimSpace(token)
	hash := docket.HashToken(token)
	now := time.Now()
	if p := s.tokens.get(hash, now); p != nil {
		return p, nil
	}
	var p *principal
	switch {
	case strings.HasPrefix(token, "dka_"):
		a, err := s.store.AuthorityByToken(ctx, hash)
		if err != nil {
			return nil, s.badToken(err)
		}
		p = &principal{authority: a}
	case strings.HasPrefix(token, "dku_"):
		u, err := s.store.UserByToken(ctx, hash)
		if err != nil {
			return nil, s.badToken(err)
		}
		p = &principal{user: u}
	case strings.HasPrefix(token, "dkf_"):
		f, err := s.store.FlaggerByToken(ctx, hash)
		if err != nil {
			return nil, s.badToken(err)
		}
		if f.Status == docket.FlaggerRevoked {
			return nil, docket.Errorf(docket.EUNAUTHORIZED, "The token is not valid: the trusted-flagger status was revoked. Send notices without a token.")
		}
		p = &principal{flagger: f}
	default:
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "The token is not valid.")
	}
	s.tokens.put(hash, p, now)
	return p, nil
}

func (s *Server) badToken(err error) error {
	if docket.ErrorCode(err) == docket.ENOTFOUND {
		return docket.Errorf(docket.EUNAUTHORIZED, "The token is not valid.")
	}
	return err
}
