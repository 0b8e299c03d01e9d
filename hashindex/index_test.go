package hashindex

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// randomHash draws 256 uniform bits.
func randomHash(rng *rand.Rand) Hash {
	return Hash{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
}

// flip returns h with up to k random bits flipped (a bit drawn twice flips back).
func flip(rng *rand.Rand, h Hash, k int) Hash {
	for range k {
		b := rng.IntN(256)
		h[b/64] ^= 1 << (b % 64)
	}
	return h
}

// set is a seeded collection of hashes and IDs, and queries for it.
type set struct {
	ids     []uint32
	hs      []Hash
	queries []Hash
}

// randomSet draws n uniform hashes; the queries are near-duplicates of stored hashes (0 to
// 40 bits flipped) and random hashes, half each.
func randomSet(seed uint64, n, queries int) set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := set{ids: make([]uint32, n), hs: make([]Hash, n)}
	for i := range n {
		s.ids[i], s.hs[i] = uint32(i)*7+3, randomHash(rng)
	}
	s.queries = s.near(rng, queries)
	return s
}

// clusteredSet draws n near-duplicates of a few bases (0 to 40 bits flipped, some exact
// copies), as real images are re-encoded, cropped and re-uploaded: bucket sizes are then
// far from even.
func clusteredSet(seed uint64, n, bases, queries int) set {
	rng := rand.New(rand.NewPCG(seed, 2))
	base := make([]Hash, bases)
	for i := range base {
		base[i] = randomHash(rng)
	}
	s := set{ids: make([]uint32, n), hs: make([]Hash, n)}
	for i := range n {
		s.ids[i], s.hs[i] = uint32(i), flip(rng, base[rng.IntN(bases)], rng.IntN(41))
	}
	s.queries = s.near(rng, queries)
	return s
}

func (s set) near(rng *rand.Rand, n int) []Hash {
	qs := make([]Hash, n)
	for i := range qs {
		if i%2 == 0 && len(s.hs) > 0 {
			qs[i] = flip(rng, s.hs[rng.IntN(len(s.hs))], rng.IntN(41))
		} else {
			qs[i] = randomHash(rng)
		}
	}
	return qs
}

// build indexes a copy of the set (Build takes its slices).
func (s set) build(t testing.TB, force strategy) *Index {
	x := New()
	x.force = force
	if err := x.Build(slices.Clone(s.ids), slices.Clone(s.hs)); err != nil {
		t.Fatal(err)
	}
	return x
}

// same fails unless the index answers q within r exactly as the brute force does.
func same(t *testing.T, x *Index, ids []uint32, hs []Hash, q Hash, r int) {
	t.Helper()
	got, want := x.Search(q, r), BruteForce(ids, hs, q, r)
	if !slices.Equal(got, want) {
		t.Fatalf("radius %d, query %v: index found %d, brute force %d\nindex %v\nbrute %v", r, q, len(got), len(want), head(got), head(want))
	}
}

func head(ms []Match) []Match { return ms[:min(len(ms), 8)] }

func TestSearchCases(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 1))
	q := randomHash(rng)
	at := func(d int) Hash { // q with exactly d bits flipped
		h := q
		for _, b := range rng.Perm(256)[:d] {
			h[b/64] ^= 1 << (b % 64)
		}
		return h
	}
	far, near := at(128), at(3)
	tests := []struct {
		name   string
		ids    []uint32
		hs     []Hash
		radius int
		want   []Match
	}{
		{"empty index", nil, nil, 31, nil},
		{"exact match at radius 0", []uint32{1, 2}, []Hash{q, far}, 0, []Match{{1, 0}}},
		{"31 bits apart matches", []uint32{5}, []Hash{at(31)}, 31, []Match{{5, 31}}},
		{"32 bits apart does not", []uint32{5}, []Hash{at(32)}, 31, nil},
		{"negative radius finds nothing", []uint32{1}, []Hash{q}, -1, nil},
		{"radius 256 finds everything", []uint32{1, 2}, []Hash{far, q}, 256, []Match{{2, 0}, {1, 128}}},
		{"equal hashes keep their IDs", []uint32{9, 4, 7}, []Hash{near, near, far}, 31, []Match{{4, 3}, {9, 3}}},
		{"nearest first, then by ID", []uint32{3, 2, 1}, []Hash{at(10), at(2), at(10)}, 31, []Match{{2, 2}, {1, 10}, {3, 10}}},
	}
	for _, tt := range tests {
		for _, force := range []strategy{auto, forceProbe, forceScan} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, force), func(t *testing.T) {
				x := New()
				x.force = force
				if len(tt.hs) > 0 {
					if err := x.Build(slices.Clone(tt.ids), slices.Clone(tt.hs)); err != nil {
						t.Fatal(err)
					}
				}
				if got := x.Search(q, tt.radius); !slices.Equal(got, tt.want) {
					t.Errorf("bulk: got %v, want %v", got, tt.want)
				}
				y := New()
				for i, h := range tt.hs {
					y.Add(tt.ids[i], h)
				}
				if got := y.Search(q, tt.radius); !slices.Equal(got, tt.want) {
					t.Errorf("added one by one: got %v, want %v", got, tt.want)
				}
			})
		}
	}
}

