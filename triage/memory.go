package triage

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"unicode"

	"github.com/docket-dev/docket"
)

// A Correction is what a person said the triage of a request should have been: the
// request as triage read it, and the fields the person set (empty or nil: not corrected).
type Correction struct {
	Input     Input
	Regime    string
	Kind      docket.Kind
	Emergency *bool
	Spam      *bool
	Label     string
	// Ref names the correction in signals (a case ID, an evaluation line's ID).
	Ref string
}

// MemoryLike is the cosine similarity (of character 4-grams, digits folded) above which a
// request counts as like a corrected one: letters written from the same template, or the
// same scam campaign sent again, score 0.55–0.95; different letters of the same kind, in the
// evaluation sets, stay under 0.48, and legitimate mail under 0.43 of spam (memory_test.go).
const MemoryLike = 0.55

// memoryBytes is how much of a text the memory compares.
const memoryBytes = 2048

// Memory holds people's corrections of the triage, so that the next request like a
// corrected one — the same authority's template, the same scam campaign — is triaged as the
// person said. It is safe for concurrent use.
//
// What a correction may change stays on the safe side: it may raise the emergency flag,
// never lower it; it may call a request spam only when the sender is not official; it may
// take the spam mark off. Regime and kind follow the correction.
type Memory struct {
	mu       sync.RWMutex
	items    []memoryItem
	postings map[uint32][]int32 // shingle → items holding it
}

type memoryItem struct {
	c    Correction
	vec  []shingleWeight // sorted by shingle
	norm float64
}

type shingleWeight struct {
	s uint32
	w float32
}

// NewMemory returns an empty memory.
func NewMemory() *Memory { return &Memory{postings: map[uint32][]int32{}} }

// Len is the number of corrections held.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.items)
}

// Learn adds a correction. A correction that sets nothing, or of a text too short to
// compare, is ignored.
func (m *Memory) Learn(c Correction) {
	if c.Regime == "" && c.Kind == "" && c.Emergency == nil && c.Spam == nil && c.Label == "" {
		return
	}
	vec := shingles(c.Input.Subject + "\n" + c.Input.Text)
	if len(vec) < 16 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := int32(len(m.items))
	m.items = append(m.items, memoryItem{c: c, vec: vec, norm: norm(vec)})
	for _, sw := range vec {
		m.postings[sw.s] = append(m.postings[sw.s], id)
	}
}

// like returns the correction most like the text, when one is at least MemoryLike similar.
func (m *Memory) like(subject, text string) (Correction, float64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.items) == 0 {
		return Correction{}, 0, false
	}
	q := shingles(subject + "\n" + text)
	if len(q) < 16 {
		return Correction{}, 0, false
	}
	qn := norm(q)
	// Shingles held by more than a quarter of the corrections (and at least 8) are
	// common words: they cost the most and tell the least, and are left out of the dot
	// product, which can only lower a similarity.
	common := max(8, len(m.items)/4)
	dots := map[int32]float64{}
	for _, sw := range q {
		ids := m.postings[sw.s]
		if len(ids) > common {
			continue
		}
		for _, id := range ids {
			dots[id] += float64(sw.w) * weightOf(m.items[id].vec, sw.s)
		}
	}
	best, bestSim := int32(-1), 0.0
	for id, d := range dots {
		sim := d / (qn * m.items[id].norm)
		if sim > bestSim || (sim == bestSim && id < best) {
			best, bestSim = id, sim
		}
	}
	if best < 0 || bestSim < MemoryLike {
		return Correction{}, bestSim, false
	}
	return m.items[best].c, bestSim, true
}

func weightOf(vec []shingleWeight, s uint32) float64 {
	i, ok := slices.BinarySearchFunc(vec, s, func(a shingleWeight, s uint32) int { return cmp.Compare(a.s, s) })
	if !ok {
		return 0
	}
	return float64(vec[i].w)
}

func norm(vec []shingleWeight) float64 {
	var n float64
	for _, sw := range vec {
		n += float64(sw.w) * float64(sw.w)
	}
	return math.Sqrt(n)
}

// shingles returns the character 4-grams of a text's first memoryBytes, lower-cased, with
// digits folded to 0 and runs of spaces and punctuation to one space (so that two letters
// of one template, with other names and numbers, stay alike), weighted 1+log(count). It
// runs for every request once a correction is learnt: no map, one sort of the hashes.
func shingles(text string) []shingleWeight {
	text = prefix(text, memoryBytes)
	hs := make([]uint32, 0, len(text))
	var a, b, c rune
	n := 0
	lastSpace := true
	for _, r := range text {
		switch {
		case unicode.IsDigit(r):
			r = '0'
		case unicode.IsLetter(r) || unicode.IsMark(r):
			r = unicode.ToLower(r)
		default:
			if lastSpace {
				continue
			}
			r = ' '
		}
		lastSpace = r == ' '
		if n++; n >= 4 {
			h := fnvBasis
			for _, x := range [4]rune{a, b, c, r} {
				h = (h ^ uint32(x)) * fnvPrime
			}
			hs = append(hs, h)
		}
		a, b, c = b, c, r
	}
	radixSort(hs)
	vec := make([]shingleWeight, 0, len(hs))
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j] == hs[i] {
			j++
		}
		vec = append(vec, shingleWeight{s: hs[i], w: float32(1 + math.Log(float64(j-i)))})
		i = j
	}
	return vec
}

// radixSort sorts hashes in four byte-wide passes: several times faster than a comparison
// sort on the ~2,000 hashes of a letter, which every request pays once corrections exist.
func radixSort(hs []uint32) {
	tmp := make([]uint32, len(hs))
	src, dst := hs, tmp
	for shift := 0; shift < 32; shift += 8 {
		var count [257]int
		for _, h := range src {
			count[(h>>shift)&0xff+1]++
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for _, h := range src {
			b := (h >> shift) & 0xff
			dst[count[b]] = h
			count[b]++
		}
		src, dst = dst, src
	}
	// Four passes: the sorted hashes are back in hs.
}
