package triage

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"
)

// The risk model reads a risk to life where the lexicons find no phrase for it: a
// logistic regression over the same hashed word and character n-grams as the content
// label, trained by `docket train risk` on the labelled requests of testdata/eval (all but
// the parts kept for measuring) and on ordinary posts, so that everyday language is not read
// as an emergency. It only raises the flag, never lowers it; it is not read in removal
// orders, and in a public notice it needs a risk word of the lexicons beside it.
var RiskLabels = []string{"ordinary", "emergency"}

// RiskBytes is how much of a request the risk model reads.
const RiskBytes = 2048

// RiskThreshold is the probability from which the risk model flags an emergency.
const RiskThreshold = 0.7

// RiskBits is the size of the risk model's feature space (2^RiskBits buckets).
const RiskBits = 16

//go:embed risk.bin
var shippedRisk []byte

// ShippedRiskModel returns the risk model embedded in the binary.
var ShippedRiskModel = sync.OnceValues(func() (*Model, error) {
	m, err := ReadModel(bytes.NewReader(shippedRisk))
	if err == nil && len(m.Bias) != len(RiskLabels) {
		err = fmt.Errorf("read risk model: %d classes, want %d", len(m.Bias), len(RiskLabels))
	}
	return m, err
})

// riskOf is the risk model's probability that a lower-cased text tells of a risk to life.
// feats are the text's features with the content model's bits, over its first RiskBytes:
// masked to the risk model's fewer bits they are its own (the same hash), and they are
// masked in place.
func (t *Triager) riskOf(feats []uint32, lower string) float64 {
	m := t.risk
	if m.Bits > t.model.Bits {
		return m.ScoresOf(lower, RiskBytes)[1]
	}
	mask := uint32(1)<<m.Bits - 1
	for i := range feats {
		feats[i] &= mask
	}
	return m.Scores(feats)[1]
}

// riskWords counts the lexicon hits that speak of a risk to a person.
func riskWords(h *lexHits) int {
	n := 0
	for _, c := range []int16{cForm, cKill, cSelfharm, cFarewell, cMeans, cKidnap, cMeet, cAttack, cWeapon, cThreat, cMissing, cDanger} {
		n += h.count(c)
	}
	return n
}

// ScoresOf returns the model's probabilities for a lower-cased text's first n bytes.
func (m *Model) ScoresOf(lower string, n int) []float64 {
	return m.Scores(features(prefix(lower, n), m.Bits, nil))
}
