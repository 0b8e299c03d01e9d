package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/storetest"
)

func run(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	err := m.Run(context.Background(), args)
	return out.String(), err
}

// served is a `docket serve` running in the test, on free ports.
type served struct {
	t      *testing.T
	addr   string            // HTTP
	listen map[string]string // further listeners by kind ("smtp")
	cancel context.CancelFunc
	done   chan error
}

// startServe runs `docket serve --addr 127.0.0.1:0 args…` with env until stop (or the end of
// the test).
func startServe(t *testing.T, env map[string]string, args ...string) *served {
	t.Helper()
	return startServeAt(t, env, nil, args...)
}

// startServeAt is startServe with serve's clock set to now (when not nil).
func startServeAt(t *testing.T, env map[string]string, now func() time.Time, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	s := &served{t: t, listen: map[string]string{}, cancel: cancel, done: make(chan error, 1)}
	var mu sync.Mutex
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return env[k] },
		Ready:     func(a string) { ready <- a },
		Listening: func(kind, a string) { mu.Lock(); s.listen[kind] = a; mu.Unlock() }, Now: now}
	go func() { s.done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)) }()
	select {
	case s.addr = <-ready:
	case err := <-s.done:
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	t.Cleanup(s.stop)
	return s
}

// stop ends the server and fails the test if it did not end cleanly; it may be called twice.
func (s *served) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil {
		s.t.Errorf("serve ended with %v", err)
	}
}

// call makes one API call and fails the test unless it answers want; it returns the JSON.
func (s *served) call(method, path, token, body string, want int) map[string]any {
	s.t.Helper()
	var v map[string]any
	json.Unmarshal(s.fetch(method, path, token, body, want), &v)
	return v
}

func created(t *testing.T, out string) (id, token string) {
	t.Helper()
	var v struct{ ID, Token string }
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Token == "" {
		t.Fatalf("want {id,token}, got %q (%v)", out, err)
	}
	return v.ID, v.Token
}

