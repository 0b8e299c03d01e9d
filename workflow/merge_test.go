package workflow_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// TestMergeAndSplit: merging moves the other case's requests, ends it as merged and keeps
// the earlier deadline and the emergency; split moves requests back out into a new case
// with its own clock; each refusal says why and changes nothing; the audit follows the moves.
func TestMergeAndSplit(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := setup(t, engine)
			ctx := context.Background()
			other := &docket.Authority{Name: "BKA", Country: "DE"}
			if _, err := f.svc.RegisterAuthority(ctx, "test", other); err != nil {
				t.Fatal(err)
			}
			send := func(a *docket.Authority, regime string, kind docket.Kind, ref string, targets ...docket.Target) *workflow.Result {
				t.Helper()
				res, err := f.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: []byte(ref),
					Body: docket.RequestBody{Regime: regime, Kind: kind, Reference: ref, Description: "about " + ref, Targets: targets}})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			agent, auditor := f.users[docket.RoleAgent], f.users[docket.RoleAuditor]
			slow := send(f.authority, "us-legal-process", docket.KindDisclosure, "GJ-1", docket.Target{Kind: "username", Value: "@slow"})
			f.advance(time.Minute)
			urgent := send(f.authority, "us-emergency", docket.KindEmergencyDisclosure, "EM-7", docket.Target{Kind: "username", Value: "@urgent"})
			foreign := send(other, "national-other", docket.KindOther, "BKA-3")
			decided := send(f.authority, "us-legal-process", docket.KindDisclosure, "GJ-9")
			if _, _, err := f.svc.Act(ctx, agent, decided.Receipt.CaseID, workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "overbroad", Statement: "no"}); err != nil {
				t.Fatal(err)
			}
			into := slow.Receipt.CaseID
			events := func() int {
				n := 0
				for _, id := range []string{into, urgent.Receipt.CaseID, foreign.Receipt.CaseID, decided.Receipt.CaseID} {
					evs, _ := f.store.CaseEvents(ctx, id)
					n += len(evs)
				}
				return n
			}
			before := events()
			refusals := []struct {
				name string
				u    *docket.User
				on   string
				a    workflow.Action
				code string
			}{
				{"auditor", auditor, into, workflow.Action{Type: "merge", Case: urgent.Receipt.CaseID}, docket.EFORBIDDEN},
				{"no case named", agent, into, workflow.Action{Type: "merge"}, docket.EINVALID},
				{"into itself", agent, into, workflow.Action{Type: "merge", Case: into}, docket.EINVALID},
				{"unknown case", agent, into, workflow.Action{Type: "merge", Case: "nope"}, docket.EINVALID},
				{"unknown target case", agent, "nope", workflow.Action{Type: "merge", Case: into}, docket.ENOTFOUND},
				{"another authority", agent, into, workflow.Action{Type: "merge", Case: foreign.Receipt.CaseID}, docket.EINVALID},
				{"decided case", agent, into, workflow.Action{Type: "merge", Case: decided.Receipt.CaseID}, docket.ESTATE},
				{"into a decided case", agent, decided.Receipt.CaseID, workflow.Action{Type: "merge", Case: into}, docket.ESTATE},
				{"split nothing", agent, into, workflow.Action{Type: "split"}, docket.EINVALID},
				{"split the opener", agent, into, workflow.Action{Type: "split", Requests: []string{slow.Receipt.ID}}, docket.EINVALID},
				{"split another case's request", agent, into, workflow.Action{Type: "split", Requests: []string{urgent.Receipt.ID}}, docket.EINVALID},
				{"split twice the same", agent, into, workflow.Action{Type: "split", Requests: []string{urgent.Receipt.ID, urgent.Receipt.ID}}, docket.EINVALID},
			}
			for _, tt := range refusals {
				if _, _, err := f.svc.Act(ctx, tt.u, tt.on, tt.a); docket.ErrorCode(err) != tt.code {
					t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
				}
			}
			if n := events(); n != before {
				t.Fatalf("refusals recorded %d events", n-before)
			}

			// Merge the emergency into the slow case.
			c, ev, err := f.svc.Act(ctx, agent, into, workflow.Action{Type: "merge", Case: urgent.Receipt.CaseID, Text: "same subscriber"})
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != docket.EventMerged || !slices.Equal(c.MergedFrom, []string{urgent.Receipt.CaseID}) {
				t.Fatalf("merge event %s, merged from %v", ev.Type, c.MergedFrom)
			}
			if !c.Emergency || c.Queue != "emergency" || c.Priority != 100 || !c.DeadlineAt.Equal(urgent.Receipt.ReceivedAt.Add(time.Hour)) {
				t.Fatalf("merged case: emergency %v queue %s priority %d deadline %v; want the emergency's clock", c.Emergency, c.Queue, c.Priority, c.DeadlineAt)
			}
			gone, _ := f.store.Case(ctx, urgent.Receipt.CaseID)
			if gone.State != docket.StateMerged || gone.MergedInto != into {
				t.Fatalf("merged case is %s into %q", gone.State, gone.MergedInto)
			}
			reqs, _ := f.store.CaseRequests(ctx, into)
			if len(reqs) != 2 {
				t.Fatalf("case holds %d requests, want 2", len(reqs))
			}
			if r, _ := f.store.Request(ctx, urgent.Receipt.ID); r.CaseID != into {
				t.Fatalf("the moved request is in case %s", r.CaseID)
			}
			// Search, targets and the related-case rule follow the request.
			found, _ := f.store.Cases(ctx, docket.CaseFilter{Query: "EM-7", Pending: true})
			if len(found) != 1 || found[0].ID != into {
				t.Fatalf("search for the merged request's reference found %d cases", len(found))
			}
			rel, _, err := f.store.RelatedOpenCase(ctx, f.authority.ID, "", []docket.Target{{Kind: "username", Value: "@urgent"}})
			if err != nil || rel.ID != into {
				t.Fatalf("related case by the moved target: %v %v", rel, err)
			}
			// The merged case takes no more work; merging it again is refused.
			if _, _, err := f.svc.Act(ctx, agent, urgent.Receipt.CaseID, workflow.Action{Type: "comment", Text: "x"}); docket.ErrorCode(err) != docket.ESTATE {
				t.Errorf("comment on a merged case: %v", err)
			}
			if _, _, err := f.svc.Act(ctx, agent, into, workflow.Action{Type: "merge", Case: urgent.Receipt.CaseID}); docket.ErrorCode(err) != docket.ESTATE {
				t.Errorf("merging a merged case: %v", err)
			}

			// Mail threaded to the merged case (its subject tag, its Message-IDs) joins the case it was merged into.
			res, err := f.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: f.authority, Raw: []byte("follow-up"),
				ThreadCase: urgent.Receipt.CaseID, ThreadWhy: "replies to case " + urgent.Receipt.CaseID,
				Body: docket.RequestBody{Regime: "us-legal-process", Kind: docket.KindDisclosure, Reference: "EM-7b"}})
			if err != nil || res.Receipt.CaseID != into {
				t.Fatalf("a reply to the merged case went to %v (%v), want %s", res, err, into)
			}

			// Split it back out: a new case with the emergency's own regime and clock.
			c, ev, err = f.svc.Act(ctx, agent, into, workflow.Action{Type: "split", Requests: []string{urgent.Receipt.ID}, Text: "another matter after all"})
			if err != nil {
				t.Fatal(err)
			}
			var sp docket.Split
			json.Unmarshal(ev.Data, &sp)
			if ev.Type != docket.EventSplit || sp.To == "" || !slices.Equal(c.SplitTo, []string{sp.To}) {
				t.Fatalf("split event %s %+v, split to %v", ev.Type, sp, c.SplitTo)
			}
			nc, err := f.store.Case(ctx, sp.To)
			if err != nil {
				t.Fatal(err)
			}
			if nc.SplitFrom != into || nc.State != docket.StateOpen || nc.Regime != "us-emergency" || !nc.Emergency ||
				nc.AuthorityID != f.authority.ID || !nc.DeadlineAt.Equal(urgent.Receipt.ReceivedAt.Add(time.Hour)) || !nc.ReceivedAt.Equal(urgent.Receipt.ReceivedAt) {
				t.Fatalf("split case: %+v", nc)
			}
			if r, _ := f.store.Request(ctx, urgent.Receipt.ID); r.CaseID != nc.ID {
				t.Fatalf("the split request is in case %s", r.CaseID)
			}
			if reqs, _ := f.store.CaseRequests(ctx, into); len(reqs) != 2 {
				t.Fatalf("the case keeps %d requests, want 2", len(reqs))
			}
			// The split case works like any other.
			if _, _, err := f.svc.Act(ctx, agent, nc.ID, workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "data_not_held", Statement: "none"}); err != nil {
				t.Fatal(err)
			}
			if _, err := audit.Verify(ctx, f.store, 0, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMergeSameRequester: cases without an authority merge only when the same person asked.
func TestMergeSameRequester(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	ctx := context.Background()
	notice := func(email, url string) string {
		t.Helper()
		res, err := f.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(email + url),
			Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "illegal content",
				Targets: []docket.Target{{Kind: "url", Value: url}}, Notifier: &docket.Notifier{Name: "N", Email: email, GoodFaith: true}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Receipt.CaseID
	}
	a := notice("ann@example.org", "https://x.example/1")
	b := notice("ANN@example.org", "https://x.example/2")
	c := notice("bob@example.org", "https://x.example/3")
	agent := f.users[docket.RoleAgent]
	if _, _, err := f.svc.Act(ctx, agent, a, workflow.Action{Type: "merge", Case: c}); docket.ErrorCode(err) != docket.EINVALID {
		t.Errorf("notices of two people merged: %v", err)
	}
	if _, _, err := f.svc.Act(ctx, agent, a, workflow.Action{Type: "merge", Case: b}); err != nil {
		t.Errorf("two notices of one person: %v", err)
	}
}
