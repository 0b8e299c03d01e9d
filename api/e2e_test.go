package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
)

// TestEndToEnd follows one request from the authority to its answer, on each engine: receipt,
// case with deadline, decision with four-eyes, answer, the authority reads it, the audit chain
// verifies; then one edited event row makes verification fail.
func TestEndToEnd(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := setup(t, engine)
			received := h.clock.Now()

			rc := h.expect(h.do("POST", "/api/v1/requests", "authority", frRequisition(), "Idempotency-Key", "pv-118"), 201).json(t)
			reqID, caseID := str(rc, "id"), str(rc, "case_id")
			if want := received.Add(10 * 24 * time.Hour).Format(time.RFC3339Nano); str(rc, "deadline") != want {
				t.Fatalf("deadline %s, want %s (10 days from receipt)", str(rc, "deadline"), want)
			}
			if len(str(rc, "sha256")) != 64 {
				t.Fatalf("receipt without sha256: %v", rc)
			}
			again := h.expect(h.do("POST", "/api/v1/requests", "authority", frRequisition(), "Idempotency-Key", "pv-118"), 201)
			if str(again.json(t), "id") != reqID || again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("same key, same body: want the same receipt, got %s", again.body)
			}
			changed := frRequisition()
			changed["reference"] = "PV 2026/119"
			h.expect(h.do("POST", "/api/v1/requests", "authority", changed, "Idempotency-Key", "pv-118"), 409)

			st := h.expect(h.do("GET", "/api/v1/requests/"+reqID, "authority", nil), 200).json(t)
			if str(st, "state") != "in_progress" || st["answer"] != nil {
				t.Fatalf("fresh request: %v", st)
			}
			h.expect(h.do("GET", "/api/v1/requests/"+reqID, "other", nil), 404)

			list := h.expect(h.do("GET", "/api/v1/cases?state=open&sort=deadline", "agent", nil), 200).json(t)
			cases := list["cases"].([]any)
			if len(cases) != 1 || cases[0].(map[string]any)["id"] != caseID {
				t.Fatalf("open cases: %v", list)
			}

			act := func(who string, body map[string]any, status int) map[string]any {
				t.Helper()
				return h.expect(h.do("POST", "/api/v1/cases/"+caseID+"/events", who, body), status).json(t)
			}
			act("agent", map[string]any{"type": "assign"}, 201)
			act("agent", map[string]any{"type": "comment", "text": "Checked the officer's identity by phone."}, 201)
			h.clock.Add(2 * time.Hour)
			d := act("agent", map[string]any{"type": "decide", "outcome": "comply", "statement": "Lawful requisition; subscriber data disclosed."}, 201)
			if str(d, "case", "state") != "awaiting_approval" {
				t.Fatalf("a disclosure decision must wait for approval: %v", d)
			}
			act("agent", map[string]any{"type": "answer", "text": "too early"}, 409)
			act("agent", map[string]any{"type": "approve"}, 403)
			act("auditor", map[string]any{"type": "approve"}, 403)
			act("reviewer", map[string]any{"type": "approve"}, 201)
			h.clock.Add(time.Hour)
			a := act("agent", map[string]any{"type": "answer", "text": "Subscriber data for @suspect attached to this answer."}, 201)
			if str(a, "case", "state") != "answered" {
				t.Fatalf("after answer: %v", a)
			}

			st = h.expect(h.do("GET", "/api/v1/requests/"+reqID, "authority", nil), 200).json(t)
			if str(st, "state") != "answered" || str(st, "decision", "outcome") != "comply" ||
				!strings.Contains(str(st, "answer", "text"), "Subscriber data") {
				t.Fatalf("authority's view after answer: %v", st)
			}
			full := h.expect(h.do("GET", "/api/v1/cases/"+caseID, "auditor", nil), 200).json(t)
			if n := len(full["events"].([]any)); n != 6 {
				t.Fatalf("case has %d events, want 6 (opened, assigned, commented, decided, approved, answered)", n)
			}

			ctx := context.Background()
			rep, err := audit.Verify(ctx, h.store, 0, "")
			if err != nil {
				t.Fatalf("audit verify: %v", err)
			}
			if rep.Cases != 1 || rep.Requests != 1 {
				t.Fatalf("report %+v", rep)
			}
			// One edited event row: the decision now says "refuse".
			db := h.store.(*sqlstore.Store).DB()
			q := `UPDATE events SET data = REPLACE(data, '"comply"', '"refuse"') WHERE type = 'decided'`
			if engine == "postgres" {
				q = strings.ReplaceAll(q, "?", "$1")
			}
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
			_, err = audit.Verify(ctx, h.store, 0, "")
			var p *audit.Problem
			if err == nil || !asProblem(err, &p) || p.Seq == 0 || !strings.Contains(err.Error(), "changed") {
				t.Fatalf("verify after editing an event: %v, want a problem naming the event", err)
			}
		})
	}
}

func asProblem(err error, p **audit.Problem) bool {
	pp, ok := err.(*audit.Problem)
	*p = pp
	return ok
}