// TestTour runs the README's tour through the real command: serve, add an authority and a
// user, submit, decide, answer, read, verify; then an edited row fails the verification.
func TestTour(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"DOCKET_DATA": dir}
			if engine == "postgres" {
				env["DOCKET_DB"] = storetest.PostgresURL(t)
			}
			_, atok := created(t, must(run(t, env, "authority", "add", "--name", "OFAC", "--country", "fr", "--domain", "interieur.gouv.fr", "--json")))
			_, utok := created(t, must(run(t, env, "user", "add", "--email", "agent@platform.example", "--role", "agent", "--json")))

			srv := startServe(t, env, "--clock-interval", "50ms")
			call := srv.call
			rc := call("POST", "/api/v1/requests", atok, `{"regime":"dsa-art9","kind":"removal","reference":"A9-1","description":"Please remove this message: it incites hatred against a religious group and is illegal under national law.","legal_basis":"DSA art. 9","reasons":"Illegal hate speech","redress":"Tribunal judiciaire de Paris","targets":[{"kind":"message","value":"https://t.me/c/1"}]}`, 201)
			caseID, reqID := rc["case_id"].(string), rc["id"].(string)
			call("POST", "/api/v1/cases/"+caseID+"/events", utok, `{"type":"decide","outcome":"comply","statement":"Removed."}`, 201)
			call("POST", "/api/v1/cases/"+caseID+"/events", utok, `{"type":"answer","text":"The message was removed."}`, 201)
			st := call("GET", "/api/v1/requests/"+reqID, atok, "", 200)
			if st["state"] != "answered" {
				t.Fatalf("authority sees %v", st)
			}
			// Triage ran on receipt, as a job: its result and signals are on the case.
			var tri map[string]any
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				c := call("GET", "/api/v1/cases/"+caseID, utok, "", 200)["case"].(map[string]any)
				if t, ok := c["triage"].(map[string]any); ok {
					tri = t
					break
				}
			}
			if tri == nil || tri["language"] != "en" || len(tri["signals"].([]any)) == 0 {
				t.Fatalf("triage on the case: %v", tri)
			}
			call("POST", "/api/v1/cases/"+caseID+"/events", utok, `{"type":"retriage","label":"hate","text":"It is hate speech, not plain abuse."}`, 201)
			call("GET", "/healthz", "", "", 200)
			call("GET", "/readyz", "", "", 200)
			srv.stop()

			corrections := must(run(t, env, "triage", "export-corrections"))
			if !strings.Contains(corrections, `"label":"hate"`) || !strings.Contains(corrections, `"reason":"It is hate speech, not plain abuse."`) {
				t.Fatalf("export-corrections: %s", corrections)
			}
			out := must(run(t, env, "audit", "verify"))
			if !strings.Contains(out, "audit OK") {
				t.Fatalf("verify: %s", out)
			}
			head := strings.TrimSpace(must(run(t, env, "audit", "head")))
			must(run(t, env, "audit", "verify", "--head", head))

			// Edit one event row behind docket's back.
			var db *sql.DB
			var err error
			if engine == "postgres" {
				db, err = sql.Open("pgx", env["DOCKET_DB"])
			} else {
				db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE events SET data = REPLACE(data, 'Removed.', 'Kept.') WHERE type = 'decided'`); err != nil {
				t.Fatal(err)
			}
			_, err = run(t, env, "audit", "verify")
			var exit exitError
			if !errors.As(err, &exit) || exit.code != 1 || !strings.Contains(exit.msg, "event ") {
				t.Fatalf("verify after tampering: %v, want exit 1 naming the event", err)
			}
		})
	}
}

func must(out string, err error) string {
	if err != nil {
		panic(err)
	}
	return out
}

// TestHelpAndMessages: --help answers on stdout with a line of description and the flags'
// defaults, exit 0; a command that needs a subcommand says which; a docket error prints its
// message, not its internal form.
func TestHelpAndMessages(t *testing.T) {
	env := map[string]string{"DOCKET_DATA": t.TempDir()}
	for _, cmd := range [][]string{{"serve"}, {"audit", "verify"}, {"authority", "add"}, {"triage"}, {"demo"}, {"refplatform"}} {
		out, err := run(t, env, append(cmd, "--help")...)
		if code, _ := exitStatus(err); err != nil && code != 0 {
			t.Errorf("%v --help: %v, want exit 0", cmd, err)
		}
		name := strings.Join(cmd, " ")
		if !strings.Contains(out, "usage: docket "+name) || !strings.Contains(out, descriptions[name]) || !strings.Contains(out, "flags:") {
			t.Errorf("%v --help printed:\n%s", cmd, out)
		}
	}
	for _, cmd := range []string{"authority", "user", "audit", "officer"} {
		_, err := run(t, env, cmd)
		if code, msg := exitStatus(err); code != 2 || !strings.Contains(msg, "needs a subcommand") {
			t.Errorf("docket %s: %d %q, want exit 2 naming the subcommands", cmd, code, msg)
		}
	}
	_, err := run(t, env, "authority", "add", "--country", "FR")
	if code, msg := exitStatus(err); code != 1 || msg != "An authority needs a name." {
		t.Errorf("authority add without a name: %d %q", code, msg)
	}
}

func TestUsageErrors(t *testing.T) {
	env := map[string]string{"DOCKET_DATA": t.TempDir()}
	for _, args := range [][]string{{}, {"fly"}, {"serve", "--nope"}, {"audit", "verify", "--head", "x"}, {"user", "frob"}} {
		_, err := run(t, env, args...)
		var exit exitError
		if !errors.As(err, &exit) || exit.code != 2 {
			t.Errorf("%v: %v, want exit 2", args, err)
		}
	}
	if _, err := run(t, env, "authority", "add", "--name", "X", "--country", "France"); err == nil {
		t.Error("a bad country code was accepted")
	}
	if _, err := run(t, env, "user", "add", "--email", "a@b.c", "--role", "god"); err == nil {
		t.Error("an unknown role was accepted")
	}
	bad := filepath.Join(t.TempDir(), "rules.json")
	os.WriteFile(bad, []byte(`{"rules":[{"name":"broken","when":"triage.emergncy"}]}`), 0o600)
	if _, err := run(t, env, "serve", "--addr", "127.0.0.1:0", "--rules", bad); err == nil || !strings.Contains(err.Error(), "rule broken") {
		t.Errorf("a broken rule file: %v, want an error naming the rule", err)
	}
	for _, lease := range []string{"soon", "10ms"} {
		if _, err := run(t, map[string]string{"DOCKET_DATA": env["DOCKET_DATA"], "DOCKET_JOB_LEASE": lease}, "serve", "--addr", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "job_lease") {
			t.Errorf("job_lease %q: %v, want an error naming it", lease, err)
		}
	}
	if _, err := run(t, map[string]string{"DOCKET_DB": "mysql://x"}, "migrate"); err == nil {
		t.Error("a non-postgres --db was accepted")
	}
	sso := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(sso, []byte(`{"sso":{"issuer":"https://id.example","client_id":"docket","redirect_url":"https://d.example/console/sso/callback"}}`), 0o600)
	if _, err := run(t, env, "serve", "--addr", "127.0.0.1:0", "--config", sso); err == nil || !strings.Contains(err.Error(), "client_secret missing") {
		t.Errorf("single sign-on without a client secret: %v, want an error naming it", err)
	}
}

func TestTriageCLI(t *testing.T) {
	in := `{"id":"a","channel":"email","from":"x@polizei.de","subject":"Auskunft","text":"Auskunftsersuchen nach § 100j StPO zum Konto @beschuldigter."}
not json
{"id":"c","channel":"notice","from":"","subject":"","text":"Menaces de mort : https://t.me/x/1"}
`
	var out bytes.Buffer
	m := &Main{Stdin: strings.NewReader(in), Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if err := m.Run(context.Background(), []string{"triage"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one output line per input line, got %d:\n%s", len(lines), out.String())
	}
	var a, bad, c map[string]any
	json.Unmarshal([]byte(lines[0]), &a)
	json.Unmarshal([]byte(lines[1]), &bad)
	json.Unmarshal([]byte(lines[2]), &c)
	if a["language"] != "de" || a["regime"] != "national-other" || a["kind"] != "disclosure" {
		t.Errorf("line 1: %v", a)
	}
	for _, field := range []string{"id", "language", "regime", "kind", "emergency", "spam", "label", "category", "priority", "targets", "signals"} {
		if _, ok := a[field]; !ok {
			t.Errorf("output lacks %s", field)
		}
	}
	if bad["error"] == nil || bad["line"] != float64(2) {
		t.Errorf("bad line: %v", bad)
	}
	if c["emergency"] != true || c["regime"] != "dsa-art16" {
		t.Errorf("line 3: %v", c)
	}
	out.Reset()
	m = &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if err := m.Run(context.Background(), []string{"triage", "--eval", "../../testdata/requests.jsonl"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| regime |", "| targets |", "per language", "| fa |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("eval report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestAuditVerifyMissingData: verify of a data folder that holds no database fails with a
// clear error, and creates nothing (it used to create an empty database and say OK).
func TestAuditVerifyMissingData(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	for _, args := range [][]string{{"audit", "verify"}, {"audit", "head"}} {
		out, err := run(t, map[string]string{"DOCKET_DATA": missing}, args...)
		var exit exitError
		if !errors.As(err, &exit) || exit.code != 1 || !strings.Contains(err.Error(), "no docket database") || strings.Contains(out, "OK") {
			t.Fatalf("%v: %q, %v", args, out, err)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatalf("%v created the data folder: %v", args, err)
		}
	}
}

// TestStaffChanges: roles, tokens, domains and age keys change through the command line, as
// events: the store still verifies, and the old token stops working.
func TestStaffChanges(t *testing.T) {
	env := map[string]string{"DOCKET_DATA": t.TempDir()}
	aid, _ := created(t, must(run(t, env, "authority", "add", "--name", "Police", "--country", "FR", "--domain", "police.example", "--json")))
	_, old := created(t, must(run(t, env, "user", "add", "--email", "jane@platform.example", "--role", "agent", "--json")))
	_, token := created(t, must(run(t, env, "user", "change", "--email", "jane@platform.example", "--role", "reviewer", "--rotate-token", "--json")))
	if token == old {
		t.Fatal("the token was not replaced")
	}
	must(run(t, env, "authority", "change", "--id", aid, "--domain", "police.example", "--domain", "justice.example", "--age-recipient", ""))
	for _, args := range [][]string{
		{"user", "change", "--email", "jane@platform.example"},                     // nothing to change
		{"user", "change", "--email", "jane@platform.example", "--role", "king"},   // no such role
		{"authority", "change", "--id", "nope", "--no-domains"},                    // no such authority
		{"authority", "change", "--id", aid, "--age-recipient", "not-a-key"},       // not an age key
		{"user", "change", "--email", "nobody@platform.example", "--rotate-token"}, // no such user
	} {
		if _, err := run(t, env, args...); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	var out struct {
		OK     bool `json:"ok"`
		Report struct {
			Events, Users, Authorities int
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(must(run(t, env, "audit", "verify", "--json"))), &out); err != nil || !out.OK || out.Report.Users != 1 || out.Report.Authorities != 1 {
		t.Fatalf("verify after the changes: %+v, %v", out, err)
	}
	s, err := sqlite.Open(context.Background(), env["DOCKET_DATA"], quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.UserByToken(context.Background(), docket.HashToken(old)); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("the old token still works: %v", err)
	}
	if u, err := s.UserByToken(context.Background(), docket.HashToken(token)); err != nil || u.Role != docket.RoleReviewer {
		t.Errorf("the new token: %+v, %v", u, err)
	}
}
