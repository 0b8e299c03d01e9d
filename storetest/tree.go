package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/translog"
)

// signing is a store that signs its tree heads (sqlstore.Store).
type signing interface {
	SetSigner(*translog.Signer)
}

// testSigner is a fixed key for the tests' tree heads.
func testSigner(t *testing.T) *translog.Signer {
	t.Helper()
	s, err := translog.NewSigner([]byte(strings.Repeat("docket test key!", 2)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testMerkleTree is a model-based test of the event log's Merkle tree: random batches of
// events, each in one transaction (some rolled back), against a model that keeps every
// leaf. After each commit the head it signed must be the model's root, and the inclusion
// proof of each of its events built from memory must verify; the store's proofs, read from
// its stored subtrees, must be the model's and verify — inclusion of random leaves against
// every head signed so far, consistency between heads.
func testMerkleTree(t *testing.T, s docket.Store) {
	ctx := context.Background()
	signer := testSigner(t)
	st, ok := s.(signing)
	if !ok {
		t.Fatalf("a %T cannot sign tree heads", s)
	}
	st.SetSigner(signer)
	defer st.SetSigner(nil)
	rng := rand.New(rand.NewPCG(7, 16))
	var leaves []translog.Hash
	var heads []translog.SignedTreeHead
	modelRoot := func(size uint64) translog.Hash { return translog.RootOf(leaves[:size]) }
	for batch := range 40 {
		n := rng.IntN(12)
		if batch%7 == 3 {
			n = 40 + rng.IntN(40) // now and then a large commit
		}
		rollback := batch%9 == 5
		var appended []*docket.Event
		var log docket.LogCommit
		err := s.Update(ctx, func(tx docket.Tx) error {
			log = tx.Log()
			for range n {
				_, _, err := openCase(ctx, tx, caseSpec{regime: "eu-epoc", authority: "a1"})
				if err != nil {
					return err
				}
			}
			if rollback {
				return errors.New("rolled back on purpose")
			}
			return nil
		})
		if rollback {
			if err == nil {
				t.Fatal("the rollback was not one")
			}
			if log.Head() != nil {
				t.Fatal("a rolled-back transaction reports a signed head")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for seq := int64(len(leaves)) + 1; seq <= int64(len(leaves)+n); seq++ {
			e, err := s.Event(ctx, seq)
			if err != nil {
				t.Fatalf("event %d: %v", seq, err)
			}
			appended = append(appended, e)
		}
		for _, e := range appended {
			leaf, err := audit.Leaf(e)
			if err != nil {
				t.Fatal(err)
			}
			leaves = append(leaves, leaf)
		}
		size := uint64(len(leaves))
		head := log.Head()
		if n == 0 {
			if head != nil {
				t.Fatalf("batch %d appended nothing but signed a head", batch)
			}
			continue
		}
		if head == nil || head.TreeSize != size || head.RootHash != modelRoot(size) {
			t.Fatalf("batch %d: head %+v, want size %d root %s", batch, head, size, modelRoot(size))
		}
		if err := head.Verify(signer.Public()); err != nil {
			t.Fatal(err)
		}
		heads = append(heads, *head)
		for _, e := range appended {
			proof, err := log.Inclusion(e.Seq)
			if err != nil {
				t.Fatalf("batch %d: inclusion of event %d from the commit: %v", batch, e.Seq, err)
			}
			if err := translog.VerifyInclusion(uint64(e.Seq-1), size, leaves[e.Seq-1], proof, head.RootHash); err != nil {
				t.Fatalf("batch %d: inclusion of event %d from the commit: %v", batch, e.Seq, err)
			}
		}
		latest, err := s.LatestTreeHead(ctx)
		if err != nil || latest.TreeSize != size || latest.RootHash != head.RootHash || !slices.Equal(latest.Signature, head.Signature) {
			t.Fatalf("latest head %+v, %v; want the commit's", latest, err)
		}
		// The store's proofs against every head so far.
		for _, h := range heads {
			for range 3 {
				i := rng.Uint64N(h.TreeSize)
				proof, err := s.InclusionProof(ctx, i, h.TreeSize)
				if err != nil {
					t.Fatalf("inclusion of %d in %d: %v", i, h.TreeSize, err)
				}
				if err := translog.VerifyInclusion(i, h.TreeSize, leaves[i], proof, h.RootHash); err != nil {
					t.Fatalf("stored inclusion of %d in %d: %v", i, h.TreeSize, err)
				}
			}
			proof, err := s.ConsistencyProof(ctx, h.TreeSize, size)
			if err != nil {
				t.Fatalf("consistency %d→%d: %v", h.TreeSize, size, err)
			}
			if err := translog.VerifyConsistency(h.TreeSize, size, proof, h.RootHash, head.RootHash); err != nil {
				t.Fatalf("stored consistency %d→%d: %v", h.TreeSize, size, err)
			}
			got, err := s.TreeHead(ctx, h.TreeSize)
			if err != nil || got.RootHash != h.RootHash || got.Timestamp != h.Timestamp {
				t.Fatalf("head of %d: %+v, %v", h.TreeSize, got, err)
			}
		}
	}
	// At the end, every leaf against the last head.
	size := uint64(len(leaves))
	last := heads[len(heads)-1]
	for i := range size {
		proof, err := s.InclusionProof(ctx, i, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := translog.VerifyInclusion(i, size, leaves[i], proof, last.RootHash); err != nil {
			t.Fatalf("inclusion of %d in %d: %v", i, size, err)
		}
	}
	// Beyond the log: refused.
	if _, err := s.InclusionProof(ctx, 0, size+1); docket.ErrorCode(err) != docket.EINVALID {
		t.Errorf("a proof against a tree larger than the log: %v", err)
	}
	if _, err := s.ConsistencyProof(ctx, size, size+1); docket.ErrorCode(err) != docket.EINVALID {
		t.Errorf("a consistency proof to a tree larger than the log: %v", err)
	}
	if _, err := s.TreeHead(ctx, size+1); !errors.Is(err, docket.ErrNotFound) {
		t.Errorf("the head of an unsigned size: %v", err)
	}
	rep := mustVerify(t, s)
	if rep.TreeHeads != len(heads) || rep.TreeRoot != last.RootHash.String() || len(rep.LogKeys) != 1 {
		t.Errorf("verify report %+v: want %d heads, root %s, one key", rep, len(heads), last.RootHash)
	}
}

// testTreeUnsigned: a store without a key keeps the tree all the same, signs no head, and
// its first signed head covers what came before.
func testTreeUnsigned(t *testing.T, s docket.Store) {
	ctx := context.Background()
	for range 5 {
		mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1"})
	}
	if _, err := s.LatestTreeHead(ctx); !errors.Is(err, docket.ErrNotFound) {
		t.Fatalf("an unsigned store has a head: %v", err)
	}
	mustVerify(t, s)
	s.(signing).SetSigner(testSigner(t))
	mustOpenCase(t, s, caseSpec{regime: "eu-epoc", authority: "a1"})
	h, err := s.LatestTreeHead(ctx)
	if err != nil || h.TreeSize != 6 {
		t.Fatalf("first signed head: %+v, %v", h, err)
	}
	if rep := mustVerify(t, s); rep.TreeHeads != 1 || rep.TreeNodes != 3+1 {
		t.Errorf("report %+v: want one head and the 4 subtrees above the 6 leaves", rep)
	}
}
