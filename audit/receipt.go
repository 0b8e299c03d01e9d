package audit

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/translog"
)

// Leaf returns the hash of a sealed event's leaf in the event log's Merkle tree: the leaf's
// data is the 32 bytes of the event's hash.
func Leaf(e *docket.Event) (translog.Hash, error) {
	var b [translog.HashSize]byte
	if len(e.Hash) != 2*translog.HashSize {
		return translog.Hash{}, fmt.Errorf("event %d: its hash %q is not a SHA-256", e.Seq, e.Hash)
	}
	if _, err := hex.Decode(b[:], []byte(e.Hash)); err != nil {
		return translog.Hash{}, fmt.Errorf("event %d: its hash is not hex: %w", e.Seq, err)
	}
	return translog.HashLeaf(b[:]), nil
}

// ReceiptError says which part of a receipt failed verification, and why.
type ReceiptError struct {
	Field string // the receipt's field, as in its JSON (log.tree_head, deadline…)
	Why   string
}

func (e *ReceiptError) Error() string { return e.Field + ": " + e.Why }

func receiptErr(field, format string, args ...any) error {
	return &ReceiptError{Field: field, Why: fmt.Sprintf(format, args...)}
}

// VerifyReceipt checks a receipt as docket gave it, offline, with the platform's public log
// key: the tree head's signature; that the event it carries hashes to its hash and is leaf
// log.leaf_index of the signed tree (its inclusion proof); and that the event records this
// request — its id, case, time of receipt, SHA-256 and the deadline the receipt gave. Any
// field changed since makes one of these fail; the error names it.
func VerifyReceipt(r *docket.Receipt, key ed25519.PublicKey) error {
	l := r.Log
	if l == nil {
		return receiptErr("log", "the receipt carries no proof (it was given before the platform signed its log, or the field was removed)")
	}
	if err := l.TreeHead.Verify(key); err != nil {
		return receiptErr("log.tree_head", "%v", err)
	}
	e := l.Event.Event()
	if Hash(e.PrevHash, e) != e.Hash {
		return receiptErr("log.event", "its fields do not match its hash (the event was changed)")
	}
	if e.Seq < 1 || uint64(e.Seq) != l.LeafIndex+1 {
		return receiptErr("log.leaf_index", "leaf %d is not the leaf of event %d (its leaf is its seq - 1)", l.LeafIndex, e.Seq)
	}
	leaf, err := Leaf(e)
	if err != nil {
		return receiptErr("log.event.hash", "%v", err)
	}
	if err := translog.VerifyInclusion(l.LeafIndex, l.TreeHead.TreeSize, leaf, l.Inclusion, l.TreeHead.RootHash); err != nil {
		return receiptErr("log.inclusion", "the event is not proven to be leaf %d of the signed tree of %d events: %v", l.LeafIndex, l.TreeHead.TreeSize, err)
	}
	rec, err := receiptEvent(e)
	if err != nil {
		return receiptErr("log.event", "%v", err)
	}
	switch {
	case rec.requestID != r.ID:
		return receiptErr("id", "the event records request %q, the receipt says %q", rec.requestID, r.ID)
	case e.CaseID != r.CaseID:
		return receiptErr("case_id", "the event is of case %q, the receipt says %q", e.CaseID, r.CaseID)
	case !e.At.Equal(r.ReceivedAt):
		return receiptErr("received_at", "the event records %s, the receipt says %s", e.At.Format(timeFormat), r.ReceivedAt.Format(timeFormat))
	case rec.sha256 != r.SHA256:
		return receiptErr("sha256", "the event records %s, the receipt says %s", rec.sha256, r.SHA256)
	case rec.facts == nil:
		return receiptErr("log.event", "the event does not record the receipt's deadline (written before receipts carried proofs)")
	case !sameTime(rec.facts.Deadline, r.Deadline):
		return receiptErr("deadline", "the event records %s, the receipt says %s", showTime(rec.facts.Deadline), showTime(r.Deadline))
	}
	return nil
}

const timeFormat = "2006-01-02T15:04:05.999999Z07:00"

func sameTime(a, b *docket.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(b.Time)
}

func showTime(t *docket.Time) string {
	if t == nil {
		return "no deadline"
	}
	return t.UTC().Format(timeFormat)
}

type receiptFacts struct {
	requestID, sha256 string
	facts             *docket.ReceiptFacts
}

// receiptEvent reads what a receipt event records of its request.
func receiptEvent(e *docket.Event) (receiptFacts, error) {
	var out receiptFacts
	switch e.Type {
	case docket.EventCaseOpened:
		var d docket.CaseOpened
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return out, fmt.Errorf("unreadable data: %v", err)
		}
		if d.SplitFrom != "" {
			return out, fmt.Errorf("event %d opens a case split off %s: it records no receipt", e.Seq, d.SplitFrom)
		}
		return receiptFacts{d.RequestID, d.SHA256, d.Receipt}, nil
	case docket.EventRequestReceived:
		var d docket.RequestReceived
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return out, fmt.Errorf("unreadable data: %v", err)
		}
		return receiptFacts{d.RequestID, d.SHA256, d.Receipt}, nil
	case docket.EventRequesterReplied:
		var d docket.RequesterReplied
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return out, fmt.Errorf("unreadable data: %v", err)
		}
		return receiptFacts{d.RequestID, d.SHA256, d.Receipt}, nil
	}
	return out, fmt.Errorf("a %s event records no receipt", e.Type)
}

// VerifyInclusionAt checks that a receipt's event (checked by VerifyReceipt) is in the tree
// of a newer signed head, given its inclusion proof against that head (GET
// /api/v1/requests/{id}/proof).
func VerifyInclusionAt(r *docket.Receipt, head *translog.SignedTreeHead, proof []translog.Hash, key ed25519.PublicKey) error {
	if r.Log == nil {
		return receiptErr("log", "the receipt carries no proof")
	}
	if err := head.Verify(key); err != nil {
		return receiptErr("head", "%v", err)
	}
	leaf, err := Leaf(r.Log.Event.Event())
	if err != nil {
		return receiptErr("log.event.hash", "%v", err)
	}
	if err := translog.VerifyInclusion(r.Log.LeafIndex, head.TreeSize, leaf, proof, head.RootHash); err != nil {
		return receiptErr("proof", "the request's event is not proven to be in the tree of %d events: %v", head.TreeSize, err)
	}
	return nil
}

// VerifyGrowth checks that the log of a newer signed head only grew since an older one:
// both heads are signed with key, and the consistency proof between them (GET
// /api/v1/log/consistency) holds — no event of the older tree was changed, removed or
// reordered.
func VerifyGrowth(older, newer *translog.SignedTreeHead, proof []translog.Hash, key ed25519.PublicKey) error {
	if err := older.Verify(key); err != nil {
		return receiptErr("log.tree_head", "%v", err)
	}
	if err := newer.Verify(key); err != nil {
		return receiptErr("head", "%v", err)
	}
	if err := translog.VerifyConsistency(older.TreeSize, newer.TreeSize, proof, older.RootHash, newer.RootHash); err != nil {
		return receiptErr("consistency", "the log of %d events does not extend the log of %d events the receipt was signed in: %v", newer.TreeSize, older.TreeSize, err)
	}
	return nil
}
