package triage

import (
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Example is one labelled text.
type Example struct {
	Source, Lang, Label, Text string
}

// ShippableSources are the training sources whose licences allow a shipped model (see
// NOTICE). multilingual-spam-mt has no clear licence: it is used for evaluation only.
var ShippableSources = map[string]bool{
	"multilingual-hatecheck": true, "hatecheck": true, "mlma": true, "germeval2018": true,
	"davidson2017": true, "told-br": true, "sms-spam-collection": true,
}

// ReadExamples reads the tab-separated training file (header source, lang, label, text).
func ReadExamples(r io.Reader) ([]Example, error) {
	cr := csv.NewReader(r)
	cr.Comma = '\t'
	cr.FieldsPerRecord = 4
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read examples: %w", err)
	}
	if strings.Join(header, ",") != "source,lang,label,text" {
		return nil, fmt.Errorf("read examples: unexpected header %v", header)
	}
	var out []Example
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("read examples: %w", err)
		}
		if !slices.Contains(Labels, rec[2]) {
			return nil, fmt.Errorf("read examples: unknown label %q", rec[2])
		}
		out = append(out, Example{Source: rec[0], Lang: rec[1], Label: rec[2], Text: rec[3]})
	}
}

// HeldOut puts about one text in ten aside for evaluation, decided by a hash of the text so
// that the split is the same on every run and every machine.
func HeldOut(e Example) bool {
	h := fnv.New32a()
	h.Write([]byte(e.Text))
	return h.Sum32()%10 == 0
}

// TrainConfig sets the training; zero fields take defaults.
type TrainConfig struct {
	Bits   uint    // default 18
	Epochs int     // default 6
	Rate   float64 // default 0.2
	L2     float64 // default 1e-6
	Seed   uint64
	// Labels are the classes (default Labels, the content labels).
	Labels []string
}

// Train fits a model on the examples (multinomial logistic regression, SGD, classes
// weighted by their inverse frequency so that rare labels such as spam still count).
func Train(examples []Example, cfg TrainConfig) *Model {
	if cfg.Bits == 0 {
		cfg.Bits = 18
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = 6
	}
	if cfg.Rate == 0 {
		cfg.Rate = 0.2
	}
	if cfg.L2 == 0 {
		cfg.L2 = 1e-6
	}
	labels := cfg.Labels
	if labels == nil {
		labels = Labels
	}
	k, size := len(labels), 1<<cfg.Bits
	m := &Model{Bits: cfg.Bits, Weights: make([]float32, k*size), Bias: make([]float32, k)}
	feats := make([][]uint32, len(examples))
	ys := make([]int, len(examples))
	count := make([]float64, k)
	for i, e := range examples {
		feats[i] = Features(e.Text, cfg.Bits, nil)
		ys[i] = slices.Index(labels, e.Label)
		count[ys[i]]++
	}
	weight := make([]float64, k)
	for c := range k {
		if count[c] > 0 {
			weight[c] = math.Sqrt(float64(len(examples)) / (float64(k) * count[c]))
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 20261122))
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	for epoch := range cfg.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		rate := cfg.Rate / (1 + float64(epoch))
		for _, i := range order {
			f := feats[i]
			if len(f) == 0 {
				continue
			}
			p := m.scoresClassMajor(f)
			step := rate * weight[ys[i]] / math.Sqrt(float64(len(f)))
			for c := range k {
				g := p[c]
				if c == ys[i] {
					g -= 1
				}
				if g == 0 {
					continue
				}
				w := m.Weights[c*size : (c+1)*size]
				d := float32(step * g)
				for _, x := range f {
					w[x] -= d + float32(cfg.L2)*w[x]
				}
				m.Bias[c] -= float32(rate * weight[ys[i]] * g * 0.1)
			}
		}
	}
	return m
}

// Scores per class and language, for the evaluation report.
type Confusion struct {
	// Counts[gold][predicted]
	Counts map[string]map[string]int
}

// Add records one prediction.
func (c *Confusion) Add(gold, pred string) {
	if c.Counts == nil {
		c.Counts = map[string]map[string]int{}
	}
	if c.Counts[gold] == nil {
		c.Counts[gold] = map[string]int{}
	}
	c.Counts[gold][pred]++
}

// PRF returns precision, recall, F1 and support of one class.
func (c *Confusion) PRF(class string) (p, r, f float64, support int) {
	tp := c.Counts[class][class]
	fp, fn := 0, 0
	for g, row := range c.Counts {
		for pr, n := range row {
			if pr == class && g != class {
				fp += n
			}
			if g == class && pr != class {
				fn += n
			}
		}
	}
	p, r, f = Scores(tp, fp, fn)
	return p, r, f, tp + fn
}

// Scores returns precision, recall and F1 from true positives, false positives and false
// negatives (0 where undefined).
func Scores(tp, fp, fn int) (p, r, f float64) {
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return p, r, f
}

// MacroF1 averages F1 over the classes present in the gold labels.
func (c *Confusion) MacroF1() float64 {
	sum, n := 0.0, 0
	for class := range c.Counts {
		_, _, f, support := c.PRF(class)
		if support > 0 {
			sum += f
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// Accuracy is the share of right predictions.
func (c *Confusion) Accuracy() float64 {
	right, all := 0, 0
	for g, row := range c.Counts {
		for p, n := range row {
			all += n
			if g == p {
				right += n
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(right) / float64(all)
}
