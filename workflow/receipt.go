package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/translog"
)

// proveReceipt adds to a committed request's receipt the proof of its receipt event against
// the tree head its commit signed (see docket.ReceiptLog). A store that signs no heads gives
// receipts without a proof. An idempotent replay gives the first receipt again, with its
// proof against the latest head. The request is stored whatever happens here: a proof that
// cannot be built is logged, and the receipt goes without it.
func (s *Service) proveReceipt(ctx context.Context, p *pending) {
	var err error
	switch {
	case p.res.Replayed && p.replayed > 0:
		err = s.proveReplayed(ctx, &p.res.Receipt, p.replayed)
	case p.first != nil && p.log != nil && p.log.Head() != nil:
		var proof []translog.Hash
		if proof, err = p.log.Inclusion(p.first.Seq); err == nil {
			p.res.Receipt.Log = &docket.ReceiptLog{LeafIndex: uint64(p.first.Seq - 1), Event: docket.LogEventOf(p.first), Inclusion: proof, TreeHead: *p.log.Head()}
		}
	}
	if err != nil {
		s.log.ErrorContext(ctx, "receipt given without its proof", slog.String("request", p.res.Receipt.ID), slog.Any("err", err))
	}
}

// proveReplayed proves the receipt of the request whose receipt event is event seq, as it was
// first given, against the latest signed head.
func (s *Service) proveReplayed(ctx context.Context, r *docket.Receipt, seq int64) error {
	l, facts, err := s.ReceiptLog(ctx, seq, 0)
	if err != nil || facts == nil {
		return err
	}
	r.Deadline = facts.Deadline // the receipt as first given: the case's deadline may have moved since
	r.Log = l
	return nil
}

// ReceiptLog returns the proof of the receipt event seq against the signed head of size
// treeSize (0: the latest), and what the event recorded of the receipt given (nil for an
// event written before receipts carried proofs: then no proof either). It reads the event,
// the head and O(log n) subtrees.
func (s *Service) ReceiptLog(ctx context.Context, seq int64, treeSize uint64) (*docket.ReceiptLog, *docket.ReceiptFacts, error) {
	e, err := s.store.Event(ctx, seq)
	if err != nil {
		return nil, nil, fmt.Errorf("receipt proof: %w", err)
	}
	var d struct {
		RequestID string               `json:"request_id"`
		Receipt   *docket.ReceiptFacts `json:"receipt"`
	}
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, nil, fmt.Errorf("receipt proof: event %d: %w", seq, err)
	}
	if d.Receipt == nil {
		return nil, nil, nil
	}
	var head *translog.SignedTreeHead
	if treeSize == 0 {
		head, err = s.store.LatestTreeHead(ctx)
	} else {
		head, err = s.store.TreeHead(ctx, treeSize)
	}
	if errors.Is(err, docket.ErrNotFound) {
		return nil, d.Receipt, nil // no head signed yet
	} else if err != nil {
		return nil, nil, fmt.Errorf("receipt proof: %w", err)
	}
	if head.TreeSize < uint64(seq) {
		return nil, d.Receipt, nil // the event was logged after the newest head
	}
	proof, err := s.store.InclusionProof(ctx, uint64(seq-1), head.TreeSize)
	if err != nil {
		return nil, nil, fmt.Errorf("receipt proof: %w", err)
	}
	return &docket.ReceiptLog{LeafIndex: uint64(seq - 1), Event: docket.LogEventOf(e), Inclusion: proof, TreeHead: *head}, d.Receipt, nil
}
