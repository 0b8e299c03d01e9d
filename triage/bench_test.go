package triage_test

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/docket-dev/docket/triage"
)

func loadInputs(tb testing.TB) []triage.Input {
	f, err := os.Open("../testdata/requests.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []triage.Input
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var in triage.Input
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			tb.Fatal(err)
		}
		out = append(out, in)
	}
	return out
}

// BenchmarkTriage: requests triaged per second on one core.
//
//	go test -run XXX -bench Triage -cpu 1 ./triage/
func BenchmarkTriage(b *testing.B) {
	tr, err := triage.New()
	if err != nil {
		b.Fatal(err)
	}
	inputs := loadInputs(b)
	bytes := 0
	for _, in := range inputs {
		bytes += len(in.Text)
	}
	b.SetBytes(int64(bytes / len(inputs)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Triage(inputs[i%len(inputs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// BenchmarkModelLoad: time to read the shipped model.
func BenchmarkModelLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := triage.ShippedModel(); err != nil {
			b.Fatal(err)
		}
	}
}
