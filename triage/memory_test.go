package triage_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/mailmsg"
	"github.com/docket-dev/docket/triage"
)

// A police unit's template: two letters of it differ in names, numbers and handles.
func templateLetter(name, handle, ref string) string {
	return fmt.Sprintf(`Kantonspolizei Musterkanton, Fachstelle Cyberkriminalität
Referenz: %s

Sehr geehrte Damen und Herren

Im Rahmen eines Ermittlungsverfahrens wegen Nötigung gegen %s ersuchen wir Sie, uns die bei
Ihnen vorhandenen Angaben zum Konto %s zukommen zu lassen: Registrierungsdaten, hinterlegte
Telefonnummer, IP-Adressen der letzten Anmeldungen mit Zeitstempel. Die Staatsanwaltschaft hat
die Herausgabe angeordnet. Wir danken für Ihre Unterstützung und bitten um Antwort innert zehn
Tagen an die untenstehende Adresse.

Freundliche Grüsse
Fachstelle Cyberkriminalität`, ref, name, handle)
}

func TestMemoryTriagesATemplateAsCorrected(t *testing.T) {
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	first := triage.Input{ID: "a", Channel: docket.ChannelEmail, From: "cyber@polizei.example.ch", Text: templateLetter("Hans Muster", "@hmuster", "CYB-2026-1181")}
	next := triage.Input{ID: "b", Channel: docket.ChannelEmail, From: "cyber@polizei.example.ch", Text: templateLetter("Petra Beispiel", "@petra_b", "CYB-2026-2204")}
	other := triage.Input{ID: "c", Channel: docket.ChannelEmail, From: "x@example.org", Text: "Guten Tag, ich kann mich seit gestern nicht mehr in mein Konto einloggen, das Passwort wird nicht angenommen. Was kann ich tun? Danke"}
	before, beforeOther := tr.Triage(next), tr.Triage(other)
	if before.Regime == "eu-epoc" {
		t.Fatalf("test premise: the letter should not already be read as an EPOC: %+v", before)
	}

	// A person corrects the first letter: it is an EPOC (say the unit sends them so).
	tr.Learn(triage.Correction{Input: first, Regime: "eu-epoc", Kind: docket.KindDisclosure, Ref: "case C1"})
	if tr.Corrections() != 1 {
		t.Fatalf("Corrections() = %d", tr.Corrections())
	}
	after := tr.Triage(next)
	if after.Regime != "eu-epoc" || after.Kind != docket.KindDisclosure {
		t.Errorf("the next letter of the template: regime %s kind %s, want eu-epoc disclosure; signals %q", after.Regime, after.Kind, after.Signals)
	}
	if !slices.ContainsFunc(after.Signals, func(s string) bool { return strings.HasPrefix(s, "like case C1 (similarity") }) {
		t.Errorf("no signal names the correction: %q", after.Signals)
	}
	if got := tr.Triage(other); got.Regime != beforeOther.Regime || slices.ContainsFunc(got.Signals, func(s string) bool { return strings.HasPrefix(s, "like ") }) {
		t.Errorf("an unrelated message was changed by the correction: %+v", got)
	}
	_ = before
}

func TestMemoryStaysOnTheSafeSide(t *testing.T) {
	no, yes := false, true
	threat := triage.Input{ID: "t", Channel: docket.ChannelNotice, Text: "This account posted the home address of my sister with the words: I will kill you tonight, you will not see the morning. Please remove it and warn someone, she lives alone at that address."}
	cases := []struct {
		name       string
		learn      triage.Correction
		in         triage.Input
		check      func(triage.Result) string
		wantSignal string
	}{
		{
			name:  "a correction never lowers the emergency flag",
			learn: triage.Correction{Input: threat, Emergency: &no, Ref: "case E"},
			in:    threat,
			check: func(r triage.Result) string {
				if !r.Emergency {
					return "emergency lowered by a correction"
				}
				return ""
			},
			wantSignal: "kept as one",
		},
		{
			name: "a correction never makes an official sender's letter spam",
			learn: triage.Correction{Input: triage.Input{Channel: docket.ChannelEmail, From: "cyber@polizei.example.ch",
				Text: templateLetter("Hans Muster", "@hmuster", "CYB-1")}, Spam: &yes, Ref: "case S"},
			in: triage.Input{Channel: docket.ChannelEmail, From: "cyber@polizei.example.ch", Authority: "kapo",
				Text: templateLetter("Petra Beispiel", "@petra_b", "CYB-2")},
			check: func(r triage.Result) string {
				if r.Spam || r.Regime == "none" {
					return fmt.Sprintf("an official sender's letter marked spam (regime %s)", r.Regime)
				}
				return ""
			},
			wantSignal: "like case S",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := triage.New()
			if err != nil {
				t.Fatal(err)
			}
			tr.Learn(c.learn)
			r := tr.Triage(c.in)
			if msg := c.check(r); msg != "" {
				t.Errorf("%s; signals %q", msg, r.Signals)
			}
			if !slices.ContainsFunc(r.Signals, func(s string) bool { return strings.Contains(s, c.wantSignal) }) {
				t.Errorf("no signal with %q: %q", c.wantSignal, r.Signals)
			}
		})
	}
}

