package docket_test

import (
	"testing"
	"time"

	"github.com/docket-dev/docket"
)

// TestApprovalReplay: an approved event's coverage and an approval_voided replay into the
// case as the workflow recorded them; approvals recorded before coverage existed still
// replay, covering nothing.
func TestApprovalReplay(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := func(seq int64, typ docket.EventType, actor docket.Actor, data any) *docket.Event {
		e := docket.NewEvent("c1", typ, actor, at, data)
		e.Seq = seq
		return e
	}
	opened := ev(1, docket.EventCaseOpened, "authority:a", docket.CaseOpened{RequestID: "r1", Regime: "fr-requisition", Kind: docket.KindDisclosure, Discloses: true})
	decided := ev(2, docket.EventDecided, "user:agent", docket.Decided{Decision: docket.Decision{Outcome: docket.OutcomeComply, Statement: "Yes.", DecidedBy: "agent", DecidedAt: at, NeedsApproval: true}})
	cov := &docket.Coverage{Requests: []string{"r1"}, Targets: []docket.Target{{Kind: "username", Value: "@a"}}, Categories: []string{"subscriber"}, Regime: "fr-requisition", Kind: docket.KindDisclosure, Decision: "x"}
	for _, tc := range []struct {
		name    string
		events  []*docket.Event
		state   docket.CaseState
		by      string
		cov     bool
		failing bool
	}{
		{"approved with coverage", []*docket.Event{opened, decided, ev(3, docket.EventApproved, "user:reviewer", docket.Approved{Coverage: cov})}, docket.StateDecided, "reviewer", true, false},
		{"approved before coverage existed", []*docket.Event{opened, decided, ev(3, docket.EventApproved, "user:reviewer", struct{}{})}, docket.StateDecided, "reviewer", false, false},
		{"voided", []*docket.Event{opened, decided, ev(3, docket.EventApproved, "user:reviewer", docket.Approved{Coverage: cov}),
			ev(4, docket.EventApprovalVoided, "user:agent", docket.ApprovalVoided{Reason: "a request joined the case", Approval: 3})}, docket.StateAwaitingApproval, "", false, false},
		{"voided without a decision", []*docket.Event{opened, ev(2, docket.EventApprovalVoided, "user:agent", docket.ApprovalVoided{Reason: "x"})}, "", "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c docket.Case
			var err error
			for _, e := range tc.events {
				if err = c.Apply(e); err != nil {
					break
				}
			}
			if tc.failing {
				if err == nil {
					t.Fatal("replayed without error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.State != tc.state || c.Decision.ApprovedBy != tc.by || (c.Decision.Coverage != nil) != tc.cov {
				t.Fatalf("state %s, approved by %q, coverage %v", c.State, c.Decision.ApprovedBy, c.Decision.Coverage)
			}
			if tc.cov && c.Decision.ApprovalSeq != 3 {
				t.Fatalf("approval seq %d, want 3", c.Decision.ApprovalSeq)
			}
		})
	}
}
