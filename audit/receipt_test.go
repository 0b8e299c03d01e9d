package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/translog"
	"github.com/docket-dev/docket/triage"
	"github.com/docket-dev/docket/workflow"
)

// receipts is a service with a signing store, an authority and an agent.
type receipts struct {
	s     docket.Store
	svc   *workflow.Service
	a     *docket.Authority
	agent *docket.User
	key   *translog.Signer
}

func newReceipts(t *testing.T, engine string, tr *triage.Triager) *receipts {
	t.Helper()
	ctx := context.Background()
	r := &receipts{s: storetest.Open(t, engine), key: logKey(t)}
	r.s.(*sqlstore.Store).SetSigner(r.key)
	r.svc = workflow.New(workflow.Config{Store: r.s, Logger: quiet(), Triager: tr})
	r.svc.Start(ctx)
	t.Cleanup(r.svc.Stop)
	r.a = &docket.Authority{Name: "Parquet", Country: "FR"}
	if _, err := r.svc.RegisterAuthority(ctx, "test", r.a); err != nil {
		t.Fatal(err)
	}
	r.agent = &docket.User{Email: "agent@x.org", Role: docket.RoleAgent}
	if _, err := r.svc.AddUser(ctx, "test", r.agent); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *receipts) submit(t *testing.T, body docket.RequestBody, raw, key string) *workflow.Result {
	t.Helper()
	res, err := r.svc.Submit(context.Background(), &workflow.Submission{Channel: docket.ChannelAPI, Authority: r.a, Raw: []byte(raw), Body: body, IdempotencyKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkReceipt verifies a receipt offline, saved as JSON and read back, and that its deadline
// is the case's.
func (r *receipts) checkReceipt(t *testing.T, what string, rec docket.Receipt) docket.Receipt {
	t.Helper()
	js, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var saved docket.Receipt
	if err := json.Unmarshal(js, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Log == nil {
		t.Fatalf("%s: the receipt carries no proof: %s", what, js)
	}
	if err := audit.VerifyReceipt(&saved, r.key.Public()); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, js)
	}
	return saved
}

// TestReceiptsVerifyOffline: every kind of receipt — a new case, a request joining an open
// case, a reply to a question, an idempotent replay, a request whose triage moved its clock
// — verifies offline with the public key alone, saved and read back; and the log only grew
// between its head and a later one.
func TestReceiptsVerifyOffline(t *testing.T) {
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newReceipts(t, engine, tr)
			body := docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: "PV-1",
				Targets: []docket.Target{{Kind: "username", Value: "@suspect"}}}
			first := r.submit(t, body, `{"n":1}`, "k1")
			rec := r.checkReceipt(t, "new case", first.Receipt)
			if rec.Log.Event.Type != docket.EventCaseOpened || rec.Log.TreeHead.TreeSize < rec.Log.LeafIndex+1 {
				t.Fatalf("the proof of a new case: %+v", rec.Log)
			}

			joined := r.submit(t, docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: "PV-1"}, `{"n":2}`, "")
			if joined.Receipt.CaseID != first.Receipt.CaseID {
				t.Fatal("the second request did not join the case")
			}
			if j := r.checkReceipt(t, "joined", joined.Receipt); j.Log.Event.Type != docket.EventRequestReceived {
				t.Fatalf("joined: proven by a %s event", j.Log.Event.Type)
			}

			// A question, then the reply: the clock paused and resumed, the deadline moved.
			for _, act := range []workflow.Action{{Type: "decide", Outcome: "need_info", Statement: "Which account?"}, {Type: "answer", Text: "Which account?"}} {
				if _, _, err := r.svc.Act(ctx, r.agent, first.Receipt.CaseID, act); err != nil {
					t.Fatal(err)
				}
			}
			reply, err := r.svc.Reply(ctx, r.a, first.Receipt.ID, &workflow.Submission{Channel: docket.ChannelReply, Authority: r.a, Raw: []byte(`{"text":"@suspect"}`),
				Body: docket.RequestBody{Description: "@suspect"}})
			if err != nil {
				t.Fatal(err)
			}
			if rp := r.checkReceipt(t, "reply", reply.Receipt); rp.Log.Event.Type != docket.EventRequesterReplied {
				t.Fatalf("reply: proven by a %s event", rp.Log.Event.Type)
			}

			// The same key and body again: the first receipt, proven against the latest head.
			again := r.submit(t, body, `{"n":1}`, "k1")
			if !again.Replayed {
				t.Fatal("not replayed")
			}
			re := r.checkReceipt(t, "replay", again.Receipt)
			if !re.ReceivedAt.Equal(rec.ReceivedAt) || !sameDeadline(re.Deadline, rec.Deadline) || re.Log.LeafIndex != rec.Log.LeafIndex {
				t.Fatalf("the replayed receipt differs from the first: %+v, %+v", re, rec)
			}
			if re.Log.TreeHead.TreeSize <= rec.Log.TreeHead.TreeSize {
				t.Fatalf("the replay is proven against head %d, not a later one than %d", re.Log.TreeHead.TreeSize, rec.Log.TreeHead.TreeSize)
			}

			// Triage moves the clock of a request that left its regime open: the receipt says the
			// deadline after the triage, and its event says the same.
			triaged := r.submit(t, docket.RequestBody{Regime: "national-other", RegimeSource: "default", Kind: docket.KindDisclosure,
				Description: "Réquisition judiciaire (article 60-1 du code de procédure pénale) : identité du titulaire du compte @faux_papiers."}, `{"n":3}`, "")
			tc := r.checkReceipt(t, "triaged", triaged.Receipt)
			c, err := r.s.Case(ctx, triaged.Receipt.CaseID)
			if err != nil {
				t.Fatal(err)
			}
			if c.Regime != "fr-requisition" || tc.Deadline == nil || !tc.Deadline.Equal(c.DeadlineAt) {
				t.Fatalf("triaged: regime %s, deadline %v, receipt's %v", c.Regime, c.DeadlineAt, tc.Deadline)
			}

			// Later: the request is still in the newer tree, and that tree extends the receipt's.
			later, err := r.s.LatestTreeHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			proof, err := r.s.InclusionProof(ctx, rec.Log.LeafIndex, later.TreeSize)
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.VerifyInclusionAt(&rec, later, proof, r.key.Public()); err != nil {
				t.Fatal(err)
			}
			cons, err := r.s.ConsistencyProof(ctx, rec.Log.TreeHead.TreeSize, later.TreeSize)
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.VerifyGrowth(&rec.Log.TreeHead, later, cons, r.key.Public()); err != nil {
				t.Fatal(err)
			}
			other, _ := translog.NewSigner([]byte(strings.Repeat("x", 32)))
			if audit.VerifyReceipt(&rec, other.Public()) == nil || audit.VerifyGrowth(&rec.Log.TreeHead, later, cons, other.Public()) == nil {
				t.Fatal("verified with another key")
			}
		})
	}
}

