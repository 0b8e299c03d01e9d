package translog

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSignedHead: a signed head verifies with its key, survives JSON, and fails once any of
// its fields or its signature changes, or with another key.
func TestSignedHead(t *testing.T) {
	s, err := NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC)
	h := s.Sign(8, mustHash(t, vectorRoots[7]), at)
	if h.Timestamp != at.UnixMilli() || !h.Time().Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("timestamp %d", h.Timestamp)
	}
	if len(h.Message()) != 68 {
		t.Errorf("message of %d bytes, want 68", len(h.Message()))
	}
	if err := h.Verify(s.Public()); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(h)
	var back SignedTreeHead
	if err := json.Unmarshal(js, &back); err != nil || back.Verify(s.Public()) != nil {
		t.Fatalf("after JSON (%s): %v", js, err)
	}
	if !strings.Contains(string(js), `"root_hash":"`+vectorRoots[7]+`"`) {
		t.Errorf("root not in hex: %s", js)
	}
	other, _ := NewSigner([]byte(strings.Repeat("o", 32)))
	for name, change := range map[string]func(*SignedTreeHead){
		"size":      func(h *SignedTreeHead) { h.TreeSize++ },
		"root":      func(h *SignedTreeHead) { h.RootHash[31] ^= 1 },
		"timestamp": func(h *SignedTreeHead) { h.Timestamp++ },
		"signature": func(h *SignedTreeHead) { h.Signature = append([]byte(nil), h.Signature...); h.Signature[0] ^= 1 },
		"negative":  func(h *SignedTreeHead) { h.Timestamp = -1 },
	} {
		c := h
		change(&c)
		if !errors.Is(c.Verify(s.Public()), ErrBadSignature) {
			t.Errorf("a head with its %s changed verified", name)
		}
	}
	if h.Verify(other.Public()) == nil {
		t.Error("a head verified with another key")
	}
}

// TestKeyFile: the key is created once, reads back, and its public line parses, alone or in
// a file with comments.
func TestKeyFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "log.key") // its folder is created too
	a, err := LoadOrCreateKey(file)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	b, err := LoadOrCreateKey(file)
	if err != nil || !a.Public().Equal(b.Public()) {
		t.Fatalf("the key changed on reload: %v", err)
	}
	line := KeyLine(a.Public())
	if !strings.HasPrefix(line, "ed25519:") || len(line) != len("ed25519:")+44 {
		t.Errorf("key line %q", line)
	}
	for _, text := range []string{line, line + "\n", "# the platform's log key\n\n  " + line + "  \n"} {
		pub, err := ParseKeyLine(text)
		if err != nil || !pub.Equal(a.Public()) {
			t.Errorf("ParseKeyLine(%q): %v", text, err)
		}
	}
	for _, bad := range []string{"", "ed25519:", "ed25519:AAAA", "rsa:" + line[8:], line[8:]} {
		if _, err := ParseKeyLine(bad); err == nil {
			t.Errorf("ParseKeyLine(%q) accepted", bad)
		}
	}
	key, _ := os.ReadFile(file)
	if !strings.Contains(string(key), "# public: "+line) {
		t.Errorf("the key file does not name its public key:\n%s", key)
	}
	if _, err := ParseKeyLine(string(key)); err == nil {
		t.Error("the private key file read as a public key line")
	}
}
