package main

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/sor/sortest"
)

// TestStatementsEndToEnd: a removal decided on the reference platform (run as its own
// process) has its statement of reasons submitted to the Transparency Database (its double)
// and accepted with the database's id; a statement the database refuses (its puid already
// used by the platform) shows the database's answer on the case. docket sor export writes
// them; audit verify checks them.
func TestStatementsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	const secret = "platform-shared-secret"
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	platformAddr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	platformURL, _ := refPlatformProcess(t, platformAddr, filepath.Join(dir, "platform"), secret)
	tdb := sortest.New(map[string]string{"tdb-token": "Reference Messenger"})
	defer tdb.Close()
	env := map[string]string{"DOCKET_DATA": filepath.Join(dir, "docket"), "DOCKET_PLATFORM_URL": platformURL, "DOCKET_PLATFORM_SECRET": secret,
		"DOCKET_SOR_URL": tdb.URL, "DOCKET_SOR_TOKEN": "tdb-token", "DOCKET_SOR_INTERVAL": "100ms"}
	_, police := created(t, must(run(t, env, "authority", "add", "--name", "Police nationale", "--country", "FR", "--json")))
	_, agent := created(t, must(run(t, env, "user", "add", "--email", "agent@platform.example", "--role", "agent", "--json")))
	s := startServe(t, env)
	act := func(caseID string, body any, want int) {
		b, _ := json.Marshal(body)
		s.call("POST", "/api/v1/cases/"+caseID+"/events", agent, string(b), want)
	}
	sor := map[string]any{"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "Regulation (EU) 2021/784, art. 3",
		"explanation": "Terrorist content: incitement to an attack.", "decision_facts": "Removal order of the competent authority."}
	remove := func(ref, msg string, before func(caseID string)) map[string]any {
		b, _ := json.Marshal(map[string]any{"regime": "eu-tco-removal", "kind": "removal", "reference": ref,
			"legal_basis": "Regulation (EU) 2021/784, art. 3", "reasons": "Incitement to commit a terrorist offence.",
			"targets": []map[string]string{{"kind": "message", "value": msg}}})
		caseID := s.call("POST", "/api/v1/requests", police, string(b), 201)["case_id"].(string)
		act(caseID, map[string]any{"type": "decide", "outcome": "comply", "statement": "Valid removal order."}, 201)
		before(caseID)
		act(caseID, map[string]any{"type": "remove", "target": map[string]string{"kind": "message", "value": msg}, "statement_of_reasons": sor}, 201)
		var sub map[string]any
		eventually(t, "the database's answer on case "+caseID, func() bool {
			a := list(caseOf(s, agent, caseID), "actions")
			if len(a) == 0 {
				return false
			}
			sub, _ = a[0].(map[string]any)["submission"].(map[string]any)
			return sub != nil && sub["state"] != "pending"
		})
		if status(t, msg, "") != 410 {
			t.Errorf("%s was not removed", msg)
		}
		return sub
	}

	accepted := remove("TCO-1", platformURL+"/m/2", func(string) {})
	puid := accepted["puid"].(string)
	if accepted["state"] != "accepted" || accepted["id"] == "" || accepted["id"] != tdb.UUID("Reference Messenger", puid) {
		t.Fatalf("submission %v", accepted)
	}
	stored := tdb.Stored()
	if len(stored) != 1 {
		t.Fatalf("the database holds %d statements", len(stored))
	}
	st := stored[0].Statement
	// Days, as the test may run across midnight: the seeded message was published 3 hours
	// before the platform started; the removal applied since the test started.
	day := func(at time.Time) string { return at.UTC().Format(time.DateOnly) }
	days := func(from, to time.Time) []string { return []string{day(from), day(to)} }
	for field, want := range map[string][]string{"puid": {puid}, "decision_ground": {"DECISION_GROUND_ILLEGAL_CONTENT"},
		"illegal_content_legal_ground": {"Regulation (EU) 2021/784, art. 3"}, "category": {"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"},
		"content_date": days(start.Add(-3*time.Hour), time.Now().Add(-3*time.Hour)), "application_date": days(start, time.Now()),
		"source_type": {"SOURCE_TYPE_OTHER_NOTIFICATION"}, "automated_detection": {"No"}, "automated_decision": {"AUTOMATED_DECISION_NOT_AUTOMATED"}} {
		if got := fmt.Sprint(st[field]); got != want[0] && got != want[len(want)-1] {
			t.Errorf("%s = %v, want %v", field, got, want)
		}
	}
	if fmt.Sprint(st["decision_visibility"]) != "[DECISION_VISIBILITY_CONTENT_REMOVED]" || fmt.Sprint(st["content_type"]) != "[CONTENT_TYPE_TEXT]" ||
		fmt.Sprint(st["category_specification"]) != "[KEYWORD_TERRORIST_CONTENT]" || len(st["territorial_scope"].([]any)) != 30 {
		t.Errorf("statement %v", st)
	}

	// The platform already used the puid docket gives the next removal (another installation,
	// a backup restored): the database refuses it, and the case shows its answer.
	refused := remove("TCO-2", platformURL+"/m/3", func(caseID string) { tdb.Hold("Reference Messenger", "docket-"+caseID+"-1") })
	if refused["state"] != "refused" || !strings.Contains(fmt.Sprint(refused["error"]), "The identifier given is not unique within this platform.") {
		t.Fatalf("submission %v", refused)
	}
	stats := s.call("GET", "/api/v1/stats", agent, "", 200)
	if stats["statements_pending"] != 0.0 || stats["statements_refused"] != 1.0 {
		t.Errorf("stats %v", stats)
	}

	out := must(run(t, env, "sor", "export"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("sor export wrote %d lines:\n%s", len(lines), out)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first["puid"] != puid || first["decision_facts"] != sor["decision_facts"] {
		t.Errorf("first line %s (%v)", lines[0], err)
	}
	if out := must(run(t, env, "sor", "export", "--state", "refused")); strings.Count(out, "\n") != 1 || !strings.Contains(out, `"puid":"docket-`) {
		t.Errorf("refused only: %q", out)
	}
	if out := must(run(t, env, "sor", "export", "--since", "2099-01-01")); out != "" {
		t.Errorf("since 2099: %q", out)
	}
	if out := must(run(t, env, "audit", "verify")); !strings.Contains(out, "2 statements,") {
		t.Errorf("audit verify: %s", out)
	}
}

// TestSORExportCLI: the command's help and errors.
func TestSORExportCLI(t *testing.T) {
	env := map[string]string{"DOCKET_DATA": filepath.Join(t.TempDir(), "none")}
	out, err := run(t, env, "sor", "export", "--help")
	if code, _ := exitStatus(err); err != nil && code != 0 || !strings.Contains(out, "usage: docket sor export") || !strings.Contains(out, descriptions["sor export"]) {
		t.Errorf("help: %v\n%s", err, out)
	}
	for args, want := range map[string]int{"sor": 2, "sor export --since 22/11/2026": 2, "sor export --state lost": 2, "sor export": 1, "sor import": 2} {
		_, err := run(t, env, strings.Fields(args)...)
		if code, msg := exitStatus(err); code != want {
			t.Errorf("docket %s: exit %d (%s), want %d", args, code, msg, want)
		}
	}
	for _, bad := range []map[string]string{{"DOCKET_SOR_URL": "transparency.example"}, {"DOCKET_SOR_URL": "https://transparency.example"},
		{"DOCKET_SOR_INTERVAL": "often"}} {
		bad["DOCKET_DATA"] = t.TempDir()
		if _, err := run(t, bad, "migrate"); err == nil || !strings.Contains(err.Error(), "sor_") {
			t.Errorf("%v: %v, want an error naming the setting", bad, err)
		}
	}
}
