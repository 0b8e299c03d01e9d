package docket

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Hash kinds a bank holds.
const (
	// HashPDQ is Meta's 256-bit perceptual hash of pictures (package pdq), matched within a
	// Hamming distance.
	HashPDQ = "pdq"
	// HashSHA256 and HashMD5 are exact digests of files of any kind (package digest).
	HashSHA256 = "sha256"
	HashMD5    = "md5"
)

// HashKinds lists the kinds of hash a bank may hold.
var HashKinds = []string{HashPDQ, HashSHA256, HashMD5}

// HashLen returns how many hexadecimal digits a hash of the kind has (0: unknown kind).
func HashLen(kind string) int {
	switch kind {
	case HashPDQ, HashSHA256:
		return 64
	case HashMD5:
		return 32
	}
	return 0
}

// Default actions of a bank: what its matches call for. docket takes none of them by
// itself; a match is recorded, routed by the rules and shown to a person.
const (
	BankActionReview = "review" // a person looks (the default)
)

// BankActions lists the default actions a bank may name.
var BankActions = []string{BankActionReview, OpRemove, OpRestrict, OpSuspend, OpTerminate}

// Bank is a named list of hashes of known media: a child-abuse list, a terrorist content
// list, content the platform removed before. Every change to a bank is an event outside any
// case (bank_created, bank_changed, bank_hashes_added, bank_hashes_withdrawn); the banks and
// bank_hashes tables are projections of them that docket audit verify checks.
type Bank struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Source is where the hashes come from (an organisation, a list, "own removals").
	Source string `json:"source"`
	// Category is the bank's own word for what it holds ("csam", "terrorism"); DSACategory
	// the DSA statement category (STATEMENT_CATEGORY_…) of such content.
	Category    string `json:"category"`
	DSACategory string `json:"dsa_category"`
	// Action is the bank's default action (BankActions): what a match calls for.
	Action    string    `json:"action"`
	Enabled   bool      `json:"enabled"`
	CreatedBy Actor     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// ChangedSeq is the seq of the last event of the bank (its bank_created, or a later
	// change of it or of its hashes); bank_created does not record it.
	ChangedSeq int64 `json:"changed_seq,omitempty"`
	// Hashes counts the bank's live hashes (filled by Store.Banks only).
	Hashes int64 `json:"hashes,omitempty"`
}

// BankHash is one hash of a bank: its kind, lower-case hex digits and, for PDQ, the
// picture's quality as the list gave it (-1: not given). AddedSeq is the bank_hashes_added
// event that added it, with its actor and time; WithdrawnSeq the bank_hashes_withdrawn event
// that withdrew it (0: live).
type BankHash struct {
	BankID       string    `json:"bank_id,omitempty"`
	Kind         string    `json:"kind"`
	Hash         string    `json:"hash"`
	Quality      int       `json:"quality"`
	AddedSeq     int64     `json:"added_seq,omitempty"`
	AddedBy      Actor     `json:"added_by,omitempty"`
	AddedAt      time.Time `json:"added_at"`
	WithdrawnSeq int64     `json:"withdrawn_seq,omitempty"`
	WithdrawnBy  Actor     `json:"withdrawn_by,omitempty"`
	WithdrawnAt  time.Time `json:"withdrawn_at"`
}

// BankCreated is the data of EventBankCreated: the bank as created.
type BankCreated struct {
	Bank
}

// BankChanged is the data of EventBankChanged: a bank enabled or disabled.
type BankChanged struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
}

// BankHashesAdded is the data of EventBankHashesAdded: one batch of hashes added to a bank.
// The rows themselves are in bank_hashes (added_seq is this event's seq); Digest is their
// BankDigest (kind, hash and quality of each), so that audit verify proves them without the
// event holding every hash. Source names where they came from (the file imported and its
// SHA-256).
type BankHashesAdded struct {
	BankID string         `json:"bank_id"`
	Bank   string         `json:"bank"`
	Count  int            `json:"count"`
	Kinds  map[string]int `json:"kinds"`
	Digest string         `json:"digest"`
	Source string         `json:"source,omitempty"`
}

// BankHashesWithdrawn is the data of EventBankHashesWithdrawn: one batch of hashes withdrawn
// from a bank (their rows get withdrawn_seq, this event's seq). Digest is the BankDigest of
// their kinds and hashes (quality left out).
type BankHashesWithdrawn struct {
	BankID string `json:"bank_id"`
	Bank   string `json:"bank"`
	Count  int    `json:"count"`
	Digest string `json:"digest"`
	Source string `json:"source,omitempty"`
}

// BankDigest is a digest of a set of bank hashes that does not depend on their order: the
// sum, modulo 2^256, of the SHA-256 of each one's fields (see TargetSum).
type BankDigest [32]byte

// AddAdded adds a hash as a bank_hashes_added event counts it: kind, hash and quality.
func (d *BankDigest) AddAdded(h *BankHash) {
	d.add(h.Kind + "\x00" + h.Hash + "\x00" + strconv.Itoa(h.Quality))
}

