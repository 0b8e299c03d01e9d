package refplatform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/platform"
)

func start(t *testing.T) (*platform.Client, *httptest.Server, *DB) {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Seed(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	secret := []byte("test-secret")
	srv := httptest.NewServer((&Server{DB: db, Verifier: &platform.Verifier{Secret: secret}}).Handler())
	t.Cleanup(srv.Close)
	return &platform.Client{BaseURL: srv.URL, Secret: secret}, srv, db
}

func get(t *testing.T, url, country string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if country != "" {
		req.Header.Set("X-Country", country)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func sor() *docket.StatementOfReasons {
	s := &docket.StatementOfReasons{PUID: "t-1", DecisionGround: docket.GroundIllegal, LegalGround: "Reg. 2021/784", Explanation: "terrorist content", Facts: "order"}
	return s
}

func TestActionsChangeWhatReadersSee(t *testing.T) {
	c, srv, _ := start(t)
	ctx := context.Background()

	info, err := c.Lookup(ctx, docket.Target{Kind: "url", Value: srv.URL + "/m/2"})
	if err != nil || !info.Exists || info.Kind != "message" || info.Owner != "nightwolf" || info.Country != "DE" || info.CreatedAt == "" {
		t.Fatalf("lookup = %+v, %v", info, err)
	}
	if info, err := c.Lookup(ctx, docket.Target{Kind: "message", Value: "999"}); err != nil || info.Exists {
		t.Fatalf("lookup of a missing message = %+v, %v", info, err)
	}

	if got := get(t, srv.URL+"/m/2", ""); got != 200 {
		t.Fatalf("before removal: %d", got)
	}
	res, err := c.Act(ctx, "k1", docket.PlatformAction{Op: docket.OpRemove, Target: docket.Target{Kind: "message", Value: srv.URL + "/m/2"}, Statement: sor()})
	if err != nil || res.Status != "done" || res.EffectiveAt.IsZero() {
		t.Fatalf("remove = %+v, %v", res, err)
	}
	if got := get(t, srv.URL+"/m/2", ""); got != http.StatusGone {
		t.Fatalf("after removal: %d, want 410", got)
	}

	_, err = c.Act(ctx, "k2", docket.PlatformAction{Op: docket.OpRestrict, Target: docket.Target{Kind: "message", Value: "3"}, Countries: []string{"DE"}, Statement: sor()})
	if err != nil {
		t.Fatal(err)
	}
	for country, want := range map[string]int{"DE": 451, "FR": 200, "": 200} {
		if got := get(t, srv.URL+"/m/3?country="+country, ""); got != want {
			t.Errorf("restricted message read from %q: %d, want %d", country, got, want)
		}
	}
	if got := get(t, srv.URL+"/m/3", "DE"); got != 451 {
		t.Errorf("X-Country DE: %d", got)
	}

	if _, err := c.Act(ctx, "k3", docket.PlatformAction{Op: docket.OpSuspend, Target: docket.Target{Kind: "username", Value: "@bob"}, Statement: sor()}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, srv.URL+"/u/bob", ""); got != 403 {
		t.Errorf("suspended account: %d", got)
	}

	// What the platform cannot do is refused for good, not retried.
	_, err = c.Act(ctx, "k4", docket.PlatformAction{Op: docket.OpSuspend, Target: docket.Target{Kind: "message", Value: "1"}, Statement: sor()})
	var pe *docket.PlatformError
	if !errors.As(err, &pe) || !pe.Permanent || pe.Status != 422 {
		t.Fatalf("suspend a message = %v", err)
	}
	_, err = c.Act(ctx, "k5", docket.PlatformAction{Op: docket.OpRemove, Target: docket.Target{Kind: "message", Value: "12345"}, Statement: sor()})
	if !errors.As(err, &pe) || pe.Status != 404 {
		t.Fatalf("remove a missing message = %v", err)
	}
}

func TestPreserveAndExport(t *testing.T) {
	c, _, _ := start(t)
	ctx := context.Background()
	snap, err := c.Preserve(ctx, "p1", docket.Target{Kind: "username", Value: "nightwolf"})
	if err != nil || !bytes.Contains(snap.Data, []byte("armed struggle")) || !bytes.Contains(snap.Data, []byte("nw@mail.example")) {
		t.Fatalf("preserve = %s, %v", snap.Data, err)
	}
	x, err := c.Export(ctx, "e1", docket.ExportRequest{Target: docket.Target{Kind: "phone", Value: "+4915123456789"}, Categories: []string{"subscriber", "traffic", "content"}})
	if err != nil || len(x.Items) != 3 {
		t.Fatalf("export = %+v, %v", x, err)
	}
	from := docket.Time{Time: time.Now().Add(time.Hour)}
	x, err = c.Export(ctx, "e2", docket.ExportRequest{Target: docket.Target{Kind: "username", Value: "nightwolf"}, Categories: []string{"traffic"}, From: &from})
	if err != nil || len(x.Items) != 0 || x.Missing["traffic"] == "" {
		t.Fatalf("export of an empty range = %+v, %v", x, err)
	}
}

func TestSignedCallsOnly(t *testing.T) {
	c, srv, _ := start(t)
	body := []byte(`{"target":{"kind":"message","value":"1"}}`)
	const nonce = "0123456789abcdef"
	send := func(ts int64, sig, key string) int {
		req, _ := http.NewRequest("POST", srv.URL+platform.PathLookup, bytes.NewReader(body))
		req.Header.Set(platform.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(platform.HeaderSignature, sig)
		req.Header.Set(platform.HeaderIdempotency, key)
		req.Header.Set(platform.HeaderNonce, nonce)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now().Unix()
	good := platform.Sign(c.Secret, "POST", platform.PathLookup, now, nonce, "", body)
	cases := []struct {
		name string
		ts   int64
		sig  string
		want int
	}{
		{"signed", now, good, 200},
		{"the same call again is a replay", now, good, 401},
		{"forged signature", now, platform.Sign([]byte("wrong"), "POST", platform.PathLookup, now, nonce, "", body), 401},
		{"unsigned", now, "", 401},
		{"stale", now - 3600, platform.Sign(c.Secret, "POST", platform.PathLookup, now-3600, nonce, "", body), 401},
		{"signature of another path", now + 1, platform.Sign(c.Secret, "POST", platform.PathAct, now+1, nonce, "", body), 401},
	}
	for _, tc := range cases {
		if got := send(tc.ts, tc.sig, ""); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestIdempotentActions(t *testing.T) {
	c, srv, _ := start(t)
	ctx := context.Background()
	a := docket.PlatformAction{Op: docket.OpRemove, Target: docket.Target{Kind: "message", Value: "1"}, Statement: sor()}
	r1, err := c.Act(ctx, "same", a)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	r2, err := c.Act(ctx, "same", a)
	if err != nil || !r2.EffectiveAt.Equal(r1.EffectiveAt) {
		t.Fatalf("second call with the same key: %+v (first %+v), %v", r2, r1, err)
	}
	if got := get(t, srv.URL+"/m/1", ""); got != 410 {
		t.Fatalf("%d", got)
	}
}

// TestContractDocumented: the connector's OpenAPI document lists exactly the operations the
// client calls and the reference platform serves.
func TestContractDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/connector.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	_, srv, _ := start(t)
	want := []string{platform.PathLookup, platform.PathAct, platform.PathPreserve, platform.PathExport, platform.PathNotify, platform.PathAppeals}
	if len(doc.Paths) != len(want) {
		t.Errorf("documented %d paths, the client calls %d", len(doc.Paths), len(want))
	}
	for _, p := range want {
		if _, ok := doc.Paths[p]["post"]; !ok {
			t.Errorf("%s is not documented", p)
		}
		resp, err := http.Post(srv.URL+p, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized { // served, and refused unsigned
			t.Errorf("POST %s unsigned: %d", p, resp.StatusCode)
		}
	}
}

// TestIdempotentUnderConcurrentCalls sends one action with one key from several callers at
// once — two docket nodes, one of which took over a job whose lease ran out while the other
// still ran it — and requires that the platform acts once and answers all alike.
func TestIdempotentUnderConcurrentCalls(t *testing.T) {
	c, _, db := start(t)
	ctx := context.Background()
	const callers = 8
	errs := make(chan error, callers)
	for range callers {
		go func() {
			_, err := c.Act(ctx, "same-key", docket.PlatformAction{Op: docket.OpRestrict, Target: docket.Target{Kind: "message", Value: "3"}, Countries: []string{"DE"}, Statement: sor()})
			errs <- err
		}()
	}
	for range callers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM history`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("the platform acted %d times on one idempotency key, want once", n)
	}
}
