package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// misuseSetup is setup with the rule of DSA art. 23 set to m.
func misuseSetup(t *testing.T, engine string, m workflow.MisuseConfig) *fixture {
	t.Helper()
	f := setup(t, engine)
	f.svc.Stop()
	f.svc = workflow.New(workflow.Config{Store: f.store, Now: f.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Misuse: m})
	f.svc.Start(context.Background())
	t.Cleanup(f.svc.Stop)
	return f
}

// words makes texts that share no near-duplicate: each notice opens its own case.
var noticeWords = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber basalt cobalt dune ember fjord glacier harbour island jungle")

func (f *fixture) notice(t *testing.T, r *rand.Rand, email string, flagger *docket.Flagger) (*workflow.Result, error) {
	t.Helper()
	var b strings.Builder
	for range 30 {
		b.WriteString(noticeWords[r.IntN(len(noticeWords))] + " ")
	}
	text := b.String()
	raw, _ := json.Marshal(map[string]any{"explanation": text, "email": email, "n": r.Int64()})
	return f.svc.Submit(context.Background(), &workflow.Submission{
		Channel: docket.ChannelNotice, Raw: raw, Flagger: flagger,
		Body: docket.RequestBody{Regime: "dsa-art16", RegimeSource: "requester", Kind: docket.KindNotice, Description: text,
			Targets:  []docket.Target{{Kind: "url", Value: fmt.Sprintf("https://platform.example/m/%d", r.Int64())}},
			Notifier: &docket.Notifier{Name: "N", Email: email, GoodFaith: true}},
	})
}

func (f *fixture) closeCase(t *testing.T, caseID string, outcome docket.Outcome, reason string) {
	t.Helper()
	ctx := context.Background()
	agent := f.users[docket.RoleAgent]
	if _, _, err := f.svc.Act(ctx, agent, caseID, workflow.Action{Type: workflow.ActDecide, Outcome: outcome, ReasonCode: reason, Statement: "decided"}); err != nil {
		t.Fatalf("decide %s: %v", caseID, err)
	}
	if _, _, err := f.svc.Act(ctx, agent, caseID, workflow.Action{Type: workflow.ActAnswer, Text: "answered"}); err != nil {
		t.Fatalf("answer %s: %v", caseID, err)
	}
}

