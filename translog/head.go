package translog

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SignedTreeHead is a tree head signed by the log's key: the tree's size, its root hash, when
// it was signed (milliseconds since the Unix epoch, UTC) and the Ed25519 signature of
// Message(). In JSON the root is hex and the signature base64, as everywhere in docket.
type SignedTreeHead struct {
	TreeSize  uint64 `json:"tree_size"`
	RootHash  Hash   `json:"root_hash"`
	Timestamp int64  `json:"timestamp"`
	Signature []byte `json:"signature"`
}

// headPrefix starts every message the log's key signs, so that a signature of a tree head
// can never be taken for a signature of anything else.
const headPrefix = "docket-tree-head-v1\x00"

// Message returns the bytes the signature covers:
//
//	"docket-tree-head-v1" 0x00          20 bytes
//	timestamp  uint64, big-endian        8 bytes (milliseconds since the Unix epoch)
//	tree_size  uint64, big-endian        8 bytes
//	root_hash                           32 bytes
//
// 68 bytes in all: the fields of RFC 6962's tree head signature, in its order, after a prefix
// of docket's own in place of its version and signature type.
func (h *SignedTreeHead) Message() []byte {
	b := make([]byte, 0, len(headPrefix)+16+HashSize)
	b = append(b, headPrefix...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Timestamp))
	b = binary.BigEndian.AppendUint64(b, h.TreeSize)
	return append(b, h.RootHash[:]...)
}

// Time returns the moment the head was signed.
func (h *SignedTreeHead) Time() time.Time { return time.UnixMilli(h.Timestamp).UTC() }

// ErrBadSignature means a tree head was not signed by the key given, or was changed since.
var ErrBadSignature = errors.New("the tree head's signature does not verify with this key")

// Verify checks the head's signature with the log's public key.
func (h *SignedTreeHead) Verify(key ed25519.PublicKey) error {
	if len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("verify tree head: a public key is %d bytes, not %d", ed25519.PublicKeySize, len(key))
	}
	if h.Timestamp < 0 || !ed25519.Verify(key, h.Message(), h.Signature) {
		return ErrBadSignature
	}
	return nil
}

// Signer signs tree heads with the log's private key.
type Signer struct {
	key ed25519.PrivateKey
}

// NewSigner returns a signer for the Ed25519 key whose 32-byte seed is given.
func NewSigner(seed []byte) (*Signer, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("an Ed25519 seed is %d bytes, not %d", ed25519.SeedSize, len(seed))
	}
	return &Signer{key: ed25519.NewKeyFromSeed(seed)}, nil
}

// Sign returns the head of the tree of size leaves with root root, signed at time at
// (truncated to the millisecond).
func (s *Signer) Sign(size uint64, root Hash, at time.Time) SignedTreeHead {
	h := SignedTreeHead{TreeSize: size, RootHash: root, Timestamp: at.UnixMilli()}
	h.Signature = ed25519.Sign(s.key, h.Message())
	return h
}

// Public returns the public key that verifies the signer's heads.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// KeyLine returns the public key as the one line docket publishes (GET /api/v1/log/key,
// docket log key): "ed25519:" and the key's 32 bytes in standard base64.
func KeyLine(pub ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

// ParseKeyLine reads a public key as KeyLine writes it, or the text of a file that holds
// that line (blank lines and lines starting with # are skipped).
func ParseKeyLine(text string) (ed25519.PublicKey, error) {
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b64, ok := strings.CutPrefix(line, "ed25519:")
		if !ok {
			return nil, fmt.Errorf("a log key is written ed25519:BASE64, not %.20q", line)
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("a log key is ed25519: and %d bytes in base64", ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(b), nil
	}
	return nil, errors.New("no log key in the text given")
}

// seedPrefix starts the line of a key file that holds the private key's seed.
const seedPrefix = "ed25519-seed:"

// LoadOrCreateKey reads the log's private key from file, creating it (mode 0600, and its
// folder, 0700) when it does not exist. Every node of a cluster must use the same file.
func LoadOrCreateKey(file string) (*Signer, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, fmt.Errorf("generate log key: %w", err)
		}
		s, err := NewSigner(seed)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, fmt.Errorf("write log key: %w", err)
		}
		text := "# docket log key: signs the heads of the event log's Merkle tree. Back it up; keep it secret.\n" +
			"# public: " + KeyLine(s.Public()) + "\n" +
			seedPrefix + base64.StdEncoding.EncodeToString(seed) + "\n"
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKey(file) // another process created it first
		} else if err != nil {
			return nil, fmt.Errorf("write log key: %w", err)
		}
		if _, err := f.WriteString(text); err != nil {
			f.Close()
			return nil, fmt.Errorf("write log key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write log key: %w", err)
		}
		return s, nil
	} else if err != nil {
		return nil, fmt.Errorf("read log key: %w", err)
	}
	return ParseKey(string(b))
}

// ParseKey reads a private key file as LoadOrCreateKey writes it.
func ParseKey(text string) (*Signer, error) {
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if b64, ok := strings.CutPrefix(line, seedPrefix); ok {
			seed, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return nil, fmt.Errorf("parse log key: %w", err)
			}
			return NewSigner(seed)
		}
	}
	return nil, errors.New("parse log key: no " + seedPrefix + " line in the file")
}
