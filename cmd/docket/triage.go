package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/triage"
	"github.com/docket-dev/docket/workflow"
)

// triageCmd sorts JSON lines from standard input (or evaluates against expectations) with
// no server and no database.
func (m *Main) triageCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("triage", flag.ContinueOnError)
	eval := fs.String("eval", "", "a JSON-lines file whose lines also carry \"expect\": {…}; prints accuracy per field, and precision, recall and F1 per class")
	learn := fs.String("learn", "", "a JSON-lines file in the --eval format (or from export-corrections) whose lines are learnt as people's corrections before triaging")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	tr, err := triage.New()
	if err != nil {
		return err
	}
	if *learn != "" {
		n, err := learnCorrections(tr, *learn)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "learnt %d corrections from %s\n", n, *learn)
	}
	if *eval != "" {
		f, err := os.Open(*eval)
		if err != nil {
			return err
		}
		defer f.Close()
		return evaluate(tr, f, m.Stdout)
	}
	in := bufio.NewScanner(m.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(m.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for n := 1; in.Scan(); n++ {
		line := bytes.TrimSpace(in.Bytes())
		if len(line) == 0 {
			continue
		}
		var input triage.Input
		if err := json.Unmarshal(line, &input); err != nil {
			// A bad line gets an answer too, so that outputs stay aligned with inputs.
			enc.Encode(map[string]any{"line": n, "error": "not a JSON object with id, channel, from, subject, text: " + err.Error()})
			continue
		}
		enc.Encode(tr.Triage(input))
	}
	return in.Err()
}

// learnCorrections teaches tr every line of an --eval file as a person's correction.
func learnCorrections(tr *triage.Triager, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l evalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return n, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		c := triage.Correction{Input: l.Input, Emergency: l.Expect.Emergency, Spam: l.Expect.Spam, Ref: l.ID}
		if l.Expect.Regime != nil {
			c.Regime = *l.Expect.Regime
		}
		if l.Expect.Kind != nil {
			c.Kind = docket.Kind(*l.Expect.Kind)
		}
		if l.Expect.Label != nil {
			c.Label = *l.Expect.Label
		}
		tr.Learn(c)
		n++
	}
	return n, sc.Err()
}

type evalLine struct {
	triage.Input
	Expect struct {
		Language  *string          `json:"language"`
		Regime    *string          `json:"regime"`
		Kind      *string          `json:"kind"`
		Emergency *bool            `json:"emergency"`
		Spam      *bool            `json:"spam"`
		Label     *string          `json:"label"`
		Category  *string          `json:"category"`
		Targets   *[]docket.Target `json:"targets"`
	} `json:"expect"`
}

// evalStats are the figures of an evaluation: every field's confusion overall and per
// language (the expected language, so that a wrong detection does not move a request to
// another row), and target counts.
type evalStats struct {
	n          int
	elapsed    time.Duration
	overall    map[string]*triage.Confusion
	perLang    map[string]map[string]*triage.Confusion
	langN      map[string]int
	tp, fp, fn int
	langTarget map[string][3]int
	misses     []string
}

var evalFields = []string{"language", "regime", "kind", "emergency", "spam", "label", "category"}

// runEval triages every line of an --eval file and gathers the figures.
func runEval(tr *triage.Triager, r io.Reader) (*evalStats, error) {
	st := &evalStats{overall: map[string]*triage.Confusion{}, perLang: map[string]map[string]*triage.Confusion{},
		langN: map[string]int{}, langTarget: map[string][3]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l evalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("eval line %d: %w", st.n+1, err)
		}
		st.n++
		start := time.Now()
		res := tr.Triage(l.Input)
		st.elapsed += time.Since(start)
		lang := res.Language
		if l.Expect.Language != nil {
			lang = *l.Expect.Language
		}
		st.langN[lang]++
		got := map[string]string{"language": res.Language, "regime": res.Regime, "kind": string(res.Kind),
			"emergency": fmt.Sprint(res.Emergency), "spam": fmt.Sprint(res.Spam), "label": res.Label, "category": res.Category}
		want := map[string]*string{"language": l.Expect.Language, "regime": l.Expect.Regime, "kind": l.Expect.Kind, "label": l.Expect.Label, "category": l.Expect.Category}
		if l.Expect.Emergency != nil {
			s := fmt.Sprint(*l.Expect.Emergency)
			want["emergency"] = &s
		}
		if l.Expect.Spam != nil {
			s := fmt.Sprint(*l.Expect.Spam)
			want["spam"] = &s
		}
		for _, f := range evalFields {
			if want[f] == nil {
				continue
			}
			if st.overall[f] == nil {
				st.overall[f] = &triage.Confusion{}
			}
			st.overall[f].Add(*want[f], got[f])
			if st.perLang[lang] == nil {
				st.perLang[lang] = map[string]*triage.Confusion{}
			}
			if st.perLang[lang][f] == nil {
				st.perLang[lang][f] = &triage.Confusion{}
			}
			st.perLang[lang][f].Add(*want[f], got[f])
			if *want[f] != got[f] {
				st.misses = append(st.misses, fmt.Sprintf("miss %s %s: want %s, got %s", l.ID, f, *want[f], got[f]))
			}
		}
		if l.Expect.Targets != nil {
			a, b, c := targetCounts(*l.Expect.Targets, res.Targets)
			st.tp, st.fp, st.fn = st.tp+a, st.fp+b, st.fn+c
			lt := st.langTarget[lang]
			st.langTarget[lang] = [3]int{lt[0] + a, lt[1] + b, lt[2] + c}
			if b+c > 0 {
				st.misses = append(st.misses, fmt.Sprintf("miss %s targets: want %v, got %v", l.ID, *l.Expect.Targets, res.Targets))
			}
		}
	}
	return st, sc.Err()
}

