package transparency_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sor/sortest"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/transparency"
	"github.com/docket-dev/docket/workflow"
)

const platform = "Reference Messenger"

// bench is docket's service on a real store, with a clock the test moves, and the double
// of the Transparency Database.
type bench struct {
	t     *testing.T
	store docket.Store
	svc   *workflow.Service
	db    *sortest.Server
	sub   *transparency.Submitter
	agent *docket.User
	mu    sync.Mutex
	now   time.Time
}

func (b *bench) Now() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }

func (b *bench) advance(d time.Duration) { b.mu.Lock(); b.now = b.now.Add(d); b.mu.Unlock() }

func setup(t *testing.T, engine string) *bench {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := &bench{t: t, store: storetest.Open(t, engine), now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	b.svc = workflow.New(workflow.Config{Store: b.store, Now: b.Now, Logger: log})
	b.svc.Start(ctx)
	t.Cleanup(b.svc.Stop)
	b.agent = &docket.User{Email: "agent@x.org", Role: docket.RoleAgent}
	if _, err := b.svc.AddUser(ctx, "test", b.agent); err != nil {
		t.Fatal(err)
	}
	b.db = sortest.New(map[string]string{"good-token": platform})
	t.Cleanup(b.db.Close)
	b.sub = &transparency.Submitter{Service: b.svc, Store: b.store, Logger: log,
		Client: &transparency.Client{BaseURL: b.db.URL, Token: "good-token", HTTP: &http.Client{Timeout: 2 * time.Second}}}
	return b
}

// removals opens a TCO removal case, removes n messages and confirms each as the platform
// would (action_done, the statement queued): it returns the puids, in order.
func (b *bench) removals(n int) []string {
	b.t.Helper()
	ctx := context.Background()
	res, err := b.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Raw: []byte(fmt.Sprint(b.Now().UnixNano())),
		Body: docket.RequestBody{Regime: "eu-tco-removal", Kind: docket.KindRemoval, Reference: "T"}})
	if err != nil {
		b.t.Fatal(err)
	}
	id := res.Receipt.CaseID
	if _, _, err := b.svc.Act(ctx, b.agent, id, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "remove"}); err != nil {
		b.t.Fatal(err)
	}
	reasons := &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "Regulation (EU) 2021/784, art. 3",
		Explanation: "Terrorist content.", Facts: "Removal order T."}
	var out []string
	for i := range n {
		c, _, err := b.svc.Act(ctx, b.agent, id, workflow.Action{Type: docket.OpRemove, Target: &docket.Target{Kind: "message", Value: fmt.Sprint(i)}, Reasons: reasons})
		if err != nil {
			b.t.Fatal(err)
		}
		a := c.Actions[len(c.Actions)-1]
		err = b.svc.Change(ctx, id, docket.ActorPlatform, func(tx docket.Tx, cs *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
			if _, err := rec(docket.EventActionDone, docket.ActionDone{Action: a.Seq, Op: a.Op, EffectiveAt: b.Now()}); err != nil {
				return err
			}
			return b.svc.QueueStatement(ctx, tx, cs, a.Seq, b.Now().Add(-time.Hour))
		})
		if err != nil {
			b.t.Fatal(err)
		}
		out = append(out, a.Statement.PUID)
	}
	return out
}

func (b *bench) run() {
	b.t.Helper()
	if err := b.sub.Run(context.Background(), nil); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bench) statement(puid string) *docket.StatementRecord {
	b.t.Helper()
	r, err := b.store.Statement(context.Background(), puid)
	if err != nil {
		b.t.Fatal(err)
	}
	return r
}

// submission is the statement's submission as its case shows it.
func (b *bench) submission(puid string) *docket.Submission {
	b.t.Helper()
	r := b.statement(puid)
	c, err := b.store.Case(context.Background(), r.CaseID)
	if err != nil {
		b.t.Fatal(err)
	}
	return c.Action(r.Action).Submission
}

