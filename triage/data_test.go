package triage_test

import (
	"os"
	"sort"
	"testing"

	"github.com/docket-dev/docket/triage"
)

// sharedTrain is the labelled data of the workplace; tests that read it skip when absent.
const sharedTrain = "../../shared/data/text/train.tsv"

// TestLanguageOnLabelledData reports how often the language detector agrees with the
// labelled data's language, per language (the figures of docs/TRIAGE.md), and fails if the
// overall agreement falls below a floor set under the measured 0.874.
//
//	go test -run LanguageOnLabelledData -v ./triage/
func TestLanguageOnLabelledData(t *testing.T) {
	f, err := os.Open(sharedTrain)
	if err != nil {
		t.Skipf("%s not found: this report needs the workplace's shared data", sharedTrain)
	}
	defer f.Close()
	examples, err := triage.ReadExamples(f)
	if err != nil {
		t.Fatal(err)
	}
	right, all := map[string]int{}, map[string]int{}
	for _, e := range examples {
		if !triage.HeldOut(e) {
			continue
		}
		got, _ := triage.Language(e.Text)
		all[e.Lang]++
		if got == e.Lang {
			right[e.Lang]++
		}
	}
	langs := make([]string, 0, len(all))
	for l := range all {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	total, ok := 0, 0
	for _, l := range langs {
		t.Logf("| %s | %d | %.3f |", l, all[l], float64(right[l])/float64(all[l]))
		total += all[l]
		ok += right[l]
	}
	overall := float64(ok) / float64(total)
	t.Logf("| all | %d | %.3f |", total, overall)
	if overall < 0.85 {
		t.Errorf("language agreement %.3f fell below 0.85", overall)
	}
}
