package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/api"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/translog"
	"github.com/docket-dev/docket/workflow"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a running API on a fresh store with one principal of each kind.
type harness struct {
	t      *testing.T
	srv    *httptest.Server
	svc    *workflow.Service
	store  docket.Store
	clock  *clock
	tokens map[string]string // authority, other, agent, reviewer, admin, auditor
	ids    map[string]string
	logKey ed25519.PublicKey // of the store's signed tree heads
}

func setup(t *testing.T, engine string) *harness {
	t.Helper()
	ctx := context.Background()
	store := storetest.Open(t, engine)
	// As docket serve does: every commit signs the head of the log's Merkle tree.
	logKey, err := translog.NewSigner([]byte("the API tests' log key: 32 bytes"))
	if err != nil {
		t.Fatal(err)
	}
	store.(*sqlstore.Store).SetSigner(logKey)
	clk := &clock{now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := workflow.New(workflow.Config{Store: store, Logger: log, Now: clk.Now})
	svc.Start(ctx)
	t.Cleanup(svc.Stop)
	h := &harness{t: t, svc: svc, store: store, clock: clk, tokens: map[string]string{}, ids: map[string]string{}}
	for name, a := range map[string]*docket.Authority{
		"authority": {Name: "OFAC", Country: "FR", Domains: []string{"interieur.gouv.fr"}},
		"other":     {Name: "Polizei", Country: "DE"},
	} {
		tok, err := svc.RegisterAuthority(ctx, "test", a)
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[name], h.ids[name] = tok, a.ID
	}
	for _, role := range []docket.Role{docket.RoleAgent, docket.RoleReviewer, docket.RoleAdmin, docket.RoleAuditor} {
		u := &docket.User{Email: string(role) + "@platform.example", Role: role}
		tok, err := svc.AddUser(ctx, "test", u)
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[string(role)], h.ids[string(role)] = tok, u.ID
	}
	h.logKey = logKey.Public()
	h.srv = httptest.NewServer(api.New(api.Config{Service: svc, Store: store, Logger: log, NoticeBurst: 3, NoticesPerMinute: 1, MaxBody: 1 << 20, MetricsToken: "metrics-token",
		LogKey: h.logKey}))
	t.Cleanup(h.srv.Close)
	return h
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.status, r.body)
	}
	return m
}

// do calls the API as who ("" for nobody) with an optional JSON body and extra headers.
func (h *harness) do(method, path, who string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		tok := h.tokens[who]
		if tok == "" {
			tok = who // a literal token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// expect fails the test unless r has the given status.
func (h *harness) expect(r response, status int) response {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if status >= 400 && r.header.Get("Content-Type") != "application/problem+json" {
		h.t.Fatalf("error without problem+json: %q", r.header.Get("Content-Type"))
	}
	return r
}

func frRequisition() map[string]any {
	return map[string]any{
		"regime": "fr-requisition", "kind": "disclosure", "reference": "PV 2026/118",
		"description": "Identification du titulaire du compte @suspect",
		"legal_basis": "Article 60-1 du code de procédure pénale",
		"targets":     []map[string]string{{"kind": "username", "value": "@suspect"}},
	}
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[p]
	}
	s, _ := v.(string)
	return s
}
