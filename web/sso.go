package web

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/docket-dev/docket"
)

// SSO is an OpenID Connect provider through which staff may sign in to the console
// instead of a password and code (the provider is then responsible for the second factor).
// Only existing staff get in: the provider's verified e-mail address must be a staff
// member's.
type SSO struct {
	// Name is shown on the sign-in button ("Sign in with Name").
	Name   string `json:"name"`
	Issuer string `json:"issuer"`
	// ClientID and ClientSecret are docket's registration at the provider; RedirectURL
	// is https://<docket>/console/sso/callback as registered there.
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RedirectURL  string `json:"redirect_url"`
}

// Validate checks that the required fields are set.
func (c *SSO) Validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"issuer", c.Issuer}, {"client_id", c.ClientID}, {"client_secret", c.ClientSecret}, {"redirect_url", c.RedirectURL}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("sso: %s missing", strings.Join(missing, ", "))
	}
	if !strings.HasSuffix(c.RedirectURL, "/console/sso/callback") {
		return fmt.Errorf("sso: redirect_url must end in /console/sso/callback, not %q", c.RedirectURL)
	}
	return nil
}

// sso signs staff in through the provider. The provider's discovery document is read on
// first use (and again after a failure), so that docket starts while the provider is down.
type sso struct {
	cfg    SSO
	client *http.Client
	mu     sync.Mutex
	oauth  *oauth2.Config
	verify *oidc.IDTokenVerifier
}

const ssoCookie = "docket_sso"

func newSSO(cfg *SSO) *sso {
	if cfg == nil {
		return nil
	}
	if cfg.Name == "" {
		cfg.Name = "single sign-on"
	}
	return &sso{cfg: *cfg, client: &http.Client{Timeout: 10 * time.Second}}
}

func (o *sso) context(ctx context.Context) context.Context {
	return context.WithValue(oidc.ClientContext(ctx, o.client), oauth2.HTTPClient, o.client)
}

// provider returns the OAuth 2.0 configuration and the ID token verifier.
func (o *sso) provider() (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oauth != nil {
		return o.oauth, o.verify, nil
	}
	// The provider keeps this context to fetch its signing keys later: not a request's.
	p, err := oidc.NewProvider(o.context(context.Background()), o.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("read the sign-on provider %s: %w", o.cfg.Issuer, err)
	}
	o.oauth = &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	o.verify = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	return o.oauth, o.verify, nil
}

// random is a value nobody can guess (256 bits, base64url).
func random() string {
	v, _ := docket.NewToken("")
	return v
}

// ssoStart sends the browser to the provider, with a state, a nonce and a PKCE verifier
// kept in a short-lived cookie of this browser's.
func (s *Server) ssoStart(w http.ResponseWriter, r *http.Request, p *page) error {
	conf, _, err := s.sso.provider()
	if err != nil {
		s.log.ErrorContext(r.Context(), "single sign-on unavailable", slog.Any("err", err))
		return docket.Errorf(docket.EUNAVAILABLE, "The sign-in provider (%s) cannot be reached now; sign in with your password and code, or try again later.", s.sso.cfg.Name)
	}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	next := safeNext(r.URL.Query().Get("next"), "/console")
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: strings.Join([]string{state, nonce, verifier, base64.RawURLEncoding.EncodeToString([]byte(next))}, "."),
		Path: "/console/sso", MaxAge: 600, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
	return nil
}

// ssoCallback takes the provider's answer: the state must be this browser's, the code is
// exchanged with the PKCE verifier, the ID token's signature, issuer, audience, expiry and
// nonce are checked, and its e-mail address must be verified and a staff member's.
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx := r.Context()
	q := r.URL.Query()
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/console/sso", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	refuse := func(why string, attrs ...any) error {
		s.log.WarnContext(ctx, "single sign-on refused: "+why, attrs...)
		return docket.Errorf(docket.EUNAUTHORIZED, "Single sign-on failed: %s. Start again from the sign-in page.", why)
	}
	if e := q.Get("error"); e != "" {
		return refuse("the provider answered "+clip(e, 100), slog.String("description", clip(q.Get("error_description"), 300)))
	}
	c, err := r.Cookie(ssoCookie)
	parts := []string{}
	if err == nil {
		parts = strings.Split(c.Value, ".")
	}
	if len(parts) != 4 || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(q.Get("state"))) != 1 {
		return refuse("this answer does not belong to a sign-in started in this browser (or it took over 10 minutes)")
	}
	nonce, verifier := parts[1], parts[2]
	nextB, _ := base64.RawURLEncoding.DecodeString(parts[3])
	conf, verify, err := s.sso.provider()
	if err != nil {
		return docket.Errorf(docket.EUNAVAILABLE, "The sign-in provider (%s) cannot be reached now; try again later.", s.sso.cfg.Name)
	}
	tok, err := conf.Exchange(s.sso.context(ctx), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return refuse("the provider did not accept the sign-in code", slog.Any("err", err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return refuse("the provider sent no ID token")
	}
	idt, err := verify.Verify(s.sso.context(ctx), raw)
	if err != nil {
		return refuse("the ID token is not valid", slog.Any("err", err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return refuse("the ID token was issued for another sign-in")
	}
	var claims struct {
		Email    string `json:"email"`
		Verified *bool  `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		return refuse("the ID token's claims are unreadable", slog.Any("err", err))
	}
	if claims.Email == "" || claims.Verified == nil || !*claims.Verified {
		return refuse("the provider did not vouch for an e-mail address", slog.String("email", claims.Email), slog.String("subject", idt.Subject))
	}
	l, token, err := s.accounts.SignInVerified(ctx, claims.Email, "sso:"+s.sso.cfg.Issuer)
	if err != nil {
		return err
	}
	s.setSession(w, token, s.cfg.Now().Add(s.accounts.SessionTTL()))
	s.log.InfoContext(ctx, "single sign-on", slog.String("login", l.ID), slog.String("subject", idt.Subject))
	http.Redirect(w, r, safeNext(string(nextB), "/console"), http.StatusSeeOther)
	return nil
}

// clip shortens what another party sent before it is shown or logged.
func clip(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}
