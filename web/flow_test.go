package web

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/account"
	"github.com/docket-dev/docket/workflow"
)

var confirmLink = regexp.MustCompile(`/portal/confirm\?token=([A-Za-z0-9_-]+)`)

// TestRegistration: an officer registers on the official domain, confirms by the link with
// a password and a first code, waits for staff, and signs in once a reviewer approved; the
// officer then adds a delegate, who is active once confirmed.
func TestRegistration(t *testing.T) {
	h := newHarness(t, Config{})
	code, page := h.post("", "/portal/register", url.Values{"email": {"eve@gmail.example"}, "name": {"Eve"}})
	if code != 422 || !strings.Contains(page, "No authority is registered with the domain gmail.example") {
		t.Fatalf("address off any authority's domain: %d", code)
	}
	code, page = h.post("", "/portal/register", url.Values{"email": {"Paul.Durand@Lyon.Police.example"}, "name": {"Paul Durand"}})
	if code != 200 || !strings.Contains(page, `id="sent"`) {
		t.Fatalf("register: %d %.300s", code, page)
	}
	m := confirmLink.FindStringSubmatch(h.logs.String())
	if m == nil {
		t.Fatal("no confirmation link in the log (no relay configured)")
	}
	token := m[1]
	code, page = h.do("", "GET", "/portal/confirm?token="+token, nil, nil)
	if code != 200 || !strings.Contains(page, "data:image/png;base64,") {
		t.Fatalf("confirm page: %d", code)
	}
	secret := regexp.MustCompile(`id="secret">([A-Z2-7]+)<`).FindStringSubmatch(page)[1]
	form := url.Values{"token": {token}, "password": {"correct horse battery"}, "password2": {"correct horse batterx"}, "code": {account.Code(secret, h.clk.now())}}
	if code, page = h.post("", "/portal/confirm", form); code != 422 || !strings.Contains(page, "The two passwords differ") {
		t.Fatalf("passwords that differ: %d", code)
	}
	form.Set("password2", "correct horse battery")
	if code, page = h.post("", "/portal/confirm", form); code != 200 || !strings.Contains(page, "will now check and approve") {
		t.Fatalf("confirm: %d %.300s", code, page)
	}
	if code, _ = h.do("", "GET", "/portal/confirm?token="+token, nil, nil); code != 404 {
		t.Errorf("a used link: %d", code)
	}
	h.clk.add(time.Minute)
	signin := url.Values{"email": {"paul.durand@lyon.police.example"}, "password": {"correct horse battery"}, "code": {account.Code(secret, h.clk.now())}}
	if code, page = h.post("", "/portal/signin", signin); code != 403 || !strings.Contains(page, "waits for approval") {
		t.Fatalf("sign-in before approval: %d", code)
	}
	_, page = h.do("reviewer", "GET", "/console/accounts", nil, nil)
	id := regexp.MustCompile(`/console/accounts/([0-9a-f-]+)/approve`).FindStringSubmatch(page)
	if id == nil || !strings.Contains(page, "Police judiciaire") {
		t.Fatalf("the reviewer does not see the officer waiting:\n%.2000s", page)
	}
	if code, _ = h.post("agent", "/console/accounts/"+id[1]+"/approve", nil); code != 403 {
		t.Errorf("an agent approved an officer: %d", code)
	}
	if code, _ = h.post("reviewer", "/console/accounts/"+id[1]+"/approve", nil); code != 303 {
		t.Fatalf("approve: %d", code)
	}
	h.clk.add(time.Minute)
	signin.Set("code", account.Code(secret, h.clk.now()))
	code, _ = h.post("", "/portal/signin", signin)
	if code != 303 {
		t.Fatalf("sign-in after approval: %d", code)
	}

	// A delegate: on the domain, confirmed, active without staff.
	if code, page = h.post("officerA", "/portal/delegates", url.Values{"email": {"x@polizei.example"}, "name": {"X"}}); code != 422 || !strings.Contains(page, "not on a registered domain") {
		t.Fatalf("delegate of another authority's domain: %d", code)
	}
	before := len(confirmLink.FindAllString(h.logs.String(), -1))
	if code, _ = h.post("officerA", "/portal/delegates", url.Values{"email": {"zoe@police.example"}, "name": {"Zoé"}}); code != 200 {
		t.Fatalf("add delegate: %d", code)
	}
	links := confirmLink.FindAllStringSubmatch(h.logs.String(), -1)
	if len(links) != before+1 {
		t.Fatal("no link for the delegate")
	}
	_, page = h.do("", "GET", "/portal/confirm?token="+links[len(links)-1][1], nil, nil)
	secret = regexp.MustCompile(`id="secret">([A-Z2-7]+)<`).FindStringSubmatch(page)[1]
	code, page = h.post("", "/portal/confirm", url.Values{"token": {links[len(links)-1][1]}, "password": {"another long password"}, "password2": {"another long password"}, "code": {account.Code(secret, h.clk.now())}})
	if code != 200 || !strings.Contains(page, "Your account is ready") {
		t.Fatalf("delegate confirm: %d", code)
	}
}

