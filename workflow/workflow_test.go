package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

type fixture struct {
	svc       *workflow.Service
	store     docket.Store
	now       time.Time
	mu        sync.Mutex
	authority *docket.Authority
	users     map[docket.Role]*docket.User
}

func (f *fixture) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func setup(t *testing.T, engine string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{store: storetest.Open(t, engine), now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), users: map[docket.Role]*docket.User{}}
	f.svc = workflow.New(workflow.Config{Store: f.store, Now: f.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f.svc.Start(ctx)
	t.Cleanup(f.svc.Stop)
	f.authority = &docket.Authority{Name: "FBI", Country: "US"}
	if _, err := f.svc.RegisterAuthority(ctx, "test", f.authority); err != nil {
		t.Fatal(err)
	}
	for _, r := range []docket.Role{docket.RoleAgent, docket.RoleReviewer, docket.RoleAdmin, docket.RoleAuditor} {
		u := &docket.User{Email: string(r) + "@x.org", Role: r}
		if _, err := f.svc.AddUser(ctx, "test", u); err != nil {
			t.Fatal(err)
		}
		f.users[r] = u
	}
	return f
}

func (f *fixture) submit(t *testing.T, regime string, kind docket.Kind, raw, key string) (*workflow.Result, error) {
	t.Helper()
	return f.svc.Submit(context.Background(), &workflow.Submission{
		Channel: docket.ChannelAPI, Authority: f.authority, Raw: []byte(raw), IdempotencyKey: key,
		Body: docket.RequestBody{Regime: regime, Kind: kind, Reference: "R-" + raw},
	})
}

// TestGroupCommit: many concurrent submissions share transactions; each gets its own
// receipt; the same idempotency key yields one request however the calls interleave.
func TestGroupCommit(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := setup(t, engine)
			var wg sync.WaitGroup
			var mu sync.Mutex
			ids := map[string]int{}
			sameKey := map[string]int{}
			conflicts := 0
			for i := range 200 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					raw, key := fmt.Sprintf(`{"i":%d}`, i), ""
					if i%10 == 0 {
						raw, key = `{"same":true}`, "shared-key"
					}
					if i == 5 {
						raw, key = `{"same":false}`, "shared-key" // may come first; then the others conflict
					}
					res, err := f.submit(t, "us-legal-process", docket.KindDisclosure, raw, key)
					mu.Lock()
					defer mu.Unlock()
					if docket.ErrorCode(err) == docket.ECONFLICT {
						conflicts++
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					ids[res.Receipt.ID]++
					if key != "" {
						sameKey[res.Receipt.ID]++
					}
				}()
			}
			wg.Wait()
			if len(sameKey) != 1 {
				t.Fatalf("the shared key produced %d requests, want 1", len(sameKey))
			}
			for id, n := range sameKey {
				if n+conflicts != 21 || (n != 20 && n != 1) {
					t.Fatalf("shared key: %d receipts for %s and %d conflicts, want 20+1 or 1+20", n, id, conflicts)
				}
			}
			rep, err := audit.Verify(context.Background(), f.store, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Requests != 179+1 || rep.Cases != 180 {
				t.Fatalf("report %+v, want 180 requests and cases (179 without key, 1 with)", rep)
			}
		})
	}
}

