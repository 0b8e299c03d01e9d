package sim

import "math"

// hist counts durations in logarithmic buckets 1% wide, from one second up; a percentile
// read from it is within 1% of the exact one.
type hist struct {
	n      int64
	counts []int64
	max    float64
}

const histBase = 1.01

func (h *hist) add(seconds float64) {
	b := 0
	if seconds > 1 {
		b = 1 + int(math.Log(seconds)/math.Log(histBase))
	}
	if b >= len(h.counts) {
		h.counts = append(h.counts, make([]int64, b+1-len(h.counts))...)
	}
	h.counts[b]++
	h.n++
	h.max = max(h.max, seconds)
}

// quantile returns the q-quantile in seconds (the upper edge of its bucket, at most the
// largest value seen), 0 when empty.
func (h *hist) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen int64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			if b == 0 {
				return min(1, h.max)
			}
			return min(math.Pow(histBase, float64(b)), h.max)
		}
	}
	return h.max
}
