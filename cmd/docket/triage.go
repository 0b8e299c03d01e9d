package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
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
	if err := m.parse(fs, args); err != nil {
		return err
	}
	tr, err := triage.New()
	if err != nil {
		return err
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

func evaluate(tr *triage.Triager, r io.Reader, w io.Writer) error {
	fields := []string{"language", "regime", "kind", "emergency", "spam", "label", "category"}
	overall := map[string]*triage.Confusion{}
	perLang := map[string]map[string]*triage.Confusion{}
	var tp, fp, fn int
	langTargets := map[string][3]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	var elapsed time.Duration
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l evalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("eval line %d: %w", n+1, err)
		}
		n++
		start := time.Now()
		res := tr.Triage(l.Input)
		elapsed += time.Since(start)
		lang := res.Language
		if l.Expect.Language != nil {
			lang = *l.Expect.Language
		}
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
		for _, f := range fields {
			if want[f] == nil {
				continue
			}
			if overall[f] == nil {
				overall[f] = &triage.Confusion{}
			}
			overall[f].Add(*want[f], got[f])
			if perLang[lang] == nil {
				perLang[lang] = map[string]*triage.Confusion{}
			}
			if perLang[lang][f] == nil {
				perLang[lang][f] = &triage.Confusion{}
			}
			perLang[lang][f].Add(*want[f], got[f])
			if *want[f] != got[f] {
				fmt.Fprintf(w, "miss %s %s: want %s, got %s\n", l.ID, f, *want[f], got[f])
			}
		}
		if l.Expect.Targets != nil {
			a, b, c := targetCounts(*l.Expect.Targets, res.Targets)
			tp, fp, fn = tp+a, fp+b, fn+c
			lt := langTargets[lang]
			langTargets[lang] = [3]int{lt[0] + a, lt[1] + b, lt[2] + c}
			if b+c > 0 {
				fmt.Fprintf(w, "miss %s targets: want %v, got %v\n", l.ID, *l.Expect.Targets, res.Targets)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d requests, %.0f µs each on average\n\n", n, float64(elapsed.Microseconds())/float64(max(n, 1)))
	fmt.Fprintf(w, "| field | accuracy | macro-F1 |\n| --- | ---: | ---: |\n")
	for _, f := range fields {
		if c := overall[f]; c != nil {
			fmt.Fprintf(w, "| %s | %.3f | %.3f |\n", f, c.Accuracy(), c.MacroF1())
		}
	}
	p, rc, f1 := triage.Scores(tp, fp, fn)
	fmt.Fprintf(w, "| targets | | P %.3f R %.3f F1 %.3f |\n", p, rc, f1)
	for _, f := range fields {
		c := overall[f]
		if c == nil {
			continue
		}
		fmt.Fprintf(w, "\n%s: per class\n\n| class | precision | recall | F1 | n |\n| --- | ---: | ---: | ---: | ---: |\n", f)
		classes := make([]string, 0, len(c.Counts))
		for k := range c.Counts {
			classes = append(classes, k)
		}
		sort.Strings(classes)
		for _, k := range classes {
			p, r, f1, s := c.PRF(k)
			fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f | %d |\n", k, p, r, f1, s)
		}
	}
	langs := make([]string, 0, len(perLang))
	for l := range perLang {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	fmt.Fprintf(w, "\nper language (accuracy)\n\n| language | %s | targets F1 |\n|%s\n", strings.Join(fields, " | "), strings.Repeat(" --- |", len(fields)+2))
	for _, l := range langs {
		row := []string{l}
		for _, f := range fields {
			if c := perLang[l][f]; c != nil {
				row = append(row, fmt.Sprintf("%.2f", c.Accuracy()))
			} else {
				row = append(row, "")
			}
		}
		t := langTargets[l]
		_, _, f1 := triage.Scores(t[0], t[1], t[2])
		row = append(row, fmt.Sprintf("%.2f", f1))
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	return nil
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

// exportCorrections writes every correction people made to the automatic sort as a JSON
// line in the --eval format: the request's text and what the sort should have said.
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
			var d docket.Sorting
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