// accuracy of a field overall ("" for a field no line expected).
func (st *evalStats) accuracy(field string) float64 {
	if c := st.overall[field]; c != nil {
		return c.Accuracy()
	}
	return 0
}

// prf of the class "true" of a yes/no field (emergency, spam).
func (st *evalStats) prf(field string) (p, r, f float64) {
	if c := st.overall[field]; c != nil {
		p, r, f, _ = c.PRF("true")
	}
	return p, r, f
}

func (st *evalStats) targetsF1() float64 {
	_, _, f := triage.Scores(st.tp, st.fp, st.fn)
	return f
}

// yesNo formats precision, recall or F1 of the class "true" of a yes/no field in one
// language: "–" where the language has neither a true case nor a false alarm.
func yesNo(c *triage.Confusion, which int) string {
	if c == nil {
		return "–"
	}
	p, r, f, support := c.PRF("true")
	predicted := 0
	for _, row := range c.Counts {
		predicted += row["true"]
	}
	if support == 0 && predicted == 0 {
		return "–"
	}
	switch which {
	case 0:
		if predicted == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", p)
	case 1:
		if support == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", r)
	}
	return fmt.Sprintf("%.2f", f)
}

func evaluate(tr *triage.Triager, r io.Reader, w io.Writer) error {
	st, err := runEval(tr, r)
	if err != nil {
		return err
	}
	st.write(w)
	return nil
}

