package workflow_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sor"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// TestStatementsQueuedAndDecided: an action the platform applied queues its statement of
// reasons in the same transaction (event, row, the case's action); a restriction outside
// the EEA queues none; a statement the database's rules refuse is refused at once, unsent;
// outcomes are recorded once. The store verifies throughout.
func TestStatementsQueuedAndDecided(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) { testStatementsQueuedAndDecided(t, setup(t, engine)) })
	}
}

func testStatementsQueuedAndDecided(t *testing.T, f *fixture) {
	ctx := context.Background()
	s := f.store
	agent := f.users[docket.RoleAgent]
	res, err := f.submit(t, "eu-tco-removal", docket.KindRemoval, "tco", "")
	if err != nil {
		t.Fatal(err)
	}
	id := res.Receipt.CaseID
	reasons := &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "Regulation (EU) 2021/784", Explanation: "Terrorist content.", Facts: "Order R-tco."}
	for _, a := range []workflow.Action{
		{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "ok"},
		{Type: docket.OpRemove, Target: &docket.Target{Kind: "message", Value: "2"}, Reasons: reasons},
		{Type: docket.OpRestrict, Target: &docket.Target{Kind: "message", Value: "3"}, Countries: []string{"TR"}, Reasons: reasons},
		{Type: docket.OpSuspend, Target: &docket.Target{Kind: "account", Value: "7"}, Reasons: reasons},
	} {
		if _, _, err := f.svc.Act(ctx, agent, id, a); err != nil {
			t.Fatalf("%s: %v", a.Type, err)
		}
	}
	c, _ := s.Case(ctx, id)
	posted := f.Now().Add(-50 * time.Hour)
	done := func(i int, effective time.Time) {
		t.Helper()
		act := c.Actions[i]
		err := f.svc.Change(ctx, id, docket.ActorPlatform, func(tx docket.Tx, cs *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
			if _, err := rec(docket.EventActionDone, docket.ActionDone{Action: act.Seq, Op: act.Op, EffectiveAt: effective}); err != nil {
				return err
			}
			return f.svc.QueueStatement(ctx, tx, cs, act.Seq, posted)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	done(0, f.Now())
	done(1, f.Now())
	// The platform's clock says 2040: the database would refuse the application date.
	done(2, time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC))

	c, _ = s.Case(ctx, id)
	removal, restriction, suspension := c.Actions[0], c.Actions[1], c.Actions[2]
	if restriction.Submission != nil {
		t.Errorf("a restriction in Turkey only was queued: %+v", restriction.Submission)
	}
	if sub := removal.Submission; sub == nil || sub.State != docket.SubmissionPending || sub.PUID != removal.Statement.PUID {
		t.Fatalf("removal submission %+v", sub)
	}
	row, err := s.Statement(ctx, removal.Statement.PUID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := sor.FromAction(c, &removal, posted)
	wantJSON, _ := json.Marshal(want)
	if string(row.Payload) != string(wantJSON) || row.State != docket.SubmissionPending || row.CaseID != id || row.Action != removal.Seq {
		t.Errorf("row %+v\nwant payload %s", row, wantJSON)
	}
	var st sor.Statement
	json.Unmarshal(row.Payload, &st)
	if st.ContentDate != "2026-11-20" || st.ApplicationDate != "2026-11-22" || st.CategorySpecification[0] != sor.KeywordTerrorist {
		t.Errorf("statement %+v", st)
	}
	if sub := suspension.Submission; sub == nil || sub.State != docket.SubmissionRefused || !strings.Contains(sub.Error, "application date") {
		t.Fatalf("suspension submission %+v", sub)
	}
	if r, _ := s.Statement(ctx, suspension.Statement.PUID); r.State != docket.SubmissionRefused || r.Error != suspension.Submission.Error {
		t.Errorf("refused row %+v", r)
	}
	events, _ := s.CaseEvents(ctx, id)
	var types []string
	for _, e := range events {
		if strings.HasPrefix(string(e.Type), "statement_") {
			types = append(types, string(e.Type)+" "+string(e.Actor))
		}
	}
	if strings.Join(types, ",") != "statement_queued system:transparency,statement_queued system:transparency,statement_refused system:transparency" {
		t.Errorf("events %v", types)
	}
	// Only the pending one is claimed; its outcome is recorded once.
	claimed, err := s.ClaimStatements(ctx, f.Now(), 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].PUID != removal.Statement.PUID {
		t.Fatalf("claimed %v, %v", claimed, err)
	}
	out := workflow.StatementOutcome{Statement: claimed[0], Accepted: true, ID: "uuid-1"}
	if err := f.svc.RecordStatements(ctx, []workflow.StatementOutcome{out}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RecordStatements(ctx, []workflow.StatementOutcome{{Statement: claimed[0], Status: 422, Error: "late"}}); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Case(ctx, id)
	if sub := c.Actions[0].Submission; sub.State != docket.SubmissionAccepted || sub.ID != "uuid-1" || sub.Error != "" || sub.DecidedAt == nil {
		t.Errorf("accepted submission %+v", sub)
	}
	if _, err := audit.Verify(ctx, s, 0, ""); err != nil {
		t.Fatal(err)
	}
}
