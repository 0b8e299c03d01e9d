// Package hashindex finds every stored 256-bit hash (PDQ) within a Hamming distance of a
// query, exactly.
package hashindex