func (st *evalStats) write(w io.Writer) {
	for _, m := range st.misses {
		fmt.Fprintln(w, m)
	}
	fmt.Fprintf(w, "\n%d requests, %.0f µs each on average\n\n", st.n, float64(st.elapsed.Microseconds())/float64(max(st.n, 1)))
	fmt.Fprintf(w, "| field | accuracy | macro-F1 |\n| --- | ---: | ---: |\n")
	for _, f := range evalFields {
		if c := st.overall[f]; c != nil {
			fmt.Fprintf(w, "| %s | %.3f | %.3f |\n", f, c.Accuracy(), c.MacroF1())
		}
	}
	p, rc, f1 := triage.Scores(st.tp, st.fp, st.fn)
	fmt.Fprintf(w, "| targets | | P %.3f R %.3f F1 %.3f |\n", p, rc, f1)
	if st.overall["emergency"] != nil {
		p, r, _ := st.prf("emergency")
		fmt.Fprintf(w, "\nemergency: recall %.3f, precision %.3f\n", r, p)
	}
	if st.overall["spam"] != nil {
		p, r, f := st.prf("spam")
		fmt.Fprintf(w, "spam: precision %.3f, recall %.3f, F1 %.3f\n", p, r, f)
	}
	for _, f := range evalFields {
		c := st.overall[f]
		if c == nil {
			continue
		}
		fmt.Fprintf(w, "\n%s: per class\n\n| class | precision | recall | F1 | n |\n| --- | ---: | ---: | ---: | ---: |\n", f)
		for _, k := range slices.Sorted(maps.Keys(c.Counts)) {
			p, r, f1, s := c.PRF(k)
			fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f | %d |\n", k, p, r, f1, s)
		}
	}

	langs := slices.Sorted(maps.Keys(st.langN))
	fmt.Fprintf(w, "\nper language\n\n| language | n | emergency recall | emergency precision | kind | regime | spam F1 | targets F1 | language |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	acc := func(c *triage.Confusion) string {
		if c == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f", c.Accuracy())
	}
	for _, l := range langs {
		pl := st.perLang[l]
		t := st.langTarget[l]
		_, _, tf := triage.Scores(t[0], t[1], t[2])
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %.2f | %s |\n", l, st.langN[l], yesNo(pl["emergency"], 1), yesNo(pl["emergency"], 0),
			acc(pl["kind"]), acc(pl["regime"]), yesNo(pl["spam"], 2), tf, acc(pl["language"]))
	}
	for _, f := range []string{"regime", "kind"} {
		c := st.overall[f]
		if c == nil {
			continue
		}
		classes := map[string]bool{}
		for g, row := range c.Counts {
			classes[g] = true
			for p := range row {
				classes[p] = true
			}
		}
		cols := slices.Sorted(maps.Keys(classes))
		fmt.Fprintf(w, "\n%s: confusion (rows: expected, columns: given)\n\n| expected \\ given | %s |\n|%s\n", f, strings.Join(cols, " | "), strings.Repeat(" --- |", len(cols)+1))
		for _, g := range slices.Sorted(maps.Keys(c.Counts)) {
			row := []string{g}
			for _, p := range cols {
				if n := c.Counts[g][p]; n > 0 {
					row = append(row, fmt.Sprint(n))
				} else {
					row = append(row, "·")
				}
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
	}
}

func targetCounts(want, got []docket.Target) (tp, fp, fn int) {
	for _, g := range got {
		if slices.Contains(want, g) {
			tp++
		} else {
			fp++
		}
	}
	for _, x := range want {
		if !slices.Contains(got, x) {
			fn++
		}
	}
	return tp, fp, fn
}

// train reproduces the shipped content model from the labelled data, and reports its
// figures on the held-out tenth.
func (m *Main) train(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	data := fs.String("data", "../shared/data/text/train.tsv", "the labelled training file (source, lang, label, text)")
	out := fs.String("out", "triage/model.bin", "where to write the model")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	f, err := os.Open(*data)
	if err != nil {
		return err
	}
	defer f.Close()
	examples, err := triage.ReadExamples(f)
	if err != nil {
		return err
	}
	var trainSet, heldOut []triage.Example
	skipped := 0
	for _, e := range examples {
		switch {
		case triage.HeldOut(e):
			heldOut = append(heldOut, e)
		case triage.ShippableSources[e.Source]:
			trainSet = append(trainSet, e)
		default:
			skipped++
		}
	}
	start := time.Now()
	model := triage.Train(trainSet, triage.TrainConfig{Bits: 18, Epochs: 10})
	fmt.Fprintf(m.Stdout, "trained on %d texts (%d held out, %d left out for their licence) in %s\n", len(trainSet), len(heldOut), skipped, time.Since(start).Round(time.Millisecond))
	var buf bytes.Buffer
	if err := model.WriteModel(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	// Evaluate the model as shipped (quantised), read back from its bytes.
	shipped, err := triage.ReadModel(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %s (%d KB)\n\n", *out, buf.Len()>>10)
	all := &triage.Confusion{}
	per := map[string]*triage.Confusion{}
	for _, e := range heldOut {
		p, _ := shipped.Classify(e.Text)
		all.Add(e.Label, p)
		if per[e.Lang] == nil {
			per[e.Lang] = &triage.Confusion{}
		}
		per[e.Lang].Add(e.Label, p)
	}
	fmt.Fprintf(m.Stdout, "| language | held-out texts | macro-F1 | accuracy |\n| --- | ---: | ---: | ---: |\n")
	langs := make([]string, 0, len(per))
	for l := range per {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		c := per[l]
		total := 0
		for _, row := range c.Counts {
			for _, v := range row {
				total += v
			}
		}
		fmt.Fprintf(m.Stdout, "| %s | %d | %.3f | %.3f |\n", l, total, c.MacroF1(), c.Accuracy())
	}
	fmt.Fprintf(m.Stdout, "| **all** | %d | **%.3f** | %.3f |\n\n| label | precision | recall | F1 | n |\n| --- | ---: | ---: | ---: | ---: |\n", len(heldOut), all.MacroF1(), all.Accuracy())
	for _, l := range triage.Labels {
		p, r, f1, s := all.PRF(l)
		fmt.Fprintf(m.Stdout, "| %s | %.3f | %.3f | %.3f | %d |\n", l, p, r, f1, s)
	}
	return nil
}

// exportCorrections writes every correction people made to automatic triage as a JSON
// line in the --eval format: the request's text and what the triage should have said.
func (m *Main) exportCorrections(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("triage export-corrections", flag.ContinueOnError)
	resolve := m.flags(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withStore(ctx, resolve, func(s *sqlstore.Store) error {
		enc := json.NewEncoder(m.Stdout)
		n := 0
		err := s.ScanEvents(ctx, func(e *docket.Event) error {
			if e.Type != docket.EventRetriaged {
				return nil
			}
			var d docket.Triaged
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return fmt.Errorf("event %d: %w", e.Seq, err)
			}
			reqs, err := s.CaseRequests(ctx, e.CaseID)
			if err != nil || len(reqs) == 0 {
				return fmt.Errorf("case %s: requests: %v", e.CaseID, err)
			}
			c, err := s.Case(ctx, e.CaseID)
			if err != nil {
				return err
			}
			line := map[string]any{"id": reqs[0].ID, "channel": reqs[0].Channel, "subject": reqs[0].Body.Reference}
			in := workflow.TriageInput(reqs[0], c)
			line["text"], line["country"] = in.Text, in.Country
			expect := map[string]any{}
			for k, v := range map[string]string{"regime": d.Regime, "kind": string(d.Kind), "label": d.Label, "category": d.Category} {
				if v != "" {
					expect[k] = v
				}
			}
			if d.Emergency != nil {
				expect["emergency"] = *d.Emergency
			}
			if d.Spam != nil {
				expect["spam"] = *d.Spam
			}
			line["expect"] = expect
			line["corrected_by"], line["reason"], line["at"] = e.Actor, d.Reason, e.At
			n++
			return enc.Encode(line)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "%d corrections\n", n)
		return nil
	})
}

// trainRisk trains the risk model (triage/risk.bin): the requests of the evaluation files,
// emergency or not, except the files held out for measuring it, and ordinary posts of the
// labelled text (licensed sources only; not the first 30,000 rows, which the false-alarm
// test reads) as ordinary. It then reports the model, as shipped, on the held-out files.
func (m *Main) trainRisk(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("train risk", flag.ContinueOnError)
	dir := fs.String("eval-dir", "testdata/eval", "the labelled requests (*.jsonl with \"expect\": {\"emergency\": …})")
	hold := fs.String("hold", "blind3-g2.jsonl,blind3-g3.jsonl", "files of --eval-dir kept out of training, to measure the model on")
	data := fs.String("data", "../shared/data/text/train.tsv", "labelled ordinary posts, read as not emergencies")
	posts := fs.Int("posts", 20000, "how many ordinary posts to train on")
	out := fs.String("out", "triage/risk.bin", "where to write the model")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	held := map[string]bool{}
	for _, h := range strings.Split(*hold, ",") {
		if h = strings.TrimSpace(h); h != "" {
			held[h] = true
		}
	}
	files, err := filepath.Glob(filepath.Join(*dir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no *.jsonl in %s", *dir)
	}
	read := func(path string) ([]evalLine, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var lines []evalLine
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for n := 1; sc.Scan(); n++ {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var l evalLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			if l.Expect.Emergency != nil {
				lines = append(lines, l)
			}
		}
		return lines, sc.Err()
	}
	text := func(l evalLine) string { return strings.ToLower(strings.TrimSpace(l.Subject + "\n" + l.Text)) }
	var train []triage.Example
	var test []evalLine
	emergencies := 0
	for _, f := range files {
		lines, err := read(f)
		if err != nil {
			return err
		}
		if held[filepath.Base(f)] {
			test = append(test, lines...)
			continue
		}
		for _, l := range lines {
			label := "ordinary"
			if *l.Expect.Emergency {
				label = "emergency"
				emergencies++
			}
			train = append(train, triage.Example{Label: label, Text: text(l)})
		}
	}
	requests := len(train)
	if *posts > 0 {
		f, err := os.Open(*data)
		if err != nil {
			return fmt.Errorf("ordinary posts: %w", err)
		}
		examples, err := triage.ReadExamples(f)
		f.Close()
		if err != nil {
			return err
		}
		n := 0
		for i, e := range examples {
			if i < 30000 || !triage.ShippableSources[e.Source] {
				continue
			}
			train = append(train, triage.Example{Label: "ordinary", Text: strings.ToLower(e.Text)})
			if n++; n >= *posts {
				break
			}
		}
	}
	model := triage.Train(train, triage.TrainConfig{Bits: triage.RiskBits, Epochs: 10, Labels: triage.RiskLabels})
	var buf bytes.Buffer
	if err := model.WriteModel(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "trained on %d requests (%d emergencies) and %d ordinary posts; wrote %s (%d KB)\n",
		requests, emergencies, len(train)-requests, *out, buf.Len()>>10)
	shipped, err := triage.ReadModel(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return err
	}
	if len(test) == 0 {
		return nil
	}
	var tp, fp, fn int
	for _, l := range test {
		p := shipped.ScoresOf(text(l), triage.RiskBytes)
		flagged := p[1] >= triage.RiskThreshold
		switch {
		case flagged && *l.Expect.Emergency:
			tp++
		case flagged:
			fp++
		case *l.Expect.Emergency:
			fn++
		}
	}
	pr, rc, f1 := triage.Scores(tp, fp, fn)
	fmt.Fprintf(m.Stdout, "the model alone on the %d held-out requests, at p ≥ %.2f: precision %.3f, recall %.3f, F1 %.3f\n", len(test), triage.RiskThreshold, pr, rc, f1)
	return nil
}
