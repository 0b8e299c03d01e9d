package hashindex

import "github.com/docket-dev/docket/pdq"

// Hash is a 256-bit PDQ hash, package pdq's: bit k (0 to 255) is bit k%64 of word k/64.
type Hash = pdq.Hash

// ErrSyntax is returned by Parse for text that is not 64 hexadecimal digits.
var ErrSyntax = pdq.ErrHashSyntax

// Parse reads a hash in PDQ's 64-digit hexadecimal form (either case).
func Parse(s string) (Hash, error) { return pdq.Parse(s) }

// less orders hashes as numbers (the order of their hexadecimal form).
func less(h, o *Hash) bool {
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
