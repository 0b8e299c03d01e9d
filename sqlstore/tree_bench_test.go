package sqlstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/translog"
	"github.com/docket-dev/docket/workflow"
)

// BenchmarkProofs times what the log's endpoints read from a store holding more and more
// requests: a request's inclusion proof against the latest head (GET
// /api/v1/requests/{id}/proof: its event, the head and O(log n) subtrees), a consistency
// proof between two heads (GET /api/v1/log/consistency), and the offline check of a receipt
// (docket receipt verify, without reading the file).
//
//	DOCKET_TEST_POSTGRES=… go test -run XXX -bench Proofs ./sqlstore/
func BenchmarkProofs(b *testing.B) {
	for _, engine := range storetest.Engines {
		for _, n := range []int{1000, 20000} {
			b.Run(fmt.Sprintf("%s/requests=%d", engine, n), func(b *testing.B) {
				ctx := context.Background()
				store := storetest.Open(b, engine)
				key, err := translog.NewSigner(make([]byte, 32))
				if err != nil {
					b.Fatal(err)
				}
				store.(*sqlstore.Store).SetSigner(key)
				svc := workflow.New(workflow.Config{Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				svc.Start(ctx)
				defer svc.Stop()
				a := &docket.Authority{Name: "Police A", Country: "FR"}
				if _, err := svc.RegisterAuthority(ctx, "bench", a); err != nil {
					b.Fatal(err)
				}
				receipts := make([]docket.Receipt, n)
				var wg sync.WaitGroup
				for w := range 16 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := w; i < n; i += 16 {
							res, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: fmt.Appendf(nil, "%d", i),
								Body: docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure}})
							if err != nil {
								b.Error(err)
								return
							}
							receipts[i] = res.Receipt
						}
					}()
				}
				wg.Wait()
				head, err := store.LatestTreeHead(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.Run("inclusion", func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						r := &receipts[(i*7919)%n]
						if _, err := store.Event(ctx, r.Log.Event.Seq); err != nil {
							b.Fatal(err)
						}
						if _, err := store.TreeHead(ctx, head.TreeSize); err != nil {
							b.Fatal(err)
						}
						if _, err := store.InclusionProof(ctx, r.Log.LeafIndex, head.TreeSize); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("consistency", func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						r := &receipts[(i*7919)%n]
						if _, err := store.ConsistencyProof(ctx, r.Log.TreeHead.TreeSize, head.TreeSize); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("receipt-verify", func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						if err := audit.VerifyReceipt(&receipts[(i*7919)%n], key.Public()); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}
