package hashindex

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// Hash is a 256-bit hash (PDQ). Bit k (0 to 255) is bit k%64 of word k/64. The layout is
// the one of package pdq's Hash, so that hashindex.Hash(p) converts one into the other.
type Hash [4]uint64

// ErrSyntax is returned by Parse for text that is not 64 hexadecimal digits.
var ErrSyntax = errors.New("hashindex: a hash is 64 hexadecimal digits")

// String returns the hash as 64 lower-case hexadecimal digits, bit 255 first (big-endian
// bytes): the form in which PDQ hashes are printed and exchanged.
func (h Hash) String() string {
	var b [32]byte
	for w := range 4 {
		v := h[3-w]
		for i := range 8 {
			b[w*8+i] = byte(v >> (56 - 8*i))
		}
	}
	return hex.EncodeToString(b[:])
}

// Parse reads a hash written by String (either case).
func Parse(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("%w: got %d characters", ErrSyntax, len(s))
	}
	var b [32]byte
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	for w := range 4 {
		var v uint64
		for i := range 8 {
			v = v<<8 | uint64(b[w*8+i])
		}
		h[3-w] = v
	}
	return h, nil
}

// Distance is the Hamming distance between two hashes: the number of bits that differ
// (0 to 256). For PDQ, 31 or less is a match.
func (h Hash) Distance(o Hash) int {
	return bits.OnesCount64(h[0]^o[0]) + bits.OnesCount64(h[1]^o[1]) +
		bits.OnesCount64(h[2]^o[2]) + bits.OnesCount64(h[3]^o[3])
}

// MarshalText writes the hash as String does (so JSON carries it as a string).
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads the hash as Parse does.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// less orders hashes as numbers (the order of their hexadecimal form).
func (h *Hash) less(o *Hash) bool {
	if h[3] != o[3] {
		return h[3] < o[3]
	}
	if h[2] != o[2] {
		return h[2] < o[2]
	}
	if h[1] != o[1] {
		return h[1] < o[1]
	}
	return h[0] < o[0]
}
