package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/emersion/go-smtp"
)

// testClock is serve's clock in the tests: real time moved forward on demand.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// refPlatformProcess runs the reference platform as its own process (the test binary run as
// docket) and returns its base URL and a function that kills it.
func refPlatformProcess(t *testing.T, addr, dir, secret string) (string, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "refplatform", "--addr", addr, "--data", dir, "--secret", secret, "--seed")
	cmd.Env = append(os.Environ(), "DOCKET_TEST_AS_DOCKET=1")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "http://") {
		cmd.Process.Kill()
		t.Fatalf("refplatform said %q (%v)", line, err)
	}
	url := strings.TrimSpace(line[strings.Index(line, "http://"):])
	kill := func() { cmd.Process.Kill(); cmd.Wait() }
	t.Cleanup(kill)
	return url, kill
}

// pageReceiver is an incident tool's webhook: it records the pages it is sent.
type pageReceiver struct {
	mu    sync.Mutex
	pages []map[string]any
}

func (p *pageReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var v map[string]any
	json.NewDecoder(r.Body).Decode(&v)
	p.mu.Lock()
	p.pages = append(p.pages, v)
	p.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (p *pageReceiver) count() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.pages) }

func (p *pageReceiver) onCall(i int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pages[i]["docket"].(map[string]any)["on_call"].(string)
}

