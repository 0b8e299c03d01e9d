package hashindex

import (
	"math"
	"math/bits"
	"runtime"
	"sort"
	"sync"
)

// numChunks is the number of ranges of bits the hash is cut into. Eleven rather than
// sixteen: with 16-bit chunks each probe of a 10-million index meets some 150 hashes that
// all have to be fetched and compared, with 23 bits about one; and each chunk costs four
// bytes per stored hash. At radius 31 the first ten chunks are probed within 2 bits and the
// last within 1 (see chunkRadii), so the last is the narrowest: these widths minimise the
// candidates expected among uniform hashes (about 2,600 a query at 10 million, against
// 2,900 with eight 23-bit chunks after three of 24).
const numChunks = 11

var chunkWidths = [numChunks]uint{24, 24, 24, 24, 24, 24, 23, 23, 23, 23, 20}

// maxSegment is the most hashes one segment holds: an entry keeps its position in 24 bits.
const maxSegment = 1 << 24

// chunk is one range of bits of the hash.
type chunk struct {
	start, width uint
	// The chunk's bits sit in words w0 and w1 (the same word when it does not straddle
	// two), under masks m0 and m1.
	w0, w1 int
	m0, m1 uint64
}

var chunks = layout()

func layout() (cs [numChunks]chunk) {
	start := uint(0)
	for c := range cs {
		width := chunkWidths[c]
		var m [4]uint64
		for k := start; k < start+width; k++ {
			m[k/64] |= 1 << (k % 64)
		}
		w0, w1 := int(start/64), int((start+width-1)/64)
		cs[c] = chunk{start: start, width: width, w0: w0, w1: w1, m0: m[w0]}
		if w1 != w0 {
			cs[c].m1 = m[w1]
		}
		start += width
	}
	if start != 256 {
		panic("hashindex: the chunks do not cover 256 bits")
	}
	return cs
}

// value is the chunk's bits of h, as a number.
func (c *chunk) value(h *Hash) uint32 {
	w, off := c.start/64, c.start%64
	v := h[w] >> off
	if off+c.width > 64 {
		v |= h[w+1] << (64 - off)
	}
	return uint32(v) & (1<<c.width - 1)
}

// dist counts the set bits of x within the chunk.
func (c *chunk) dist(x *Hash) int {
	return bits.OnesCount64(x[c.w0]&c.m0) + bits.OnesCount64(x[c.w1]&c.m1)
}

// chunkRadii says how far to probe each chunk for a search within r. With r = 11k + a
// (0 ≤ a < 11), a hash within r of the query is within k of it on one of the first a+1
// chunks, or within k-1 on one of the others: otherwise it would differ in at least
// (a+1)(k+1) + (10-a)k = r+1 bits. -1: the chunk need not be probed. The first chunks are
// the widest, where a larger radius costs least.
func chunkRadii(r int) (rs [numChunks]int) {
	k, a := r/numChunks, r%numChunks
	for c := range rs {
		rs[c] = k
		if c > a {
			rs[c] = k - 1
		}
	}
	return rs
}

// table indexes one chunk of a segment. The chunk's top bits select a bucket through dir
// (bucket v is ent[dir[v]:dir[v+1]]); each entry holds a position in the segment (shifted
// left by the segment's shift) and the chunk's low bits, which are compared before the
// hash is fetched.
type table struct {
	top, low uint
	dir      []uint32
	ent      []uint32
}

// segment is an immutable multi-index over some hashes.
type segment struct {
	hs  []Hash   // sorted, so equal hashes are side by side
	ids []uint32 // ids[i] is the ID of hs[i]
	// uniq counts distinct hashes: only the first of equal hashes has entries, so a hash
	// stored a million times is fetched once.
	uniq  int
	shift uint
	tabs  [numChunks]table
	// scanAt[r]: for radius r, reading every hash is expected to cost less than probing.
	scanAt [257]bool
}

// newSegment indexes hs, ids[i] being the ID of hs[i]. It sorts both slices in place and
// keeps them. len(hs) is at most maxSegment.
func newSegment(ids []uint32, hs []Hash) *segment {
	n := len(hs)
	if n == 0 || n > maxSegment || len(ids) != n {
		panic("hashindex: bad segment size")
	}
	adviseHuge(hs, true)
	adviseHuge(ids, true)
	sortByHash(ids, hs)
	s := &segment{hs: hs, ids: ids, shift: min(32-uint(bits.Len(uint(n-1))), 24)}
	for p := range hs {
		if s.first(p) {
			s.uniq++
		}
	}
	// Between 4 and 8 distinct hashes per bucket: fewer buckets to visit than with one
	// per hash, and a bucket is read in one cache line or two. (Measured at 1 and 10
	// million: 8 to 16 per bucket is 10–30 % slower, 2 to 4 slower too, and the tables'
	// directories grow.)
	lg := bits.Len(uint(s.uniq)) - 3
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for c := range numChunks {
		width := chunks[c].width
		top := uint(max(lg, int(width)-int(s.shift), 0))
		top = min(top, width)
		s.tabs[c] = table{top: top, low: width - top}
		sem <- struct{}{}
		wg.Go(func() {
			s.fill(c)
			<-sem
		})
	}
	wg.Wait()
	for r := range s.scanAt {
		s.scanAt[r] = s.scanCost() < s.probeCost(r)
	}
	return s
}

