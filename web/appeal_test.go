package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/workflow"
)

// removal opens a DSA art. 9 order of authority A, decides it, removes a message and records
// the platform's confirmation; it returns the case and the removal's puid.
func (h *harness) removal(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	res, err := h.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: h.authA, Raw: []byte(`{"art9":1}`),
		Body: docket.RequestBody{Regime: "dsa-art9", Kind: docket.KindRemoval, Reference: "ART9-1", LegalBasis: "art. 9", Reasons: "incitement", Redress: "court",
			Targets: []docket.Target{{Kind: "message", Value: "2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Receipt.CaseID
	u := &docket.User{Email: "decider@platform.example", Role: docket.RoleAgent}
	if _, err := h.svc.AddUser(ctx, "test", u); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.Act(ctx, u, id, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "illegal"}); err != nil {
		t.Fatal(err)
	}
	_, ev, err := h.svc.Act(ctx, u, id, workflow.Action{Type: docket.OpRemove, Target: &docket.Target{Kind: "message", Value: "2"},
		Reasons: &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "Criminal code", Explanation: "A call to violence.", Facts: "An order under DSA art. 9."}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Record(ctx, id, docket.ActorPlatform, workflow.Entry{Type: docket.EventActionDone,
		Data: docket.ActionDone{Action: ev.Seq, Op: docket.OpRemove, EffectiveAt: h.clk.now()}}); err != nil {
		t.Fatal(err)
	}
	c, _ := h.store.Case(ctx, id)
	return id, c.Action(ev.Seq).Statement.PUID
}

// TestAppealPage: the public page opens with the link's token only, shows the decision and
// the dispute settlement bodies, takes an appeal once and shows it as received; the console
// shows the appeal on the case page with the form to decide it.
func TestAppealPage(t *testing.T) {
	h := newHarness(t, Config{})
	id, puid := h.removal(t)
	token := h.svc.AppealToken(docket.AppellantUser, puid)
	post := func(v url.Values) (int, string) {
		return h.do("", http.MethodPost, "/appeal/"+puid, strings.NewReader(v.Encode()), nil)
	}
	if code, _ := h.do("", http.MethodGet, "/appeal/"+puid+"?token=x", nil, nil); code != http.StatusForbidden {
		t.Fatalf("a wrong token: %d", code)
	}
	if code, _ := post(url.Values{"token": {"x"}, "text": {"satire"}}); code != http.StatusForbidden {
		t.Fatalf("a form with a wrong token: %d", code)
	}
	code, body := h.do("", http.MethodGet, "/appeal/"+puid+"?token="+token, nil, nil)
	if code != http.StatusOK || !strings.Contains(body, `id="appeal-form"`) || !strings.Contains(body, "digital-strategy.ec.europa.eu") {
		t.Fatalf("page: %d\n%s", code, body)
	}
	if code, body := post(url.Values{"token": {token}, "text": {"  "}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="appeal-form"`) {
		t.Fatalf("an empty appeal: %d\n%s", code, body)
	}
	code, body = post(url.Values{"token": {token}, "text": {"It was satire."}})
	if code != http.StatusCreated || !strings.Contains(body, `id="appeal-state">open<`) || strings.Contains(body, `id="appeal-form"`) {
		t.Fatalf("filed: %d\n%s", code, body)
	}
	if code, _ := post(url.Values{"token": {token}, "text": {"again"}}); code != http.StatusConflict {
		t.Fatalf("a second appeal: %d", code)
	}
	code, body = h.do("reviewer", http.MethodGet, "/console/cases/"+id, nil, nil)
	if code != http.StatusOK || !strings.Contains(body, `id="appeals"`) || !strings.Contains(body, "It was satire.") || !strings.Contains(body, "Decide appeal #") {
		t.Fatalf("console: %d\n%s", code, body)
	}
	c, _ := h.store.Case(context.Background(), id)
	code, _ = h.do("reviewer", http.MethodPost, "/console/cases/"+id+"/act", strings.NewReader(url.Values{"type": {"decide_appeal"},
		"appeal": {strconv.FormatInt(c.Appeals[0].Seq, 10)}, "outcome": {"rejected"}, "text": {"It calls for an attack."}}.Encode()), nil)
	if code != http.StatusSeeOther {
		t.Fatalf("decide from the console: %d", code)
	}
	if code, body = h.do("", http.MethodGet, "/appeal/"+puid+"?token="+token, nil, nil); !strings.Contains(body, `id="appeal-answer"`) || !strings.Contains(body, "rejected") {
		t.Fatalf("answer: %d\n%s", code, body)
	}
}

// TestNotifierAppealLink: on a notice's case, staff who work cases see the appeal link of
// each action for the notice's sender; it opens the decision as the notifier's.
func TestNotifierAppealLink(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	res, err := h.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(`notice`),
		Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "Hate speech.", Country: "DE",
			Targets:  []docket.Target{{Kind: "message", Value: "3"}},
			Notifier: &docket.Notifier{Name: "Jane Doe", Email: "jane@example.org", GoodFaith: true}}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Receipt.CaseID
	u := &docket.User{Email: "notice-agent@platform.example", Role: docket.RoleAgent}
	if _, err := h.svc.AddUser(ctx, "test", u); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.Act(ctx, u, id, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "illegal"}); err != nil {
		t.Fatal(err)
	}
	_, ev, err := h.svc.Act(ctx, u, id, workflow.Action{Type: docket.OpRestrict, Target: &docket.Target{Kind: "message", Value: "3"}, Countries: []string{"DE"},
		Reasons: &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "StGB § 130", Explanation: "Incitement to hatred.", Facts: "A notice."}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Record(ctx, id, docket.ActorPlatform, workflow.Entry{Type: docket.EventActionDone,
		Data: docket.ActionDone{Action: ev.Seq, Op: docket.OpRestrict, EffectiveAt: h.clk.now()}}); err != nil {
		t.Fatal(err)
	}
	_, body := h.do("agent", http.MethodGet, "/console/cases/"+id, nil, nil)
	i := strings.Index(body, "/appeal/docket-")
	if i < 0 {
		t.Fatalf("no notifier link on the case page:\n%s", body)
	}
	link := body[i:]
	link = link[:strings.Index(link, "<")]
	puid, token, _ := strings.Cut(strings.TrimPrefix(link, "/appeal/"), "?token=")
	if who, err := h.svc.CheckAppealToken(puid, token); err != nil || who != docket.AppellantNotifier {
		t.Fatalf("link %q: %q, %v", link, who, err)
	}
	if _, body := h.do("auditor", http.MethodGet, "/console/cases/"+id, nil, nil); strings.Contains(body, "notifier-link") {
		t.Fatal("an auditor sees the notifier's appeal link")
	}
}