// TestQueueSearchAndDashboard: search finds by text, the dashboard shouts when a case is
// overdue, and bulk close answers spam.
func TestQueueSearchAndDashboard(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	notice, err := h.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(`{}`),
		Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "Cheap watches, visit casino-bonus now",
			Notifier: &docket.Notifier{Name: "N", Email: "n@example.org", GoodFaith: true}}})
	if err != nil {
		t.Fatal(err)
	}
	_, page := h.do("agent", "GET", "/console?q="+url.QueryEscape("escroquerie"), nil, nil)
	if !strings.Contains(page, `data-case="`+h.caseA+`"`) || strings.Contains(page, `data-case="`+notice.Receipt.CaseID+`"`) {
		t.Errorf("search for a word of case A")
	}
	_, page = h.do("agent", "GET", "/console?q="+url.QueryEscape(`"CASINO`), nil, nil)
	if !strings.Contains(page, `data-case="`+notice.Receipt.CaseID+`"`) || strings.Contains(page, `data-case="`+h.caseA+`"`) {
		t.Errorf("search for the notice")
	}

	_, page = h.do("agent", "GET", "/console/dashboard", nil, nil)
	if !strings.Contains(page, `id="overdue-ok"`) || !strings.Contains(page, "<svg") {
		t.Errorf("dashboard with nothing overdue")
	}
	h.clk.add(11 * 24 * time.Hour)
	if _, err := h.svc.MarkClocks(ctx); err != nil {
		t.Fatal(err)
	}
	h.signInAgain("agent")
	_, page = h.do("agent", "GET", "/console/dashboard", nil, nil)
	if !strings.Contains(page, `id="overdue-alarm"`) || !strings.Contains(page, "OVERDUE") {
		t.Errorf("dashboard does not shout about the overdue case")
	}
	_, page = h.do("agent", "GET", "/console", nil, nil)
	if !strings.Contains(page, "clock overdue") {
		t.Errorf("queue does not show the overdue clock in red")
	}

	code, _ := h.post("agent", "/console/bulk", url.Values{"action": {"spam"}, "case": {notice.Receipt.CaseID}})
	if code != 303 {
		t.Fatalf("bulk close: %d", code)
	}
	c, err := h.store.Case(ctx, notice.Receipt.CaseID)
	if err != nil || c.State != docket.StateAnswered || c.Decision.ReasonCode != "spam" || !c.Triage.Spam {
		t.Errorf("closed as spam: %+v %v", c, err)
	}
}