// first reports whether hs[p] is the first of its equals.
func (s *segment) first(p int) bool { return p == 0 || s.hs[p] != s.hs[p-1] }

// fill builds chunk c's table by counting sort, entries of a bucket in position order.
func (s *segment) fill(c int) {
	t := &s.tabs[c]
	ch := &chunks[c]
	t.dir = make([]uint32, 1<<t.top+1)
	t.ent = make([]uint32, s.uniq)
	adviseHuge(t.dir, false)
	adviseHuge(t.ent, false)
	for p := range s.hs {
		if s.first(p) {
			t.dir[ch.value(&s.hs[p])>>t.low+1]++
		}
	}
	for v := 1; v < len(t.dir); v++ {
		t.dir[v] += t.dir[v-1]
	}
	lowMask := uint32(1)<<t.low - 1
	for p := range s.hs {
		if s.first(p) {
			v := ch.value(&s.hs[p])
			b := v >> t.low
			t.ent[t.dir[b]] = uint32(p)<<s.shift | v&lowMask
			t.dir[b]++
		}
	}
	// dir[b] now ends bucket b: move each down one place to make it the start again.
	copy(t.dir[1:], t.dir[:len(t.dir)-1])
	t.dir[0] = 0
	adviseHuge(t.dir, true)
	adviseHuge(t.ent, true)
}

// Estimated costs of a search of the segment, in rough units of one hash read in order:
// reading every hash, or probing (a bucket visited or a candidate fetched is a cache miss
// or two, about 15; an entry read in a bucket about 1). Only their ratio matters: it
// decides for small segments and large radii.
func (s *segment) scanCost() float64 { return 1.2 * float64(len(s.hs)) }

func (s *segment) probeCost(r int) float64 {
	radii := chunkRadii(r)
	u := float64(s.uniq)
	var visits, read, fetched float64
	for c, rc := range radii {
		if rc < 0 {
			continue
		}
		t := &s.tabs[c]
		for j := 0; j <= min(rc, int(t.top)); j++ {
			nb := binomial(int(t.top), j)
			visits += nb
			read += nb * u / math.Exp2(float64(t.top))
		}
		for j := 0; j <= min(rc, int(chunks[c].width)); j++ {
			fetched += binomial(int(chunks[c].width), j) * u / math.Exp2(float64(chunks[c].width))
		}
	}
	return 15*visits + read + 15*fetched
}

func binomial(n, k int) float64 {
	v := 1.0
	for i := range k {
		v = v * float64(n-i) / float64(i+1)
	}
	return v
}

// search appends the hashes within r of q, unsorted. force makes it read every hash or
// probe, for tests.
func (s *segment) search(dst []Match, q *Hash, r int, force strategy, sc *scratch) []Match {
	if force == forceScan || force == auto && s.scanAt[min(r, 256)] {
		return scan(dst, s.ids, s.hs, q, r)
	}
	radii := chunkRadii(r)
	sc.nc = 0
	for c, rc := range radii {
		if rc >= 0 {
			dst = s.probe(dst, q, r, c, &radii, sc)
		}
	}
	return s.compare(dst, q, r, radii, sc)
}

// scratch is a search's working memory. The probe works in passes over many buckets and
// candidates, each a tight loop without unpredictable branches, so that the cache misses
// of a pass overlap instead of following one another: on a shared virtual machine a
// lone miss costs 200 to 300 ns, overlapped ones 20 to 30 each. Candidates of every
// chunk are gathered and fetched together, up to 1,024 at a time.
type scratch struct {
	// Buckets of the chunk being probed, the flips left for their low bits, their bounds.
	nb         int
	bucket     [256]uint32
	left       [256]int32
	start, end [256]uint32
	// Entries whose low bits are near enough (positions, and the chunk that found each),
	// then those of them within the radius, with their distances.
	nc      int
	cand    [1024]uint32
	from    [1024]uint8
	hit     [1024]uint32
	hitFrom [1024]uint8
	dist    [1024]int32
	// touch keeps the loads that bring buckets into the cache from being optimised away.
	touch uint32
}