// AddWithdrawn adds a hash as a bank_hashes_withdrawn event counts it: kind and hash.
func (d *BankDigest) AddWithdrawn(h *BankHash) { d.add(h.Kind + "\x00" + h.Hash) }

func (d *BankDigest) add(s string) {
	sum := sha256.Sum256([]byte(s))
	var carry uint16
	for i := 31; i >= 0; i-- {
		v := uint16(d[i]) + uint16(sum[i]) + carry
		d[i], carry = byte(v), v>>8
	}
}

// String returns the digest in hex.
func (d BankDigest) String() string { return hex.EncodeToString(d[:]) }

// MediaHash is what the hash check of one attachment computed: its SHA-256 (the blob's
// name), its MD5 and, for a picture, its PDQ hash and quality; Error says why a file got no
// PDQ hash (not a picture, unreadable, above the pixel budget).
type MediaHash struct {
	SHA256   string `json:"sha256"`
	Filename string `json:"filename,omitempty"`
	MD5      string `json:"md5,omitempty"`
	PDQ      string `json:"pdq,omitempty"`
	Quality  int    `json:"quality,omitempty"`
	Error    string `json:"error,omitempty"`
}

// MediaMatch is one attachment (SHA256) found in an enabled bank: the bank's hash nearest to
// it, its kind, the Hamming distance (0 for exact digests), the quality of the attachment's
// picture, and the rotation or flip of the picture that matched (empty: as it is).
type MediaMatch struct {
	SHA256      string `json:"sha256"`
	Filename    string `json:"filename,omitempty"`
	BankID      string `json:"bank_id"`
	Bank        string `json:"bank"`
	Category    string `json:"category"`
	DSACategory string `json:"dsa_category"`
	Action      string `json:"action"`
	Kind        string `json:"kind"`
	Hash        string `json:"hash"`
	Distance    int    `json:"distance"`
	Quality     int    `json:"quality"`
	Transform   string `json:"transform,omitempty"`
}

// MediaHashed is the data of EventMediaHashed: the hashes of every attachment of a request,
// computed by the media.match job to look them up in the hash banks.
type MediaHashed struct {
	RequestID string      `json:"request_id"`
	Media     []MediaHash `json:"media"`
}

// MediaMatched is the data of EventMediaMatched: attachments of a request found in enabled
// banks, and what the routing rules that the matches made true did to the case (a queue, a
// higher priority; empty: nothing).
type MediaMatched struct {
	RequestID string       `json:"request_id"`
	Matches   []MediaMatch `json:"matches"`
	Queue     string       `json:"queue,omitempty"`
	Priority  *int         `json:"priority,omitempty"`
	Rules     []string     `json:"rules,omitempty"`
}

// CaseMedia is one attachment of a case's requests as the hash check saw it, with what it
// matched.
type CaseMedia struct {
	RequestID string `json:"request_id"`
	MediaHash
	Matches []MediaMatch `json:"matches,omitempty"`
}

// HashSignal is the triage signal of a match.
func (m *MediaMatch) HashSignal() string {
	s := "hash match: bank " + m.Bank + ", " + m.Kind
	if m.Kind == HashPDQ {
		s += " distance " + strconv.Itoa(m.Distance) + " (quality " + strconv.Itoa(m.Quality) + ")"
		if m.Transform != "" {
			s += " " + m.Transform
		}
	} else {
		s += " exact"
	}
	return s
}

// Matched reports whether any attachment of the case matched a bank.
func (c *Case) Matched() bool {
	for _, m := range c.Media {
		if len(m.Matches) > 0 {
			return true
		}
	}
	return false
}

// MediaMatches lists every match of the case's attachments, in the order recorded.
func (c *Case) MediaMatches() []MediaMatch {
	var out []MediaMatch
	for _, m := range c.Media {
		out = append(out, m.Matches...)
	}
	return out
}

// MediaChecked reports whether the attachments of a request were hashed already.
func (c *Case) MediaChecked(requestID string) bool {
	for _, m := range c.Media {
		if m.RequestID == requestID {
			return true
		}
	}
	return false
}

func (c *Case) applyMediaHashed(d *MediaHashed) {
	for _, m := range d.Media {
		c.Media = append(c.Media, CaseMedia{RequestID: d.RequestID, MediaHash: m})
	}
}

func (c *Case) applyMediaMatched(d *MediaMatched) {
	for _, m := range d.Matches {
		i := -1
		for j := range c.Media {
			if c.Media[j].RequestID == d.RequestID && c.Media[j].SHA256 == m.SHA256 {
				i = j
				break
			}
		}
		if i < 0 {
			c.Media = append(c.Media, CaseMedia{RequestID: d.RequestID, MediaHash: MediaHash{SHA256: m.SHA256, Filename: m.Filename}})
			i = len(c.Media) - 1
		}
		c.Media[i].Matches = append(c.Media[i].Matches, m)
		if c.Triage != nil {
			t := *c.Triage
			t.Signals = append(t.Signals[:len(t.Signals):len(t.Signals)], m.HashSignal())
			c.Triage = &t
		}
	}
	if d.Queue != "" {
		c.Queue = d.Queue
	}
	if d.Priority != nil {
		c.Priority = *d.Priority
	}
}