// TestPortalReply: the platform asks for more information; the officer sees the question,
// replies from the portal (with a file), and the case is worked again.
func TestPortalReply(t *testing.T) {
	h := newHarness(t, Config{})
	code, _ := h.post("agent", "/console/cases/"+h.caseA+"/act", url.Values{"type": {"decide"}, "outcome": {"need_info"}, "template": {"need_info"}})
	if code != 303 {
		t.Fatalf("decide to ask for more: %d", code)
	}
	code, _ = h.post("agent", "/console/cases/"+h.caseA+"/act", url.Values{"type": {"answer"}, "text": {"We need more: please state the legal basis."}})
	if code != 303 {
		t.Fatalf("ask for more: %d", code)
	}
	_, page := h.do("officerA", "GET", "/portal/cases/"+h.caseA, nil, nil)
	if !strings.Contains(page, `id="reply-form"`) || !strings.Contains(page, "please state the legal basis") {
		t.Fatalf("the officer does not see the question:\n%.3000s", page[strings.Index(page, "<main>"):])
	}
	if code, _ = h.post("officerB", "/portal/cases/"+h.caseA+"/reply", url.Values{"text": {"not mine"}}); code != 404 {
		t.Errorf("another authority's officer replied: %d", code)
	}
	code, _ = h.post("officerA", "/portal/cases/"+h.caseA+"/reply", url.Values{"text": {"Base légale : art. 60-1 CPP; compte @arnaque."}})
	if code != 303 {
		t.Fatalf("reply: %d", code)
	}
	c, _ := h.store.Case(context.Background(), h.caseA)
	if c.State != docket.StateOpen {
		t.Errorf("after the reply the case is %s", c.State)
	}
	_, page = h.do("agent", "GET", "/console/cases/"+h.caseA, nil, nil)
	if !strings.Contains(page, "requester_replied") || !strings.Contains(page, "art. 60-1 CPP; compte @arnaque") {
		t.Error("the reply is not on the case page")
	}
}

// TestMergeAndSplitInConsole: the case page offers the requester's other open cases to merge;
// the merged case points to the one that answers for it (in the console and the portal);
// a joined request is split off into a case of its own.
func TestMergeAndSplitInConsole(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	res, err := h.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: h.authA, Raw: []byte(`{"b":1}`),
		Body: docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: "PJ-2", Description: "Même escroc"}})
	if err != nil {
		t.Fatal(err)
	}
	caseB, reqB := res.Receipt.CaseID, res.Receipt.ID
	_, page := h.do("agent", "GET", "/console/cases/"+h.caseA, nil, nil)
	if !strings.Contains(page, `name="case" value="`+caseB+`"`) || strings.Contains(page, `form="split"`) {
		t.Fatalf("case page: want a merge button for the requester's other case and nothing to split\n%s", page)
	}
	if code, page := h.post("agent", "/console/cases/"+h.caseA+"/act", url.Values{"type": {"merge"}, "case": {caseB[len(caseB)-8:]}, "text": {"same fraud"}}); code != 303 {
		t.Fatalf("merge: %d\n%.500s", code, page)
	}
	_, page = h.do("agent", "GET", "/console/cases/"+caseB, nil, nil)
	if !strings.Contains(page, `id="merged-into"`) || !strings.Contains(page, "/console/cases/"+h.caseA) || strings.Contains(page, `id="decide"`) {
		t.Errorf("merged case page: want a pointer to the case that answers and no actions")
	}
	_, page = h.do("officerA", "GET", "/portal/cases/"+caseB, nil, nil)
	if !strings.Contains(page, `id="merged"`) || !strings.Contains(page, "/portal/cases/"+h.caseA) {
		t.Errorf("portal: the merged request does not say where it is answered")
	}
	_, page = h.do("agent", "GET", "/console/cases/"+h.caseA, nil, nil)
	if !strings.Contains(page, `value="`+reqB+`" form="split"`) || strings.Contains(page, `value="`+h.reqA+`" form="split"`) || !strings.Contains(page, "Merged from") {
		t.Fatalf("case page after the merge: want the joined request (not the first) offered for a split")
	}
	if code, page := h.post("agent", "/console/cases/"+h.caseA+"/act", url.Values{"type": {"split"}, "request": {reqB}}); code != 303 {
		t.Fatalf("split: %d\n%.500s", code, page)
	}
	r, err := h.store.Request(ctx, reqB)
	if err != nil || r.CaseID == h.caseA || r.CaseID == caseB {
		t.Fatalf("the split request is in case %s (%v), want a new case", r.CaseID, err)
	}
	_, page = h.do("agent", "GET", "/console/cases/"+h.caseA, nil, nil)
	if !strings.Contains(page, "Split into") || !strings.Contains(page, "/console/cases/"+r.CaseID) {
		t.Errorf("case page after the split: want a link to the new case")
	}
	// A merge of another authority's case is refused on the page, with the reason.
	other, err := h.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: h.authB, Raw: []byte(`{"c":1}`),
		Body: docket.RequestBody{Regime: "national-other", Kind: docket.KindOther, Reference: "LKA-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if code, page := h.post("agent", "/console/cases/"+h.caseA+"/act", url.Values{"type": {"merge"}, "case": {other.Receipt.CaseID}}); code != 422 || !strings.Contains(page, "different requesters") {
		t.Errorf("merging another authority's case: %d", code)
	}
}

