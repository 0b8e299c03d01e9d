package hashindex

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// The benchmark sets are built once per run: a million hashes take about a second.
var benchSets = map[string]func() set{
	"random":    sync.OnceValue(func() set { return randomSet(51, 1_000_000, 4096) }),
	"clustered": sync.OnceValue(func() set { return clusteredSet(52, 1_000_000, 3000, 4096) }),
}

var benchIndexes = map[string]func() *Index{
	"random":    sync.OnceValue(func() *Index { return benchSets["random"]().build(nil, auto) }),
	"clustered": sync.OnceValue(func() *Index { return benchSets["clustered"]().build(nil, auto) }),
}

// BenchmarkSearch: one query at radius 31 in an index of 1M hashes, on one core (queries
// are near-duplicates of stored hashes and random hashes, half each).
func BenchmarkSearch(b *testing.B) {
	for _, name := range []string{"random", "clustered"} {
		b.Run(name+"/1M", func(b *testing.B) {
			s, x := benchSets[name](), benchIndexes[name]()
			var dst []Match
			i, found := 0, 0
			for b.Loop() {
				dst = x.SearchAppend(dst[:0], s.queries[i%len(s.queries)], 31)
				found += len(dst)
				i++
			}
			b.ReportMetric(float64(found)/float64(i), "matches/op")
		})
	}
}

// BenchmarkBruteForce: the same queries compared with every hash, split across all cores.
func BenchmarkBruteForce(b *testing.B) {
	for _, name := range []string{"random", "clustered"} {
		b.Run(name+"/1M", func(b *testing.B) {
			s := benchSets[name]()
			i := 0
			for b.Loop() {
				BruteForce(s.ids, s.hs, s.queries[i%len(s.queries)], 31)
				i++
			}
		})
	}
}

// BenchmarkBuild: indexing a million hashes at once.
func BenchmarkBuild(b *testing.B) {
	s := benchSets["random"]()
	for b.Loop() {
		b.StopTimer()
		ids, hs := slices.Clone(s.ids), slices.Clone(s.hs)
		b.StartTimer()
		if err := New().Build(ids, hs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdd: adding hashes one by one to an index of a million, until they are in
// segments (the background indexing and merging included). Each is found by searches as
// soon as Add returns.
func BenchmarkAdd(b *testing.B) {
	x := benchSets["random"]().build(b, auto)
	rng := rand.New(rand.NewPCG(54, 54))
	b.ResetTimer()
	for i := range b.N {
		x.Add(uint32(2_000_000+i), randomHash(rng))
	}
	x.merges.Wait()
}
