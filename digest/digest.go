// Package digest computes exact hashes of files of any kind (pictures, videos, documents):
// SHA-256 and MD5, read once as a stream whatever the size, for matching against lists of
// known files. (Perceptual hashes of pictures are package pdq's.)
package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
)

// Kind says which digests to compute; kinds combine with |.
type Kind int

// The digests.
const (
	SHA256 Kind = 1 << iota
	MD5
	All = SHA256 | MD5
)

// Sums are the digests of a stream; a digest not asked for is nil.
type Sums struct {
	SHA256, MD5 []byte
	Size        int64 // bytes read
}

// SHA256Hex is the SHA-256 in lower-case hexadecimal ("" when not computed).
func (s Sums) SHA256Hex() string { return hexOrEmpty(s.SHA256) }

// MD5Hex is the MD5 in lower-case hexadecimal ("" when not computed).
func (s Sums) MD5Hex() string { return hexOrEmpty(s.MD5) }

func hexOrEmpty(b []byte) string {
	if b == nil {
		return ""
	}
	return hex.EncodeToString(b)
}

// Read reads r to its end and returns the digests of what it read.
func Read(r io.Reader, kinds Kind) (Sums, error) {
	var sha, md hash.Hash
	var ws []io.Writer
	if kinds&SHA256 != 0 {
		sha = sha256.New()
		ws = append(ws, sha)
	}
	if kinds&MD5 != 0 {
		md = md5.New()
		ws = append(ws, md)
	}
	n, err := io.CopyBuffer(io.MultiWriter(ws...), r, make([]byte, 256<<10))
	if err != nil {
		return Sums{}, err
	}
	s := Sums{Size: n}
	if sha != nil {
		s.SHA256 = sha.Sum(nil)
	}
	if md != nil {
		s.MD5 = md.Sum(nil)
	}
	return s, nil
}

// File returns the digests of the named file.
func File(name string, kinds Kind) (Sums, error) {
	f, err := os.Open(name)
	if err != nil {
		return Sums{}, err
	}
	defer f.Close()
	return Read(f, kinds)
}
