package translog

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// A proof (RFC 9162 §2.1.3.1 and §2.1.4.1) is a list of subtree hashes, each the hash of a
// run of leaves [begin, end). All of them are complete subtrees but at most one, the right
// edge of the smaller tree, which is folded from the complete subtrees it is made of. A Plan
// says which complete subtrees to read and how to fold them, so that a store reads O(log n)
// nodes for any proof.

// span is one element of a proof: the leaves [begin, end) whose tree hash it is.
type span struct{ begin, end uint64 }

// Plan lists the complete subtrees whose hashes make up one proof.
type Plan struct {
	// IDs are the subtrees to read, in the order Proof takes their hashes.
	IDs []NodeID
	// per holds, for each element of the proof, how many of IDs it folds.
	per []int
}

// InclusionPlan is the plan of the inclusion proof (audit path) of leaf index in the tree of
// size leaves: the RFC's PATH(index, D[0:size]), nearest sibling first.
func InclusionPlan(index, size uint64) (*Plan, error) {
	if index >= size {
		return nil, fmt.Errorf("leaf %d is not in a tree of %d leaves", index, size)
	}
	var spans []span
	lo, hi := uint64(0), size
	for hi-lo > 1 {
		k := splitPoint(hi - lo)
		if index < lo+k {
			spans = append(spans, span{lo + k, hi})
			hi = lo + k
		} else {
			spans = append(spans, span{lo, lo + k})
			lo += k
		}
	}
	slices.Reverse(spans)
	return planOf(spans), nil
}

// ConsistencyPlan is the plan of the consistency proof between the tree of size1 leaves and
// the tree of size2 leaves that extends it: the RFC's PROOF(size1, D[0:size2]). It is empty
// when size1 is 0 or equals size2.
func ConsistencyPlan(size1, size2 uint64) (*Plan, error) {
	if size1 > size2 {
		return nil, fmt.Errorf("a tree of %d leaves cannot extend one of %d", size2, size1)
	}
	if size1 == 0 || size1 == size2 {
		return &Plan{}, nil
	}
	var spans []span
	m, lo, hi, whole := size1, uint64(0), size2, true
	for m != hi-lo {
		k := splitPoint(hi - lo)
		if m <= k {
			spans = append(spans, span{lo + k, hi})
			hi = lo + k
		} else {
			spans = append(spans, span{lo, lo + k})
			m, lo, whole = m-k, lo+k, false
		}
	}
	if !whole {
		spans = append(spans, span{lo, hi})
	}
	slices.Reverse(spans)
	return planOf(spans), nil
}

// splitPoint is the largest power of two smaller than n (n ≥ 2): where the RFC splits a tree.
func splitPoint(n uint64) uint64 { return 1 << (bits.Len64(n-1) - 1) }

func planOf(spans []span) *Plan {
	p := &Plan{per: make([]int, len(spans))}
	for i, s := range spans {
		before := len(p.IDs)
		p.IDs = Decompose(s.begin, s.end, p.IDs)
		p.per[i] = len(p.IDs) - before
	}
	return p
}

// Decompose appends to out the complete subtrees that cover the leaves [begin, end), left to
// right, each as large as its place allows.
func Decompose(begin, end uint64, out []NodeID) []NodeID {
	for begin < end {
		level := bits.Len64(end-begin) - 1
		if begin != 0 {
			level = min(level, bits.TrailingZeros64(begin))
		}
		out = append(out, NodeID{Level: uint8(level), Index: begin >> level})
		begin += 1 << level
	}
	return out
}

// Proof folds the hashes of p.IDs, given in the same order, into the proof.
func (p *Plan) Proof(hashes []Hash) ([]Hash, error) {
	if len(hashes) != len(p.IDs) {
		return nil, fmt.Errorf("the proof needs %d subtree hashes, not %d", len(p.IDs), len(hashes))
	}
	out := make([]Hash, 0, len(p.per))
	for _, n := range p.per {
		part := hashes[:n]
		hashes = hashes[n:]
		h := part[n-1]
		for i := n - 2; i >= 0; i-- {
			h = HashChildren(part[i], h)
		}
		out = append(out, h)
	}
	return out, nil
}

