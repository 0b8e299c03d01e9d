package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// The walk-arounds of issue 13, replayed through the API on each engine: each ended with
// user data out of docket without a second person's covering approval (or, for an
// unverified sender, without a recorded verification). Each must now be refused at the
// moment of effect.

// TestWalkAroundOneAgentNoReviewer: on a preservation case the agent decides to comply
// (no approval needed), re-triages the case as a disclosure and an emergency, then discloses
// every category. The re-triage voids the decision's standing (approval_voided): the case
// waits for a second person, and no package is built.
func TestWalkAroundOneAgentNoReviewer(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := setupFull(t, engine)
			rc := f.expect(f.do("POST", "/api/v1/requests", "authority", map[string]any{
				"regime": "eu-epoc-pr", "kind": "preservation", "reference": "EPOC-PR-1", "legal_basis": "Regulation (EU) 2023/1543",
				"targets": []map[string]string{{"kind": "username", "value": "@a"}}}), 201).json(t)
			reqID, caseID := str(rc, "id"), str(rc, "case_id")
			d := f.expect(f.act("agent", caseID, map[string]any{"type": "decide", "outcome": "comply", "statement": "Preserve."}), 201).json(t)
			if str(d, "case", "state") != "decided" {
				t.Fatalf("a preservation decision needs no approval: %v", d)
			}
			r := f.expect(f.act("agent", caseID, map[string]any{"type": "retriage", "kind": "disclosure", "text": "It asks for data."}), 201).json(t)
			if str(r, "case", "state") != "awaiting_approval" {
				t.Errorf("after the re-triage to a disclosure, the decision must wait for approval: %v", r["case"])
			}
			f.expect(f.act("agent", caseID, map[string]any{"type": "retriage", "emergency": true, "text": "Urgent."}), 201)
			disclose := map[string]any{"type": "disclose", "target": map[string]string{"kind": "username", "value": "@a"},
				"categories": []string{"subscriber", "traffic", "content"}}
			if got := f.act("agent", caseID, disclose); got.status < 400 {
				t.Fatalf("one agent disclosed without a reviewer: %d %s", got.status, got.body)
			}
			f.drain()
			if p := f.expect(f.do("GET", "/api/v1/requests/"+reqID+"/packages", "authority", nil), 200).json(t)["packages"].([]any); len(p) != 0 {
				t.Fatalf("a package was built without approval: %v", p)
			}
			if ev := f.events(caseID); !slices.Contains(ev, "approval_voided") {
				t.Fatalf("no approval_voided event: %v", ev)
			}
			// The agent cannot approve; a second agent neither; the same case with a
			// reviewer's approval discloses.
			f.expect(f.act("agent", caseID, map[string]any{"type": "approve"}), 403)
			f.expect(f.act("agent2", caseID, map[string]any{"type": "approve"}), 403)
			f.expect(f.act("reviewer", caseID, map[string]any{"type": "approve"}), 201)
			f.expect(f.act("agent", caseID, disclose), 201)
			f.drain()
			if p := f.expect(f.do("GET", "/api/v1/requests/"+reqID+"/packages", "authority", nil), 200).json(t)["packages"].([]any); len(p) != 1 {
				t.Fatalf("after approval: packages %v", p)
			}
			f.verify()
		})
	}
}

