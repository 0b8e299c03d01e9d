// Package translog makes the event log a Merkle tree in the manner of RFC 9162 (certificate
// transparency, version 2.0): leaf and node hashes (§2.1.1), inclusion proofs (§2.1.3) and
// consistency proofs (§2.1.4) with their verification, the compact range that lets a writer
// append a leaf in O(log n) by keeping only the roots of the complete subtrees along the
// tree's right edge, and tree heads signed with Ed25519.
//
// The package knows nothing of docket: a leaf is bytes, a node is a SHA-256. Storage reads and
// writes the complete subtrees (NodeID) that a Range reports and that a Plan asks for.
package translog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/bits"
)

// HashSize is the size of every hash in the tree (SHA-256).
const HashSize = sha256.Size

// Hash is the hash of a leaf or of a subtree. It marshals as lower-case hex.
type Hash [HashSize]byte

// String returns h in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText returns h in lower-case hex.
func (h Hash) MarshalText() ([]byte, error) {
	b := make([]byte, 2*HashSize)
	hex.Encode(b, h[:])
	return b, nil
}

// UnmarshalText reads 64 hex digits (either case).
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash reads a hash written in hex.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("a hash is %d hex digits, not %d", 2*HashSize, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("a hash is hex digits: %w", err)
	}
	return h, nil
}

// HashLeaf returns the hash of a leaf: SHA-256(0x00 || data).
func HashLeaf(data []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	var out Hash
	h.Sum(out[:0])
	return out
}

// HashChildren returns the hash of a node: SHA-256(0x01 || left || right).
func HashChildren(left, right Hash) Hash {
	var buf [1 + 2*HashSize]byte
	buf[0] = 1
	copy(buf[1:], left[:])
	copy(buf[1+HashSize:], right[:])
	return sha256.Sum256(buf[:])
}

// nodeHash is HashChildren over inputs of any length (the RFC's test vectors use short ones).
func nodeHash(left, right []byte) Hash {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(left)
	h.Write(right)
	var out Hash
	h.Sum(out[:0])
	return out
}

// EmptyRoot is the root of the tree with no leaves: SHA-256 of nothing.
func EmptyRoot() Hash { return sha256.Sum256(nil) }

// NodeID names a complete subtree: the one of 2^Level leaves that begins at leaf
// Index·2^Level. Level 0 is a leaf.
type NodeID struct {
	Level uint8
	Index uint64
}

// Begin and End are the leaves the subtree covers: [Begin, End).
func (n NodeID) Begin() uint64 { return n.Index << n.Level }
func (n NodeID) End() uint64   { return (n.Index + 1) << n.Level }

// Range is the compact range [0, Size) of a tree: the roots of its complete subtrees along
// the right edge, largest (leftmost) first — one per bit set in Size. It is all a writer
// needs to append a leaf and to know the root.
type Range struct {
	size   uint64
	hashes []Hash
}

// NewRange returns the compact range of a tree of size leaves whose right-edge subtrees
// have the hashes given, largest first.
func NewRange(size uint64, hashes []Hash) (*Range, error) {
	if len(hashes) != bits.OnesCount64(size) {
		return nil, fmt.Errorf("a tree of %d leaves has %d subtrees on its right edge, not %d", size, bits.OnesCount64(size), len(hashes))
	}
	return &Range{size: size, hashes: append([]Hash(nil), hashes...)}, nil
}

// ParseRange reads what Bytes wrote for a tree of size leaves.
func ParseRange(size uint64, b []byte) (*Range, error) {
	if len(b)%HashSize != 0 {
		return nil, fmt.Errorf("a compact range is whole hashes of %d bytes, not %d bytes", HashSize, len(b))
	}
	hashes := make([]Hash, len(b)/HashSize)
	for i := range hashes {
		copy(hashes[i][:], b[i*HashSize:])
	}
	return NewRange(size, hashes)
}

// Bytes returns the right-edge hashes, concatenated, largest subtree first.
func (r *Range) Bytes() []byte {
	out := make([]byte, 0, len(r.hashes)*HashSize)
	for _, h := range r.hashes {
		out = append(out, h[:]...)
	}
	return out
}

// Size is the number of leaves.
func (r *Range) Size() uint64 { return r.size }

// Nodes returns the right-edge subtrees with their hashes, largest first.
func (r *Range) Nodes() ([]NodeID, []Hash) {
	ids := make([]NodeID, 0, len(r.hashes))
	for l := 63; l >= 0; l-- {
		if r.size&(1<<l) != 0 {
			ids = append(ids, NodeID{Level: uint8(l), Index: r.size>>l - 1})
		}
	}
	return ids, append([]Hash(nil), r.hashes...)
}

// Clone returns a copy of r.
func (r *Range) Clone() *Range {
	return &Range{size: r.size, hashes: append([]Hash(nil), r.hashes...)}
}

// Append adds the leaf whose hash is leaf, and calls visit, when not nil, with every subtree
// it completes, smallest first: the leaf itself, then each parent it closes. It costs one
// hash per subtree completed: O(log n) at worst, two on average.
func (r *Range) Append(leaf Hash, visit func(NodeID, Hash)) {
	index := r.size
	h := leaf
	if visit != nil {
		visit(NodeID{Level: 0, Index: index}, h)
	}
	for level := uint8(0); index&1 == 1; level++ {
		last := len(r.hashes) - 1
		h = HashChildren(r.hashes[last], h)
		r.hashes = r.hashes[:last]
		index >>= 1
		if visit != nil {
			visit(NodeID{Level: level + 1, Index: index}, h)
		}
	}
	r.hashes = append(r.hashes, h)
	r.size++
}

// Root returns the tree's root hash (RFC 9162 MTH): the right-edge subtrees folded from the
// right, EmptyRoot for no leaves.
func (r *Range) Root() Hash {
	if len(r.hashes) == 0 {
		return EmptyRoot()
	}
	root := r.hashes[len(r.hashes)-1]
	for i := len(r.hashes) - 2; i >= 0; i-- {
		root = HashChildren(r.hashes[i], root)
	}
	return root
}

// RootOf returns the root of the tree over the leaf hashes given, building it whole: for
// tests and for a verifier that holds every leaf.
func RootOf(leaves []Hash) Hash {
	r := &Range{}
	for _, l := range leaves {
		r.Append(l, nil)
	}
	return r.Root()
}
