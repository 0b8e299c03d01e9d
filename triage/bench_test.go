package triage_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
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

// letter is the body of a typical requisition letter, to bring the test texts to 1–2 KB.
const letter = `

Dans le cadre de l'enquête préliminaire ouverte sous le contrôle du procureur de la République, et conformément aux dispositions légales applicables, nous vous prions de bien vouloir nous transmettre, dans les meilleurs délais, l'ensemble des éléments d'identification disponibles, les journaux de connexion avec horodatage et fuseau horaire, ainsi que toute information permettant d'établir l'identité de l'utilisateur concerné. Les données devront être adressées sous format électronique à l'adresse du service enquêteur. Nous vous rappelons que la présente réquisition est couverte par le secret de l'enquête et ne doit pas être portée à la connaissance de l'utilisateur concerné. En cas de difficulté, le service reste à votre disposition.
In the course of the investigation, please provide all subscriber information available, connection logs with timestamps and time zone, and any further information that allows the identification of the user concerned. The data should be sent electronically to the investigating unit. This request is confidential and must not be disclosed to the user. Please contact the unit in case of difficulty.`

// BenchmarkTriageLong: the same requests lengthened to 1–2 KB, as letters are.
//
//	go test -run XXX -bench TriageLong -cpu 1 ./triage/
func BenchmarkTriageLong(b *testing.B) {
	tr, err := triage.New()
	if err != nil {
		b.Fatal(err)
	}
	inputs := loadInputs(b)
	bytes := 0
	for i := range inputs {
		inputs[i].Text += letter
		bytes += len(inputs[i].Text)
	}
	b.SetBytes(int64(bytes / len(inputs)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Triage(inputs[i%len(inputs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(float64(bytes/len(inputs)), "bytes/text")
}

// BenchmarkTriageLongCorrected is BenchmarkTriageLong on a triager that has learnt 100
// corrections (of other texts): what remembering them adds to every request.
//
//	go test -run XXX -bench 'TriageLong' -cpu 1 ./triage/
func BenchmarkTriageLongCorrected(b *testing.B) {
	tr, err := triage.New()
	if err != nil {
		b.Fatal(err)
	}
	yes := true
	for i := range 100 {
		tr.Learn(triage.Correction{Input: triage.Input{Text: fmt.Sprintf("Correction %d: %s", i, strings.Repeat(fmt.Sprintf("word%d other%d ", i, i*7), 40))}, Spam: &yes})
	}
	inputs := loadInputs(b)
	for i := range inputs {
		inputs[i].Text += letter
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Triage(inputs[i%len(inputs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
