package docket

import (
	"time"

	"github.com/docket-dev/docket/translog"
)

// The event log is also a Merkle tree (RFC 9162, package translog): leaf i is event i+1, the
// leaf's data the 32 bytes of the event's hash. Each write transaction that appends events
// signs the tree's head with the platform's key (one signature per commit, however many
// receipts it carries). A receipt carries that head and the inclusion proof of its request's
// event, so that the requester can check it without trusting docket, and later ask for proof
// that the log only grew since.

// ReceiptFacts is what a receipt event (case_opened, request_received, requester_replied)
// records of the receipt given for its request beyond the request itself: the deadline
// it gave — the case's after the triage at receipt, or the earlier deadline of the case the
// request joined — so that a receipt can be checked against the event alone. Events written
// before receipts carried proofs lack it.
type ReceiptFacts struct {
	Deadline *Time `json:"deadline"`
}

// ReceiptLog is the part of a receipt that proves it against the event log's Merkle tree:
// the request's receipt event, whose fields match the receipt's; its leaf index and
// inclusion proof; the signed tree head the proof leads to.
type ReceiptLog struct {
	LeafIndex uint64                  `json:"leaf_index"`
	Event     LogEvent                `json:"event"`
	Inclusion []translog.Hash         `json:"inclusion"`
	TreeHead  translog.SignedTreeHead `json:"tree_head"`
}

// LogEvent is an event as a receipt or a proof shows it: every field its hash covers, the
// data as the exact text that was hashed (a JSON string, so that reformatting the receipt
// changes nothing).
type LogEvent struct {
	Seq      int64     `json:"seq"`
	CaseID   string    `json:"case_id"`
	Type     EventType `json:"type"`
	Actor    Actor     `json:"actor"`
	At       time.Time `json:"at"`
	Data     string    `json:"data"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// LogEventOf returns e as a receipt shows it.
func LogEventOf(e *Event) LogEvent {
	return LogEvent{Seq: e.Seq, CaseID: e.CaseID, Type: e.Type, Actor: e.Actor, At: e.At.UTC(), Data: string(e.Data), PrevHash: e.PrevHash, Hash: e.Hash}
}

// Event returns the event that l shows.
func (l *LogEvent) Event() *Event {
	return &Event{Seq: l.Seq, CaseID: l.CaseID, Type: l.Type, Actor: l.Actor, At: l.At, Data: []byte(l.Data), PrevHash: l.PrevHash, Hash: l.Hash}
}

// LogCommit is what one write transaction made of the event log's Merkle tree. Its answers
// hold once Store.Update has returned nil.
type LogCommit interface {
	// Head returns the signed tree head the transaction committed, or nil when the store
	// signs no heads (it has no log key) or the transaction appended no event.
	Head() *translog.SignedTreeHead
	// Inclusion returns the inclusion proof, against Head, of the event with seq appended in
	// the transaction.
	Inclusion(seq int64) ([]translog.Hash, error)
}

// InclusionProof is a request's proof against a later tree (GET
// /api/v1/requests/{id}/proof): its receipt event, the event's leaf index, its inclusion
// proof in the tree of TreeSize events, and the signed head of that size when one was signed.
type InclusionProof struct {
	LeafIndex uint64                   `json:"leaf_index"`
	TreeSize  uint64                   `json:"tree_size"`
	Inclusion []translog.Hash          `json:"inclusion"`
	Event     LogEvent                 `json:"event"`
	TreeHead  *translog.SignedTreeHead `json:"tree_head,omitempty"`
}

// ConsistencyProof proves that the tree of To events extends the tree of From events (GET
// /api/v1/log/consistency), with the signed head of size To when one was signed.
type ConsistencyProof struct {
	From        uint64                   `json:"from"`
	To          uint64                   `json:"to"`
	Consistency []translog.Hash          `json:"consistency"`
	TreeHead    *translog.SignedTreeHead `json:"tree_head,omitempty"`
}
