package triage

import (
	"fmt"
	"hash/fnv"
	"math/bits"
	"strings"
	"unicode"
)

// SimHashMinWords is the shortest text worth comparing: below it, near-identical texts are
// too often different requests in the same words.
const SimHashMinWords = 12

// SimHash returns a 64-bit SimHash of a text's words (lower-cased), and false when
// the text is too short to compare. Texts that differ in a few words have hashes a few bits
// apart.
func SimHash(text string) (uint64, bool) {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	if len(words) < SimHashMinWords {
		return 0, false
	}
	var v [64]int
	h := fnv.New64a()
	for _, w := range words {
		h.Reset()
		h.Write([]byte(w))
		x := h.Sum64()
		for b := range 64 {
			if x&(1<<b) != 0 {
				v[b]++
			} else {
				v[b]--
			}
		}
	}
	var out uint64
	for b := range 64 {
		if v[b] > 0 {
			out |= 1 << b
		}
	}
	return out, true
}

// NearDuplicate is the largest SimHash distance at which two texts count as the same.
const NearDuplicate = 3

// Distance is the number of bits in which two SimHashes differ.
func Distance(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// SimHashBands returns the four 16-bit bands of h as related-case keys: two hashes within
// NearDuplicate bits of each other share at least one band.
func SimHashBands(h uint64) []string {
	out := make([]string, 4)
	for i := range 4 {
		out[i] = fmt.Sprintf("%d:%04x", i, (h>>(16*i))&0xffff)
	}
	return out
}
