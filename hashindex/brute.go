package hashindex

import (
	"cmp"
	"math/bits"
	"runtime"
	"slices"
	"sync"
)

// Match is a stored hash within the radius of a query: the caller's ID for it and its
// distance to the query.
type Match struct {
	ID       uint32
	Distance int
}

// sortMatches puts the nearest first, then by ID: the order of every search result.
func sortMatches(ms []Match) {
	slices.SortFunc(ms, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ID, b.ID))
	})
}

// BruteForce compares q with every hash of hs and returns, nearest first, the IDs (ids[i]
// is the ID of hs[i]) of those within radius. Large lists are split across all cores. It
// is the oracle the index is tested against, and the baseline of its benchmarks.
func BruteForce(ids []uint32, hs []Hash, q Hash, radius int) []Match {
	if len(ids) != len(hs) {
		panic("hashindex: BruteForce with as many IDs as hashes")
	}
	parts := runtime.GOMAXPROCS(0)
	if len(hs) < 1<<16 || parts == 1 {
		ms := scan(nil, ids, hs, &q, radius)
		sortMatches(ms)
		return ms
	}
	found := make([][]Match, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := len(hs)*p/parts, len(hs)*(p+1)/parts
		wg.Go(func() { found[p] = scan(nil, ids[lo:hi], hs[lo:hi], &q, radius) })
	}
	wg.Wait()
	ms := slices.Concat(found...)
	sortMatches(ms)
	return ms
}

// scan appends the hashes of hs within radius of q, unsorted.
func scan(dst []Match, ids []uint32, hs []Hash, q *Hash, radius int) []Match {
	q0, q1, q2, q3 := q[0], q[1], q[2], q[3]
	ids = ids[:len(hs)]
	for i := range hs {
		h := &hs[i]
		d := bits.OnesCount64(h[0]^q0) + bits.OnesCount64(h[1]^q1) +
			bits.OnesCount64(h[2]^q2) + bits.OnesCount64(h[3]^q3)
		if d <= radius {
			dst = append(dst, Match{ID: ids[i], Distance: d})
		}
	}
	return dst
}
