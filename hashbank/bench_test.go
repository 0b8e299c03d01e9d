package hashbank_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/hashbank"
	"github.com/docket-dev/docket/pdq"
)

// generated is a store that holds one enabled bank of n random PDQ hashes and answers only
// what a Matcher asks (Banks and BankHashes); its rows are made as they are read, as a
// database's would be.
type generated struct {
	docket.Store
	n int
}

func (g *generated) Banks(context.Context) ([]*docket.Bank, error) {
	return []*docket.Bank{{ID: "bank", Name: "bank", Enabled: true, ChangedSeq: 1}}, nil
}

func (g *generated) BankHashes(_ context.Context, _ docket.BankHashFilter, fn func(*docket.BankHash) error) error {
	rng := rand.New(rand.NewPCG(1, 2))
	for range g.n {
		h := docket.BankHash{BankID: fmt.Sprint("bank"), Kind: docket.HashPDQ, AddedSeq: 1,
			Hash: fmt.Sprintf("%016x%016x%016x%016x", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())}
		if err := fn(&h); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkMatcher loads a million PDQ hashes (reported: the heap they take, in bytes a
// hash, and the seconds the load took, rows generated included) and looks up the eight dihedral hashes of a random picture among them.
func BenchmarkMatcher(b *testing.B) {
	const n = 1_000_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := hashbank.New(hashbank.Config{Store: &generated{n: n}})
	start := time.Now()
	if err := x.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	var d pdq.Dihedral
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range d.Hashes {
		d.Hashes[i] = pdq.Hash{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
	}
	for b.Loop() {
		x.Lookup("", "", &d)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-bytes/hash")
	b.ReportMetric(load.Seconds(), "load-s")
	runtime.KeepAlive(x)
}