// probe visits the buckets of chunk c within radii[c] of q's chunk: the buckets whose top
// bits differ from the query's in j bits (j = 0 … radii[c]), in each the entries whose low
// bits differ in at most radii[c]-j more.
func (s *segment) probe(dst []Match, q *Hash, r, c int, radii *[numChunks]int, sc *scratch) []Match {
	t := &s.tabs[c]
	rc := radii[c]
	qtop := chunks[c].value(q) >> t.low
	limit := uint64(1) << t.top
	sc.nb = 0
	for j := 0; j <= min(rc, int(t.top)); j++ {
		// Every j-bit mask below limit, in increasing order (Gosper's hack).
		for m := uint64(1)<<j - 1; m < limit; {
			if sc.nb == len(sc.bucket) {
				dst = s.visit(dst, q, r, c, radii, sc)
			}
			sc.bucket[sc.nb], sc.left[sc.nb] = qtop^uint32(m), int32(rc-j)
			sc.nb++
			if m == 0 {
				break
			}
			lo := m & -m
			next := m + lo
			m = (next^m)>>2>>bits.TrailingZeros64(lo) | next
		}
	}
	return s.visit(dst, q, r, c, radii, sc)
}

// visit reads the bounds of chunk c's buckets gathered, then their entries, keeping those
// whose low bits are near enough as candidates (comparing them when there are 1,024).
func (s *segment) visit(dst []Match, q *Hash, r, c int, radii *[numChunks]int, sc *scratch) []Match {
	t := &s.tabs[c]
	nb := sc.nb
	sc.nb = 0
	for i := range nb {
		k := sc.bucket[i]
		sc.start[i], sc.end[i] = t.dir[k], t.dir[k+1]
	}
	// Touch each bucket's first and last entries (its cache lines, mostly): a short loop of
	// independent loads, which the processor runs many at a time.
	var touch uint32
	for i := range nb {
		if sc.start[i] < sc.end[i] {
			touch += t.ent[sc.start[i]] + t.ent[sc.end[i]-1]
		}
	}
	sc.touch += touch
	qlow := chunks[c].value(q) & (1<<t.low - 1)
	lowMask := uint32(1)<<t.low - 1
	shift := s.shift
	for i := range nb {
		left := sc.left[i]
		ents := t.ent[sc.start[i]:sc.end[i]]
		for len(ents) > 0 {
			if sc.nc == len(sc.cand) {
				dst = s.compare(dst, q, r, *radii, sc)
			}
			part := ents[:min(len(ents), len(sc.cand)-sc.nc)]
			ents = ents[len(part):]
			cand, from := sc.cand[sc.nc:], sc.from[sc.nc:]
			k := 0
			for _, e := range part {
				cand[k], from[k] = e>>shift, uint8(c)
				// Kept (k moves on) when the low bits differ in at most left: without a
				// branch.
				k += int(1 ^ uint32(left-int32(bits.OnesCount32((e^qlow)&lowMask)))>>31)
			}
			sc.nc += k
		}
	}
	return dst
}

// compare fetches the candidates, measures their distance to q, and appends those within
// r that no chunk probed before the one that found them finds too, with every ID of their
// hash.
func (s *segment) compare(dst []Match, q *Hash, r int, radii [numChunks]int, sc *scratch) []Match {
	nc := sc.nc
	sc.nc = 0
	q0, q1, q2, q3 := q[0], q[1], q[2], q[3]
	hs := s.hs
	found := 0
	for i, p := range sc.cand[:nc] {
		h := &hs[p]
		d := bits.OnesCount64(h[0]^q0) + bits.OnesCount64(h[1]^q1) + bits.OnesCount64(h[2]^q2) + bits.OnesCount64(h[3]^q3)
		sc.hit[found], sc.dist[found], sc.hitFrom[found] = p, int32(d), sc.from[i]
		found += int(1 ^ uint32(int32(r)-int32(d))>>31) // kept when d ≤ r, without a branch
	}
	for i, p := range sc.hit[:found] {
		h := &hs[p]
		x := Hash{h[0] ^ q0, h[1] ^ q1, h[2] ^ q2, h[3] ^ q3}
		if foundBefore(&x, int(sc.hitFrom[i]), &radii) {
			continue
		}
		d := int(sc.dist[i])
		for {
			dst = append(dst, Match{ID: s.ids[p], Distance: d})
			p++
			if int(p) == len(hs) || hs[p] != *h {
				break
			}
		}
	}
	return dst
}

// foundBefore reports whether a chunk probed before c finds the hash whose difference
// with the query is x: each match is reported by the first chunk that finds it, and only
// by it, without a set of the hashes seen.
func foundBefore(x *Hash, c int, radii *[numChunks]int) bool {
	for b := range c {
		if radii[b] >= 0 && chunks[b].dist(x) <= radii[b] {
			return true
		}
	}
	return false
}

// sortByHash sorts hs, and ids alongside.
func sortByHash(ids []uint32, hs []Hash) { sort.Sort(byHash{ids, hs}) }

type byHash struct {
	ids []uint32
	hs  []Hash
}

func (b byHash) Len() int           { return len(b.hs) }
func (b byHash) Less(i, j int) bool { return less(&b.hs[i], &b.hs[j]) }
func (b byHash) Swap(i, j int) {
	b.hs[i], b.hs[j] = b.hs[j], b.hs[i]
	b.ids[i], b.ids[j] = b.ids[j], b.ids[i]
}