// TestWalkAroundUnverifiedEmergency: a forged threat-to-life mail; the reviewer rejects;
// the agent re-triages it under a regime that does not disclose, decides to comply, re-triages
// it back and answers with subscriber data. No answer carrying data leaves before a person
// verified the sender, whatever the triage.
func TestWalkAroundUnverifiedEmergency(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := setupFull(t, engine)
			_, caseID := f.emailEmergency("officer@police.example", "WA2", docket.Target{Kind: "username", Value: "@victim"})
			f.expect(f.act("agent", caseID, map[string]any{"type": "decide", "outcome": "comply", "statement": "Disclose subscriber data."}), 201)
			f.expect(f.act("reviewer", caseID, map[string]any{"type": "approve"}), 409) // unverified
			f.expect(f.act("reviewer", caseID, map[string]any{"type": "reject", "text": "Unverified sender."}), 201)
			f.expect(f.act("agent", caseID, map[string]any{"type": "retriage", "regime": "dsa-art16", "emergency": false, "text": "A notice."}), 201)
			d := f.expect(f.act("agent", caseID, map[string]any{"type": "decide", "outcome": "comply", "statement": "Comply."}), 201).json(t)
			if str(d, "case", "state") != "awaiting_approval" {
				t.Errorf("a re-triage took the four eyes off a case that asked for data: %v", d["case"])
			}
			f.expect(f.act("agent", caseID, map[string]any{"type": "retriage", "regime": "emergency", "emergency": true, "text": "Back."}), 201)
			if got := f.act("agent", caseID, map[string]any{"type": "answer", "text": "Subscriber data of @victim: +33 6 12 34 56 78, 203.0.113.7."}); got.status < 400 {
				t.Fatalf("an answer with data went to an unverified sender: %d %s", got.status, got.body)
			}
			f.drain()
			if m := f.relay.mailed(caseID); len(m) != 0 {
				t.Fatalf("the relay received %q", m)
			}
			ev := f.events(caseID)
			if slices.Contains(ev, "answered") || slices.Contains(ev, "sender_verified") {
				t.Fatalf("events: %v", ev)
			}
			// With a verification and a reviewer's approval, the answer goes.
			f.expect(f.act("agent2", caseID, map[string]any{"type": "verify_sender", "method": "callback", "text": "Called the duty officer."}), 201)
			f.expect(f.act("reviewer", caseID, map[string]any{"type": "approve"}), 201)
			f.expect(f.act("agent", caseID, map[string]any{"type": "answer", "text": "Subscriber data of @victim."}), 201)
			f.drain()
			if m := f.relay.mailed(caseID); len(m) != 1 {
				t.Fatalf("after verification and approval, mailed %q", m)
			}
			f.verify()
		})
	}
}

