package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// problem checks that r is a problem document with status and code that names field.
func problem(t *testing.T, h *harness, r response, status int, code, field string) {
	t.Helper()
	p := h.expect(r, status).json(t)
	if str(p, "code") != code || str(p, "detail") == "" {
		t.Fatalf("problem %s, want code %s", r.body, code)
	}
	if field != "" {
		if errs, _ := p["errors"].(map[string]any); errs[field] == nil {
			t.Fatalf("problem does not name field %s: %s", field, r.body)
		}
	}
}

// TestTrustedFlaggersAPI: an admin registers a trusted flagger; its token sends notices that
// are marked as its own and opens nothing else; a wrong or revoked token, unknown fields and
// bad values get precise problems; staff read the flaggers' and notifiers' figures; a notice
// from a suspended notifier is kept and answered as unprocessed.
func TestTrustedFlaggersAPI(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := setup(t, engine)
			in := map[string]any{"name": "Hotline", "coordinator": "Arcom (FR)", "reference": "ARCOM-2025-TF-7", "areas": []string{"PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_CYBER_VIOLENCE"}}
			problem(t, h, h.do("POST", "/api/v1/flaggers", "agent", in), 403, "forbidden", "")
			problem(t, h, h.do("POST", "/api/v1/flaggers", "admin", map[string]any{"name": "X", "coordinator": "Y", "areas": []string{"VIOLENCE"}, "colour": "red"}), 400, "malformed", "colour")
			problem(t, h, h.do("POST", "/api/v1/flaggers", "admin", map[string]any{"name": "X", "coordinator": "Y"}), 422, "invalid", "areas")
			problem(t, h, h.do("POST", "/api/v1/flaggers", "admin", map[string]any{"name": "X", "coordinator": "Y", "areas": []string{"GOSSIP"}}), 422, "invalid", "areas")
			problem(t, h, h.do("POST", "/api/v1/flaggers", "admin", map[string]any{"name": "X", "areas": []string{"VIOLENCE"}}), 422, "invalid", "coordinator")
			created := h.expect(h.do("POST", "/api/v1/flaggers", "admin", in), 201).json(t)
			id, token := str(created, "id"), str(created, "token")
			problem(t, h, h.do("POST", "/api/v1/flaggers", "admin", in), 409, "conflict", "")

			notice := map[string]any{"explanation": "This channel shares pictures of abused children.", "locations": []string{"https://t.me/c/1/2"},
				"name": "Analyst", "email": "desk@hotline.example", "good_faith": true}
			problem(t, h, h.do("POST", "/api/v1/notices", "dkf_wrong", notice), 401, "unauthorized", "")
			rc := h.expect(h.do("POST", "/api/v1/notices", token, notice), 201).json(t)
			c := h.expect(h.do("GET", "/api/v1/cases/"+str(rc, "case_id"), "agent", nil), 200).json(t)
			if str(c, "case", "trusted_flagger") != id || str(c, "case", "regime") != workflow.RegimeTrustedFlagger {
				t.Fatalf("trusted flagger's case: %v", c["case"])
			}
			for _, path := range []string{"/api/v1/cases", "/api/v1/me", "/api/v1/requests", "/api/v1/flaggers", "/api/v1/requests/" + str(rc, "id")} {
				problem(t, h, h.do("GET", path, token, nil), 403, "forbidden", "")
			}

			list := h.expect(h.do("GET", "/api/v1/flaggers", "auditor", nil), 200).json(t)
			fs, _ := list["flaggers"].([]any)
			if len(fs) != 1 || str(fs[0].(map[string]any), "status_now") != docket.FlaggerActive {
				t.Fatalf("flaggers: %s", list)
			}
			change := "/api/v1/flaggers/" + id + "/changes"
			problem(t, h, h.do("POST", change, "agent", map[string]any{"status": "revoked", "reason": "x"}), 403, "forbidden", "")
			problem(t, h, h.do("POST", change, "admin", map[string]any{"status": "paused", "reason": "x"}), 422, "invalid", "status")
			problem(t, h, h.do("POST", change, "admin", map[string]any{"status": "suspended", "reason": "x"}), 422, "invalid", "until")
			problem(t, h, h.do("POST", change, "admin", map[string]any{"status": "revoked"}), 422, "invalid", "reason")
			problem(t, h, h.do("POST", change, "admin", map[string]any{"status": "revoked", "reason": "x", "why": "y"}), 400, "malformed", "why")
			problem(t, h, h.do("POST", "/api/v1/flaggers/nope/changes", "admin", map[string]any{"status": "revoked", "reason": "x"}), 404, "not_found", "")
			until := h.clock.Now().Add(72 * time.Hour).Format(time.RFC3339)
			ch := h.expect(h.do("POST", change, "admin", map[string]any{"status": "suspended", "until": until, "reason": "DSC investigation"}), 200).json(t)
			if str(ch, "flagger", "status_now") != docket.FlaggerSuspended {
				t.Fatalf("after suspension: %s", ch)
			}
			h.expect(h.do("POST", change, "admin", map[string]any{"status": "revoked", "reason": "The coordinator revoked the status."}), 200)
			problem(t, h, h.do("POST", "/api/v1/notices", token, notice), 401, "unauthorized", "")

			// Notifiers: the rule's figures, and a notice of a suspended address.
			problem(t, h, h.do("GET", "/api/v1/notifiers?colour=red", "agent", nil), 422, "invalid", "colour")
			problem(t, h, h.do("GET", "/api/v1/notifiers?key=email:nobody@example.org", "agent", nil), 404, "not_found", "")
			agent, err := h.store.User(ctx, h.ids["agent"])
			if err != nil {
				t.Fatal(err)
			}
			for i := range 6 {
				text := fmt.Sprintf("Notice number %d: %s", i, []string{"the moon is fake", "my neighbour's cat", "a cloud looks rude", "pineapple pizza", "the sky is green", "a song I dislike"}[i])
				res, err := h.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(text),
					Body: docket.RequestBody{Regime: "dsa-art16", RegimeSource: "requester", Kind: docket.KindNotice, Description: text,
						Targets:  []docket.Target{{Kind: "url", Value: fmt.Sprintf("https://t.me/c/9/%d", i)}},
						Notifier: &docket.Notifier{Name: "T", Email: "troll@example.org", GoodFaith: true}}})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range []workflow.Action{{Type: workflow.ActDecide, Outcome: docket.OutcomeNotActionable, ReasonCode: docket.ReasonManifestlyUnfounded, Statement: "Manifestly unfounded."}, {Type: workflow.ActAnswer, Text: "No."}} {
					if _, _, err := h.svc.Act(ctx, agent, res.Receipt.CaseID, a); err != nil {
						t.Fatal(err)
					}
				}
			}
			n := h.expect(h.do("GET", "/api/v1/notifiers?key=email:troll@example.org", "auditor", nil), 200).json(t)
			if n["suspended"] != true || n["warned"] != false {
				t.Fatalf("notifier after 6 manifestly unfounded notices: %s", n)
			}
			troll := map[string]any{"explanation": "Yet another thing I do not like.", "locations": []string{"https://t.me/c/9/99"},
				"name": "T", "email": "troll@example.org", "good_faith": true}
			r := h.expect(h.do("POST", "/api/v1/notices", "", troll), 201).json(t)
			if str(r, "processing") != "suspended" || str(r, "statement") == "" || str(r, "id") == "" || str(r, "suspended_until") == "" {
				t.Fatalf("receipt of a suspended notifier's notice: %s", r)
			}
			c = h.expect(h.do("GET", "/api/v1/cases/"+str(r, "case_id"), "agent", nil), 200).json(t)
			if str(c, "case", "state") != "answered" || str(c, "case", "decision", "reason_code") != docket.ReasonNotifierSuspended {
				t.Fatalf("case of a suspended notifier's notice: %v", c["case"])
			}
			all := h.expect(h.do("GET", "/api/v1/notifiers?warned=true", "agent", nil), 200).json(t)
			if ns, _ := all["notifiers"].([]any); len(ns) != 1 {
				t.Fatalf("warned notifiers: %s", all)
			}
		})
	}
}
