package docket

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"github.com/google/uuid"
)

// NewID returns a new time-ordered identifier (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// NewToken returns a new token of 256 random bits with the given prefix ("dka" for
// authorities, "dku" for staff; none for session cookies and links) and the hash under which
// it is stored. The token itself is never stored.
func NewToken(prefix string) (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("docket: no randomness: " + err.Error())
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	if prefix != "" {
		token = prefix + "_" + token
	}
	return token, HashToken(token)
}

// HashToken returns the stored form of a bearer token. Tokens carry 256 random bits, so a
// plain SHA-256 is as strong as a slow hash here, and lets each API call look one up fast.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
