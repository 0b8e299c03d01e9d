package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/docket-dev/docket"
)

// queueStatement records on c, in tx, an action on content carried out and its statement
// of reasons queued for the Transparency Database, the way the workflow does (events applied
// to the projection, the row inserted), and returns the row.
func queueStatement(ctx context.Context, tx docket.Tx, c *docket.Case, puid string, at time.Time) (*docket.StatementRecord, error) {
	apply := func(typ docket.EventType, data any) (*docket.Event, error) {
		e := docket.NewEvent(c.ID, typ, docket.ActorPlatform, at, data)
		if err := tx.Append(ctx, e); err != nil {
			return nil, err
		}
		return e, c.Apply(e)
	}
	req, err := apply(docket.EventActionRequested, docket.ActionRequested{Op: docket.OpRemove, Target: docket.Target{Kind: "message", Value: "1"},
		Statement: &docket.StatementOfReasons{PUID: puid, DecisionGround: docket.GroundIllegal, LegalGround: "law", Explanation: "why", Facts: "facts"}, Key: puid})
	if err != nil {
		return nil, err
	}
	if _, err := apply(docket.EventActionDone, docket.ActionDone{Action: req.Seq, Op: docket.OpRemove, EffectiveAt: at}); err != nil {
		return nil, err
	}
	payload := fmt.Appendf(nil, `{"puid":%q,"decision_facts":"facts"}`, puid)
	sum := sha256.Sum256(payload)
	if _, err := apply(docket.EventStatementQueued, docket.StatementQueued{Action: req.Seq, PUID: puid, SHA256: hex.EncodeToString(sum[:]), Statement: payload}); err != nil {
		return nil, err
	}
	r := &docket.StatementRecord{PUID: puid, CaseID: c.ID, Action: req.Seq, Payload: payload, State: docket.SubmissionPending, QueuedAt: at, NextAt: at}
	if err := tx.InsertStatement(ctx, r); err != nil {
		return nil, err
	}
	return r, tx.UpdateCase(ctx, c)
}

// decide records the outcome of a statement (its event and its row) in one transaction.
func decide(t *testing.T, s docket.Store, r *docket.StatementRecord, state, id, msg string, at time.Time) error {
	t.Helper()
	ctx := context.Background()
	return s.Update(ctx, func(tx docket.Tx) error {
		c, err := tx.Case(ctx, r.CaseID)
		if err != nil {
			return err
		}
		var e *docket.Event
		if state == docket.SubmissionAccepted {
			e = docket.NewEvent(c.ID, docket.EventStatementAccepted, docket.ActorTransparency, at, docket.StatementAccepted{Action: r.Action, PUID: r.PUID, ID: id})
		} else {
			e = docket.NewEvent(c.ID, docket.EventStatementRefused, docket.ActorTransparency, at, docket.StatementRefused{Action: r.Action, PUID: r.PUID, Status: 422, Error: msg})
		}
		if err := tx.Append(ctx, e); err != nil {
			return err
		}
		if err := c.Apply(e); err != nil {
			return err
		}
		d := *r
		d.State, d.RemoteID, d.Error, d.DecidedAt = state, id, msg, at
		if err := tx.DecideStatement(ctx, &d); err != nil {
			return err
		}
		return tx.UpdateCase(ctx, c)
	})
}

