package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/api"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// appealHarness is the API with appeal links on (an appeal key), and a removal the platform
// confirmed.
func appealHarness(t *testing.T, store docket.Store) *harness {
	t.Helper()
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := workflow.New(workflow.Config{Store: store, Logger: log, Now: clk.Now, AppealKey: []byte("the API tests' appeal key")})
	svc.Start(ctx)
	t.Cleanup(svc.Stop)
	h := &harness{t: t, svc: svc, store: store, clock: clk, tokens: map[string]string{}, ids: map[string]string{}}
	a := &docket.Authority{Name: "Police", Country: "FR"}
	tok, err := svc.RegisterAuthority(ctx, "test", a)
	if err != nil {
		t.Fatal(err)
	}
	h.tokens["authority"], h.ids["authority"] = tok, a.ID
	for _, role := range []docket.Role{docket.RoleAgent, docket.RoleReviewer} {
		u := &docket.User{Email: string(role) + "@platform.example", Role: role}
		tok, err := svc.AddUser(ctx, "test", u)
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[string(role)], h.ids[string(role)] = tok, u.ID
	}
	h.srv = httptest.NewServer(api.New(api.Config{Service: svc, Store: store, Logger: log, NoticeBurst: 100, NoticesPerMinute: 60, MaxBody: 1 << 20}))
	t.Cleanup(h.srv.Close)
	return h
}

// removal opens a DSA art. 9 order, decides it as the agent, removes message 2 and records
// the platform's confirmation; it returns the case and the removal's puid.
func (h *harness) removal(ref string) (string, string) {
	h.t.Helper()
	r := h.expect(h.do("POST", "/api/v1/requests", "authority", map[string]any{"regime": "dsa-art9", "kind": "removal", "reference": ref,
		"legal_basis": "art. 9", "reasons": "incitement", "redress": "court", "targets": []map[string]string{{"kind": "message", "value": "2"}}}), 201).json(h.t)
	id := str(r, "case_id")
	h.expect(h.do("POST", "/api/v1/cases/"+id+"/events", "agent", map[string]any{"type": "decide", "outcome": "comply", "statement": "illegal"}), 201)
	ev := h.expect(h.do("POST", "/api/v1/cases/"+id+"/events", "agent", map[string]any{"type": "remove", "target": map[string]string{"kind": "message", "value": "2"},
		"statement_of_reasons": map[string]any{"decision_ground": docket.GroundIllegal, "legal_ground": "Criminal code", "explanation": "A call to violence.", "decision_facts": "An order under DSA art. 9."}}), 201).json(h.t)
	seq := int64(ev["event"].(map[string]any)["seq"].(float64))
	if err := h.svc.Record(context.Background(), id, docket.ActorPlatform, workflow.Entry{Type: docket.EventActionDone,
		Data: docket.ActionDone{Action: seq, Op: docket.OpRemove, EffectiveAt: h.clock.Now()}}); err != nil {
		h.t.Fatal(err)
	}
	c, _ := h.store.Case(context.Background(), id)
	return id, c.Action(seq).Statement.PUID
}

