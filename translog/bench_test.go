package translog

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"
)

// Proof building from memory and verification, on a tree of a million leaves.
//
//	go test -run XXX -bench . -benchmem ./translog/
func benchTree(b *testing.B, n int) *tree {
	b.Helper()
	tr := &tree{nodes: map[NodeID]Hash{}}
	var buf [8]byte
	for i := range n {
		binary.BigEndian.PutUint64(buf[:], uint64(i))
		tr.append(HashLeaf(buf[:]))
	}
	return tr
}

func BenchmarkAppend(b *testing.B) {
	var r Range
	leaf := sha256.Sum256([]byte("leaf"))
	for b.Loop() {
		r.Append(leaf, nil)
	}
}

func BenchmarkProofs(b *testing.B) {
	const n = 1 << 20
	tr := benchTree(b, n+12345)
	size := uint64(n + 12345)
	root := tr.r.Root()
	b.Run("inclusion-build", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			tr.inclusion(b, uint64(i*7919)%size, size)
		}
	})
	proof := tr.inclusion(b, 4242, size)
	b.Run("inclusion-verify", func(b *testing.B) {
		for b.Loop() {
			if err := VerifyInclusion(4242, size, tr.leaves[4242], proof, root); err != nil {
				b.Fatal(err)
			}
		}
	})
	old := uint64(n - 999)
	oldRoot := RootOf(tr.leaves[:old])
	cons := tr.consistency(b, old, size)
	b.Run("consistency-build", func(b *testing.B) {
		for b.Loop() {
			tr.consistency(b, old, size)
		}
	})
	b.Run("consistency-verify", func(b *testing.B) {
		for b.Loop() {
			if err := VerifyConsistency(old, size, cons, oldRoot, root); err != nil {
				b.Fatal(err)
			}
		}
	})
	s, _ := NewSigner(make([]byte, 32))
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			s.Sign(size, root, time.Now())
		}
	})
	h := s.Sign(size, root, time.Now())
	b.Run("head-verify", func(b *testing.B) {
		for b.Loop() {
			if err := h.Verify(s.Public()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