func (b *bench) verify() {
	b.t.Helper()
	if _, err := audit.Verify(context.Background(), b.store, 0, ""); err != nil {
		b.t.Fatal(err)
	}
}

func each(t *testing.T, fn func(t *testing.T, b *bench)) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) { fn(t, setup(t, engine)) })
	}
}

// TestAccepted: one statement goes to POST /api/v1/statement and is accepted with the
// database's id, on its case too.
func TestAccepted(t *testing.T) {
	each(t, func(t *testing.T, b *bench) {
		p := b.removals(1)[0]
		b.run()
		calls := b.db.Calls()
		if len(calls) != 1 || calls[0].Path != transparency.PathStatement || calls[0].Status != 201 {
			t.Fatalf("calls %+v", calls)
		}
		r := b.statement(p)
		if r.State != docket.SubmissionAccepted || r.RemoteID == "" || r.RemoteID != b.db.UUID(platform, p) || r.Attempts != 1 {
			t.Fatalf("statement %+v", r)
		}
		if sub := b.submission(p); sub.State != docket.SubmissionAccepted || sub.ID != r.RemoteID {
			t.Errorf("the case shows %+v", sub)
		}
		stored := b.db.Stored()
		if len(stored) != 1 || stored[0].Statement["puid"] != p || stored[0].Statement["decision_facts"] != "Removal order T." {
			t.Errorf("the database holds %+v", stored)
		}
		b.run()
		if n := len(b.db.Calls()); n != 1 {
			t.Errorf("%d calls: an accepted statement was sent again", n)
		}
		b.verify()
	})
}

// TestBatches: many statements go in batches of up to 100 (POST /api/v1/statements).
func TestBatches(t *testing.T) {
	each(t, func(t *testing.T, b *bench) {
		ps := b.removals(150)
		b.run()
		calls := b.db.Calls()
		if len(calls) != 2 || calls[0].Path != transparency.PathStatements || calls[0].Statements != 100 || calls[1].Statements != 50 {
			t.Fatalf("calls %+v", calls)
		}
		for _, p := range ps {
			if r := b.statement(p); r.State != docket.SubmissionAccepted || r.RemoteID != b.db.UUID(platform, p) {
				t.Fatalf("statement %+v", r)
			}
		}
		st, _ := b.store.Stats(context.Background(), b.Now())
		if st.StatementsPending != 0 || st.StatementsRefused != 0 {
			t.Errorf("stats %+v", st)
		}
		b.verify()
	})
}

// TestRefused: what the database refuses (here a puid it already holds for the platform:
// its 422 answer) is refused with the database's words, never sent again; in a batch, the
// other statements, of which nothing was stored, go again at once.
func TestRefused(t *testing.T) {
	each(t, func(t *testing.T, b *bench) {
		one := b.removals(1)[0]
		b.db.Hold(platform, one)
		b.run()
		r := b.statement(one)
		if r.State != docket.SubmissionRefused || !strings.Contains(r.Error, "The identifier given is not unique within this platform.") {
			t.Fatalf("statement %+v", r)
		}
		if sub := b.submission(one); sub.State != docket.SubmissionRefused || sub.Error != r.Error {
			t.Errorf("the case shows %+v", sub)
		}
		b.advance(24 * time.Hour)
		b.run()
		if n := len(b.db.Calls()); n != 1 {
			t.Errorf("%d calls: a refused statement was sent again", n)
		}

		three := b.removals(3)
		b.db.Hold(platform, three[1])
		b.run()
		if r := b.statement(three[1]); r.State != docket.SubmissionRefused || !strings.Contains(r.Error, "existing_puids") {
			t.Errorf("refused in a batch: %+v", r)
		}
		for _, p := range []string{three[0], three[2]} {
			if r := b.statement(p); r.State != docket.SubmissionAccepted {
				t.Errorf("the others of the batch: %+v", r)
			}
		}
		calls := b.db.Calls()[1:]
		if len(calls) != 2 || calls[0].Statements != 3 || calls[0].Status != 422 || calls[1].Statements != 2 || calls[1].Status != 201 {
			t.Errorf("calls %+v", calls)
		}
		// A 4xx that judges the request is a refusal too, with the database's answer.
		four := b.removals(1)[0]
		b.db.FailNext(http.StatusBadRequest)
		b.run()
		if r := b.statement(four); r.State != docket.SubmissionRefused || !strings.Contains(r.Error, "Bad Request") {
			t.Errorf("after a 400: %+v", r)
		}
		st, _ := b.store.Stats(context.Background(), b.Now())
		if st.StatementsRefused != 3 || st.StatementsPending != 0 {
			t.Errorf("stats %+v", st)
		}
		b.verify()
	})
}