// ProofFrom is Proof with each hash looked up by get, which reports false for a subtree it
// does not hold.
func (p *Plan) ProofFrom(get func(NodeID) (Hash, bool)) ([]Hash, error) {
	hashes := make([]Hash, len(p.IDs))
	for i, id := range p.IDs {
		h, ok := get(id)
		if !ok {
			return nil, fmt.Errorf("subtree %d at level %d (leaves %d to %d) is not stored", id.Index, id.Level, id.Begin(), id.End()-1)
		}
		hashes[i] = h
	}
	return p.Proof(hashes)
}

// Errors of verification. Each names what does not hold; they are wrapped with details.
var (
	ErrRootMismatch = errors.New("the proof leads to another root")
	ErrProofShape   = errors.New("the proof has the wrong number of hashes for these tree sizes")
)

// VerifyInclusion checks that the leaf whose hash is leaf is leaf index of the tree of size
// leaves whose root is root, given its inclusion proof (RFC 9162 §2.1.3.2).
func VerifyInclusion(index, size uint64, leaf Hash, proof []Hash, root Hash) error {
	if index >= size {
		return fmt.Errorf("leaf %d is not in a tree of %d leaves", index, size)
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range proof {
		if sn == 0 {
			return fmt.Errorf("%w (too many)", ErrProofShape)
		}
		if fn&1 == 1 || fn == sn {
			r = HashChildren(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = HashChildren(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w (too few)", ErrProofShape)
	}
	if r != root {
		return fmt.Errorf("%w: leaf %d of %d gives %s, the head says %s", ErrRootMismatch, index, size, r, root)
	}
	return nil
}

// VerifyConsistency checks that the tree of size2 leaves whose root is root2 extends the tree
// of size1 leaves whose root is root1 — nothing of the first was changed or removed — given
// the consistency proof between them (RFC 9162 §2.1.4.2).
func VerifyConsistency(size1, size2 uint64, proof []Hash, root1, root2 Hash) error {
	switch {
	case size1 > size2:
		return fmt.Errorf("a tree of %d leaves cannot extend one of %d: the log shrank", size2, size1)
	case size1 == size2:
		if len(proof) != 0 {
			return fmt.Errorf("%w (two trees of one size need none)", ErrProofShape)
		}
		if root1 != root2 {
			return fmt.Errorf("%w: two heads of %d leaves have different roots (%s, %s)", ErrRootMismatch, size1, root1, root2)
		}
		return nil
	case size1 == 0:
		if len(proof) != 0 {
			return fmt.Errorf("%w (the empty tree needs none)", ErrProofShape)
		}
		return nil
	case len(proof) == 0:
		return fmt.Errorf("%w (none given)", ErrProofShape)
	}
	path := proof
	if size1&(size1-1) == 0 { // a power of two: the first tree is a subtree of the second
		path = append([]Hash{root1}, proof...)
	}
	fn, sn := size1-1, size2-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := path[0], path[0]
	for _, c := range path[1:] {
		if sn == 0 {
			return fmt.Errorf("%w (too many)", ErrProofShape)
		}
		if fn&1 == 1 || fn == sn {
			fr = HashChildren(c, fr)
			sr = HashChildren(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = HashChildren(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w (too few)", ErrProofShape)
	}
	if fr != root1 {
		return fmt.Errorf("%w: the proof gives %s for the tree of %d leaves, its head says %s: that tree is not a prefix of the newer one", ErrRootMismatch, fr, size1, root1)
	}
	if sr != root2 {
		return fmt.Errorf("%w: the proof gives %s for the tree of %d leaves, its head says %s", ErrRootMismatch, sr, size2, root2)
	}
	return nil
}
