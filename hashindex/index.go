// Package hashindex finds, exactly, every stored 256-bit hash (PDQ) within a Hamming
// distance of a query, among millions, while hashes are being added.
//
// It is a multi-index (Norouzi, Punjani and Fleet, "Fast exact search in Hamming space with
// multi-index hashing", 2014): the hash is cut into 11 chunks of 20 to 24 bits, and each
// chunk has a table from its value to the hashes that have it. By the pigeonhole
// principle a hash within 31 bits of the query is within 2 bits of it on one of the first
// ten chunks or within 1 on the last (see chunkRadii), so a search visits the buckets near
// the query's chunks and compares the hashes found there with the query. Each match is
// reported by the first chunk that finds it, so no set of seen hashes is kept; equal hashes
// are stored once in the tables, so a hash added a million times costs one comparison.
//
// Hashes are held in immutable segments (a table per chunk, built by counting sort) and a
// small block for the latest additions, read in full by each search; full blocks are turned
// into segments, and small segments merged, in the background.
package hashindex

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// blockSize is how many hashes are added before they are indexed: until then each search
// reads them all (4,096 comparisons, a few microseconds).
const blockSize = 4096

// maxMerge: segments above this size are not merged in the background (a merge holds the
// old segments and the new one in memory at once).
const maxMerge = 1 << 20

// Index is an exact index of 256-bit hashes. It is safe for concurrent use: searches do
// not wait for additions, and a hash is found by every search that starts after its Add
// returned.
type Index struct {
	mu      sync.Mutex // serialises changes of state
	state   atomic.Pointer[state]
	merging bool // a merger runs; under mu
	merges  sync.WaitGroup
	force   strategy // for tests
}

// strategy forces a way of searching segments, for tests.
type strategy int

const (
	auto strategy = iota
	forceScan
	forceProbe
)

// state is what a search reads: it is replaced, never changed, except for the tail's
// count.
type state struct {
	segs   []*segment
	frozen []*block // full blocks not yet in a segment, oldest first
	tail   *block
}

// block holds the latest additions; the first n are published.
type block struct {
	n   atomic.Int32
	hs  [blockSize]Hash
	ids [blockSize]uint32
}

// New returns an empty index.
func New() *Index {
	x := &Index{}
	x.state.Store(&state{tail: new(block)})
	return x
}

// ErrLengths is returned by Build when there are not as many IDs as hashes.
var ErrLengths = errors.New("hashindex: as many IDs as hashes are needed")

// Build adds many hashes at once, ids[i] being the ID of hs[i]: it indexes them before it
// returns, much faster than as many calls to Add. The index takes both slices (so that ten
// million hashes are not held twice): it sorts them in place, IDs alongside, and keeps
// them. The caller may still read them, the same pairs in another order, but must not
// change them. IDs are the caller's; the index does not check that they are distinct.
func (x *Index) Build(ids []uint32, hs []Hash) error {
	if len(ids) != len(hs) {
		return ErrLengths
	}
	var segs []*segment
	for len(hs) > 0 {
		k := min(len(hs), maxSegment)
		segs = append(segs, newSegment(ids[:k:k], hs[:k:k]))
		ids, hs = ids[k:], hs[k:]
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	st := x.state.Load()
	x.state.Store(&state{segs: slices.Concat(st.segs, segs), frozen: st.frozen, tail: st.tail})
	return nil
}

// Add adds hash h with the caller's ID. Searches find it as soon as Add returns.
func (x *Index) Add(id uint32, h Hash) {
	x.mu.Lock()
	defer x.mu.Unlock()
	st := x.state.Load()
	t := st.tail
	k := t.n.Load()
	t.hs[k], t.ids[k] = h, id
	t.n.Store(k + 1)
	if k+1 < blockSize {
		return
	}
	x.state.Store(&state{segs: st.segs, frozen: append(slices.Clip(st.frozen), t), tail: new(block)})
	if !x.merging {
		x.merging = true
		x.merges.Add(1)
		go x.merge()
	}
}

// Len is the number of hashes added.
func (x *Index) Len() int {
	st := x.state.Load()
	n := int(st.tail.n.Load()) + len(st.frozen)*blockSize
	for _, s := range st.segs {
		n += len(s.hs)
	}
	return n
}

// Search returns every hash within radius of q (Hamming distance), nearest first, then by
// ID. For PDQ, 31 is the usual radius.
func (x *Index) Search(q Hash, radius int) []Match { return x.SearchAppend(nil, q, radius) }

// SearchAppend is Search appending to dst, so that a caller can reuse it.
func (x *Index) SearchAppend(dst []Match, q Hash, radius int) []Match {
	if radius < 0 {
		return dst
	}
	start := len(dst)
	st := x.state.Load()
	var sc scratch
	for _, s := range st.segs {
		dst = s.search(dst, &q, radius, x.force, &sc)
	}
	for _, b := range st.frozen {
		dst = scan(dst, b.ids[:], b.hs[:], &q, radius)
	}
	n := st.tail.n.Load()
	dst = scan(dst, st.tail.ids[:n], st.tail.hs[:n], &q, radius)
	sortMatches(dst[start:])
	return dst
}

// merge indexes full blocks, then merges the two newest segments while the newest is at
// least a quarter of the one before, so that segments grow geometrically and stay few
// (segments built by Build are as large as they came, and none above maxMerge is merged).
// It runs until there is nothing left to do.
func (x *Index) merge() {
	defer x.merges.Done()
	for {
		x.mu.Lock()
		st := x.state.Load()
		var blocks []*block
		var olds []*segment
		switch {
		case len(st.frozen) > 0:
			blocks = st.frozen
		case len(st.segs) >= 2:
			a, b := st.segs[len(st.segs)-2], st.segs[len(st.segs)-1]
			if len(a.hs) <= maxMerge && len(b.hs) <= maxMerge && len(b.hs)*4 >= len(a.hs) {
				olds = []*segment{a, b}
			}
		}
		if blocks == nil && olds == nil {
			x.merging = false
			x.mu.Unlock()
			return
		}
		x.mu.Unlock()

		var n int
		for _, b := range blocks {
			n += len(b.hs)
		}
		for _, s := range olds {
			n += len(s.hs)
		}
		ids, hs := make([]uint32, 0, n), make([]Hash, 0, n)
		for _, b := range blocks {
			ids, hs = append(ids, b.ids[:]...), append(hs, b.hs[:]...)
		}
		for _, s := range olds {
			ids, hs = append(ids, s.ids...), append(hs, s.hs...)
		}
		seg := newSegment(ids, hs)

		x.mu.Lock()
		st = x.state.Load()
		// Only this goroutine removes blocks and segments: those it read are still there,
		// the blocks first.
		segs := slices.DeleteFunc(slices.Clone(st.segs), func(s *segment) bool { return slices.Contains(olds, s) })
		x.state.Store(&state{segs: append(segs, seg), frozen: slices.Clone(st.frozen[len(blocks):]), tail: st.tail})
		x.mu.Unlock()
	}
}