func TestFourEyesAndRoles(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	ctx := context.Background()
	res, err := f.submit(t, "us-legal-process", docket.KindDisclosure, `{}`, "")
	if err != nil {
		t.Fatal(err)
	}
	id := res.Receipt.CaseID
	rev, adm, aud := f.users[docket.RoleReviewer], f.users[docket.RoleAdmin], f.users[docket.RoleAuditor]
	if _, _, err := f.svc.Act(ctx, aud, id, workflow.Action{Type: "comment", Text: "x"}); docket.ErrorCode(err) != docket.EFORBIDDEN {
		t.Errorf("auditor comment: %v", err)
	}
	if _, _, err := f.svc.Act(ctx, rev, id, workflow.Action{Type: "decide", Outcome: "comply", Statement: "ok"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Act(ctx, rev, id, workflow.Action{Type: "approve"}); docket.ErrorCode(err) != docket.EFOUREYES {
		t.Errorf("self-approval: %v, want four_eyes", err)
	}
	if _, _, err := f.svc.Act(ctx, adm, id, workflow.Action{Type: "reject", Text: "Check the warrant's date first."}); err != nil {
		t.Fatal(err)
	}
	c, _ := f.store.Case(ctx, id)
	if c.State != docket.StateOpen || c.Decision != nil {
		t.Fatalf("after rejection: %s %+v", c.State, c.Decision)
	}
	// A refusal discloses nothing: no approval needed.
	if _, _, err := f.svc.Act(ctx, rev, id, workflow.Action{Type: "decide", Outcome: "refuse", ReasonCode: "overbroad", Statement: "The request covers all users."}); err != nil {
		t.Fatal(err)
	}
	if c, _ = f.store.Case(ctx, id); c.State != docket.StateDecided {
		t.Fatalf("refusal state %s", c.State)
	}
	if _, _, err := f.svc.Act(ctx, rev, id, workflow.Action{Type: "decide", Outcome: "partial", Statement: "x"}); docket.ErrorCode(err) != docket.EINVALID {
		t.Errorf("partial without reason code: %v", err)
	}
	if _, _, err := f.svc.Act(ctx, rev, id, workflow.Action{Type: "assign", Assignee: aud.ID}); docket.ErrorCode(err) != docket.EINVALID {
		t.Errorf("assigning an auditor: %v", err)
	}
}

// TestEmergencyClockNeverPauses: asking a question on an emergency does not stop its clock.
func TestEmergencyClockNeverPauses(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	ctx := context.Background()
	res, err := f.submit(t, "us-emergency", docket.KindEmergencyDisclosure, `{}`, "")
	if err != nil {
		t.Fatal(err)
	}
	agent := f.users[docket.RoleAgent]
	for _, a := range []workflow.Action{{Type: "decide", Outcome: "need_info", Statement: "Who is at risk?"}, {Type: "answer", Text: "Please call us back."}} {
		if _, _, err := f.svc.Act(ctx, agent, res.Receipt.CaseID, a); err != nil {
			t.Fatal(err)
		}
	}
	f.advance(2 * time.Hour)
	n, err := f.svc.MarkClocks(ctx)
	if err != nil || n != 2 {
		t.Fatalf("MarkClocks: %d, %v; want due-soon and overdue", n, err)
	}
	st, _ := f.store.Stats(ctx, f.Now())
	if st.Overdue != 1 || st.Paused != 0 || st.Emergencies != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n, _ := f.svc.MarkClocks(ctx); n != 0 {
		t.Fatalf("marked twice: %d", n)
	}
}

// TestRelatedRequestsThread: a request with the same reference, or naming a target an open
// case of the same requester names, joins that case (an event says why); another
// authority's request never does.
func TestRelatedRequestsThread(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := setup(t, engine)
			ctx := context.Background()
			other := &docket.Authority{Name: "Other", Country: "DE"}
			if _, err := f.svc.RegisterAuthority(ctx, "test", other); err != nil {
				t.Fatal(err)
			}
			send := func(a *docket.Authority, regime, ref, raw string, targets ...docket.Target) *workflow.Result {
				t.Helper()
				res, err := f.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: []byte(raw),
					Body: docket.RequestBody{Regime: regime, Kind: docket.KindDisclosure, Reference: ref, Targets: targets}})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			x := docket.Target{Kind: "username", Value: "@x"}
			first := send(f.authority, "us-legal-process", "GJ-1", "1", x)
			sameRef := send(f.authority, "us-legal-process", "GJ-1", "2")
			sameTarget := send(f.authority, "us-emergency", "GJ-2", "3", x)
			foreign := send(other, "us-legal-process", "GJ-1", "4", x)
			if sameRef.Receipt.CaseID != first.Receipt.CaseID || sameTarget.Receipt.CaseID != first.Receipt.CaseID {
				t.Fatalf("related requests opened new cases: %s %s %s", first.Receipt.CaseID, sameRef.Receipt.CaseID, sameTarget.Receipt.CaseID)
			}
			if foreign.Receipt.CaseID == first.Receipt.CaseID {
				t.Fatal("another authority's request joined the case")
			}
			c, _ := f.store.Case(ctx, first.Receipt.CaseID)
			if !c.Emergency || !c.DeadlineAt.Equal(sameTarget.Receipt.ReceivedAt.Add(time.Hour)) {
				t.Fatalf("the emergency request's clock should now hold the case: emergency %v deadline %v", c.Emergency, c.DeadlineAt)
			}
			evs, _ := f.store.CaseEvents(ctx, c.ID)
			var whys []string
			for _, e := range evs {
				if e.Type == docket.EventRequestReceived {
					var d docket.RequestReceived
					json.Unmarshal(e.Data, &d)
					whys = append(whys, d.Why)
				}
			}
			if len(whys) != 2 || whys[0] != "same reference GJ-1" || whys[1] != "names username @x too" {
				t.Fatalf("why: %v", whys)
			}
			reqs, _ := f.store.CaseRequests(ctx, c.ID)
			if len(reqs) != 3 {
				t.Fatalf("case holds %d requests, want 3", len(reqs))
			}
			if _, err := audit.Verify(ctx, f.store, 0, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRelatedAcrossNodes: a node that starts later finds the open cases of the others
// (its related-case filter is loaded from the store at start).
func TestRelatedAcrossNodes(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	ctx := context.Background()
	first, err := f.submit(t, "us-legal-process", docket.KindDisclosure, `{"n":1}`, "")
	if err != nil {
		t.Fatal(err)
	}
	other := workflow.New(workflow.Config{Store: f.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	other.Start(ctx)
	defer other.Stop()
	res, err := other.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: f.authority, Raw: []byte(`{"n":2}`),
		Body: docket.RequestBody{Regime: "us-legal-process", Kind: docket.KindDisclosure, Reference: `R-{"n":1}`}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Receipt.CaseID != first.Receipt.CaseID {
		t.Fatal("the second node opened a new case for the same reference")
	}
}