// TestTrustedFlaggerNotices: a trusted flagger's notice is marked at receipt, falls under the
// trusted flagger's regime (its shorter clock puts it ahead of older ordinary notices in
// the queue), and counts for the flagger once answered; a suspended status makes its notices
// ordinary ones until the suspension ends; a revoked one is refused; audit verify holds.
func TestTrustedFlaggerNotices(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t, engine)
			r := rand.New(rand.NewPCG(1, 2))
			if _, _, err := f.svc.RegisterFlagger(ctx, "test", workflow.FlaggerSpec{Name: "Hotline", Coordinator: "Arcom (FR)"}); docket.ErrorCode(err) != docket.EINVALID {
				t.Fatalf("a flagger without areas: %v, want invalid", err)
			}
			fl, token, err := f.svc.RegisterFlagger(ctx, "test", workflow.FlaggerSpec{Name: "Hotline", Coordinator: "Arcom (FR)", Areas: []string{"protection_of_minors"}})
			if err != nil || !strings.HasPrefix(token, "dkf_") || fl.Areas[0] != "STATEMENT_CATEGORY_PROTECTION_OF_MINORS" {
				t.Fatalf("register: %v %q %v", err, token, fl)
			}
			if got, err := f.store.FlaggerByToken(ctx, docket.HashToken(token)); err != nil || got.ID != fl.ID {
				t.Fatalf("by token: %v %v", got, err)
			}
			ordinary, err := f.notice(t, r, "someone@example.org", nil)
			if err != nil {
				t.Fatal(err)
			}
			f.advance(time.Hour)
			trusted, err := f.notice(t, r, "analyst@hotline.example", fl)
			if err != nil {
				t.Fatal(err)
			}
			tc, err := f.store.Case(ctx, trusted.Receipt.CaseID)
			if err != nil {
				t.Fatal(err)
			}
			if tc.TrustedFlagger != fl.ID || tc.Regime != workflow.RegimeTrustedFlagger || !tc.DeadlineAt.Equal(tc.ReceivedAt.Add(48*time.Hour)) {
				t.Fatalf("trusted flagger's case: flagger %q regime %s deadline %s (received %s)", tc.TrustedFlagger, tc.Regime, tc.DeadlineAt, tc.ReceivedAt)
			}
			req, _ := f.store.Request(ctx, trusted.Receipt.ID)
			if req.Body.Notifier.FlaggerID != fl.ID || !req.Body.Notifier.Trusted {
				t.Fatalf("request's notifier: %+v", req.Body.Notifier)
			}
			queue, err := f.store.Cases(ctx, docket.CaseFilter{Pending: true, Queue: "notices", Now: f.Now()})
			if err != nil || len(queue) != 2 || queue[0].ID != tc.ID || queue[1].ID != ordinary.Receipt.CaseID {
				t.Fatalf("queue: %v %v, want the trusted flagger's notice first", queue, err)
			}
			f.closeCase(t, tc.ID, docket.OutcomeComply, "")
			if n, err := f.store.Notifier(ctx, "flagger:"+fl.ID); err != nil || n.Actioned != 1 || n.Unfounded != 0 || n.FlaggerID != fl.ID {
				t.Fatalf("flagger's counts: %+v %v", n, err)
			}

			// A suspended status: its notices are ordinary until the end.
			if _, err := f.svc.ChangeFlagger(ctx, "test", fl.ID, workflow.FlaggerChange{Status: docket.FlaggerSuspended, Until: f.Now().Add(24 * time.Hour)}); docket.ErrorCode(err) != docket.EINVALID {
				t.Fatalf("suspension without reason: %v", err)
			}
			if _, err := f.svc.ChangeFlagger(ctx, "test", fl.ID, workflow.FlaggerChange{Status: docket.FlaggerSuspended, Until: f.Now().Add(24 * time.Hour), Reason: "DSC investigation (art. 22(7))"}); err != nil {
				t.Fatal(err)
			}
			during, err := f.notice(t, r, "analyst@hotline.example", fl)
			if err != nil {
				t.Fatal(err)
			}
			if c, _ := f.store.Case(ctx, during.Receipt.CaseID); c.TrustedFlagger != "" || c.Regime != "dsa-art16" {
				t.Fatalf("notice during the status suspension: flagger %q regime %s", c.TrustedFlagger, c.Regime)
			}
			f.advance(25 * time.Hour)
			after, err := f.notice(t, r, "analyst@hotline.example", fl)
			if err != nil {
				t.Fatal(err)
			}
			if c, _ := f.store.Case(ctx, after.Receipt.CaseID); c.TrustedFlagger != fl.ID {
				t.Fatalf("the suspension did not end by itself: %+v", c)
			}
			if _, err := f.svc.ChangeFlagger(ctx, "test", fl.ID, workflow.FlaggerChange{Status: docket.FlaggerRevoked, Reason: "status revoked by the coordinator"}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.notice(t, r, "analyst@hotline.example", fl); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
				t.Fatalf("notice with a revoked flagger's token: %v", err)
			}
			if _, err := f.svc.ChangeFlagger(ctx, "test", fl.ID, workflow.FlaggerChange{Status: docket.FlaggerActive, Reason: "oops"}); docket.ErrorCode(err) != docket.ESTATE {
				t.Fatalf("reinstating a revoked flagger: %v", err)
			}
			rep, err := audit.Verify(ctx, f.store, 0, "")
			if err != nil {
				t.Fatalf("audit verify: %v", err)
			}
			if rep.Flaggers != 1 || rep.Notifiers != 1 || rep.Assessments != 1 {
				t.Fatalf("audit covered %d flaggers, %d notifiers, %d assessments", rep.Flaggers, rep.Notifiers, rep.Assessments)
			}
		})
	}
}

// TestMisuseModel drives random sequences of notices from a few notifiers (e-mail addresses
// and a trusted flagger), decisions on them and the passing of time, and checks against a
// model: every notice is stored and gets a receipt; a notice received while its notifier is
// suspended opens a case of its own that is closed unreviewed (not actionable,
// notifier_suspended) and none is processed otherwise; the counts of each notifier are the
// model's; every suspension follows a warning of the same notifier given after its
// previous suspension; and audit verify holds.
func TestMisuseModel(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			seeds := 4
			if engine == "postgres" {
				seeds = 2
			}
			for seed := range seeds {
				t.Run(fmt.Sprint(seed), func(t *testing.T) { misuseRun(t, engine, uint64(seed)) })
			}
		})
	}
}