func sameDeadline(a, b *docket.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(b.Time)
}

// TestAlteredReceiptFails: a receipt saved as JSON, with any one value in it changed — each
// string, number, null, each hash of its proof, its proof shortened or lengthened, its proof
// removed — no longer verifies, and the error names the part that failed.
func TestAlteredReceiptFails(t *testing.T) {
	t.Parallel()
	r := newReceipts(t, "sqlite", nil)
	for i := range 5 { // a few requests first, so that the proof is not empty
		r.submit(t, docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure}, fmt.Sprint(i), "")
	}
	res := r.submit(t, docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: "PV-9"}, `{"n":9}`, "")
	r.checkReceipt(t, "untouched", res.Receipt)
	js, _ := json.Marshal(res.Receipt)
	var doc any
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, changed := range mutations(doc, "") {
		n++
		b, _ := json.Marshal(changed)
		var rec docket.Receipt
		if err := json.Unmarshal(b, &rec); err != nil {
			continue // not even a receipt any more: docket receipt verify refuses it too
		}
		err := audit.VerifyReceipt(&rec, r.key.Public())
		var re *audit.ReceiptError
		if err == nil {
			t.Errorf("%s changed: the receipt still verifies\n%s", path, b)
		} else if !errors.As(err, &re) {
			t.Errorf("%s changed: %v is not a ReceiptError", path, err)
		}
	}
	if n < 20 {
		t.Fatalf("only %d changes tried", n)
	}
	var none docket.Receipt
	json.Unmarshal(js, &none)
	none.Log = nil
	if err := audit.VerifyReceipt(&none, r.key.Public()); err == nil || !strings.HasPrefix(err.Error(), "log:") {
		t.Errorf("a receipt without its proof: %v", err)
	}
}

