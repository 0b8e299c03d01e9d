package audit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/translog"
	"github.com/docket-dev/docket/workflow"
)

// TestVerifySince, on each engine: a signed head kept as a checkpoint after a full
// verification; more requests and actions; the incremental check passes, reading only what
// came after; then one tampering each, after the checkpoint and before it, and the check
// names what is wrong: an event added since changed, a case those events touched changed, the
// tree of the checkpoint rewritten, the latest head's signature, a checkpoint signed with
// another key.
func TestVerifySince(t *testing.T) {
	other, err := translog.NewSigner([]byte("someone else's key, 32 bytes...."))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, s docket.Store, cp *translog.SignedTreeHead) *translog.SignedTreeHead
		want   string
	}{
		{"untouched", nil, ""},
		{"an event since changed", func(t *testing.T, s docket.Store, cp *translog.SignedTreeHead) *translog.SignedTreeHead {
			exec(t, s, `UPDATE events SET actor = 'user:someone-else' WHERE seq = (SELECT MAX(seq) FROM events)`)
			return cp
		}, "does not hash to its stored hash"},
		{"a case touched since changed", func(t *testing.T, s docket.Store, cp *translog.SignedTreeHead) *translog.SignedTreeHead {
			exec(t, s, `UPDATE cases SET doc = REPLACE(doc, '"queue":"removal"', '"queue":"trash"') WHERE id = (SELECT case_id FROM events WHERE seq = (SELECT MAX(seq) FROM events))`)
			return cp
		}, "is not what its events make it"},
		{"the checkpoint's tree rewritten", func(t *testing.T, s docket.Store, cp *translog.SignedTreeHead) *translog.SignedTreeHead {
			// The largest subtree of the checkpoint's tree: one its root is folded from.
			id := translog.Decompose(0, cp.TreeSize, nil)[0]
			if id.Level == 0 {
				t.Skip("the checkpoint's tree has a single leaf")
			}
			exec(t, s, `UPDATE tree_nodes SET hash = ? WHERE level = ? AND idx = ?`, make([]byte, 32), int64(id.Level), int64(id.Index))
			return cp
		}, "no longer gives the checkpoint's root"},
		{"the latest head's signature", func(t *testing.T, s docket.Store, cp *translog.SignedTreeHead) *translog.SignedTreeHead {
			exec(t, s, `UPDATE tree_heads SET signature = ? WHERE tree_size = (SELECT MAX(tree_size) FROM tree_heads)`, make([]byte, 64))
			return cp
		}, "latest signed tree head does not verify"},
		{"a checkpoint of another key", func(t *testing.T, s docket.Store, cp *translog.SignedTreeHead) *translog.SignedTreeHead {
			forged := other.Sign(cp.TreeSize, cp.RootHash, timeOf(t))
			return &forged
		}, "checkpoint's signature does not verify"},
	}
	for _, engine := range storetest.Engines {
		for _, tt := range tests {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				s, caseID, _ := filled(t, engine)
				st := s.(*sqlstore.Store)
				if _, err := audit.Verify(ctx, s, 0, ""); err != nil {
					t.Fatalf("full verification before the checkpoint: %v", err)
				}
				cp, err := st.LatestTreeHead(ctx)
				if err != nil {
					t.Fatal(err)
				}
				// More work after the checkpoint: a request, a comment on an old case.
				svc := workflow.New(workflow.Config{Store: s, Logger: quiet()})
				svc.Start(ctx)
				res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte("later"),
					Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "later notice",
						Notifier: &docket.Notifier{GoodFaith: true}, Targets: []docket.Target{{Kind: "url", Value: "https://example.org/m/9"}}}})
				if err != nil {
					t.Fatal(err)
				}
				users := 0
				_ = st.ScanUsers(ctx, func(u *docket.UserAdded) error { users++; return nil })
				if err := svc.Record(ctx, caseID, docket.ActorClock, workflow.Entry{Type: docket.EventDueSoon, Data: struct{}{}}); err != nil {
					t.Fatal(err)
				}
				svc.Stop()
				if tt.tamper != nil {
					cp = tt.tamper(t, s, cp)
				}
				rep, err := audit.VerifySince(ctx, st, cp, logKey(t).Public())
				if tt.want == "" {
					if err != nil {
						t.Fatalf("untouched: %v", err)
					}
					if rep.Events < 2 || rep.Cases < 2 || rep.To <= rep.From {
						t.Fatalf("report %+v: want the events since the checkpoint and the cases they touched (%s and the new one)", rep, res.Receipt.CaseID)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("%s: %v, want %q", tt.name, err, tt.want)
				}
			})
		}
	}
}
