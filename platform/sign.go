// Package platform is docket's side of the platform connector: an HTTP client of the
// contract in docs/connector.openapi.json that signs every call (HMAC-SHA256 over method,
// path, timestamp, idempotency key and body), and the verification that the platform runs
// on what it receives (signature, replay window, replays refused).
package platform

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Headers of a signed call.
const (
	HeaderTimestamp   = "X-Docket-Timestamp" // Unix seconds
	HeaderSignature   = "X-Docket-Signature" // "v1=" + hex HMAC-SHA256
	HeaderNonce       = "X-Docket-Nonce"     // random, once per call
	HeaderIdempotency = "Idempotency-Key"
)

// Sign returns the signature of a call: HMAC-SHA256 with secret over the method, the path
// with its query, the timestamp, the nonce, the idempotency key and the SHA-256 of the body,
// one per line.
func Sign(secret []byte, method, path string, ts int64, nonce, key string, body []byte) string {
	sum := sha256.Sum256(body)
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%s\n%s\n%d\n%s\n%s\n%s", method, path, ts, nonce, key, hex.EncodeToString(sum[:]))
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verification errors.
var (
	ErrUnsigned  = errors.New("the call is not signed")
	ErrStale     = errors.New("the call's timestamp is outside the replay window")
	ErrSignature = errors.New("the signature does not match")
	ErrReplayed  = errors.New("the call was already received (replay)")
)

// Verifier checks signed calls. A nonce is accepted once: the same call sent again within
// the window is a replay, and outside it is stale. A retry is a new call, with a new nonce
// and signature and the same idempotency key.
type Verifier struct {
	Secret []byte
	// Window is how far a call's timestamp may be from now (default 5 minutes).
	Window time.Duration
	Now    func() time.Time

	mu     sync.Mutex
	seen   map[string]time.Time
	pruned time.Time
}

// Verify checks the call r whose body is body.
func (v *Verifier) Verify(r *http.Request, body []byte) error {
	window := v.Window
	if window <= 0 {
		window = 5 * time.Minute
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	sig, tsText := r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp)
	if sig == "" || tsText == "" {
		return ErrUnsigned
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrUnsigned, tsText)
	}
	at := time.Unix(ts, 0)
	if at.Before(now.Add(-window)) || at.After(now.Add(window)) {
		return ErrStale
	}
	nonce := r.Header.Get(HeaderNonce)
	if len(nonce) < 16 {
		return fmt.Errorf("%w: nonce missing or shorter than 16 characters", ErrUnsigned)
	}
	want := Sign(v.Secret, r.Method, r.URL.RequestURI(), ts, nonce, r.Header.Get(HeaderIdempotency), body)
	if !hmac.Equal([]byte(strings.TrimSpace(sig)), []byte(want)) {
		return ErrSignature
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[string]time.Time{}
	}
	if now.Sub(v.pruned) > window { // nonces older than the window are stale anyway
		for s, t := range v.seen {
			if now.Sub(t) > 2*window {
				delete(v.seen, s)
			}
		}
		v.pruned = now
	}
	if _, ok := v.seen[nonce]; ok {
		return ErrReplayed
	}
	v.seen[nonce] = now
	return nil
}

// NewNonce returns a random nonce for one call.
func NewNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