func testStatements(t *testing.T, s docket.Store) {
	ctx := context.Background()
	var rows []*docket.StatementRecord
	for i, at := range []time.Time{t0.Add(2 * time.Hour), t0, t0.Add(time.Hour)} {
		err := s.Update(ctx, func(tx docket.Tx) error {
			c, _, err := openCase(ctx, tx, caseSpec{regime: "dsa-art16"})
			if err != nil {
				return err
			}
			r, err := queueStatement(ctx, tx, c, fmt.Sprintf("docket-%d", i), at)
			rows = append(rows, r)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Statement(ctx, "docket-1")
	if err != nil || string(got.Payload) != string(rows[1].Payload) || got.CaseID != rows[1].CaseID || got.Action != rows[1].Action ||
		got.State != docket.SubmissionPending || !got.QueuedAt.Equal(t0) || !got.NextAt.Equal(t0) || got.Attempts != 0 {
		t.Fatalf("statement = %+v, %v", got, err)
	}
	if _, err := s.Statement(ctx, "nope"); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("unknown puid: %v", err)
	}
	// A puid is kept once; the failed transaction leaves nothing.
	err = s.Update(ctx, func(tx docket.Tx) error {
		return tx.InsertStatement(ctx, &docket.StatementRecord{PUID: "docket-1", CaseID: rows[1].CaseID, Action: 1, Payload: []byte(`{}`), QueuedAt: t0, NextAt: t0})
	})
	if docket.ErrorCode(err) != docket.ECONFLICT {
		t.Errorf("a puid kept twice: %v", err)
	}
	mustVerify(t, s)
	// Listed in the order they were queued; filtered by time and state.
	list := func(f docket.StatementFilter) []string {
		var out []string
		if err := s.Statements(ctx, f, func(r *docket.StatementRecord) error { out = append(out, r.PUID); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if l := list(docket.StatementFilter{}); !slices.Equal(l, []string{"docket-1", "docket-2", "docket-0"}) {
		t.Errorf("statements %v", l)
	}
	if l := list(docket.StatementFilter{Since: t0.Add(time.Hour)}); !slices.Equal(l, []string{"docket-2", "docket-0"}) {
		t.Errorf("statements since +1h %v", l)
	}
	// Claimed when due, in the order they fell due, each attempt counted, under a lease.
	if c, _ := s.ClaimStatements(ctx, t0.Add(-time.Second), 10, time.Minute); len(c) != 0 {
		t.Errorf("claimed before due: %d", len(c))
	}
	claimed, err := s.ClaimStatements(ctx, t0.Add(90*time.Minute), 10, time.Minute)
	if err != nil || len(claimed) != 2 || claimed[0].PUID != "docket-1" || claimed[1].PUID != "docket-2" || claimed[0].Attempts != 1 {
		t.Fatalf("claimed %v, %v", claimed, err)
	}
	if c, _ := s.ClaimStatements(ctx, t0.Add(90*time.Minute+30*time.Second), 10, time.Minute); len(c) != 0 {
		t.Errorf("claimed again under the lease: %d", len(c))
	}
	if c, _ := s.ClaimStatements(ctx, t0.Add(92*time.Minute), 1, time.Minute); len(c) != 1 || c[0].PUID != "docket-1" || c[0].Attempts != 2 {
		t.Errorf("after the lease: %v", c)
	}
	// Put back for later with the error; an empty error keeps the last one.
	if err := s.RetryStatements(ctx, []string{"docket-1", "docket-2"}, t0.Add(5*time.Hour), "503 Service Unavailable"); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryStatements(ctx, []string{"docket-2"}, t0.Add(5*time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimStatements(ctx, t0.Add(4*time.Hour), 10, time.Minute); len(c) != 1 || c[0].PUID != "docket-0" {
		t.Errorf("claimed before the retry time: %v", c)
	}
	if got, _ := s.Statement(ctx, "docket-2"); got.LastError != "503 Service Unavailable" || !got.NextAt.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("after retry: %+v", got)
	}
	st, err := s.Stats(ctx, t0)
	if err != nil || st.StatementsPending != 3 || st.StatementsRefused != 0 {
		t.Errorf("stats %+v, %v", st, err)
	}
	// Decided once: accepted with the database's id, refused with its reasons.
	if err := decide(t, s, rows[1], docket.SubmissionAccepted, "4b989c23-3736-4fd9-8612-a975b98d88d6", "", t0.Add(6*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := decide(t, s, rows[2], docket.SubmissionRefused, "", `{"message":"The selected category is invalid."}`, t0.Add(6*time.Hour)); err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx docket.Tx) error {
		return tx.DecideStatement(ctx, &docket.StatementRecord{PUID: "docket-1", State: docket.SubmissionRefused, DecidedAt: t0})
	})
	if docket.ErrorCode(err) != docket.ECONFLICT {
		t.Errorf("decided twice: %v", err)
	}
	if got, _ := s.Statement(ctx, "docket-1"); got.State != docket.SubmissionAccepted || got.RemoteID != "4b989c23-3736-4fd9-8612-a975b98d88d6" || !got.DecidedAt.Equal(t0.Add(6*time.Hour)) {
		t.Errorf("accepted: %+v", got)
	}
	if l := list(docket.StatementFilter{State: docket.SubmissionRefused}); !slices.Equal(l, []string{"docket-2"}) {
		t.Errorf("refused %v", l)
	}
	if c, _ := s.ClaimStatements(ctx, t0.Add(9*time.Hour), 10, time.Minute); len(c) != 1 || c[0].PUID != "docket-0" {
		t.Errorf("decided statements claimed: %v", c)
	}
	if err := s.RetryStatements(ctx, []string{"docket-1"}, t0, "late"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Statement(ctx, "docket-1"); got.State != docket.SubmissionAccepted || got.LastError == "late" {
		t.Errorf("a retry changed a decided statement: %+v", got)
	}
	st, _ = s.Stats(ctx, t0)
	if st.StatementsPending != 1 || st.StatementsRefused != 1 {
		t.Errorf("stats %+v", st)
	}
	c, _ := s.Case(ctx, rows[1].CaseID)
	if sub := c.Actions[0].Submission; sub == nil || sub.State != docket.SubmissionAccepted || sub.ID == "" {
		t.Errorf("the case's action: %+v", c.Actions[0])
	}
	rep := mustVerify(t, s)
	if rep.Statements != 3 {
		t.Errorf("verified %d statements", rep.Statements)
	}
}

func testStatementsClaimedOnce(t *testing.T, s docket.Store) {
	ctx := context.Background()
	const n = 40
	err := s.Update(ctx, func(tx docket.Tx) error {
		c, _, err := openCase(ctx, tx, caseSpec{regime: "dsa-art16"})
		if err != nil {
			return err
		}
		for i := range n {
			if _, err := queueStatement(ctx, tx, c, fmt.Sprintf("p-%02d", i), t0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	claimedOnce(t, "statements", n, func() ([]string, error) {
		got, err := s.ClaimStatements(ctx, t0, 3, time.Hour)
		puids := make([]string, len(got))
		for i, r := range got {
			puids[i] = r.PUID
		}
		return puids, err
	})
}
