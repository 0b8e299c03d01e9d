package translog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// The published test vectors of RFC 6962 trees, as certificate-transparency-go (and now
// transparency-dev/merkle, proof/verify_test.go and rfc6962/rfc6962_test.go) carry them: eight
// leaves, the root of each prefix of them, and inclusion and consistency proofs.
var (
	vectorLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	vectorRoots  = []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	// leaf is 0-based here (the sources count from 1).
	vectorInclusion = []struct {
		leaf, size uint64
		proof      []string
	}{
		{0, 1, nil},
		{0, 8, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{5, 8, []string{"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 3, []string{"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
		{1, 5, []string{"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	}
	vectorConsistency = []struct {
		size1, size2 uint64
		proof        []string
	}{
		{1, 1, nil},
		{1, 8, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{6, 8, []string{"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 5, []string{"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
		{6, 7, []string{"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	}
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustHash(t testing.TB, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustHashes(t testing.TB, ss []string) []Hash {
	out := make([]Hash, 0, len(ss))
	for _, s := range ss {
		out = append(out, mustHash(t, s))
	}
	return out
}

func vectorLeafHashes(t testing.TB) []Hash {
	var out []Hash
	for _, l := range vectorLeaves {
		out = append(out, HashLeaf(mustHex(t, l)))
	}
	return out
}

// TestHashVectors: RFC 6962's hashes of the empty tree, an empty leaf, a leaf and a node.
func TestHashVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  Hash
		want string
	}{
		{"empty tree", EmptyRoot(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"empty leaf", HashLeaf(nil), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
		{"leaf L123456", HashLeaf([]byte("L123456")), "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"},
		{"node N123 N456", nodeHash([]byte("N123"), []byte("N456")), "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"},
	} {
		if tc.got.String() != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, tc.got, tc.want)
		}
	}
	var l, r Hash
	l[0], r[31] = 1, 2
	if HashChildren(l, r) != nodeHash(l[:], r[:]) {
		t.Error("HashChildren differs from the node hash")
	}
}

// TestRootVectors: the root of every prefix of the eight leaves, built by appending.
func TestRootVectors(t *testing.T) {
	leaves := vectorLeafHashes(t)
	r := &Range{}
	for i, l := range leaves {
		r.Append(l, nil)
		if got := r.Root().String(); got != vectorRoots[i] {
			t.Errorf("root of %d leaves: %s, want %s", i+1, got, vectorRoots[i])
		}
		if got := refRoot(leaves[:i+1]); got.String() != vectorRoots[i] {
			t.Errorf("reference root of %d leaves: %s, want %s", i+1, got, vectorRoots[i])
		}
	}
}

// tree is a whole tree in memory: every complete subtree's hash, as a store keeps them.
type tree struct {
	leaves []Hash
	nodes  map[NodeID]Hash
	r      Range
}

func newTree(leaves []Hash) *tree {
	tr := &tree{nodes: map[NodeID]Hash{}}
	for _, l := range leaves {
		tr.append(l)
	}
	return tr
}

func (tr *tree) append(l Hash) {
	tr.leaves = append(tr.leaves, l)
	tr.r.Append(l, func(id NodeID, h Hash) { tr.nodes[id] = h })
}

func (tr *tree) get(id NodeID) (Hash, bool) {
	h, ok := tr.nodes[id]
	return h, ok
}

func (tr *tree) inclusion(t testing.TB, index, size uint64) []Hash {
	t.Helper()
	p, err := InclusionPlan(index, size)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := p.ProofFrom(tr.get)
	if err != nil {
		t.Fatal(err)
	}
	return proof
}

func (tr *tree) consistency(t testing.TB, size1, size2 uint64) []Hash {
	t.Helper()
	p, err := ConsistencyPlan(size1, size2)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := p.ProofFrom(tr.get)
	if err != nil {
		t.Fatal(err)
	}
	return proof
}

// TestProofVectors: the proofs built from stored subtrees are the published ones, and they
// verify against the published roots.
func TestProofVectors(t *testing.T) {
	leaves := vectorLeafHashes(t)
	tr := newTree(leaves)
	roots := mustHashes(t, vectorRoots)
	for _, v := range vectorInclusion {
		want := mustHashes(t, v.proof)
		got := tr.inclusion(t, v.leaf, v.size)
		if !slices.Equal(got, want) {
			t.Errorf("inclusion of leaf %d in %d: %v, want %v", v.leaf, v.size, got, want)
		}
		if ref := refPath(v.leaf, leaves[:v.size]); !slices.Equal(ref, want) {
			t.Errorf("reference inclusion of leaf %d in %d differs from the vector", v.leaf, v.size)
		}
		if err := VerifyInclusion(v.leaf, v.size, leaves[v.leaf], want, roots[v.size-1]); err != nil {
			t.Errorf("inclusion of leaf %d in %d: %v", v.leaf, v.size, err)
		}
	}
	for _, v := range vectorConsistency {
		want := mustHashes(t, v.proof)
		got := tr.consistency(t, v.size1, v.size2)
		if !slices.Equal(got, want) {
			t.Errorf("consistency %d→%d: %v, want %v", v.size1, v.size2, got, want)
		}
		if ref := refProof(v.size1, leaves[:v.size2]); !slices.Equal(ref, want) {
			t.Errorf("reference consistency %d→%d differs from the vector", v.size1, v.size2)
		}
		if err := VerifyConsistency(v.size1, v.size2, want, roots[v.size1-1], roots[v.size2-1]); err != nil {
			t.Errorf("consistency %d→%d: %v", v.size1, v.size2, err)
		}
	}
}

// TestVerifyRefuses: the published proofs, corrupted as certificate-transparency-go's tests
// corrupt them, no longer verify; and the degenerate cases of the RFC.
func TestVerifyRefuses(t *testing.T) {
	leaves := vectorLeafHashes(t)
	roots := mustHashes(t, vectorRoots)
	some := mustHash(t, "abacaba000000000000000000000000000000000000000000060061e00123456")
	for _, v := range vectorInclusion[1:] {
		proof, root, leaf := mustHashes(t, v.proof), roots[v.size-1], leaves[v.leaf]
		bad := map[string]func() error{
			"index-1":   func() error { return VerifyInclusion(v.leaf-1, v.size, leaf, proof, root) },
			"index+1":   func() error { return VerifyInclusion(v.leaf+1, v.size, leaf, proof, root) },
			"index^2":   func() error { return VerifyInclusion(v.leaf^2, v.size, leaf, proof, root) },
			"size*2":    func() error { return VerifyInclusion(v.leaf, v.size*2, leaf, proof, root) },
			"size/2":    func() error { return VerifyInclusion(v.leaf, v.size/2, leaf, proof, root) },
			"wrongleaf": func() error { return VerifyInclusion(v.leaf, v.size, some, proof, root) },
			"emptyroot": func() error { return VerifyInclusion(v.leaf, v.size, leaf, proof, EmptyRoot()) },
			"trailing":  func() error { return VerifyInclusion(v.leaf, v.size, leaf, append(slices.Clone(proof), root), root) },
			"preceding": func() error { return VerifyInclusion(v.leaf, v.size, leaf, append([]Hash{root}, proof...), root) },
			"removed":   func() error { return VerifyInclusion(v.leaf, v.size, leaf, proof[:len(proof)-1], root) },
		}
		for i := range proof {
			bad[fmt.Sprint("bit of ", i)] = func() error {
				p := slices.Clone(proof)
				p[i][0] ^= 8
				return VerifyInclusion(v.leaf, v.size, leaf, p, root)
			}
		}
		for name, f := range bad {
			if f() == nil {
				t.Errorf("inclusion of %d in %d verified with %s", v.leaf, v.size, name)
			}
		}
	}
	for _, v := range vectorConsistency[1:] {
		proof, r1, r2 := mustHashes(t, v.proof), roots[v.size1-1], roots[v.size2-1]
		bad := map[string]func() error{
			"size1-1":   func() error { return VerifyConsistency(v.size1-1, v.size2, proof, r1, r2) },
			"size1+1":   func() error { return VerifyConsistency(v.size1+1, v.size2, proof, r1, r2) },
			"size1^2":   func() error { return VerifyConsistency(v.size1^2, v.size2, proof, r1, r2) },
			"size2*2":   func() error { return VerifyConsistency(v.size1, v.size2*2, proof, r1, r2) },
			"size2/2":   func() error { return VerifyConsistency(v.size1, v.size2/2, proof, r1, r2) },
			"root1":     func() error { return VerifyConsistency(v.size1, v.size2, proof, some, r2) },
			"root2":     func() error { return VerifyConsistency(v.size1, v.size2, proof, r1, some) },
			"swapped":   func() error { return VerifyConsistency(v.size1, v.size2, proof, r2, r1) },
			"empty":     func() error { return VerifyConsistency(v.size1, v.size2, nil, r1, r2) },
			"trailing":  func() error { return VerifyConsistency(v.size1, v.size2, append(slices.Clone(proof), r1), r1, r2) },
			"preceding": func() error { return VerifyConsistency(v.size1, v.size2, append([]Hash{proof[0]}, proof...), r1, r2) },
			"truncated": func() error { return VerifyConsistency(v.size1, v.size2, proof[:len(proof)-1], r1, r2) },
		}
		for i := range proof {
			bad[fmt.Sprint("bit of ", i)] = func() error {
				p := slices.Clone(proof)
				p[i][0] ^= 16
				return VerifyConsistency(v.size1, v.size2, p, r1, r2)
			}
		}
		for name, f := range bad {
			if f() == nil {
				t.Errorf("consistency %d→%d verified with %s", v.size1, v.size2, name)
			}
		}
	}
	// The degenerate cases: sizes that are always consistent, time travel, proofs where
	// none belongs.
	r1, r2 := roots[0], roots[1]
	for _, tc := range []struct {
		size1, size2 uint64
		root1, root2 Hash
		proof        []Hash
		ok           bool
	}{
		{0, 0, r1, r1, nil, true},
		{0, 5, r1, r2, nil, true},
		{3, 3, r2, r2, nil, true},
		{3, 3, r1, r2, nil, false},
		{1, 0, r1, r2, nil, false},
		{2, 1, r1, r2, nil, false},
		{1, 2, r1, r2, nil, false},
		{0, 1, r1, r1, []Hash{r1}, false},
		{1, 1, r1, r1, []Hash{r1}, false},
	} {
		if err := VerifyConsistency(tc.size1, tc.size2, tc.proof, tc.root1, tc.root2); (err == nil) != tc.ok {
			t.Errorf("consistency %d→%d with %d hashes: %v, want ok=%v", tc.size1, tc.size2, len(tc.proof), err, tc.ok)
		}
	}
	if VerifyInclusion(0, 0, leaves[0], nil, leaves[0]) == nil || VerifyInclusion(1, 1, leaves[0], nil, leaves[0]) == nil {
		t.Error("a leaf outside the tree verified")
	}
	if err := VerifyInclusion(0, 1, leaves[3], nil, leaves[3]); err != nil {
		t.Errorf("the one leaf of a tree of one: %v", err)
	}
}

// TestRandomTrees: on random trees, every inclusion proof and every consistency proof built
// from stored subtrees equals the RFC's recursive definition and verifies, and flipping any
// bit of any hash involved makes it fail.
func TestRandomTrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, uint64(len(t.Name()))))
	sizes := []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100}
	for range 4 {
		sizes = append(sizes, 2+rng.IntN(300))
	}
	for _, n := range sizes {
		leaves := make([]Hash, n)
		for i := range leaves {
			var b [8]byte
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			leaves[i] = HashLeaf(b[:])
		}
		tr := newTree(leaves)
		for size := uint64(1); size <= uint64(n); size++ {
			root := refRoot(leaves[:size])
			if size == uint64(n) && tr.r.Root() != root {
				t.Fatalf("root of %d leaves differs from the RFC's", n)
			}
			for i := uint64(0); i < size; i++ {
				if n > 40 && rng.IntN(8) != 0 {
					continue // the large trees: a sample
				}
				proof := tr.inclusion(t, i, size)
				if want := refPath(i, leaves[:size]); !slices.Equal(proof, want) {
					t.Fatalf("inclusion of %d in %d differs from the RFC's PATH", i, size)
				}
				if err := VerifyInclusion(i, size, leaves[i], proof, root); err != nil {
					t.Fatalf("inclusion of %d in %d: %v", i, size, err)
				}
				flip := func(h Hash) Hash { h[rng.IntN(HashSize)] ^= 1 << rng.IntN(8); return h }
				if VerifyInclusion(i, size, flip(leaves[i]), proof, root) == nil || VerifyInclusion(i, size, leaves[i], proof, flip(root)) == nil {
					t.Fatalf("inclusion of %d in %d verified a changed leaf or root", i, size)
				}
				for k := range proof {
					p := slices.Clone(proof)
					p[k] = flip(p[k])
					if VerifyInclusion(i, size, leaves[i], p, root) == nil {
						t.Fatalf("inclusion of %d in %d verified with hash %d changed", i, size, k)
					}
				}
			}
			for size1 := uint64(1); size1 <= size; size1++ {
				if n > 40 && rng.IntN(8) != 0 {
					continue
				}
				proof := tr.consistency(t, size1, size)
				if want := refProof(size1, leaves[:size]); !slices.Equal(proof, want) {
					t.Fatalf("consistency %d→%d differs from the RFC's PROOF", size1, size)
				}
				root1 := refRoot(leaves[:size1])
				if err := VerifyConsistency(size1, size, proof, root1, root); err != nil {
					t.Fatalf("consistency %d→%d: %v", size1, size, err)
				}
				flip := func(h Hash) Hash { h[rng.IntN(HashSize)] ^= 1 << rng.IntN(8); return h }
				if size1 < size && (VerifyConsistency(size1, size, proof, flip(root1), root) == nil || VerifyConsistency(size1, size, proof, root1, flip(root)) == nil) {
					t.Fatalf("consistency %d→%d verified a changed root", size1, size)
				}
				for k := range proof {
					p := slices.Clone(proof)
					p[k] = flip(p[k])
					if VerifyConsistency(size1, size, p, root1, root) == nil {
						t.Fatalf("consistency %d→%d verified with hash %d changed", size1, size, k)
					}
				}
			}
		}
	}
}

// TestChangedLeafBreaksConsistency: a tree whose past leaf was changed (or removed) is not
// consistent with the head of the tree before: no proof from the honest tree's subtrees
// verifies.
func TestChangedLeafBreaksConsistency(t *testing.T) {
	leaves := make([]Hash, 40)
	for i := range leaves {
		leaves[i] = HashLeaf([]byte{byte(i)})
	}
	old := refRoot(leaves[:25])
	for _, victim := range []int{0, 7, 24} {
		// Removed: the later leaves move up by one, as when an event is deleted and the chain
		// rewritten.
		removed := slices.Delete(slices.Clone(leaves), victim, victim+1)
		tr := newTree(removed)
		for size := 25; size <= len(removed); size++ {
			if VerifyConsistency(25, uint64(size), tr.consistency(t, 25, uint64(size)), old, refRoot(removed[:size])) == nil {
				t.Errorf("leaf %d removed: consistency 25→%d verified", victim, size)
			}
		}
		changed := slices.Clone(leaves)
		changed[victim] = HashLeaf([]byte("forged"))
		tr = newTree(changed)
		if VerifyConsistency(25, 40, tr.consistency(t, 25, 40), old, refRoot(changed)) == nil {
			t.Errorf("leaf %d changed: consistency verified", victim)
		}
	}
}

// TestRangeRoundTrip: the compact range as stored reads back, and refuses the wrong count.
func TestRangeRoundTrip(t *testing.T) {
	tr := newTree(vectorLeafHashes(t)[:7])
	back, err := ParseRange(7, tr.r.Bytes())
	if err != nil || back.Root() != tr.r.Root() {
		t.Fatalf("round trip: %v", err)
	}
	ids, hashes := back.Nodes()
	if want := []NodeID{{2, 0}, {1, 2}, {0, 6}}; !slices.Equal(ids, want) {
		t.Errorf("right edge of 7: %v, want %v", ids, want)
	}
	for i, id := range ids {
		if tr.nodes[id] != hashes[i] {
			t.Errorf("right-edge node %v differs from the stored subtree", id)
		}
	}
	if _, err := ParseRange(8, tr.r.Bytes()); err == nil {
		t.Error("a range of 7 read as a range of 8")
	}
	if _, err := ParseRange(7, tr.r.Bytes()[1:]); err == nil {
		t.Error("a range of partial hashes read")
	}
}

// TestAppendCompletes: each append reports the subtrees it completes, about two per leaf.
func TestAppendCompletes(t *testing.T) {
	var r Range
	var seen []NodeID
	for i := range 1024 {
		r.Append(HashLeaf([]byte{byte(i), byte(i >> 8)}), func(id NodeID, _ Hash) { seen = append(seen, id) })
	}
	if len(seen) != 2047 {
		t.Errorf("1024 leaves completed %d subtrees, want 2047", len(seen))
	}
}

// The RFC's definitions, recursively, as the reference the stored proofs are checked with.

func refRoot(leaves []Hash) Hash {
	switch n := len(leaves); n {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	default:
		k := splitPoint(uint64(n))
		return HashChildren(refRoot(leaves[:k]), refRoot(leaves[k:]))
	}
}

func refPath(m uint64, leaves []Hash) []Hash {
	n := uint64(len(leaves))
	if n <= 1 {
		return nil
	}
	k := splitPoint(n)
	if m < k {
		return append(refPath(m, leaves[:k]), refRoot(leaves[k:]))
	}
	return append(refPath(m-k, leaves[k:]), refRoot(leaves[:k]))
}

func refProof(m uint64, leaves []Hash) []Hash {
	if m == 0 || m == uint64(len(leaves)) {
		return nil
	}
	return refSubproof(m, leaves, true)
}

func refSubproof(m uint64, leaves []Hash, whole bool) []Hash {
	n := uint64(len(leaves))
	if m == n {
		if whole {
			return nil
		}
		return []Hash{refRoot(leaves)}
	}
	k := splitPoint(n)
	if m <= k {
		return append(refSubproof(m, leaves[:k], whole), refRoot(leaves[k:]))
	}
	return append(refSubproof(m-k, leaves[k:], false), refRoot(leaves[:k]))
}