// TestAppealAPI: the public appeal endpoint answers bad input with a precise problem; a
// token opens one decision; the decider cannot decide the appeal; an appeal after six
// months is refused (422 too_late).
func TestAppealAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, store docket.Store) {
		h := appealHarness(t, store)
		id, puid := h.removal("APPEAL-API-1")
		_, other := h.removal("APPEAL-API-2")
		token := h.svc.AppealToken(docket.AppellantUser, puid)

		v := h.expect(h.do("GET", "/api/v1/appeals/"+puid+"?token="+token, "", nil), 200).json(t)
		if v["open"] != true || v["appellant"] != "user" || v["appeals_until"] != "2027-05-22T09:00:00Z" || len(v["dispute_bodies"].([]any)) == 0 {
			t.Fatalf("status = %v", v)
		}
		body := func(kv ...string) map[string]any {
			m := map[string]any{"decision": puid, "token": token, "text": "It was satire."}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		cases := []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"unknown field", `{"decision":"` + puid + `","token":"` + token + `","text":"x","name":"me"}`, 400, docket.EMALFORMED, ""},
			{"not JSON", `{"decision":`, 400, docket.EMALFORMED, ""},
			{"oversize", `{"decision":"` + puid + `","token":"` + token + `","text":"` + strings.Repeat("a", 40<<10) + `"}`, 413, docket.ETOOLARGE, ""},
			{"wrong token", body("token", strings.Repeat("A", 43)), 403, docket.EFORBIDDEN, "token"},
			{"no token", body("token", ""), 403, docket.EFORBIDDEN, "token"},
			{"another decision's token", body("decision", other), 403, docket.EFORBIDDEN, "token"},
			{"no decision", body("decision", ""), 422, docket.EINVALID, "decision"},
			{"no text", body("text", "  "), 422, docket.EINVALID, "text"},
			{"text too long", body("text", strings.Repeat("é", 5001)), 422, docket.EINVALID, "text"},
			{"bad contact", body("contact", "not an address"), 422, docket.EINVALID, "contact"},
			{"unknown decision", body("decision", "docket-00000000-0000-0000-0000-000000000000-1", "token", h.svc.AppealToken(docket.AppellantUser, "docket-00000000-0000-0000-0000-000000000000-1")), 404, docket.ENOTFOUND, ""},
		}
		for _, tc := range cases {
			r := h.expect(h.do("POST", "/api/v1/appeals", "", tc.body), tc.status).json(t)
			if r["code"] != tc.code {
				t.Errorf("%s: code %v, want %s", tc.name, r["code"], tc.code)
			}
			if tc.field != "" {
				if errs, _ := r["errors"].(map[string]any); errs[tc.field] == nil {
					t.Errorf("%s: errors %v do not name %s", tc.name, r["errors"], tc.field)
				}
			}
		}
		if r := h.do("POST", "/api/v1/appeals", "", "x", "Content-Type", "text/plain"); r.status != 415 {
			t.Fatalf("text/plain: %d", r.status)
		}
		if r := h.do("GET", "/api/v1/appeals/"+puid+"?token="+h.svc.AppealToken(docket.AppellantUser, other), "", nil); r.status != 403 {
			t.Fatalf("status with another decision's token: %d", r.status)
		}

		got := h.expect(h.do("POST", "/api/v1/appeals", "", body("contact", "nw@mail.example")), 201).json(t)
		aps := got["appeals"].([]any)
		if got["open"] != false || len(aps) != 1 || aps[0].(map[string]any)["state"] != "open" || aps[0].(map[string]any)["deadline_at"] != "2026-12-06T09:00:00Z" {
			t.Fatalf("filed = %v", got)
		}
		h.expect(h.do("POST", "/api/v1/appeals", "", body()), 409)

		c := h.expect(h.do("GET", "/api/v1/cases/"+id, "agent", nil), 200).json(t)["case"].(map[string]any)
		seq := c["appeals"].([]any)[0].(map[string]any)["seq"]
		decide := map[string]any{"type": "decide_appeal", "appeal": seq, "outcome": "rejected", "text": "The message calls for an attack."}
		if r := h.expect(h.do("POST", "/api/v1/cases/"+id+"/events", "agent", decide), 403).json(t); r["code"] != docket.EFOUREYES {
			t.Fatalf("the decider decides the appeal: %v", r)
		}
		h.expect(h.do("POST", "/api/v1/cases/"+id+"/events", "reviewer", map[string]any{"type": "decide_appeal", "appeal": seq, "outcome": "maybe", "text": "x"}), 422)
		h.expect(h.do("POST", "/api/v1/cases/"+id+"/events", "reviewer", decide), 201)
		h.expect(h.do("POST", "/api/v1/cases/"+id+"/events", "reviewer", decide), 409)
		v = h.expect(h.do("GET", "/api/v1/appeals/"+puid+"?token="+token, "", nil), 200).json(t)
		if a := v["appeals"].([]any)[0].(map[string]any); a["state"] != "rejected" || !strings.Contains(a["answer"].(string), "art. 21") {
			t.Fatalf("answer = %v", a)
		}

		// Six months and a day after the removal took effect.
		h.clock.Add(182 * 24 * time.Hour)
		late := h.expect(h.do("POST", "/api/v1/appeals", "", body("decision", other, "token", h.svc.AppealToken(docket.AppellantUser, other))), 422).json(t)
		if late["code"] != docket.ETOOLATE || !strings.Contains(late["detail"].(string), "until 2027-05-22") {
			t.Fatalf("late appeal = %v", late)
		}
	})
}