// mutations returns, for every value in a JSON document, the document with that value
// changed (strings: their first letter or digit; numbers: plus one; null: a time; arrays:
// one element more, one less), by the path of the value.
func mutations(doc any, path string) map[string]any {
	out := map[string]any{}
	switch v := doc.(type) {
	case map[string]any:
		for k, child := range v {
			for p, m := range mutations(child, path+"."+k) {
				c := make(map[string]any, len(v))
				for k2, v2 := range v {
					c[k2] = v2
				}
				c[k] = m
				out[p] = c
			}
		}
	case []any:
		for i, child := range v {
			for p, m := range mutations(child, fmt.Sprintf("%s[%d]", path, i)) {
				c := append([]any(nil), v...)
				c[i] = m
				out[p] = c
			}
		}
		if len(v) > 0 {
			out[path+" (one less)"] = append([]any(nil), v[:len(v)-1]...)
			out[path+" (one more)"] = append(append([]any(nil), v...), v[0])
		}
	case string:
		b := []byte(v)
		for i, c := range b {
			switch {
			case c >= '0' && c <= '8', c >= 'a' && c <= 'y', c >= 'A' && c <= 'Y':
				b[i] = c + 1
			case c == '9', c == 'z', c == 'Z':
				b[i] = c - 1
			default:
				continue
			}
			out[path] = string(b)
			break
		}
	case float64:
		out[path] = v + 1
	case nil:
		out[path] = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	case bool:
		out[path] = !v
	}
	return out
}

// TestDeletedEventBreaksConsistency: someone who can write the database deletes an event and
// rewrites the chain after it and the tree so that both verify again, and signs new heads
// with the platform's own key. The heads given out before no longer match: no consistency
// proof from them to any later head verifies, and audit verify names the stored heads the
// rewrite left behind.
func TestDeletedEventBreaksConsistency(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newReceipts(t, engine, nil)
			var kept docket.Receipt
			for i := range 6 {
				res := r.submit(t, docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure}, fmt.Sprint("req ", i), "")
				if i == 4 {
					kept = r.checkReceipt(t, "kept", res.Receipt)
				}
			}
			// The third request's receipt event goes, and everything after it is re-sealed.
			victim := kept.Log.Event.Seq - 4
			rewriteWithout(t, r.s, victim)
			if _, err := audit.Verify(ctx, r.s, 0, ""); err == nil || !strings.Contains(err.Error(), "tree_heads") {
				t.Fatalf("verify after the rewrite: %v; want the stale heads named", err)
			}
			// Forget the stale heads, as the rewriter would, and sign new ones.
			exec(t, r.s, `DELETE FROM tree_heads`)
			r.submit(t, docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure}, "after", "")
			later, err := r.s.LatestTreeHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			old := kept.Log.TreeHead
			if later.TreeSize < old.TreeSize {
				t.Fatalf("the log shrank below the old head: %d < %d", later.TreeSize, old.TreeSize)
			}
			cons, err := r.s.ConsistencyProof(ctx, old.TreeSize, later.TreeSize)
			if err != nil {
				t.Fatal(err)
			}
			err = audit.VerifyGrowth(&old, later, cons, r.key.Public())
			var re *audit.ReceiptError
			if err == nil || !errors.As(err, &re) || re.Field != "consistency" {
				t.Fatalf("consistency from the head before the deletion: %v", err)
			}
		})
	}
}

// rewriteWithout deletes event seq and re-seals every later event, moves the head and the
// requests' receipt events, and rebuilds the tree from the rewritten chain: what someone who
// can write the database does to make the chain verify again.
func rewriteWithout(t *testing.T, s docket.Store, seq int64) {
	t.Helper()
	ctx := context.Background()
	var events []*docket.Event
	if err := s.ScanEvents(ctx, func(e *docket.Event) error { events = append(events, e); return nil }); err != nil {
		t.Fatal(err)
	}
	exec(t, s, `DELETE FROM events WHERE seq = ?`, seq)
	prevSeq, prevHash := seq-1, events[seq-2].Hash
	for _, e := range events[seq:] {
		old := e.Seq
		audit.Seal(prevSeq, prevHash, e)
		exec(t, s, `UPDATE events SET seq = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Seq, e.PrevHash, e.Hash, old)
		prevSeq, prevHash = e.Seq, e.Hash
	}
	exec(t, s, `UPDATE audit_head SET seq = ?, hash = ?, frontier = ?`, prevSeq, prevHash, []byte{})
	exec(t, s, `UPDATE requests SET seq = seq - 1 WHERE seq > ?`, seq)
	exec(t, s, `DELETE FROM tree_nodes`)
	exec(t, s, `DELETE FROM schema_migrations WHERE version = 1001`)
	if err := s.(*sqlstore.Store).BuildTree(ctx); err != nil {
		t.Fatal(err)
	}
}