// TestOfficerReset: a colleague (or a reviewer) resets an officer's sign-in: the old
// password stops working, open sessions end, and the new link sets a new password and
// second factor without a new approval. Another authority's officer cannot.
func TestOfficerReset(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	logins, err := h.store.Logins(ctx, docket.LoginFilter{Kind: docket.LoginOfficer, AuthorityID: h.authA.ID})
	if err != nil || len(logins) != 1 {
		t.Fatalf("officers of A: %d (%v)", len(logins), err)
	}
	victim := logins[0] // officerA
	colleague, err := h.accounts.AddOfficer(ctx, h.authA, "colleague@police.example", "Colleague")
	if err != nil {
		t.Fatal(err)
	}
	h.cookies["colleague"] = h.signIn(docket.LoginOfficer, colleague)

	if code, _ := h.post("officerB", "/portal/delegates", url.Values{"reset": {victim.ID}}); code != 404 {
		t.Errorf("another authority's officer reset an account: %d", code)
	}
	if code, _ := h.post("agent", "/console/accounts/"+victim.ID+"/reset", nil); code != 403 {
		t.Errorf("an agent reset an officer: %d", code)
	}
	before := len(confirmLink.FindAllString(h.logs.String(), -1))
	if code, page := h.post("colleague", "/portal/delegates", url.Values{"reset": {victim.ID}}); code != 200 || !strings.Contains(page, victim.Email) {
		t.Fatalf("colleague resets: %d", code)
	}
	if code, _ := h.do("officerA", "GET", "/portal", nil, nil); code != 303 {
		t.Errorf("the reset officer's session still opens the portal: %d", code)
	}
	links := confirmLink.FindAllStringSubmatch(h.logs.String(), -1)
	if len(links) != before+1 {
		t.Fatal("no new link after the reset")
	}
	token := links[len(links)-1][1]
	_, page := h.do("", "GET", "/portal/confirm?token="+token, nil, nil)
	secret := regexp.MustCompile(`id="secret">([A-Z2-7]+)<`).FindStringSubmatch(page)[1]
	code, page := h.post("", "/portal/confirm", url.Values{"token": {token}, "password": {"a brand new passphrase"}, "password2": {"a brand new passphrase"}, "code": {account.Code(secret, h.clk.now())}})
	if code != 200 || !strings.Contains(page, "Your account is ready") {
		t.Fatalf("confirm after the reset: %d %.300s", code, page)
	}
	h.clk.add(time.Minute)
	if _, _, err := h.accounts.SignIn(ctx, docket.LoginOfficer, victim.Email, "a brand new passphrase", account.Code(secret, h.clk.now())); err != nil {
		t.Fatalf("sign-in with the new credentials: %v", err)
	}
	// A reviewer may reset too.
	if code, _ := h.post("reviewer", "/console/accounts/"+victim.ID+"/reset", nil); code != 303 {
		t.Errorf("reviewer reset: %d", code)
	}
}