// TestRetried: a 5xx, no answer in time, 429, and an unknown token are retried with backoff
// (1 s, 2 s, 4 s…), the statement pending meanwhile; an attempt whose answer was lost and
// that the database stored ends accepted when the database says it holds the puid.
func TestRetried(t *testing.T) {
	each(t, func(t *testing.T, b *bench) {
		p := b.removals(1)[0]
		b.db.FailNext(http.StatusServiceUnavailable)
		b.run()
		r := b.statement(p)
		if r.State != docket.SubmissionPending || r.Attempts != 1 || !strings.Contains(r.LastError, "503") || !r.NextAt.Equal(b.Now().Add(time.Second)) {
			t.Fatalf("after a 503: %+v", r)
		}
		b.run()
		if n := len(b.db.Calls()); n != 1 {
			t.Fatalf("sent again before its time: %d calls", n)
		}
		b.db.FailNext(http.StatusTooManyRequests, http.StatusBadGateway)
		for range 2 {
			b.advance(time.Hour)
			b.run()
		}
		if r := b.statement(p); r.State != docket.SubmissionPending || r.Attempts != 3 || !strings.Contains(r.LastError, "502") {
			t.Fatalf("after 429 and 502: %+v", r)
		}
		b.advance(time.Hour)
		b.run()
		if r := b.statement(p); r.State != docket.SubmissionAccepted || r.Attempts != 4 || r.RemoteID == "" {
			t.Fatalf("at last: %+v", r)
		}

		// A token the database does not know: not the statement's fault, retried.
		q := b.removals(1)[0]
		b.sub.Client.Token = "revoked"
		b.run()
		if r := b.statement(q); r.State != docket.SubmissionPending || !strings.Contains(r.LastError, "401") || !strings.Contains(r.LastError, "sor_token") {
			t.Fatalf("with a revoked token: %+v", r)
		}
		b.sub.Client.Token = "good-token"
		b.advance(time.Minute)
		b.run()
		if r := b.statement(q); r.State != docket.SubmissionAccepted {
			t.Fatalf("with the new token: %+v", r)
		}

		// The database stores the statement but answers too late: the next attempt learns
		// that it holds the puid.
		l := b.removals(1)[0]
		b.sub.Client.HTTP = &http.Client{Timeout: 100 * time.Millisecond}
		b.db.Delay(time.Second)
		b.run()
		if r := b.statement(l); r.State != docket.SubmissionPending || !strings.Contains(r.LastError, "no answer") || b.db.UUID(platform, l) == "" {
			t.Fatalf("after a timeout: %+v", r)
		}
		b.db.Delay(0)
		b.advance(time.Minute)
		b.run()
		r = b.statement(l)
		if r.State != docket.SubmissionAccepted || r.RemoteID != "" {
			t.Fatalf("after the timeout: %+v", r)
		}
		events, _ := b.store.CaseEvents(context.Background(), r.CaseID)
		last := events[len(events)-1]
		if last.Type != docket.EventStatementAccepted || !strings.Contains(string(last.Data), `"existing":true`) {
			t.Errorf("last event %s %s", last.Type, last.Data)
		}
		b.verify()
	})
}
