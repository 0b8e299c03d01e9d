package web

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/docket-dev/docket"
)

// idp is a small OpenID Connect provider for the tests (the provider is outside docket):
// discovery, keys, an authorization endpoint that signs in whoever the test says at once,
// and a token endpoint that checks the client's secret and the PKCE verifier.
type idp struct {
	t   *testing.T
	srv *httptest.Server
	key *rsa.PrivateKey
	mu  sync.Mutex
	// What the next sign-in says.
	email     string
	verified  bool
	badNonce  bool
	otherKey  bool
	errorCode string
	codes     map[string]url.Values // code → the authorization request
}

func newIDP(t *testing.T) *idp {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{t: t, key: key, verified: true, codes: map[string]url.Values{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize",
			"token_endpoint": p.srv.URL + "/token", "jwks_uri": p.srv.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p.mu.Lock()
		defer p.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		v := url.Values{"state": {q.Get("state")}}
		if p.errorCode != "" {
			v.Set("error", p.errorCode)
		} else {
			code := strings.TrimRight(base64.URLEncoding.EncodeToString([]byte(q.Get("state")))[:20], "=")
			p.codes[code] = q
			v.Set("code", code)
		}
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		defer p.mu.Unlock()
		id, secret, _ := r.BasicAuth()
		if id == "" {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		auth, ok := p.codes[r.PostForm.Get("code")]
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || id != "docket" || secret != "s3cret" || auth.Get("code_challenge_method") != "S256" ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != auth.Get("code_challenge") {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		delete(p.codes, r.PostForm.Get("code"))
		nonce := auth.Get("nonce")
		if p.badNonce {
			nonce = "another"
		}
		key := p.key
		if p.otherKey {
			key, _ = rsa.GenerateKey(rand.Reader, 2048)
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Error(err)
			return
		}
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{"iss": p.srv.URL, "aud": "docket", "sub": "user-" + p.email, "iat": now.Unix(),
			"exp": now.Add(5 * time.Minute).Unix(), "nonce": nonce, "email": p.email, "email_verified": p.verified})
		jws, err := signer.Sign(claims)
		if err != nil {
			t.Error(err)
			return
		}
		token, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": token})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) set(fn func(p *idp)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.email, p.verified, p.badNonce, p.otherKey, p.errorCode = "", true, false, false, ""
	fn(p)
}

// ssoSignIn runs the whole round trip as a browser would, without following redirects
// blindly: docket → provider → docket. It returns the last status, its Location, the
// session cookie set (if any) and the page.
func ssoSignIn(t *testing.T, h *harness, next string, keepState bool) (int, string, string, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(h.srv.URL + "/console/sso?next=" + url.QueryEscape(next))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		return res.StatusCode, "", "", ""
	}
	var state *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == ssoCookie {
			state = c
		}
	}
	if state == nil || !state.Secure || !state.HttpOnly {
		t.Fatalf("the sign-in state cookie: %+v", state)
	}
	res, err = client.Get(res.Header.Get("Location")) // the provider
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	req, _ := http.NewRequest("GET", res.Header.Get("Location"), nil) // back to docket
	if keepState {
		req.AddCookie(&http.Cookie{Name: ssoCookie, Value: state.Value})
	}
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b := new(strings.Builder)
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	session := ""
	for _, c := range res.Cookies() {
		if c.Name == cookieName {
			session = c.Value
		}
	}
	return res.StatusCode, res.Header.Get("Location"), session, b.String()
}

// TestSingleSignOn: staff sign in through an OpenID Connect provider; the provider's word
// is checked (state, PKCE, signature, nonce, verified address) and only staff get in.
func TestSingleSignOn(t *testing.T) {
	p := newIDP(t)
	// The harness's server address is known only once it runs: the redirect URL is set
	// from it through a late-bound config.
	cfg := &SSO{Name: "Example ID", Issuer: p.srv.URL, ClientID: "docket", ClientSecret: "s3cret", RedirectURL: "http://placeholder/console/sso/callback"}
	h := newHarness(t, Config{SSO: cfg})
	h.pages.sso.cfg.RedirectURL = h.srv.URL + "/console/sso/callback"

	_, page := h.do("", "GET", "/console/signin", nil, nil)
	if !strings.Contains(page, `id="sso"`) || !strings.Contains(page, "Example ID") {
		t.Fatal("the staff sign-in page offers no single sign-on")
	}
	if _, page := h.do("", "GET", "/portal/signin", nil, nil); strings.Contains(page, `id="sso"`) {
		t.Fatal("officers are offered the staff's single sign-on")
	}

	p.set(func(p *idp) { p.email = "Agent@Platform.Example" })
	code, loc, session, _ := ssoSignIn(t, h, "/console/dashboard", true)
	if code != http.StatusSeeOther || loc != "/console/dashboard" || session == "" {
		t.Fatalf("sign-in of a staff member: %d to %q, session %v", code, loc, session != "")
	}
	h.cookies["sso"] = session
	if code, _ := h.do("sso", "GET", "/console/dashboard", nil, nil); code != 200 {
		t.Fatalf("the SSO session opens the console: %d", code)
	}

	// A staff member with no console account yet gets one, usable only through the provider.
	u := &docket.User{Email: "new@platform.example", Role: docket.RoleAgent}
	if _, err := h.svc.AddUser(context.Background(), "test", u); err != nil {
		t.Fatal(err)
	}
	p.set(func(p *idp) { p.email = "new@platform.example" })
	if code, _, session, _ := ssoSignIn(t, h, "", true); code != http.StatusSeeOther || session == "" {
		t.Fatalf("first sign-in of staff without a console account: %d", code)
	}
	if _, _, err := h.accounts.SignIn(context.Background(), docket.LoginStaff, "new@platform.example", "", ""); err == nil {
		t.Fatal("an SSO-only account signs in without a password")
	}

	refusals := []struct {
		name      string
		set       func(p *idp)
		keepState bool
		code      int
		log       string
	}{
		{"not staff", func(p *idp) { p.email = "stranger@example.org" }, true, 403, "not a staff member"},
		{"address not verified", func(p *idp) { p.email, p.verified = "agent@platform.example", false }, true, 401, "did not vouch"},
		{"answer for another browser", func(p *idp) { p.email = "agent@platform.example" }, false, 401, "does not belong"},
		{"token for another sign-in", func(p *idp) { p.email, p.badNonce = "agent@platform.example", true }, true, 401, "another sign-in"},
		{"token signed by another key", func(p *idp) { p.email, p.otherKey = "agent@platform.example", true }, true, 401, "not valid"},
		{"provider says no", func(p *idp) { p.errorCode = "access_denied" }, true, 401, "access_denied"},
	}
	for _, tt := range refusals {
		p.set(tt.set)
		code, _, session, page := ssoSignIn(t, h, "", tt.keepState)
		if code != tt.code || session != "" || !strings.Contains(page, "Single sign-on failed") && code == 401 {
			t.Errorf("%s: %d, session %v\n%.300s", tt.name, code, session != "", page)
		}
		if !strings.Contains(h.logs.String(), tt.log) {
			t.Errorf("%s: not logged (%q)", tt.name, tt.log)
		}
	}

	// The provider down: the button says so, and docket keeps serving password sign-in.
	down := newHarness(t, Config{SSO: &SSO{Issuer: "http://127.0.0.1:1", ClientID: "docket", ClientSecret: "x", RedirectURL: "http://x/console/sso/callback"}})
	if code, _ := down.do("", "GET", "/console/sso", nil, nil); code != 503 {
		t.Errorf("provider down: %d, want 503", code)
	}
	if _, err := New(Config{Service: h.svc, Store: h.store, Accounts: h.accounts, SSO: &SSO{Issuer: p.srv.URL}}); err == nil {
		t.Error("an SSO configuration without a client was accepted")
	}
}
