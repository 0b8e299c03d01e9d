package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/translog"
	"github.com/docket-dev/docket/workflow"
)

// logKey is the tests' log key.
func logKey(t testing.TB) *translog.Signer {
	t.Helper()
	k, err := translog.NewSigner([]byte("the audit tests' log key, 32 b!!"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVerifyChecksTheTree: one SQL statement against the tree's tables each, and verify names
// the table and what is wrong: a changed, deleted or forged subtree, a changed right edge, a
// head whose root or signature was changed or that claims more events than the log holds,
// and a request that names another event as its receipt.
func TestVerifyChecksTheTree(t *testing.T) {
	other, err := translog.NewSigner([]byte("someone else's key, 32 bytes...."))
	if err != nil {
		t.Fatal(err)
	}
	forged := other.Sign(3, translog.Hash{1}, timeOf(t))
	tests := []struct {
		name  string
		query string
		args  []any
		want  string
	}{
		{"subtree changed", `UPDATE tree_nodes SET hash = ? WHERE level = 1 AND idx = 0`, []any{make([]byte, 32)}, "tree_nodes: the hash of subtree 0 at level 1"},
		{"leaf stored forged", `INSERT INTO tree_nodes (level, idx, hash) VALUES (0, 4, ?)`, []any{make([]byte, 32)}, "tree_nodes: the hash of subtree 4 at level 0"},
		{"subtree deleted", `DELETE FROM tree_nodes WHERE level = 2 AND idx = 1`, nil, "1 of the"},
		{"subtree beyond the log", `INSERT INTO tree_nodes (level, idx, hash) VALUES (30, 0, ?)`, []any{make([]byte, 32)}, "beyond the"},
		{"right edge changed", `UPDATE audit_head SET frontier = ?`, []any{make([]byte, 64)}, "audit_head"},
		{"head's root changed", `UPDATE tree_heads SET root_hash = ? WHERE tree_size = (SELECT MIN(tree_size) FROM tree_heads)`, []any{make([]byte, 32)}, "does not match the log"},
		{"head's signature changed", `UPDATE tree_heads SET signature = ? WHERE tree_size = (SELECT MAX(tree_size) FROM tree_heads)`, []any{make([]byte, 64)}, "signature does not verify"},
		{"head beyond the log", `UPDATE tree_heads SET tree_size = tree_size + 1000 WHERE tree_size = (SELECT MAX(tree_size) FROM tree_heads)`, nil, "events were removed"},
		{"head forged with another key", `INSERT INTO tree_heads (tree_size, root_hash, signed_at, signature, public_key) VALUES (3, ?, ?, ?, ?)`,
			[]any{forged.RootHash[:], forged.Timestamp, forged.Signature, translog.KeyLine(other.Public())}, "does not match the log"},
		{"request names another receipt event", `UPDATE requests SET seq = seq + 1 WHERE seq = (SELECT MAX(seq) FROM requests)`, nil, "as its receipt"},
	}
	for _, engine := range storetest.Engines {
		for _, tt := range tests {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				s, _, _ := filled(t, engine)
				exec(t, s, tt.query, tt.args...)
				_, err := audit.Verify(context.Background(), s, 0, "")
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("verify: %v; want a problem naming %q", err, tt.want)
				}
			})
		}
	}
}

// TestTreeBuiltForOldStores: a store written before the tree existed (no subtrees, no right
// edge, requests without their receipt event) gets its tree on the next start, verifies, and
// goes on growing it; until then, writing is refused rather than growing a wrong tree.
func TestTreeBuiltForOldStores(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, _, _ := filled(t, engine)
			before, err := audit.Verify(ctx, s, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			exec(t, s, `DELETE FROM tree_nodes`)
			exec(t, s, `DELETE FROM tree_heads`)
			exec(t, s, `UPDATE audit_head SET frontier = ?`, []byte{})
			exec(t, s, `UPDATE requests SET seq = 0`)
			exec(t, s, `DELETE FROM schema_migrations WHERE version = 1001`)
			if err := s.Update(ctx, func(tx docket.Tx) error { return nil }); err == nil || !strings.Contains(err.Error(), "Merkle tree") {
				t.Fatalf("a write on a store without its tree: %v", err)
			}
			if err := s.(*sqlstore.Store).BuildTree(ctx); err != nil {
				t.Fatal(err)
			}
			after, err := audit.Verify(ctx, s, 0, "")
			if err != nil {
				t.Fatalf("after the tree was built: %v", err)
			}
			if after.TreeRoot != before.TreeRoot || after.TreeNodes != before.TreeNodes || after.TreeHeads != 0 {
				t.Fatalf("rebuilt tree %+v differs from the one grown (%+v)", after, before)
			}
			if err := s.(*sqlstore.Store).BuildTree(ctx); err != nil { // once only
				t.Fatal(err)
			}
			// More events, signed, on the rebuilt tree.
			svc := workflow.New(workflow.Config{Store: s, Logger: quiet()})
			svc.Start(ctx)
			defer svc.Stop()
			res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(`{"n":"after"}`),
				Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "after the upgrade"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.VerifyReceipt(&res.Receipt, logKey(t).Public()); err != nil {
				t.Fatalf("a receipt on the rebuilt tree: %v", err)
			}
			if rep, err := audit.Verify(ctx, s, 0, ""); err != nil || rep.TreeHeads != 1 {
				t.Fatalf("after more events: %+v, %v", rep, err)
			}
		})
	}
}

func timeOf(t testing.TB) time.Time {
	return time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
}
