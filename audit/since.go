package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/translog"
)

// SinceSource is what VerifySince reads: the store, the tree as stored, and the events after
// a point. sqlstore.Store implements it.
type SinceSource interface {
	docket.Store
	CompactRange(ctx context.Context, size uint64) (*translog.Range, error)
	ScanEventsAfter(ctx context.Context, after int64, fn func(*docket.Event) error) error
	LatestTreeHead(ctx context.Context) (*translog.SignedTreeHead, error)
	InclusionProof(ctx context.Context, index, size uint64) ([]translog.Hash, error)
	Frontier(ctx context.Context) ([]byte, error)
}

// SinceReport is what VerifySince checked.
type SinceReport struct {
	From, To uint64 // the checkpoint's tree size and the latest signed head's
	Events   int    // events checked after the checkpoint
	Cases    int    // cases those events touched, replayed whole
	Root     string // the latest signed head's root
}

// VerifySince checks, in time proportional to the events recorded since, that the log only
// grew after a signed tree head kept as a checkpoint (cp, as GET /api/v1/log/head gave it
// when a full `docket audit verify` passed) and that what was added is sound:
//
//   - cp and the latest signed head verify with the platform's key;
//   - the stored tree still gives cp's root for the first cp.TreeSize events, and the
//     checkpoint's last event is the leaf it commits to (an inclusion proof);
//   - every later event links to the one before it and hashes to its stored hash (the
//     chain), and the events, appended to the checkpoint's tree, give the latest signed
//     head's root and the stored right edge (so the latest head commits to exactly them);
//   - every case those events touched, replayed from all its events, is the case stored.
//
// It does not re-read what came before the checkpoint: a change to an old event's row that
// leaves the stored tree alone, or to a case or table no new event touched, is found by the
// full verification, which stays the one to run regularly.
func VerifySince(ctx context.Context, s SinceSource, cp *translog.SignedTreeHead, key ed25519.PublicKey) (*SinceReport, error) {
	if err := cp.Verify(key); err != nil {
		return nil, &Problem{Table: "checkpoint", What: "the checkpoint's signature does not verify with the key given: " + err.Error()}
	}
	latest, err := s.LatestTreeHead(ctx)
	if err != nil {
		return nil, wrap(err, "read the latest signed tree head")
	}
	if err := latest.Verify(key); err != nil {
		return nil, &Problem{Table: "tree_heads", What: "the latest signed tree head does not verify with the key given: " + err.Error()}
	}
	if latest.TreeSize < cp.TreeSize {
		return nil, &Problem{Table: "tree_heads", What: fmt.Sprintf("the latest signed head covers %d events, fewer than the checkpoint's %d: the log was cut", latest.TreeSize, cp.TreeSize)}
	}
	rep := &SinceReport{From: cp.TreeSize, To: latest.TreeSize, Root: latest.RootHash.String()}
	tree, err := s.CompactRange(ctx, cp.TreeSize)
	if err != nil {
		return rep, wrap(err, "read the checkpoint's tree")
	}
	if tree.Root() != cp.RootHash {
		return rep, &Problem{Table: "tree_nodes", What: fmt.Sprintf("the stored tree of the first %d events no longer gives the checkpoint's root %s", cp.TreeSize, cp.RootHash)}
	}
	prev := ""
	if cp.TreeSize > 0 {
		last, err := s.Event(ctx, int64(cp.TreeSize))
		if err != nil {
			return rep, wrap(err, "read the checkpoint's last event")
		}
		leaf, err := Leaf(last)
		if err != nil {
			return rep, &Problem{Seq: last.Seq, What: err.Error()}
		}
		proof, err := s.InclusionProof(ctx, cp.TreeSize-1, cp.TreeSize)
		if err != nil {
			return rep, wrap(err, "prove the checkpoint's last event")
		}
		if err := translog.VerifyInclusion(cp.TreeSize-1, cp.TreeSize, leaf, proof, cp.RootHash); err != nil {
			return rep, &Problem{Seq: last.Seq, What: "the checkpoint's last event is not the one its tree commits to: " + err.Error()}
		}
		prev = last.Hash
	}
	touched := map[string]bool{}
	err = s.ScanEventsAfter(ctx, int64(cp.TreeSize), func(e *docket.Event) error {
		want := int64(tree.Size()) + 1
		switch {
		case e.Seq != want:
			return &Problem{Seq: e.Seq, What: fmt.Sprintf("event %d follows event %d: the chain has a gap", e.Seq, want-1)}
		case e.PrevHash != prev:
			return &Problem{Seq: e.Seq, What: "its prev_hash is not the hash of the event before it"}
		case Hash(prev, e) != e.Hash:
			return &Problem{Seq: e.Seq, What: "its content does not hash to its stored hash: the event was changed"}
		}
		leaf, err := Leaf(e)
		if err != nil {
			return &Problem{Seq: e.Seq, What: err.Error()}
		}
		tree.Append(leaf, nil)
		prev = e.Hash
		rep.Events++
		if e.CaseID != "" {
			touched[e.CaseID] = true
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if tree.Size() != latest.TreeSize {
		return rep, &Problem{Table: "tree_heads", What: fmt.Sprintf("the log holds %d events but the latest signed head covers %d", tree.Size(), latest.TreeSize)}
	}
	if tree.Root() != latest.RootHash {
		return rep, &Problem{Table: "tree_heads", What: "the events since the checkpoint do not give the latest signed head's root: the log was rewritten"}
	}
	frontier, err := s.Frontier(ctx)
	if err != nil {
		return rep, wrap(err, "read the tree's right edge")
	}
	if string(frontier) != string(tree.Bytes()) {
		return rep, &Problem{Table: "audit_head", What: "the tree's right edge stored with the head is not the one the events give"}
	}
	ids := make([]string, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		events, err := s.CaseEvents(ctx, id)
		if err != nil {
			return rep, wrap(err, "read the events of case "+id)
		}
		replayed := &docket.Case{}
		for _, e := range events {
			if err := replayed.Apply(e); err != nil {
				return rep, &Problem{Seq: e.Seq, What: err.Error()}
			}
		}
		stored, err := s.Case(ctx, id)
		if err != nil {
			return rep, wrap(err, "read case "+id)
		}
		if d := caseDiff(replayed, stored); d != "" {
			return rep, &Problem{Table: "cases", What: fmt.Sprintf("case %s is not what its events make it: %s", id, d)}
		}
		rep.Cases++
	}
	return rep, nil
}
