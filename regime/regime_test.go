package regime_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/regime"
)

func TestDefaultTableClocks(t *testing.T) {
	t.Parallel()
	tab := regime.DefaultTable()
	received := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		id        string
		emergency bool
		want      time.Duration // 0: no deadline
	}{
		{"eu-tco-removal", false, time.Hour},
		{"eu-epoc", false, 10 * 24 * time.Hour},
		{"eu-epoc", true, 8 * time.Hour},
		{"eu-epoc-pr", false, 24 * time.Hour},
		{"dsa-art9", false, 24 * time.Hour},
		{"dsa-art10", false, 72 * time.Hour},
		{"dsa-art16", false, 7 * 24 * time.Hour},
		{"fr-requisition", false, 10 * 24 * time.Hour},
		{"fr-lcen-6-1", false, 24 * time.Hour},
		{"us-2703f", false, 24 * time.Hour},
		{"us-legal-process", false, 30 * 24 * time.Hour},
		{"us-emergency", false, time.Hour},
		{"emergency", false, time.Hour},
		{"national-other", false, 30 * 24 * time.Hour},
		{"none", false, 0},
	}
	for _, tt := range tests {
		r, ok := tab.Lookup(tt.id)
		if !ok {
			t.Fatalf("regime %s missing", tt.id)
		}
		deadline, dueSoon := r.Deadlines(received, tt.emergency)
		if tt.want == 0 {
			if !deadline.IsZero() || !dueSoon.IsZero() {
				t.Errorf("%s: deadline %v, want none", tt.id, deadline)
			}
			continue
		}
		if got := deadline.Sub(received); got != tt.want {
			t.Errorf("%s (emergency=%v): clock %v, want %v", tt.id, tt.emergency, got, tt.want)
		}
		if !dueSoon.After(received) || !dueSoon.Before(deadline) {
			t.Errorf("%s: due-soon %v not between receipt and deadline %v", tt.id, dueSoon, deadline)
		}
	}
	r, _ := tab.Lookup("us-2703f")
	if time.Duration(r.Hold) != 90*24*time.Hour || time.Duration(r.HoldExtension) != 90*24*time.Hour {
		t.Errorf("us-2703f hold %v + %v, want 90d + 90d", r.Hold, r.HoldExtension)
	}
	r, _ = tab.Lookup("eu-epoc-pr")
	if r.Hold.String() != "60d" || r.HoldExtension.String() != "30d" {
		t.Errorf("eu-epoc-pr hold %v + %v, want 60d + 30d", r.Hold, r.HoldExtension)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc, want string }{
		{"unknown field", `{"regimes":[{"id":"x","queue":"q","clok":"1h"}]}`, "unknown field"},
		{"bad duration", `{"regimes":[{"id":"x","queue":"q","clock":"ten days"}]}`, "parse duration"},
		{"unknown kind", `{"regimes":[{"id":"x","queue":"q","kinds":["arrest"]}]}`, "unknown kind"},
		{"unknown element", `{"regimes":[{"id":"x","queue":"q","requires":["dna"]}]}`, "unknown required element"},
		{"duplicate", `{"regimes":[{"id":"x","queue":"q"},{"id":"x","queue":"q"}]}`, "defined twice"},
		{"missing default", `{"regimes":[{"id":"x","queue":"q"}]}`, "must define"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := regime.Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse: %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadOverride(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "regimes.json")
	doc := `{"regimes":[
	 {"id":"fr-requisition","queue":"disclosure","clock":"5d"},
	 {"id":"national-other","queue":"default","clock":"30d"},
	 {"id":"emergency","queue":"emergency","clock":"1h"},
	 {"id":"dsa-art16","queue":"notices","clock":"7d"}]}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	tab, err := regime.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := tab.Lookup("fr-requisition")
	if d, _ := r.Deadlines(time.Unix(0, 0), false); d.Sub(time.Unix(0, 0)) != 5*24*time.Hour {
		t.Errorf("overridden clock: deadline %v", d)
	}
	if _, ok := tab.Lookup("eu-epoc"); ok {
		t.Error("an overriding file replaces the table; eu-epoc should be gone")
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"10d": 240 * time.Hour, "8h": 8 * time.Hour, "1h30m": 90 * time.Minute} {
		d, err := docket.ParseDuration(in)
		if err != nil || time.Duration(d) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, d, err, want)
		}
	}
	for _, bad := range []string{"-1d", "xd", "", "-5m"} {
		if _, err := docket.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

// TestAppealClock: the table's appeal clock (DSA art. 20), its default and its check.
func TestAppealClock(t *testing.T) {
	t.Parallel()
	if got := regime.DefaultTable().Appeal(); time.Duration(got.Clock) != 14*24*time.Hour || got.Queue != "appeals" || time.Duration(got.DueSoon) != 3*24*time.Hour {
		t.Fatalf("default appeal clock = %+v", got)
	}
	base := `{"regimes":[{"id":"national-other","queue":"q"},{"id":"emergency","queue":"q"},{"id":"dsa-art16","queue":"q"}]`
	tab, err := regime.Parse([]byte(base + `}`))
	if err != nil || time.Duration(tab.Appeal().Clock) != time.Duration(regime.DefaultAppealClock) {
		t.Fatalf("a table without an appeal entry: %+v, %v", tab, err)
	}
	tab, err = regime.Parse([]byte(base + `,"appeal":{"clock":"7d"}}`))
	if err != nil || time.Duration(tab.Appeal().Clock) != 7*24*time.Hour || tab.Appeal().Queue != "appeals" {
		t.Fatalf("an operator's appeal clock: %+v, %v", tab.Appeal(), err)
	}
	if _, err := regime.Parse([]byte(base + `,"appeal":{"queue":"x"}}`)); err == nil || !strings.Contains(err.Error(), "appeal") {
		t.Fatalf("an appeal entry without a clock: %v", err)
	}
}
