// Package audit seals events into the hash chain and verifies a store end to end: the chain
// of every event and the stored head; every case's stored document and index columns
// against the state its events produce; every request (raw bytes, normalised body, sender,
// time, channel, case, target rows) against its receipt, merge and split events; every blob
// against its SHA-256, and every blob the records name is there; the staff, authorities and
// sign-in accounts against the events that created and changed them; and every job against
// the facts it points at. docs/SECURITY.md says what this proves and what it does not.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"time"

	"github.com/docket-dev/docket"
)

// Hash returns the hex SHA-256 that seals e after the event whose hash is prev. It covers
// every field of the event: its sequence number, case, type, actor, time (microseconds),
// data and prev; each field is length-prefixed so that no two events encode alike.
func Hash(prev string, e *docket.Event) string {
	h := sha256.New()
	h.Write([]byte("docket-event-v1"))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	field(h, e.CaseID)
	field(h, string(e.Type))
	field(h, string(e.Actor))
	binary.BigEndian.PutUint64(n[:], uint64(docket.Micros(e.At)))
	h.Write(n[:])
	field(h, string(e.Data))
	field(h, prev)
	return hex.EncodeToString(h.Sum(nil))
}

func field(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// Seal sets e's Seq, PrevHash and Hash to follow the event (prevSeq, prevHash).
func Seal(prevSeq int64, prevHash string, e *docket.Event) {
	e.Seq = prevSeq + 1
	e.PrevHash = prevHash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = Hash(prevHash, e)
}