// TestWalkAroundApprovalDoesNotBind: the reviewer approves the subscriber data of @a; the
// agent discloses another account, and every category; a new request joins the approved
// case; the approval changes while a package is being built. Only what the approval covers
// leaves, and only while it covers the case as it is.
func TestWalkAroundApprovalDoesNotBind(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := setupFull(t, engine)
			req := frRequisition()
			req["reference"] = "PV-WA3"
			req["targets"] = []map[string]string{{"kind": "username", "value": "@a"}}
			rc := f.expect(f.do("POST", "/api/v1/requests", "authority", req), 201).json(t)
			reqID, caseID := str(rc, "id"), str(rc, "case_id")
			f.expect(f.act("agent", caseID, map[string]any{"type": "decide", "outcome": "comply", "statement": "Subscriber data of @a."}), 201)
			a := f.expect(f.act("reviewer", caseID, map[string]any{"type": "approve",
				"targets": []map[string]string{{"kind": "username", "value": "@a"}}, "categories": []string{"subscriber"}}), 201).json(t)
			cov := a["case"].(map[string]any)["decision"].(map[string]any)["coverage"].(map[string]any)
			if len(cov["requests"].([]any)) != 1 || cov["regime"] != "fr-requisition" || cov["kind"] != "disclosure" || len(str(cov, "decision_sha256")) != 64 {
				t.Fatalf("coverage: %v", cov)
			}
			target := func(v string) map[string]string { return map[string]string{"kind": "username", "value": v} }
			for _, tc := range []struct {
				name string
				body map[string]any
			}{
				{"another account", map[string]any{"type": "disclose", "target": target("@b"), "categories": []string{"subscriber"}}},
				{"every category", map[string]any{"type": "disclose", "target": target("@a"), "categories": []string{"subscriber", "traffic", "content"}}},
				{"another category", map[string]any{"type": "disclose", "target": target("@a"), "categories": []string{"content"}}},
			} {
				if got := f.act("agent", caseID, tc.body); got.status != 403 || !strings.Contains(string(got.body), "four_eyes") {
					t.Errorf("%s: %d %s", tc.name, got.status, got.body)
				}
			}
			covered := map[string]any{"type": "disclose", "target": target("@a"), "categories": []string{"subscriber"}}
			f.expect(f.act("agent", caseID, covered), 201)
			f.drain()
			pk := f.expect(f.do("GET", "/api/v1/requests/"+reqID+"/packages", "authority", nil), 200).json(t)["packages"].([]any)
			if len(pk) != 1 {
				t.Fatalf("covered disclosure: packages %v", pk)
			}
			url := pk[0].(map[string]any)["url"].(string)
			f.expect(f.do("GET", url, "authority", nil), 200)

			// A second disclosure is asked for under the approval; before it is built, a
			// new request of the same authority joins the case: the approval is void, the
			// package is not built, and the first package is no longer handed out.
			f.expect(f.act("agent", caseID, covered), 201)
			req2 := frRequisition()
			req2["reference"] = "PV-WA3"
			req2["targets"] = []map[string]string{{"kind": "username", "value": "@c"}}
			if rc2 := f.expect(f.do("POST", "/api/v1/requests", "authority", req2), 201).json(t); str(rc2, "case_id") != caseID {
				t.Fatalf("the new request did not join the case: %v", rc2)
			}
			c := f.expect(f.do("GET", "/api/v1/cases/"+caseID, "agent", nil), 200).json(t)
			if str(c, "case", "state") != "awaiting_approval" || str(c, "case", "decision", "approved_by") != "" {
				t.Fatalf("a joining request kept the approval: %v", c["case"])
			}
			f.drain()
			c = f.expect(f.do("GET", "/api/v1/cases/"+caseID, "agent", nil), 200).json(t)
			if n := len(c["case"].(map[string]any)["packages"].([]any)); n != 1 {
				t.Fatalf("a package was built after the approval was voided: %d packages", n)
			}
			acts := c["case"].(map[string]any)["actions"].([]any)
			if last := acts[len(acts)-1].(map[string]any); last["status"] != "failed" || !strings.Contains(str(last, "error"), "approval") {
				t.Fatalf("the disclosure in flight: %v", last)
			}
			f.expect(f.do("GET", url, "authority", nil), 403)
			f.expect(f.act("agent", caseID, covered), 409)
			// A new approval covers the new request too.
			f.expect(f.act("reviewer", caseID, map[string]any{"type": "approve", "targets": []map[string]string{target("@a")}, "categories": []string{"subscriber"}}), 201)
			f.expect(f.do("GET", url, "authority", nil), 200)
			f.verify()
		})
	}
}