func TestMemoryConcurrentLearnAndTriage(t *testing.T) {
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				in := triage.Input{Channel: docket.ChannelEmail, Text: templateLetter(fmt.Sprintf("N%d", i), fmt.Sprintf("@h%d_%d", w, i), fmt.Sprint(i))}
				if w%2 == 0 {
					tr.Learn(triage.Correction{Input: in, Emergency: &yes})
				} else {
					tr.Triage(in)
				}
			}
		})
	}
	wg.Wait()
	if tr.Corrections() != 100 {
		t.Errorf("Corrections() = %d, want 100", tr.Corrections())
	}
}

// TestCorrectionsOnAMailStream measures what 100 corrections do on real mail: the first
// 100 spam messages of the SpamAssassin corpus (by file name, which follows time) are
// corrected to spam, then the other 250 spam and the 700 legitimate messages are triaged as
// mail to the legal address. Spam campaigns repeat; the memory must catch repeats and must
// not mark more legitimate mail as spam.
func TestCorrectionsOnAMailStream(t *testing.T) {
	dir := "../../shared/data/mail"
	spam, _ := filepath.Glob(filepath.Join(dir, "spam", "*.eml"))
	ham, _ := filepath.Glob(filepath.Join(dir, "ham", "*.eml"))
	if len(spam) < 200 || len(ham) == 0 {
		t.Skip("../shared/data/mail is absent: the corrections measurement reads the real-mail corpus")
	}
	slices.Sort(spam)
	read := func(path string) triage.Input {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if i := strings.IndexByte(string(raw[:min(len(raw), 200)]), '\n'); strings.HasPrefix(string(raw), "From ") && i >= 0 {
			raw = raw[i+1:]
		}
		m, err := mailmsg.Parse(raw, mailmsg.Limits{})
		if err != nil {
			return triage.Input{}
		}
		return triage.Input{ID: filepath.Base(path), Channel: docket.ChannelEmail, From: m.From, Subject: m.Subject, Text: m.Text}
	}
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	count := func(paths []string) (marked int) {
		for _, p := range paths {
			if in := read(p); in.ID != "" && tr.Triage(in).Spam {
				marked++
			}
		}
		return marked
	}
	learnt, rest := spam[:100], spam[100:]
	spamBefore, hamBefore := count(rest), count(ham)
	yes := true
	for _, p := range learnt {
		if in := read(p); in.ID != "" {
			tr.Learn(triage.Correction{Input: in, Spam: &yes, Ref: in.ID})
		}
	}
	spamAfter, hamAfter := count(rest), count(ham)
	t.Logf("after %d corrections (%d kept): later spam marked %d → %d of %d (recall %.3f → %.3f); legitimate mail marked spam %d → %d of %d",
		len(learnt), tr.Corrections(), spamBefore, spamAfter, len(rest), float64(spamBefore)/float64(len(rest)), float64(spamAfter)/float64(len(rest)),
		hamBefore, hamAfter, len(ham))
	if spamAfter <= spamBefore {
		t.Errorf("100 spam corrections caught no repeat in the later spam (%d → %d)", spamBefore, spamAfter)
	}
	if hamAfter > hamBefore {
		t.Errorf("corrections marked more legitimate mail spam: %d → %d", hamBefore, hamAfter)
	}
}

func TestShippedRiskModel(t *testing.T) {
	m, err := triage.ShippedRiskModel()
	if err != nil {
		t.Fatal(err)
	}
	if m.Bits != triage.RiskBits {
		t.Errorf("risk model has %d bits, want %d", m.Bits, triage.RiskBits)
	}
	p := m.ScoresOf("une réquisition judiciaire", triage.RiskBytes)
	if len(p) != len(triage.RiskLabels) || p[0]+p[1] < 0.999 || p[0]+p[1] > 1.001 {
		t.Errorf("risk model scores %v", p)
	}
}

func TestRadixSortSorts(t *testing.T) {
	for _, n := range []int{0, 1, 2, 100, 5000} {
		hs := make([]uint32, n)
		for i := range hs {
			hs[i] = uint32(i*2654435761) ^ uint32(i>>3)
		}
		want := slices.Clone(hs)
		slices.Sort(want)
		triage.RadixSort(hs)
		if !slices.Equal(hs, want) {
			t.Fatalf("n=%d: not sorted", n)
		}
	}
}