func TestBuildNeedsAsManyIDsAsHashes(t *testing.T) {
	t.Parallel()
	if err := New().Build([]uint32{1}, nil); !errors.Is(err, ErrLengths) {
		t.Fatalf("got %v, want ErrLengths", err)
	}
}

// TestChunkRadiiAreTight: the chunks' radii plus one add up to the radius plus one, the
// pigeonhole bound: a hash that escaped every chunk would differ in more than r bits.
func TestChunkRadiiAreTight(t *testing.T) {
	t.Parallel()
	for r := range 257 {
		rs := chunkRadii(r)
		sum := 0
		for _, rc := range rs {
			sum += rc + 1
		}
		if sum != r+1 {
			t.Errorf("radius %d: chunk radii %v add up to %d", r, rs, sum-numChunks)
		}
	}
}

func TestChunksCoverEveryBitOnce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 3))
	var seen [256]int
	for c := range chunks {
		ch := &chunks[c]
		for k := ch.start; k < ch.start+ch.width; k++ {
			seen[k]++
		}
		for range 100 {
			h := randomHash(rng)
			var want uint32
			for i := range ch.width {
				k := ch.start + i
				want |= uint32(h[k/64]>>(k%64)&1) << i
			}
			if got := ch.value(&h); got != want {
				t.Fatalf("chunk %d of %v: got %x, want %x", c, h, got, want)
			}
			x := randomHash(rng)
			var d int
			for i := range ch.width {
				k := ch.start + i
				d += int(x[k/64] >> (k % 64) & 1)
			}
			if got := ch.dist(&x); got != d {
				t.Fatalf("chunk %d: dist %d, want %d", c, got, d)
			}
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("bit %d is in %d chunks", k, n)
		}
	}
}

// TestSearchAgreesWithBruteForce is the property: on random and clustered sets, at every
// radius from 0 to 64, the index finds exactly what the brute force finds, probing or
// scanning.
func TestSearchAgreesWithBruteForce(t *testing.T) {
	t.Parallel()
	sets := map[string]set{
		"random":    randomSet(11, 20000, 130),
		"clustered": clusteredSet(12, 20000, 40, 130),
		"tiny":      randomSet(13, 3, 130),
	}
	for name, s := range sets {
		for _, force := range []strategy{auto, forceProbe} {
			t.Run(fmt.Sprintf("%s/%d", name, force), func(t *testing.T) {
				t.Parallel()
				x := s.build(t, force)
				for r := range 65 {
					for _, q := range s.queries[2*r : 2*r+2] {
						same(t, x, s.ids, s.hs, q, r)
					}
				}
				// The usual radius on every query.
				for _, q := range s.queries {
					same(t, x, s.ids, s.hs, q, 31)
				}
			})
		}
	}
}

