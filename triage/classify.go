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
	"sync"
	"unicode"
	"unicode/utf8"
)

// Labels the content classifier gives.
var Labels = []string{"none", "hate", "abuse", "spam"}

// MaxClassifiedBytes bounds the text the classifier reads; longer texts are cut (and a
// signal says so).
const MaxClassifiedBytes = 16 << 10

// ContentBytes is how much of a request the content model reads: the subject and the opening
// lines (640 bytes) say what a message is, and scoring a feature costs a cache miss.
const ContentBytes = 640

// Model is a linear classifier over hashed word and character n-grams (multinomial logistic
// regression). It is small enough to ship in the binary and fast enough for thousands of
// texts a second on one core.
type Model struct {
	Bits    uint      // 2^Bits feature buckets
	Weights []float32 // len(Labels) × 2^Bits, class-major (a trained model's; nil in a model read from a file)
	Bias    []float32

	once sync.Once
	fm   []float32 // the weights feature-major (2^Bits × len(Labels)): one cache line per feature
}

//go:embed model.bin
var shippedModel []byte

// ShippedModel returns the model trained by `docket train` and embedded in the binary.
func ShippedModel() (*Model, error) {
	m, err := ReadModel(bytes.NewReader(shippedModel))
	if err == nil && len(m.Bias) != len(Labels) {
		err = fmt.Errorf("read model: %d classes, want %d", len(m.Bias), len(Labels))
	}
	return m, err
}

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
	if bits < 10 || bits > 24 || classes < 2 || classes > 16 {
		return nil, fmt.Errorf("read model: %d bits and %d classes are not supported", bits, classes)
	}
	m := &Model{Bits: uint(bits), Bias: make([]float32, classes)}
	if err := binary.Read(r, binary.LittleEndian, m.Bias); err != nil {
		return nil, fmt.Errorf("read model bias: %w", err)
	}
	// The file is class-major; the model is kept feature-major, so that scoring a feature
	// reads one cache line instead of one per class.
	buf := make([]byte, 2*(int(classes)<<bits))
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("read model weights: %w", err)
	}
	k, size := int(classes), 1<<bits
	m.fm = make([]float32, len(buf)/2)
	for c := range k {
		for f := range size {
			at := 2 * (c*size + f)
			m.fm[f*k+c] = float32(int16(binary.LittleEndian.Uint16(buf[at:]))) * scale
		}
	}
	m.once.Do(func() {})
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
	return features(strings.ToLower(text), bits, out)
}

// features is Features of a lower-cased text.
func features(text string, bits uint, out []uint32) []uint32 {
	out, _ = featuresCut(text, bits, -1, out)
	return out
}

// featuresCut is features, and how many of them come from the words that start before byte
// cut: the features of the text's first cut bytes (but for the word cut there, kept whole),
// so that one pass serves two models reading two lengths of the text.
func featuresCut(text string, bits uint, cut int, out []uint32) ([]uint32, int) {
	mask := uint32(1)<<bits - 1
	nCut := -1
	basisW, basisB, basisC := fnvAdd(fnvBasis, "w"), fnvAdd(fnvBasis, "b"), fnvAdd(fnvBasis, "c")
	sep := func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '@' && r != '#' && r != '\''
	}
	// starts holds the byte offsets of the runes of "<word>" (the padded word) and its end.
	var starts [64]int
	prev := ""
	for i := 0; i < len(text); {
		r, n := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(text[i:])
		}
		if sep(r) {
			i += n
			continue
		}
		if nCut < 0 && cut >= 0 && i >= cut {
			nCut = len(out)
		}
		j := i + n
		for j < len(text) {
			r, n := rune(text[j]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(text[j:])
			}
			if sep(r) {
				break
			}
			j += n
		}
		w := text[i:j]
		i = j
		if w[0] == '@' {
			w = "@user"
		}
		out = append(out, fnvAdd(basisW, w)&mask)
		if prev != "" {
			out = append(out, fnvAdd(fnvAdd(fnvAdd(basisB, prev), " "), w)&mask)
		}
		prev = w
		// Character 2- to 4-grams of "<" + w + ">", hashed from the word's bytes with the
		// brackets fed in place.
		cnt := 0
		for k := range w {
			if cnt == len(starts) {
				break
			}
			starts[cnt] = k
			cnt++
		}
		runes := cnt + 2 // with "<" and ">"
		if cnt == len(starts) {
			runes = cnt // a very long word: its first runes, as a padded prefix
		}
		// byteAt(x) is the x-th rune of the padded word as a string slice, feed hashes it.
		feed := func(h uint32, x int) uint32 {
			switch {
			case x == 0:
				return (h ^ '<') * fnvPrime
			case x == cnt+1:
				return (h ^ '>') * fnvPrime
			}
			end := len(w)
			if x < cnt {
				end = starts[x]
			}
			return fnvAdd(h, w[starts[x-1]:end])
		}
		for a := 0; a+2 <= runes; a++ {
			h := feed(feed(basisC, a), a+1)
			out = append(out, h&mask)
			if a+3 <= runes {
				h = feed(h, a+2)
				out = append(out, h&mask)
				if a+4 <= runes {
					out = append(out, feed(h, a+3)&mask)
				}
			}
		}
	}
	if nCut < 0 {
		nCut = len(out)
	}
	return out, nCut
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
	m.once.Do(func() {
		k, size := len(m.Bias), 1<<m.Bits
		m.fm = make([]float32, k*size)
		for c := range k {
			for f := range size {
				m.fm[f*k+c] = m.Weights[c*size+f]
			}
		}
	})
	k := len(m.Bias)
	z := make([]float64, k)
	if k == 4 {
		var s0, s1, s2, s3 float64
		for _, f := range feats {
			w := m.fm[int(f)*4 : int(f)*4+4]
			s0, s1, s2, s3 = s0+float64(w[0]), s1+float64(w[1]), s2+float64(w[2]), s3+float64(w[3])
		}
		z[0], z[1], z[2], z[3] = float64(s0), float64(s1), float64(s2), float64(s3)
	} else if k == 2 {
		var s0, s1 float64
		for _, f := range feats {
			w := m.fm[int(f)*2 : int(f)*2+2]
			s0, s1 = s0+float64(w[0]), s1+float64(w[1])
		}
		z[0], z[1] = s0, s1
	} else {
		for _, f := range feats {
			for c := range k {
				z[c] += float64(m.fm[int(f)*k+c])
			}
		}
	}
	for c := range k {
		z[c] += float64(m.Bias[c])
	}
	return softmax(z)
}

// scoresClassMajor scores with the class-major weights of a model being trained.
func (m *Model) scoresClassMajor(feats []uint32) []float64 {
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
	return m.classifyLower(strings.ToLower(text))
}

// featurePool recycles feature buffers between requests.
var featurePool = sync.Pool{New: func() any { b := make([]uint32, 0, 4096); return &b }}

// classifyFeats classifies by features already computed.
func (m *Model) classifyFeats(feats []uint32) (string, float64) {
	p := m.Scores(feats)
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return Labels[best], p[best]
}

// classifyLower is Classify of a lower-cased text.
func (m *Model) classifyLower(text string) (string, float64) {
	if len(text) > MaxClassifiedBytes {
		text = prefix(text, MaxClassifiedBytes)
	}
	buf := featurePool.Get().(*[]uint32)
	feats := features(text, m.Bits, (*buf)[:0])
	p := m.Scores(feats)
	*buf = feats
	featurePool.Put(buf)
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return Labels[best], p[best]
}
