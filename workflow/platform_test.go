package workflow_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/workflow"
)

// TestPlatformActionRules: when each action on the platform may be asked for, and what it
// needs. The platform itself is exercised in cmd/docket's end-to-end test.
func TestPlatformActionRules(t *testing.T) {
	f := setup(t, "sqlite")
	ctx := context.Background()
	agent, reviewer := f.users[docket.RoleAgent], f.users[docket.RoleReviewer]
	target := &docket.Target{Kind: "message", Value: "https://ref.example/m/2"}
	sor := &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "law", Explanation: "why", Facts: "facts"}
	open := func(regime string, kind docket.Kind, raw string) string {
		res, err := f.submit(t, regime, kind, raw, "")
		if err != nil {
			t.Fatal(err)
		}
		return res.Receipt.CaseID
	}
	do := func(u *docket.User, caseID string, a workflow.Action) string {
		_, _, err := f.svc.Act(ctx, u, caseID, a)
		return docket.ErrorCode(err)
	}

	removal := open("eu-tco-removal", docket.KindRemoval, "tco")
	disclosure := open("us-legal-process", docket.KindDisclosure, "subpoena")
	cases := []struct {
		name   string
		user   *docket.User
		caseID string
		a      workflow.Action
		want   string
	}{
		{"remove before any decision", agent, removal, workflow.Action{Type: docket.OpRemove, Target: target, Reasons: sor}, docket.ESTATE},
		{"remove without a target", agent, removal, workflow.Action{Type: docket.OpRemove, Reasons: sor}, docket.EINVALID},
		{"remove with an unknown target kind", agent, removal, workflow.Action{Type: docket.OpRemove, Target: &docket.Target{Kind: "planet", Value: "x"}, Reasons: sor}, docket.EINVALID},
		{"restrict with a bad country", agent, removal, workflow.Action{Type: docket.OpRestrict, Target: target, Countries: []string{"Germany"}, Reasons: sor}, docket.EINVALID},
		{"disclose an unknown category", agent, disclosure, workflow.Action{Type: docket.OpDisclose, Target: target, Categories: []string{"thoughts"}}, docket.EINVALID},
		{"threat report without a reason", agent, removal, workflow.Action{Type: docket.OpReportThreat, Target: target}, docket.EINVALID},
		{"preserve before any decision", agent, removal, workflow.Action{Type: docket.OpPreserve, Target: target}, ""},
		{"an auditor acts", f.users[docket.RoleAuditor], removal, workflow.Action{Type: docket.OpPreserve, Target: target}, docket.EFORBIDDEN},
		{"acknowledge a page on a case that is no emergency", agent, removal, workflow.Action{Type: workflow.ActAcknowledgePage}, docket.ESTATE},
		{"extend a hold that does not exist", agent, removal, workflow.Action{Type: workflow.ActExtendHold, Hold: 99999, Text: "x"}, docket.ENOTFOUND},
		{"notify before any action was carried out", agent, removal, workflow.Action{Type: docket.OpNotify, Target: target}, docket.ESTATE},
		{"decide the removal", agent, removal, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "ok"}, ""},
		{"remove once decided", agent, removal, workflow.Action{Type: docket.OpRemove, Target: target, Reasons: sor}, ""},
		// The statement must be one the EU Transparency Database accepts.
		{"remove under a category the database does not know", agent, removal, workflow.Action{Type: docket.OpRemove, Target: target, Reasons: with(sor, func(s *docket.StatementOfReasons) { s.Category = "STATEMENT_CATEGORY_FOO" })}, docket.EINVALID},
		{"remove with another content type but no word for it", agent, removal, workflow.Action{Type: docket.OpRemove, Target: target, Reasons: with(sor, func(s *docket.StatementOfReasons) { s.ContentType = []string{"CONTENT_TYPE_OTHER"} })}, docket.EINVALID},
		{"remove with an unknown source", agent, removal, workflow.Action{Type: docket.OpRemove, Target: target, Reasons: with(sor, func(s *docket.StatementOfReasons) { s.SourceType = "SOURCE_POLICE" })}, docket.EINVALID},
		{"suspend beyond the database's last date", agent, removal, workflow.Action{Type: docket.OpSuspend, Target: &docket.Target{Kind: "account", Value: "7"}, Until: &docket.Time{Time: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}, Reasons: sor}, docket.EINVALID},
		{"remove with facts that name the content", agent, removal, workflow.Action{Type: docket.OpRemove, Target: target, Reasons: with(sor, func(s *docket.StatementOfReasons) { s.Facts = "Message HTTPS://ref.example/m/2 of the channel." })}, docket.EINVALID},
		{"restrict outside the EEA only: no statement for the database", agent, removal, workflow.Action{Type: docket.OpRestrict, Target: target, Countries: []string{"TR"}, Reasons: sor}, ""},
		{"answer while the removal is not confirmed", agent, removal, workflow.Action{Type: workflow.ActAnswer, Text: "done"}, docket.ESTATE},
		// Disclosure: the authority has no key; the four eyes come first anyway.
		{"decide the disclosure", agent, disclosure, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "ok"}, ""},
		{"disclose to an authority without a key", agent, disclosure, workflow.Action{Type: docket.OpDisclose, Target: target, Categories: []string{"subscriber"}}, docket.ESTATE},
		{"the author approves their own decision", agent, disclosure, workflow.Action{Type: workflow.ActApprove}, docket.EFORBIDDEN},
		{"a reviewer approves", reviewer, disclosure, workflow.Action{Type: workflow.ActApprove}, ""},
	}
	for _, tc := range cases {
		if got := do(tc.user, tc.caseID, tc.a); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	c, _ := f.store.Case(ctx, removal)
	if len(c.Actions) != 3 || c.Actions[1].Statement == nil || c.Actions[1].Statement.PUID == "" || c.Actions[1].Status != docket.ActionPending {
		t.Fatalf("actions = %+v", c.Actions)
	}
}

