// Package docket holds the domain of docket: the requests that authorities and people send an
// online platform, the cases they become, the events that record every change to a case, and
// the small interfaces (Store) that the storage engines implement.
//
// State is derived from events: a case is what its events, applied in order with
// (*Case).Apply, make of it. The storage engines keep that projection next to the log, and
// the audit package checks that the two agree.
package docket

import (
	"slices"
	"time"
)

// Kind is what a request asks for.
type Kind string

// The kinds of request.
const (
	KindDisclosure          Kind = "disclosure"
	KindPreservation        Kind = "preservation"
	KindRemoval             Kind = "removal"
	KindEmergencyDisclosure Kind = "emergency_disclosure"
	KindNotice              Kind = "notice"
	KindOther               Kind = "other"
)

// Kinds lists every valid Kind.
var Kinds = []Kind{KindDisclosure, KindPreservation, KindRemoval, KindEmergencyDisclosure, KindNotice, KindOther}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Discloses reports whether a request of this kind asks for user data to be handed over.
func (k Kind) Discloses() bool { return k == KindDisclosure || k == KindEmergencyDisclosure }

// TargetKinds lists the kinds of target a request may name.
var TargetKinds = []string{"username", "account", "channel", "group", "message", "media", "phone", "email", "ip", "wallet", "url"}

// Target is what a request asks about or asks to act on.
type Target struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Micros converts a time to the integer microseconds the stores keep; the zero time is 0.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros is the inverse of Micros.
func FromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