// mailFrom stores a mail from `from` at the given sender level, replying to the earlier
// request inReplyTo when set (as the mail receiver threads it), and returns its case.
func (f *full) mailFrom(from, level, ref, threadCase string, targets ...docket.Target) string {
	f.t.Helper()
	raw := fmt.Appendf(nil, "From: %s\r\nSubject: %s\r\n\r\nPlease disclose the subscriber data of the accounts.\r\n", from, ref)
	res, err := f.svc.Submit(context.Background(), &workflow.Submission{
		Channel: docket.ChannelEmail, Raw: raw, ContentType: "message/rfc822", Sender: level, ThreadCase: threadCase, ThreadWhy: "it replies to the earlier mail",
		Body: docket.RequestBody{Kind: docket.KindDisclosure, Regime: "national-other", Reference: ref,
			Description: "Please disclose the subscriber data of the accounts.", Targets: targets,
			Email: &docket.Email{From: from, Subject: ref, Sender: docket.SenderCheck{Level: level}}},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Receipt.CaseID
}

// TestForgedMailCannotRideOnAVerification (found by an outside review): a forged mail
// merged into an official sender's case, or threaded into an unverified case that a person
// verified, makes the case unverified again: no approval, no data, before a person verifies
// the sender once more.
func TestForgedMailCannotRideOnAVerification(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := setupFull(t, engine)
			// Merged into an official sender's case.
			official := f.mailFrom("officer@police.example", docket.SenderOfficial, "OFF-1", "", docket.Target{Kind: "username", Value: "@a"})
			_, forged := f.emailEmergency("officer@police.example", "FORGED-1", docket.Target{Kind: "username", Value: "@victim2"})
			f.expect(f.act("agent", official, map[string]any{"type": "merge", "case": forged}), 201)
			f.expect(f.act("agent", official, map[string]any{"type": "decide", "outcome": "comply", "statement": "Disclose subscriber data."}), 201)
			f.expect(f.act("reviewer", official, map[string]any{"type": "approve"}), 409)
			if got := f.act("agent", official, map[string]any{"type": "answer", "text": "Subscriber data of @victim2: …"}); got.status < 400 {
				t.Fatalf("an answer with data left on a forged mail merged into an official case: %d %s", got.status, got.body)
			}
			f.expect(f.act("reviewer", official, map[string]any{"type": "verify_sender", "method": "callback", "text": "Called the police station back on its published number."}), 201)
			f.expect(f.act("reviewer", official, map[string]any{"type": "approve"}), 201)

			// Threaded into an unverified case a person had verified.
			first := f.mailFrom("officer@small-police.example", docket.SenderUnverified, "SP-1", "", docket.Target{Kind: "username", Value: "@b"})
			f.expect(f.act("agent2", first, map[string]any{"type": "verify_sender", "method": "callback", "text": "Call-back."}), 201)
			if joined := f.mailFrom("officer@small-police.example", docket.SenderUnverified, "SP-1 bis", first, docket.Target{Kind: "username", Value: "@victim3"}); joined != first {
				t.Fatalf("the reply did not join the case: %s, want %s", joined, first)
			}
			f.expect(f.act("agent", first, map[string]any{"type": "decide", "outcome": "comply", "statement": "Disclose subscriber data."}), 201)
			f.expect(f.act("reviewer", first, map[string]any{"type": "approve"}), 409)
			if got := f.act("agent", first, map[string]any{"type": "answer", "text": "Subscriber data of @victim3: …"}); got.status < 400 {
				t.Fatalf("an answer with data left on an unverified mail threaded after the verification: %d %s", got.status, got.body)
			}
			f.verify()
		})
	}
}

// TestVerifyChecksRolesAtTheTime (found by an outside review): an agent's role raised to
// reviewer behind docket's back for one approval, then put back, leaves the tables as they
// were; audit verify still finds the approval by someone whose role, in the chain, was agent.
func TestVerifyChecksRolesAtTheTime(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := setupFull(t, engine)
			caseID := str(f.expect(f.do("POST", "/api/v1/requests", "authority", frRequisition()), 201).json(t), "case_id")
			f.expect(f.act("agent", caseID, map[string]any{"type": "decide", "outcome": "comply", "statement": "Disclose."}), 201)
			s := f.store.(*sqlstore.Store)
			setRole := func(role string) {
				if _, err := s.DB().Exec(s.Rebind(`UPDATE users SET role = ? WHERE id = ?`), role, f.ids["agent2"]); err != nil {
					t.Fatal(err)
				}
			}
			setRole("reviewer")
			f.expect(f.act("agent2", caseID, map[string]any{"type": "approve"}), 201)
			setRole("agent")
			_, err := audit.Verify(context.Background(), f.store, 0, "")
			if err == nil || !strings.Contains(err.Error(), "whose role was agent") {
				t.Fatalf("audit verify after a role raised for one approval: %v", err)
			}
		})
	}
}