func status(t *testing.T, url, country string) int {
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

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func caseOf(s *served, staff, id string) map[string]any {
	return s.call("GET", "/api/v1/cases/"+id, staff, "", 200)["case"].(map[string]any)
}

func list(v map[string]any, key string) []any {
	l, _ := v[key].([]any)
	return l
}

func hasEvent(s *served, staff, caseID, typ string) bool {
	for _, e := range list(s.call("GET", "/api/v1/cases/"+caseID, staff, "", 200), "events") {
		if e.(map[string]any)["type"] == typ {
			return true
		}
	}
	return false
}

// TestPlatformEndToEnd acts on the reference platform, run as its own process: a TCO
// removal within the hour (410), a country restriction (451 there, 200 elsewhere), EPOC-PR
// holds that expire after 60 days unless extended, a disclosure package that exists only
// after approval and decrypts with the authority's key, an emergency paged and escalated,
// and the platform down (retried, never reported done before it confirms).
func TestPlatformEndToEnd(t *testing.T) {
	dir := t.TempDir()
	const secret = "platform-shared-secret"
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	platformAddr := ln.Addr().String() // a fixed port, so that the platform can restart on it
	ln.Close()
	platformURL, killPlatform := refPlatformProcess(t, platformAddr, filepath.Join(dir, "platform"), secret)

	hooks := &pageReceiver{}
	hookSrv := httptest.NewServer(hooks)
	defer hookSrv.Close()
	pagerFile := filepath.Join(dir, "pager.json")
	pc, _ := json.Marshal(map[string]any{
		"people":   []map[string]string{{"name": "alice"}, {"name": "bob"}, {"name": "manager"}},
		"rotation": map[string]any{"start": "2026-01-05T08:00:00Z", "shift": "7d", "people": []string{"alice", "bob"}},
		"ladder":   []map[string]string{{"after": "0s", "notify": "primary"}, {"after": "5m", "notify": "secondary"}, {"after": "15m", "notify": "manager"}},
		"webhooks": []string{hookSrv.URL},
	})
	os.WriteFile(pagerFile, pc, 0o600)

	// The relay that carries threat notices (and mail pages), with STARTTLS and AUTH.
	cert, caPEM := selfSigned(t)
	rl := &relay{}
	rs := smtp.NewServer(rl)
	rs.Domain, rs.TLSConfig = "relay.test", &tls.Config{Certificates: []tls.Certificate{cert}}
	rln, _ := net.Listen("tcp", "127.0.0.1:0")
	go rs.Serve(rln)
	defer rs.Close()
	caFile := filepath.Join(dir, "relay-ca.pem")
	os.WriteFile(caFile, caPEM, 0o600)
	cfgFile := filepath.Join(dir, "docket.json")
	cfg, _ := json.Marshal(map[string]any{
		"relay_addr": rln.Addr().String(), "relay_username": "docket", "relay_password": "relay-secret", "relay_ca": caFile,
		"mail_from": "legal@platform.example", "platform_name": "Reference Messenger",
		"threat_contacts": map[string]string{"DE": "lagezentrum@bka.example", "*": "o3@europol.example"},
	})
	os.WriteFile(cfgFile, cfg, 0o600)
	env := map[string]string{"DOCKET_DATA": filepath.Join(dir, "docket"), "DOCKET_PLATFORM_URL": platformURL,
		"DOCKET_PLATFORM_SECRET": secret, "DOCKET_PAGER_FILE": pagerFile, "DOCKET_CONFIG": cfgFile}

	key, _ := age.GenerateX25519Identity()
	_, police := created(t, must(run(t, env, "authority", "add", "--name", "Police nationale", "--country", "FR", "--age-recipient", key.Recipient().String(), "--json")))
	_, other := created(t, must(run(t, env, "authority", "add", "--name", "Other Police", "--country", "DE", "--json")))
	_, agent := created(t, must(run(t, env, "user", "add", "--email", "agent@platform.example", "--role", "agent", "--json")))
	_, reviewer := created(t, must(run(t, env, "user", "add", "--email", "legal@platform.example", "--role", "reviewer", "--json")))
	if _, err := run(t, env, "authority", "add", "--name", "Bad Key", "--country", "FR", "--age-recipient", "not-a-key"); err == nil {
		t.Fatal("an authority with a malformed age key was registered")
	}

	clock := &testClock{}
	s := startServeAt(t, env, clock.now)
	act := func(token, caseID string, body any, want int) map[string]any {
		b, _ := json.Marshal(body)
		return s.call("POST", "/api/v1/cases/"+caseID+"/events", token, string(b), want)
	}
	submit := func(body any) (reqID, caseID string) {
		b, _ := json.Marshal(body)
		r := s.call("POST", "/api/v1/requests", police, string(b), 201)
		return r["id"].(string), r["case_id"].(string)
	}
	actionStatus := func(caseID string, i int) string {
		acts := list(caseOf(s, agent, caseID), "actions")
		if len(acts) <= i {
			return ""
		}
		return acts[i].(map[string]any)["status"].(string)
	}
	sor := map[string]any{"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "Regulation (EU) 2021/784, art. 3",
		"explanation": "Terrorist content: incitement to an attack.", "decision_facts": "Removal order of the competent authority."}

	t.Run("TCO removal within the hour", func(t *testing.T) {
		msg := platformURL + "/m/2"
		if got := status(t, msg, ""); got != 200 {
			t.Fatalf("before: %d", got)
		}
		reqID, caseID := submit(map[string]any{"regime": "eu-tco-removal", "kind": "removal", "reference": "TCO-2026-17",
			"legal_basis": "Regulation (EU) 2021/784, art. 3", "reasons": "Incitement to commit a terrorist offence.",
			"targets": []map[string]string{{"kind": "message", "value": msg}}})
		clock.advance(10 * time.Minute)
		act(agent, caseID, map[string]any{"type": "remove", "target": map[string]string{"kind": "message", "value": msg}, "statement_of_reasons": sor}, 409) // no decision yet
		act(agent, caseID, map[string]any{"type": "decide", "outcome": "comply", "statement": "Valid removal order."}, 201)
		act(agent, caseID, map[string]any{"type": "remove", "target": map[string]string{"kind": "message", "value": msg}}, 422) // no statement of reasons
		act(agent, caseID, map[string]any{"type": "remove", "target": map[string]string{"kind": "message", "value": msg}, "statement_of_reasons": sor}, 201)
		eventually(t, "the removal to be confirmed", func() bool { return actionStatus(caseID, 0) == "done" })
		if got := status(t, msg, ""); got != http.StatusGone {
			t.Fatalf("after removal: %d, want 410", got)
		}
		c := caseOf(s, agent, caseID)
		if holds := list(c, "holds"); len(holds) != 1 || !strings.Contains(holds[0].(map[string]any)["basis"].(string), "eu-tco-removal") {
			t.Fatalf("removed content is not kept: %v", c["holds"])
		}
		clock.advance(5 * time.Minute)
		act(agent, caseID, map[string]any{"type": "answer", "text": "The content was removed in all member states."}, 201)
		st := s.call("GET", "/api/v1/requests/"+reqID, police, "", 200)
		acts := list(st, "actions")
		if st["state"] != "answered" || len(acts) != 1 || acts[0].(map[string]any)["effective_at"] == nil {
			t.Fatalf("the authority's feedback: %v", st)
		}
		received, _ := time.Parse(time.RFC3339Nano, st["received_at"].(string))
		answered, _ := time.Parse(time.RFC3339Nano, st["answer"].(map[string]any)["answered_at"].(string))
		if d := answered.Sub(received); d >= time.Hour {
			t.Fatalf("answered %v after receipt, over the hour", d)
		}
		if c := caseOf(s, agent, caseID); c["overdue"] != false {
			t.Fatalf("case overdue: %v", c)
		}
	})

	t.Run("country restriction", func(t *testing.T) {
		msg := platformURL + "/m/3"
		_, caseID := submit(map[string]any{"regime": "dsa-art9", "kind": "removal", "legal_basis": "StGB § 130", "reasons": "Holocaust denial.",
			"redress": "Verwaltungsgericht", "targets": []map[string]string{{"kind": "message", "value": msg}}})
		act(agent, caseID, map[string]any{"type": "decide", "outcome": "comply", "statement": "Illegal in Germany only."}, 201)
		act(agent, caseID, map[string]any{"type": "restrict", "target": map[string]string{"kind": "message", "value": msg}, "statement_of_reasons": sor}, 422) // no countries
		act(agent, caseID, map[string]any{"type": "restrict", "countries": []string{"de"}, "target": map[string]string{"kind": "message", "value": msg}, "statement_of_reasons": sor}, 201)
		eventually(t, "the restriction", func() bool { return actionStatus(caseID, 0) == "done" })
		for country, want := range map[string]int{"DE": 451, "FR": 200, "US": 200} {
			if got := status(t, msg, country); got != want {
				t.Errorf("from %s: %d, want %d", country, got, want)
			}
		}
		a := list(caseOf(s, agent, caseID), "actions")[0].(map[string]any)
		st := a["statement"].(map[string]any)
		if scope := st["territorial_scope"].([]any); len(scope) != 1 || scope[0] != "DE" || st["puid"] == "" || st["decision_visibility"] == nil {
			t.Fatalf("statement of reasons: %v", st)
		}
	})

	t.Run("preservation holds expire unless extended", func(t *testing.T) {
		preserve := func(target string) (string, float64) {
			kind := "username"
			if strings.HasPrefix(target, "+") {
				kind = "phone"
			}
			_, caseID := submit(map[string]any{"regime": "eu-epoc-pr", "kind": "preservation", "reference": "EPOC-PR-" + target,
				"legal_basis": "Regulation (EU) 2023/1543, art. 11", "targets": []map[string]string{{"kind": kind, "value": target}}})
			act(agent, caseID, map[string]any{"type": "preserve", "target": map[string]string{"kind": kind, "value": target}}, 201)
			eventually(t, "the snapshot", func() bool { return len(list(caseOf(s, agent, caseID), "holds")) == 1 })
			h := list(caseOf(s, agent, caseID), "holds")[0].(map[string]any)
			until, _ := time.Parse(time.RFC3339Nano, h["until"].(string))
			if d := until.Sub(clock.now()); d < 59*24*time.Hour || d > 61*24*time.Hour {
				t.Fatalf("EPOC-PR hold until %v: want 60 days", until)
			}
			return caseID, h["seq"].(float64)
		}
		kept, seq := preserve("@alice")
		plain, _ := preserve("@bob")
		renewed, _ := preserve("+33612345678")
		// The authority's new preservation request on the same matter joins the case and
		// extends its hold.
		submit(map[string]any{"regime": "eu-epoc-pr", "kind": "preservation", "reference": "EPOC-PR-+33612345678",
			"legal_basis": "Regulation (EU) 2023/1543, art. 11", "description": "Extension of the preservation.",
			"targets": []map[string]string{{"kind": "phone", "value": "+33612345678"}}})
		if !hasEvent(s, agent, renewed, "hold_extended") {
			t.Fatal("a new preservation request on the case did not extend its hold")
		}
		act(agent, kept, map[string]any{"type": "extend_hold", "hold": seq, "text": "Extension requested by the issuing authority."}, 201)
		act(agent, kept, map[string]any{"type": "extend_hold", "hold": seq, "text": "again"}, 409) // once only
		released := func(caseID string) bool {
			return list(caseOf(s, agent, caseID), "holds")[0].(map[string]any)["released_at"] != nil
		}
		clock.advance(59 * 24 * time.Hour)
		time.Sleep(1500 * time.Millisecond)
		if released(plain) || released(kept) {
			t.Fatal("a hold was released before 60 days")
		}
		clock.advance(2 * 24 * time.Hour)
		eventually(t, "the 60-day hold to be released", func() bool { return released(plain) })
		if released(kept) || released(renewed) {
			t.Fatal("an extended hold was released at 60 days")
		}
		clock.advance(30 * 24 * time.Hour)
		eventually(t, "the extended holds to be released at 90 days", func() bool { return released(kept) && released(renewed) })
	})

	t.Run("disclosure package", func(t *testing.T) {
		reqID, caseID := submit(map[string]any{"regime": "fr-requisition", "kind": "disclosure", "reference": "PV-2026-881",
			"legal_basis": "CPP art. 60-1", "targets": []map[string]string{{"kind": "username", "value": "@nightwolf"}}})
		disclose := map[string]any{"type": "disclose", "target": map[string]string{"kind": "username", "value": "@nightwolf"}, "categories": []string{"subscriber", "traffic", "content"}}
		act(agent, caseID, map[string]any{"type": "decide", "outcome": "comply", "statement": "Lawful requisition."}, 201)
		act(agent, caseID, disclose, 409) // not approved yet
		if p := list(s.call("GET", "/api/v1/requests/"+reqID+"/packages", police, "", 200), "packages"); len(p) != 0 {
			t.Fatalf("packages before approval: %v", p)
		}
		act(agent, caseID, map[string]any{"type": "approve"}, 403)    // an agent cannot approve
		act(reviewer, caseID, map[string]any{"type": "approve"}, 201) // the second person
		act(agent, caseID, disclose, 201)
		eventually(t, "the package", func() bool { return len(list(caseOf(s, agent, caseID), "packages")) == 1 })
		pk := list(s.call("GET", "/api/v1/requests/"+reqID+"/packages", police, "", 200), "packages")[0].(map[string]any)
		s.call("GET", "/api/v1/requests/"+reqID+"/packages", other, "", 404) // another authority's request
		s.call("GET", pk["url"].(string), other, "", 404)
		forged := strings.Replace(pk["url"].(string), "sig=", "sig=0", 1)
		s.call("GET", forged, police, "", 403)

		req, _ := http.NewRequest("GET", "http://"+s.addr+pk["url"].(string), nil)
		req.Header.Set("Authorization", "Bearer "+police)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("download: %v %v", resp, err)
		}
		enc, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r, err := age.Decrypt(bytes.NewReader(enc), key)
		if err != nil {
			t.Fatalf("the package does not decrypt with the authority's key: %v", err)
		}
		plain, _ := io.ReadAll(r)
		z, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, f := range z.File {
			rc, _ := f.Open()
			files[f.Name], _ = io.ReadAll(rc)
			rc.Close()
		}
		var m struct {
			CaseID string `json:"case_id"`
			Given  []struct{ Path, SHA256 string }
		}
		if err := json.Unmarshal(files["manifest.json"], &m); err != nil || m.CaseID != caseID || len(m.Given) != 3 {
			t.Fatalf("manifest: %s (%v)", files["manifest.json"], err)
		}
		for _, g := range m.Given {
			sum := sha256.Sum256(files[g.Path])
			if hex.EncodeToString(sum[:]) != g.SHA256 {
				t.Errorf("%s: hash does not match the manifest", g.Path)
			}
		}
		if !bytes.Contains(files["data/subscriber/subscriber.json"], []byte("nw@mail.example")) {
			t.Errorf("subscriber data: %s", files["data/subscriber/subscriber.json"])
		}
		if !hasEvent(s, agent, caseID, "package_downloaded") {
			t.Fatal("the download was not recorded")
		}
		clock.advance(16 * time.Minute)
		s.call("GET", pk["url"].(string), police, "", 403) // the link expired
	})

	t.Run("emergency pages and escalates", func(t *testing.T) {
		before := hooks.count()
		submitted := time.Now()
		_, caseID := submit(map[string]any{"regime": "us-emergency", "kind": "emergency_disclosure", "emergency": true,
			"description": "A user announced he will shoot his neighbour tonight.", "targets": []map[string]string{{"kind": "username", "value": "@threat"}}})
		eventually(t, "the first page", func() bool { return hooks.count() > before })
		t.Logf("receipt to page: %v", time.Since(submitted))
		first := hooks.onCall(before)
		time.Sleep(1500 * time.Millisecond)
		if hooks.count() != before+1 {
			t.Fatalf("escalated before 5 minutes: %d pages", hooks.count()-before)
		}
		clock.advance(5*time.Minute + time.Second)
		eventually(t, "the escalation to the secondary", func() bool { return hooks.count() > before+1 })
		if second := hooks.onCall(before + 1); second == first || second == "manager" {
			t.Fatalf("escalated from %s to %s", first, second)
		}
		act(agent, caseID, map[string]any{"type": "acknowledge_page"}, 201)
		act(agent, caseID, map[string]any{"type": "acknowledge_page"}, 409)
		clock.advance(15 * time.Minute)
		time.Sleep(2500 * time.Millisecond)
		if hooks.count() != before+2 {
			t.Fatalf("paged the manager after acknowledgement: %d pages", hooks.count()-before)
		}
		if p := caseOf(s, agent, caseID)["paging"].(map[string]any); p["pages"].(float64) != 2 || p["acknowledged_by"] == "" {
			t.Fatalf("paging: %v", p)
		}
	})

	t.Run("threat to life reported to the competent authority", func(t *testing.T) {
		msg := platformURL + "/m/5"
		_, caseID := submit(map[string]any{"regime": "national-other", "kind": "other", "reference": "TIP-9",
			"description": "A user threatens his neighbour.", "targets": []map[string]string{{"kind": "message", "value": msg}}})
		act(agent, caseID, map[string]any{"type": "report_threat", "target": map[string]string{"kind": "message", "value": msg}}, 422) // no reason
		act(agent, caseID, map[string]any{"type": "report_threat", "target": map[string]string{"kind": "message", "value": msg},
			"text": "Explicit announcement of a killing tonight, with a weapon."}, 201)
		got := rl.waitFor(t, "the threat notice", func(m relayed) bool { return len(m.To) == 1 && m.To[0] == "lagezentrum@bka.example" })
		for _, want := range []string{"art. 18", "I will kill my neighbour", "Published at: 20", "nightwolf", "nw@mail.example", "Explicit announcement"} {
			if !bytes.Contains(got.Data, []byte(want)) {
				t.Errorf("the notice lacks %q:\n%s", want, got.Data)
			}
		}
		eventually(t, "the notice recorded", func() bool { return actionStatus(caseID, 0) == "done" })
	})

	t.Run("platform down", func(t *testing.T) {
		killPlatform()
		msg := platformURL + "/m/1"
		reqID, caseID := submit(map[string]any{"regime": "eu-tco-removal", "kind": "removal", "reference": "TCO-2026-18",
			"legal_basis": "Regulation (EU) 2021/784, art. 3", "reasons": "Propaganda.", "targets": []map[string]string{{"kind": "message", "value": msg}}})
		act(agent, caseID, map[string]any{"type": "decide", "outcome": "comply", "statement": "Valid removal order."}, 201)
		act(agent, caseID, map[string]any{"type": "remove", "target": map[string]string{"kind": "message", "value": msg}, "statement_of_reasons": sor}, 201)
		eventually(t, "a failed attempt", func() bool { return hasEvent(s, agent, caseID, "action_failed") })
		if st := actionStatus(caseID, 0); st != "pending" {
			t.Fatalf("status with the platform down: %s", st)
		}
		act(agent, caseID, map[string]any{"type": "answer", "text": "Removed."}, 409) // not confirmed: no answer claims it
		if st := s.call("GET", "/api/v1/requests/"+reqID, police, "", 200); st["state"] == "answered" {
			t.Fatal("answered while the platform was down")
		}
		// The platform comes back on the same data; a later retry is confirmed.
		refPlatformProcess(t, platformAddr, filepath.Join(dir, "platform"), secret)
		eventually(t, "the retry to be confirmed", func() bool {
			clock.advance(time.Minute) // past the backoff
			return actionStatus(caseID, 0) == "done"
		})
		if got := status(t, msg, ""); got != http.StatusGone {
			t.Fatalf("after the retry: %d", got)
		}
		act(agent, caseID, map[string]any{"type": "answer", "text": "Removed."}, 201)
	})

	// Every event above replays into the stored cases and the chain holds.
	s.stop()
	if out, err := run(t, env, "audit", "verify"); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}