// with returns a copy of s changed by fn.
func with(s *docket.StatementOfReasons, fn func(*docket.StatementOfReasons)) *docket.StatementOfReasons {
	c := *s
	fn(&c)
	return &c
}

// TestStatementRefusedByTheDatabaseNamesTheField: an action whose statement the EU
// Transparency Database would refuse is refused when it is asked for, naming the field as
// the agent gave it.
func TestStatementRefusedByTheDatabaseNamesTheField(t *testing.T) {
	f := setup(t, "sqlite")
	ctx := context.Background()
	agent := f.users[docket.RoleAgent]
	res, err := f.submit(t, "eu-tco-removal", docket.KindRemoval, "tco", "")
	if err != nil {
		t.Fatal(err)
	}
	id := res.Receipt.CaseID
	if _, _, err := f.svc.Act(ctx, agent, id, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "ok"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.Act(ctx, agent, id, workflow.Action{Type: docket.OpRemove, Target: &docket.Target{Kind: "message", Value: "1"},
		Reasons: &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "law", Explanation: "why", Facts: "facts",
			AccountType: "ACCOUNT_TYPE_GOVERNMENT", CategorySpecification: []string{"KEYWORD_TERRORIST_CONTENT", "KEYWORD_X"}}})
	var de *docket.Error
	if !errors.As(err, &de) || de.Code != docket.EINVALID || de.Fields["statement.account_type"] == "" || de.Fields["statement.category_specification"] == "" ||
		!strings.Contains(de.Message, "Transparency Database") {
		t.Fatalf("err = %#v", err)
	}
	// The statement is published: it must not name the account.
	_, _, err = f.svc.Act(ctx, agent, id, workflow.Action{Type: docket.OpSuspend, Target: &docket.Target{Kind: "username", Value: "@NightWolf"},
		Reasons: &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "law", Explanation: "why", Facts: "nightwolf posted an attack plan."}})
	if !errors.As(err, &de) || de.Code != docket.EINVALID || de.Fields["statement.decision_facts"] != "names username @NightWolf" {
		t.Fatalf("facts naming the account: %#v", err)
	}
}

// TestReviewerCannotApproveOwnDisclosure: a reviewer who decided cannot be the second person.
func TestReviewerCannotApproveOwnDisclosure(t *testing.T) {
	f := setup(t, "sqlite")
	res, err := f.submit(t, "us-legal-process", docket.KindDisclosure, "own", "")
	if err != nil {
		t.Fatal(err)
	}
	r := f.users[docket.RoleReviewer]
	ctx := context.Background()
	if _, _, err := f.svc.Act(ctx, r, res.Receipt.CaseID, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "ok"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Act(ctx, r, res.Receipt.CaseID, workflow.Action{Type: workflow.ActApprove}); docket.ErrorCode(err) != docket.EFOUREYES {
		t.Fatalf("self-approval: %v", err)
	}
}

// TestNonDisclosureForbidsNotifying: a request under a gag order forbids telling the user.
func TestNonDisclosureForbidsNotifying(t *testing.T) {
	f := setup(t, "sqlite")
	res, err := f.svc.Submit(context.Background(), &workflow.Submission{
		Channel: docket.ChannelAPI, Authority: f.authority, Raw: []byte("gag"),
		Body: docket.RequestBody{Regime: "eu-tco-removal", Kind: docket.KindRemoval, Reference: "GAG-1", NonDisclosure: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.Act(context.Background(), f.users[docket.RoleAgent], res.Receipt.CaseID,
		workflow.Action{Type: docket.OpNotify, Target: &docket.Target{Kind: "message", Value: "1"}})
	if docket.ErrorCode(err) != docket.ESTATE || !strings.Contains(err.Error(), "non-disclosure") {
		t.Fatalf("notify under a gag order: %v", err)
	}
}
