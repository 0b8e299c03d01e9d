package workflow_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/translog"
	"github.com/docket-dev/docket/workflow"
)

// BenchmarkSubmit measures the intake behind the HTTP layer: receipts committed per second
// by concurrent submitters sharing group commits.
//
//	go test -run XXX -bench Submit -benchtime 20000x ./workflow/
func BenchmarkSubmit(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(engine, func(b *testing.B) {
			f := &fixture{store: storetest.Open(b, engine), users: map[docket.Role]*docket.User{}}
			// As docket serve does: every commit signs the head of the log's Merkle tree, and
			// every receipt carries its proof.
			key, err := translog.NewSigner(make([]byte, 32))
			if err != nil {
				b.Fatal(err)
			}
			f.store.(*sqlstore.Store).SetSigner(key)
			f.svc = workflow.New(workflow.Config{Store: f.store})
			f.svc.Start(context.Background())
			defer f.svc.Stop()
			a := &docket.Authority{Name: "Bench", Country: "FR"}
			if _, err := f.svc.RegisterAuthority(context.Background(), "bench", a); err != nil {
				b.Fatal(err)
			}
			raw := []byte(`{"regime":"fr-requisition","kind":"disclosure","reference":"PV","description":"Réquisition judiciaire : identification du titulaire du compte et adresses IP de connexion entre le 1er et le 15 novembre 2026.","legal_basis":"Articles 60-1 et 77-1-1 du code de procédure pénale","targets":[{"kind":"username","value":"@suspect"},{"kind":"phone","value":"+33612345678"}]}`)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						// Each request about its own matter, as most are (see the related-requests tests).
						res, err := f.svc.Submit(context.Background(), &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: raw,
							Body: docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: fmt.Sprint("PV-", i),
								Targets: []docket.Target{{Kind: "username", Value: fmt.Sprint("@suspect", i)}, {Kind: "phone", Value: fmt.Sprintf("+336%08d", i)}}}})
						if err != nil {
							b.Error(err)
							return
						}
						if res.Receipt.Log == nil {
							b.Error("a receipt without its proof")
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "receipts/s")
		})
	}
}