// lockedBuffer collects output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestDemo runs `docket demo` as the README tells: docket and the reference platform start
// together and the five requests are worked through; the transparency reports count them.
func TestDemo(t *testing.T) {
	data := t.TempDir()
	out := &lockedBuffer{}
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := &Main{Stdout: out, Stderr: io.Discard, Getenv: func(string) string { return "" }, Ready: func(a string) { ready <- a }}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--platform-addr", "127.0.0.1:0", "--data", data})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("demo: %v\n%s", err, out)
	case <-time.After(60 * time.Second):
		t.Fatalf("demo did not get ready:\n%s", out)
	}
	text := out.String()
	var platformURL string
	for _, f := range strings.Fields(text) {
		if strings.HasSuffix(f, "/m/2") && strings.HasPrefix(f, "http://") {
			platformURL = strings.TrimSuffix(f, "/m/2")
		}
	}
	if platformURL == "" || !strings.Contains(text, "PAGE (step 0)") || !strings.Contains(text, "5. A notice from the public") {
		t.Fatalf("demo output:\n%s", text)
	}
	for _, c := range []struct {
		path, country string
		want          int
	}{{"/m/2", "", 410}, {"/m/3", "DE", 451}, {"/m/3", "FR", 200}} {
		if got := status(t, platformURL+c.path, c.country); got != c.want {
			t.Errorf("%s from %q: %d, want %d", c.path, c.country, got, c.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo ended with %v", err)
	}
	env := map[string]string{"DOCKET_DATA": filepath.Join(data, "docket")}
	now := time.Now().UTC()
	period := []string{"--from", now.AddDate(0, 0, -1).Format(time.DateOnly), "--to", now.AddDate(0, 0, 1).Format(time.DateOnly), "--figures"}
	figs := must(run(t, env, append([]string{"report", "requests"}, period...)...))
	for _, want := range []string{"requests/FR/police/requests\t4\n", "requests/FR/police/removal_orders\t2\n", "requests/BE/public/requests\t1\n",
		"requests/removals/eu-tco-removal/removed\t1\n", "requests/emergencies/FR/emergencies\t1\n"} {
		if !strings.Contains(figs, want) {
			t.Errorf("the demo's requests report lacks %q:\n%s", want, figs)
		}
	}
	if figs := must(run(t, env, append([]string{"report", "dsa"}, period...)...)); !strings.Contains(figs, "dsa/notices_by_submitter/public/notices\t1\n") {
		t.Errorf("the demo's DSA report:\n%s", figs)
	}
}
