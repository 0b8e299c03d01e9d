package audit

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/docket-dev/docket/translog"
)

// checkTree checks the event log's Merkle tree as stored against the events: every stored
// subtree's hash (above the leaves, which are the events' own hashes) against the one the
// events give, and that none is missing; the compact
// range kept with the head; every signed tree head — its root must be the root of the log's
// first tree_size events, and its signature must verify with the key stored with it. A
// changed node, a head that does not match the log (an event changed, removed or reordered
// after it was signed) and a forged head are each named.
//
// It holds every level of the tree in memory: 64 bytes per event, less than the replay of
// the cases takes.
func (v *verifier) checkTree(ctx context.Context) error {
	n := uint64(len(v.leaves))
	levels := [][]translog.Hash{v.leaves}
	for l := 0; len(levels[l]) > 1; l++ {
		below := levels[l]
		up := make([]translog.Hash, len(below)/2)
		for i := range up {
			up[i] = translog.HashChildren(below[2*i], below[2*i+1])
		}
		levels = append(levels, up)
	}
	v.leaves = nil
	// The compact range of [0, n): one subtree per bit of n, largest first.
	var edge []translog.Hash
	for _, id := range translog.Decompose(0, n, nil) {
		edge = append(edge, levels[id.Level][id.Index])
	}
	root := translog.EmptyRoot()
	if len(edge) > 0 {
		root = edge[len(edge)-1]
		for i := len(edge) - 2; i >= 0; i-- {
			root = translog.HashChildren(edge[i], root)
		}
	}
	v.rep.TreeRoot = root.String()
	stored, err := v.src.Frontier(ctx)
	if err != nil {
		return wrap(err, "read the tree's compact range")
	}
	want := make([]byte, 0, len(edge)*translog.HashSize)
	for _, h := range edge {
		want = append(want, h[:]...)
	}
	if !bytes.Equal(stored, want) {
		return &Problem{Table: "audit_head", What: fmt.Sprintf("the Merkle tree's right edge stored with the head (frontier) is not the one the %d events give: the next events would be added to another tree", n)}
	}

	counts := make([]uint64, len(levels))
	err = v.src.ScanTreeNodes(ctx, func(id translog.NodeID, h []byte) error {
		v.rep.TreeNodes++
		if int(id.Level) >= len(levels) || id.Index >= uint64(len(levels[id.Level])) {
			return &Problem{Table: "tree_nodes", What: fmt.Sprintf("subtree %d at level %d covers events %d to %d, beyond the %d events of the log", id.Index, id.Level, id.Begin()+1, id.End(), n)}
		}
		if want := levels[id.Level][id.Index]; !bytes.Equal(h, want[:]) {
			return &Problem{Table: "tree_nodes", What: fmt.Sprintf("the hash of subtree %d at level %d (events %d to %d) is not the one its events give: proofs built from it would be false", id.Index, id.Level, id.Begin()+1, id.End())}
		}
		counts[id.Level]++
		return nil
	})
	if err != nil {
		return wrap(err, "scan tree nodes")
	}
	for l, c := range counts {
		if l == 0 {
			if c != 0 {
				return &Problem{Table: "tree_nodes", What: fmt.Sprintf("%d leaves are stored as subtrees: a leaf's hash is its event's", c)}
			}
			continue // the leaves are the events' hashes, checked with the chain
		}
		if want := uint64(len(levels[l])); c != want {
			return &Problem{Table: "tree_nodes", What: fmt.Sprintf("%d of the %d subtrees at level %d are missing", want-c, want, l)}
		}
	}

	// Signatures are checked on every core: a head per commit makes them many.
	type signed struct {
		h   translog.SignedTreeHead
		key string
	}
	work := make(chan signed, 256)
	var bad atomic.Pointer[Problem]
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				at := s.h.Time().Format(timeFormat)
				pub, err := translog.ParseKeyLine(s.key)
				if err == nil {
					err = s.h.Verify(pub)
				}
				if err != nil {
					bad.CompareAndSwap(nil, &Problem{Table: "tree_heads", What: fmt.Sprintf("the head of %d events signed at %s: %v", s.h.TreeSize, at, err)})
				}
			}
		}()
	}
	keys := map[string]bool{}
	err = v.src.ScanTreeHeads(ctx, func(h *translog.SignedTreeHead, key string) error {
		v.rep.TreeHeads++
		at := h.Time().Format(timeFormat)
		if h.TreeSize > n {
			return &Problem{Table: "tree_heads", What: fmt.Sprintf("the head signed at %s covers %d events but the log holds %d: events were removed since", at, h.TreeSize, n)}
		}
		var sub []translog.Hash
		for _, id := range translog.Decompose(0, h.TreeSize, nil) {
			sub = append(sub, levels[id.Level][id.Index])
		}
		got := translog.EmptyRoot()
		if len(sub) > 0 {
			got = sub[len(sub)-1]
			for i := len(sub) - 2; i >= 0; i-- {
				got = translog.HashChildren(sub[i], got)
			}
		}
		if got != h.RootHash {
			return &Problem{Table: "tree_heads", What: fmt.Sprintf("the head of %d events signed at %s does not match the log: it says root %s, the first %d events give %s (an event was changed, removed or reordered after it was signed, or the head was forged)", h.TreeSize, at, h.RootHash, h.TreeSize, got)}
		}
		keys[key] = true
		work <- signed{*h, key}
		return nil
	})
	close(work)
	wg.Wait()
	if err != nil {
		return wrap(err, "scan tree heads")
	}
	if p := bad.Load(); p != nil {
		return p
	}
	for k := range keys {
		v.rep.LogKeys = append(v.rep.LogKeys, k)
	}
	slices.Sort(v.rep.LogKeys)
	return nil
}