func misuseRun(t *testing.T, engine string, seed uint64) {
	ctx := context.Background()
	m := workflow.MisuseConfig{Window: 10 * 24 * time.Hour, MinManifest: 2, Rate: 0.5, Suspension: 3 * 24 * time.Hour}
	f := misuseSetup(t, engine, m)
	r := rand.New(rand.NewPCG(seed, 99))
	fl, _, err := f.svc.RegisterFlagger(ctx, "test", workflow.FlaggerSpec{Name: "Hotline", Coordinator: "CNMC (ES)", Areas: []string{"SCAMS_AND_FRAUD"}})
	if err != nil {
		t.Fatal(err)
	}
	type notifier struct {
		email   string
		flagger *docket.Flagger
		key     string
	}
	notifiers := []notifier{{email: "a@example.org"}, {email: "b@example.org"}, {email: "c@example.org"}, {email: "desk@hotline.example", flagger: fl}}
	for i := range notifiers {
		if notifiers[i].flagger != nil {
			notifiers[i].key = "flagger:" + fl.ID
		} else {
			notifiers[i].key = "email:" + notifiers[i].email
		}
	}
	type counts struct{ actioned, unfounded, manifest int64 }
	model := map[string]*counts{}
	open := map[string]string{} // open case -> its notifier's key
	var suspendedCases, notices []string
	for step := range 120 {
		switch op := r.IntN(10); {
		case op < 5: // a notice
			n := notifiers[r.IntN(len(notifiers))]
			st, err := f.store.Notifier(ctx, n.key)
			suspended := err == nil && st.Suspended(f.Now())
			res, err := f.notice(t, r, n.email, n.flagger)
			if err != nil {
				t.Fatalf("step %d: notice: %v", step, err)
			}
			notices = append(notices, res.Receipt.ID)
			if suspended != (res.Unprocessed != nil) {
				t.Fatalf("step %d: notifier %s suspended %v, but the receipt says unprocessed %v", step, n.key, suspended, res.Unprocessed)
			}
			if suspended {
				suspendedCases = append(suspendedCases, res.Receipt.CaseID)
			} else {
				open[res.Receipt.CaseID] = n.key
			}
		case op < 8 && len(open) > 0: // a person decides and answers
			var id string
			for c := range open {
				if id == "" || c < id {
					id = c
				}
			}
			key := open[id]
			delete(open, id)
			mc := model[key]
			if mc == nil {
				mc = &counts{}
				model[key] = mc
			}
			switch r.IntN(4) {
			case 0:
				f.closeCase(t, id, docket.OutcomeComply, "")
				mc.actioned++
			case 1:
				f.closeCase(t, id, docket.OutcomeNotActionable, "not_illegal")
				mc.unfounded++
			default:
				f.closeCase(t, id, []docket.Outcome{docket.OutcomeRefuse, docket.OutcomeNotActionable}[r.IntN(2)], docket.ReasonManifestlyUnfounded)
				mc.unfounded++
				mc.manifest++
			}
		default:
			f.advance(time.Duration(r.IntN(36)) * time.Hour)
		}
	}
	for _, id := range notices {
		if _, err := f.store.Request(ctx, id); err != nil {
			t.Fatalf("notice %s not stored: %v", id, err)
		}
	}
	for _, id := range suspendedCases {
		events, err := f.store.CaseEvents(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := f.store.Case(ctx, id)
		if c.State != docket.StateAnswered || c.Decision == nil || c.Decision.ReasonCode != docket.ReasonNotifierSuspended || len(c.Decision.Statement) < 50 {
			t.Fatalf("case %s of a suspended notifier: %+v", id, c)
		}
		for _, e := range events {
			if strings.HasPrefix(string(e.Actor), "user:") || e.Type == docket.EventRequestReceived {
				t.Fatalf("case %s of a suspended notifier was processed: %s by %s", id, e.Type, e.Actor)
			}
		}
	}
	var warnings, suspensions int
	lastWarned, lastSuspended := map[string]int64{}, map[string]int64{}
	err = f.store.ScanEvents(ctx, func(e *docket.Event) error {
		switch e.Type {
		case docket.EventNotifierWarned:
			var d docket.NotifierWarned
			json.Unmarshal(e.Data, &d)
			lastWarned[d.Notifier] = e.Seq
			warnings++
		case docket.EventNotifierSuspended:
			var d docket.NotifierSuspended
			json.Unmarshal(e.Data, &d)
			if lastWarned[d.Notifier] <= lastSuspended[d.Notifier] || d.Warning != lastWarned[d.Notifier] {
				return fmt.Errorf("event %d suspends %s without a warning since its last suspension", e.Seq, d.Notifier)
			}
			if !d.Until.Equal(e.At.Add(m.Suspension)) {
				return fmt.Errorf("event %d: suspension until %s, want %s", e.Seq, d.Until, e.At.Add(m.Suspension))
			}
			lastSuspended[d.Notifier] = e.Seq
			suspensions++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key, mc := range model {
		n, err := f.store.Notifier(ctx, key)
		if err != nil || n.Actioned != mc.actioned || n.Unfounded != mc.unfounded || n.Manifest != mc.manifest {
			t.Fatalf("notifier %s: %+v %v, model %+v", key, n, err, *mc)
		}
	}
	if _, err := audit.Verify(ctx, f.store, 0, ""); err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	t.Logf("seed %d: %d notices, %d closed unreviewed, %d warnings, %d suspensions", seed, len(notices), len(suspendedCases), warnings, suspensions)
}

// TestMisuseSuspendsAfterWarning: the rule step by step on one address — a warning, then a
// suspension, a notice during it kept and answered, and one after it processed.
func TestMisuseSuspendsAfterWarning(t *testing.T) {
	ctx := context.Background()
	f := misuseSetup(t, "sqlite", workflow.MisuseConfig{MinManifest: 2, Rate: 0.5, Window: 30 * 24 * time.Hour, Suspension: 7 * 24 * time.Hour})
	r := rand.New(rand.NewPCG(7, 7))
	key := "email:troll@example.org"
	for i := range 3 {
		res, err := f.notice(t, r, "Troll@Example.org", nil)
		if err != nil || res.Unprocessed != nil {
			t.Fatalf("notice %d: %v %+v", i, err, res)
		}
		f.closeCase(t, res.Receipt.CaseID, docket.OutcomeNotActionable, docket.ReasonManifestlyUnfounded)
		n, _ := f.store.Notifier(ctx, key)
		switch i {
		case 0:
			if n.Warnings != 0 {
				t.Fatalf("warned after one manifestly unfounded notice: %+v", n)
			}
		case 1:
			if n.Warnings != 1 || n.Suspensions != 0 {
				t.Fatalf("after two: %+v, want a warning", n)
			}
		case 2:
			if n.Suspensions != 1 || !n.Suspended(f.Now()) || !n.SuspendedUntil.Equal(f.Now().Add(7*24*time.Hour)) {
				t.Fatalf("after three: %+v, want a suspension of 7 days", n)
			}
		}
	}
	res, err := f.notice(t, r, "troll@example.org", nil)
	if err != nil || res.Unprocessed == nil || !strings.Contains(res.Unprocessed.Statement, "Article 23") {
		t.Fatalf("notice during the suspension: %v %+v", err, res)
	}
	if _, err := f.store.Request(ctx, res.Receipt.ID); err != nil {
		t.Fatalf("the notice was not kept: %v", err)
	}
	f.advance(7*24*time.Hour + time.Second)
	res, err = f.notice(t, r, "troll@example.org", nil)
	if err != nil || res.Unprocessed != nil {
		t.Fatalf("notice after the suspension: %v %+v", err, res)
	}
	if c, _ := f.store.Case(ctx, res.Receipt.CaseID); c.State != docket.StateOpen {
		t.Fatalf("after the suspension the notice is not processed: %s", c.State)
	}
	if _, err := audit.Verify(ctx, f.store, 0, ""); err != nil {
		t.Fatal(err)
	}
	// Rows changed behind docket's back (one after the other; the notifiers are checked
	// before the assessments): an assessment softened, one deleted, a suspension lifted.
	db := f.store.(*sqlstore.Store).DB()
	for _, tc := range []struct{ table, tamper string }{
		{"notice_assessments", `UPDATE notice_assessments SET manifest = 0 WHERE request_id = (SELECT MIN(request_id) FROM notice_assessments)`},
		{"notice_assessments", `DELETE FROM notice_assessments WHERE request_id = (SELECT MAX(request_id) FROM notice_assessments)`},
		{"notifiers", `UPDATE notifiers SET suspended_until = 0`},
	} {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(tc.tamper); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		_, err = audit.Verify(ctx, f.store, 0, "")
		if err == nil || !strings.Contains(err.Error(), "table "+tc.table) {
			t.Fatalf("after %s: %v, want a problem with table %s", tc.tamper, err, tc.table)
		}
	}
}
