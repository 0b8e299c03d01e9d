package triage

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Labels the content classifier gives.
var Labels = []string{"none", "hate", "abuse", "spam"}

// MaxClassifiedBytes bounds the text the classifier reads; longer texts are cut (and a
// signal says so).
const MaxClassifiedBytes = 16 << 10

// Model is a linear classifier over hashed word and character n-grams (multinomial logistic
// regression). It is small enough to ship in the binary and fast enough for thousands of
// texts a second on one core.
type Model struct {
	Bits    uint      // 2^Bits feature buckets
	Weights []float32 // len(Labels) × 2^Bits, class-major
	Bias    []float32
}

//go:embed model.bin
var shippedModel []byte

// ShippedModel returns the model trained by `docket train` and embedded in the binary.
func ShippedModel() (*Model, error) { return ReadModel(bytes.NewReader(shippedModel)) }

const modelMagic = "DKTM1\n"

// WriteModel stores m quantised to int16 (a few MB).
func (m *Model) WriteModel(w io.Writer) error {
	var scale float32
	for _, v := range m.Weights {
		scale = max(scale, float32(math.Abs(float64(v))))
	}
	scale /= 32767
	if scale == 0 {
		scale = 1
	}
	hdr := []any{uint32(m.Bits), uint32(len(m.Bias)), scale}
	if _, err := io.WriteString(w, modelMagic); err != nil {
		return err
	}
	for _, v := range hdr {
		if err := binary.Write(w, binary.LittleEndian, v); err != nil {
			return err
		}
	}
	if err := binary.Write(w, binary.LittleEndian, m.Bias); err != nil {
		return err
	}
	q := make([]int16, len(m.Weights))
	for i, v := range m.Weights {
		q[i] = int16(math.Round(float64(v / scale)))
	}
	return binary.Write(w, binary.LittleEndian, q)
}

// ReadModel loads a model written by WriteModel.
func ReadModel(r io.Reader) (*Model, error) {
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != modelMagic {
		return nil, errors.New("read model: not a docket model file")
	}
	var bits, classes uint32
	var scale float32
	for _, v := range []any{&bits, &classes, &scale} {
		if err := binary.Read(r, binary.LittleEndian, v); err != nil {
			return nil, fmt.Errorf("read model header: %w", err)
		}
	}
	if bits < 10 || bits > 24 || int(classes) != len(Labels) {
		return nil, fmt.Errorf("read model: %d bits and %d classes are not supported", bits, classes)
	}
	m := &Model{Bits: uint(bits), Bias: make([]float32, classes)}
	if err := binary.Read(r, binary.LittleEndian, m.Bias); err != nil {
		return nil, fmt.Errorf("read model bias: %w", err)
	}
	q := make([]int16, int(classes)<<bits)
	if err := binary.Read(r, binary.LittleEndian, q); err != nil {
		return nil, fmt.Errorf("read model weights: %w", err)
	}
	m.Weights = make([]float32, len(q))
	for i, v := range q {
		m.Weights[i] = float32(v) * scale
	}
	return m, nil
}

// Features returns the hashed feature buckets of a text: lower-cased word unigrams and
// bigrams, and character 2- to 4-grams within words (which carry across spelling variants,
// agglutination and scripts without spaces). Hashes are FNV-1a of a one-byte feature kind
// followed by the feature's UTF-8 bytes, computed without allocating.
func Features(text string, bits uint, out []uint32) []uint32 {
	if len(text) > MaxClassifiedBytes {
		text = text[:MaxClassifiedBytes]
		for !utf8.ValidString(text) && len(text) > 0 {
			text = text[:len(text)-1]
		}
	}
	mask := uint32(1)<<bits - 1
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '@' && r != '#' && r != '\''
	})
	prev := ""
	var offs []int
	for _, w := range words {
		if strings.HasPrefix(w, "@") {
			w = "@user"
		}
		out = append(out, fnvAdd(fnvAdd(fnvBasis, "w"), w)&mask)
		if prev != "" {
			out = append(out, fnvAdd(fnvAdd(fnvAdd(fnvAdd(fnvBasis, "b"), prev), " "), w)&mask)
		}
		prev = w
		// Character n-grams of "<word>", by rune, as substrings of the padded word.
		padded := "<" + w + ">"
		offs = offs[:0]
		for i := range padded {
			offs = append(offs, i)
		}
		offs = append(offs, len(padded))
		runes := len(offs) - 1
		for n := 2; n <= 4; n++ {
			for i := 0; i+n <= runes; i++ {
				out = append(out, fnvAdd(fnvAdd(fnvBasis, "c"), padded[offs[i]:offs[i+n]])&mask)
			}
		}
	}
	return out
}

const (
	fnvBasis = uint32(2166136261)
	fnvPrime = uint32(16777619)
)

// fnvAdd continues an FNV-1a hash over the bytes of s.
func fnvAdd(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime
	}
	return h
}

// Scores returns the probability of each label for the features.
func (m *Model) Scores(feats []uint32) []float64 {
	k := len(m.Bias)
	size := 1 << m.Bits
	z := make([]float64, k)
	for c := range k {
		s := float64(m.Bias[c])
		w := m.Weights[c*size : (c+1)*size]
		for _, f := range feats {
			s += float64(w[f])
		}
		z[c] = s
	}
	return softmax(z)
}

func softmax(z []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	sum := 0.0
	for i, v := range z {
		z[i] = math.Exp(v - mx)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
	return z
}

// Classify returns the most likely label and its probability.
func (m *Model) Classify(text string) (string, float64) {
	p := m.Scores(Features(text, m.Bits, nil))
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return Labels[best], p[best]
}
