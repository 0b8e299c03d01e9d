package workflow_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// TestDecisionGrounds: a refusal, a partial answer or a not-actionable decision gives a
// ground of the decision table that allows its outcome; an empty statement is the table's,
// in the case's language; a refusal on principle is recorded as such.
func TestDecisionGrounds(t *testing.T) {
	t.Parallel()
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			f := setup(t, engine)
			ctx := context.Background()
			agent := f.users[docket.RoleAgent]
			open := func() string {
				res, err := f.submit(t, "us-legal-process", docket.KindDisclosure, "g-"+docket.NewID(), "")
				if err != nil {
					t.Fatal(err)
				}
				return res.Receipt.CaseID
			}
			id := open()
			for _, tc := range []struct {
				name string
				a    workflow.Action
			}{
				{"an unknown ground", workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "because", Statement: "No."}},
				{"a plain template as ground", workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "comply"}},
				{"a ground not for this outcome", workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "not_illegal"}},
				{"a refusal without ground", workflow.Action{Type: "decide", Outcome: "refuse", Statement: "No."}},
			} {
				if _, _, err := f.svc.Act(ctx, agent, id, tc.a); docket.ErrorCode(err) != docket.EINVALID {
					t.Errorf("%s: %v, want invalid", tc.name, err)
				}
			}
			c, ev, err := f.svc.Act(ctx, agent, id, workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "fundamental_rights"})
			if err != nil {
				t.Fatal(err)
			}
			want := f.svc.Grounds().Entries()
			var text string
			for _, e := range want {
				if e.ID == "fundamental_rights" {
					text = e.Statement("en")
				}
			}
			if c.Decision == nil || c.Decision.Statement != text || !c.Decision.Principled || c.Decision.ReasonCode != "fundamental_rights" || ev.Type != docket.EventDecided {
				t.Fatalf("decision %+v, want the table's English statement, principled", c.Decision)
			}
			id = open()
			if c, _, err = f.svc.Act(ctx, agent, id, workflow.Action{Type: "decide", Outcome: "need_info"}); err != nil || !strings.Contains(c.Decision.Statement, "legal basis") || c.Decision.Principled {
				t.Fatalf("need_info from the table: %v %+v", err, c.Decision)
			}
		})
	}
}

// TestPolicyQueueOnlyPolicyReviewers: a case that has been in the policy queue is decided
// by a policy reviewer only, who names the policy relied on — checked in the transaction
// that records the decision, whatever queue the case was moved to since, and for a case
// split off it. Random sequences of actions by random roles never end in a decision on a
// policy case by anyone else, or without a policy.
func TestPolicyQueueOnlyPolicyReviewers(t *testing.T) {
	t.Parallel()
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			f := setup(t, engine)
			ctx := context.Background()
			pol := &docket.User{Email: "policy@x.org", Role: docket.RolePolicy}
			if _, err := f.svc.AddUser(ctx, "test", pol); err != nil {
				t.Fatal(err)
			}
			agent, rev, adm := f.users[docket.RoleAgent], f.users[docket.RoleReviewer], f.users[docket.RoleAdmin]
			res, err := f.submit(t, "us-legal-process", docket.KindDisclosure, "p-1", "")
			if err != nil {
				t.Fatal(err)
			}
			id := res.Receipt.CaseID
			if _, _, err := f.svc.Act(ctx, agent, id, workflow.Action{Type: "retriage", Queue: docket.QueuePolicy, Text: "A protest organiser's account."}); err != nil {
				t.Fatal(err)
			}
			// Moved out again: still a policy case.
			if _, _, err := f.svc.Act(ctx, agent, id, workflow.Action{Type: "retriage", Queue: "disclosure", Text: "Moved back."}); err != nil {
				t.Fatal(err)
			}
			for _, u := range []*docket.User{agent, rev, adm} {
				if _, _, err := f.svc.Act(ctx, u, id, workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "fundamental_rights", Policy: "HR-3"}); docket.ErrorCode(err) != docket.EFORBIDDEN {
					t.Errorf("%s deciding a policy case: %v, want forbidden", u.Role, err)
				}
			}
			if _, _, err := f.svc.Act(ctx, pol, id, workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "fundamental_rights"}); docket.ErrorCode(err) != docket.EINVALID {
				t.Errorf("policy reviewer without a policy: %v, want invalid", err)
			}
			c, _, err := f.svc.Act(ctx, pol, id, workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "fundamental_rights", Policy: "HR-3: peaceful protest"})
			if err != nil {
				t.Fatal(err)
			}
			if c.Decision.Policy != "HR-3: peaceful protest" || !c.Decision.Principled || !c.Policy {
				t.Fatalf("decision %+v policy case %v", c.Decision, c.Policy)
			}

			// Random sequences: cases, some sent to the policy queue, acted on by random
			// staff; every decision recorded on a policy case is a policy reviewer's with a
			// policy.
			rng := rand.New(rand.NewPCG(20261202, uint64(len(engine))))
			staff := []*docket.User{agent, rev, adm, pol, f.users[docket.RoleAuditor]}
			cases := []string{id}
			for i := range 240 {
				if i%4 == 0 {
					r, err := f.submit(t, "us-legal-process", docket.KindDisclosure, "m-"+docket.NewID(), "")
					if err != nil {
						t.Fatal(err)
					}
					cases = append(cases, r.Receipt.CaseID)
				}
				u, cid := staff[rng.IntN(len(staff))], cases[rng.IntN(len(cases))]
				var a workflow.Action
				switch rng.IntN(5) {
				case 0:
					a = workflow.Action{Type: "retriage", Queue: []string{docket.QueuePolicy, "disclosure", "default"}[rng.IntN(3)], Text: "route"}
				case 1, 2:
					a = workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "overbroad", Policy: []string{"", "HR-1"}[rng.IntN(2)]}
				case 3:
					a = workflow.Action{Type: "decide", Outcome: "need_info", Policy: []string{"", "HR-2"}[rng.IntN(2)]}
				default:
					a = workflow.Action{Type: "comment", Text: "look"}
				}
				_, _, _ = f.svc.Act(ctx, u, cid, a) // refusals are expected; the check is below
			}
			roles := map[string]docket.Role{}
			for _, u := range staff {
				roles[u.ID] = u.Role
			}
			checked := 0
			for _, cid := range cases {
				evs, err := f.store.CaseEvents(ctx, cid)
				if err != nil {
					t.Fatal(err)
				}
				replay := &docket.Case{}
				for _, e := range evs {
					wasPolicy := replay.Policy
					if err := replay.Apply(e); err != nil {
						t.Fatal(err)
					}
					if e.Type != docket.EventDecided || !wasPolicy {
						continue
					}
					checked++
					d := replay.Decision
					if roles[d.DecidedBy] != docket.RolePolicy || d.Policy == "" {
						t.Errorf("case %s: decision on a policy case by %s (%s) with policy %q", cid, d.DecidedBy, roles[d.DecidedBy], d.Policy)
					}
				}
			}
			t.Logf("%d decisions on policy cases checked", checked)
			if checked == 0 {
				t.Error("no decision on a policy case in the random sequences: the check checked nothing")
			}
			if _, err := audit.Verify(ctx, f.store, 0, ""); err != nil {
				t.Fatalf("audit verify: %v", err)
			}
		})
	}
}