// TestClusteredSetsStayCheap: a query near a dense cluster compares each distinct stored
// hash at most once per chunk, however many times it was stored.
func TestClusteredSetsStayCheap(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(4, 4))
	base := randomHash(rng)
	ids, hs := make([]uint32, 50000), make([]Hash, 50000)
	for i := range hs {
		ids[i], hs[i] = uint32(i), base // the same picture, uploaded 50,000 times
		if i%2 == 1 {
			hs[i] = flip(rng, base, 1+rng.IntN(40))
		}
	}
	x := New()
	x.force = forceProbe
	if err := x.Build(slices.Clone(ids), slices.Clone(hs)); err != nil {
		t.Fatal(err)
	}
	seg := x.state.Load().segs[0]
	if seg.uniq > 25001 {
		t.Fatalf("%d distinct hashes indexed, want at most 25,001", seg.uniq)
	}
	same(t, x, ids, hs, flip(rng, base, 5), 31)
}

// TestAddThenSearch: hashes added one by one go through the block, the frozen blocks and
// the merged segments, and are found at every step.
func TestAddThenSearch(t *testing.T) {
	t.Parallel()
	s := clusteredSet(21, 9*blockSize+17, 30, 40)
	x := New()
	for i, h := range s.hs {
		x.Add(s.ids[i], h)
		if i%5000 == 0 {
			same(t, x, s.ids[:i+1], s.hs[:i+1], s.queries[i%len(s.queries)], 31)
		}
	}
	x.merges.Wait()
	if x.Len() != len(s.hs) {
		t.Fatalf("Len %d, want %d", x.Len(), len(s.hs))
	}
	st := x.state.Load()
	if len(st.frozen) != 0 || len(st.segs) == 0 || len(st.segs) > 3 {
		t.Fatalf("after the merges: %d segments, %d blocks waiting", len(st.segs), len(st.frozen))
	}
	for _, q := range s.queries {
		same(t, x, s.ids, s.hs, q, 31)
	}
}

// TestConcurrentAddAndSearch: writers add while readers search (run it with -race); each
// writer finds its hash as soon as Add returns; in the end the index holds everything.
func TestConcurrentAddAndSearch(t *testing.T) {
	t.Parallel()
	bulk := randomSet(31, 30000, 200)
	x := bulk.build(t, auto)
	const writers, each = 3, 2 * blockSize
	added := make([][]Hash, writers)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 32))
			for i := range each {
				h := randomHash(rng)
				id := uint32(1_000_000 + w*each + i)
				x.Add(id, h)
				added[w] = append(added[w], h)
				if i%97 == 0 && !slices.Contains(x.Search(h, 0), Match{id, 0}) {
					t.Errorf("writer %d: hash %d not found right after Add", w, i)
					return
				}
			}
		})
	}
	// Bulk hashes are there all along.
	want := make([][]Match, len(bulk.queries))
	for i, q := range bulk.queries {
		want[i] = BruteForce(bulk.ids, bulk.hs, q, 31)
	}
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Go(func() {
			for i := r; ; i += 2 {
				select {
				case <-stop:
					return
				default:
				}
				k := i % len(bulk.queries)
				got := x.Search(bulk.queries[k], 31)
				for _, m := range want[k] {
					if !slices.Contains(got, m) {
						t.Errorf("reader %d: lost %v", r, m)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	x.merges.Wait()

	ids, hs := slices.Clone(bulk.ids), slices.Clone(bulk.hs)
	for w := range writers {
		for i, h := range added[w] {
			ids, hs = append(ids, uint32(1_000_000+w*each+i)), append(hs, h)
		}
	}
	if x.Len() != len(hs) {
		t.Fatalf("Len %d, want %d", x.Len(), len(hs))
	}
	for _, q := range bulk.queries[:50] {
		same(t, x, ids, hs, q, 31)
	}
	for _, h := range added[1][:50] {
		same(t, x, ids, hs, flip(rand.New(rand.NewPCG(5, 5)), h, 20), 31)
	}
}

func TestBruteForceSplitsAcrossCores(t *testing.T) {
	t.Parallel()
	s := clusteredSet(41, 200000, 100, 20)
	for _, q := range s.queries {
		got := BruteForce(s.ids, s.hs, q, 31)
		want := scan(nil, s.ids, s.hs, &q, 31)
		sortMatches(want)
		if !slices.Equal(got, want) {
			t.Fatalf("parallel brute force found %d, one core %d", len(got), len(want))
		}
	}
}
