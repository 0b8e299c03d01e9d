package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimCommand: docket sim runs a small month, compares two policies, draws the chart,
// checks a sample against the service on SQLite and ends with one JSON summary line.
func TestSimCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sim.json")
	if err := os.WriteFile(cfg, []byte(`{"warmup_days": 1, "tail_days": 2, "holidays": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "queue.svg")
	out, err := run(t, nil, "sim", "--config", cfg, "--requests", "2000", "--notices", "4000", "--staff", "12", "--days", "5",
		"--seed", "3", "--policy", "docket,fifo", "--svg", svg, "--check", "50", "--json")
	if err != nil {
		t.Fatalf("sim: %v\n%s", err, out)
	}
	for _, want := range []string{"policy docket", "policy fifo", "overdue by regime", "0 deadlines and 0 routes differ"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum struct {
		Policy         string                        `json:"policy"`
		Staff          int                           `json:"staff"`
		Overdue        map[string]int64              `json:"overdue"`
		Answer         map[string]map[string]float64 `json:"answer_s"`
		AutomatedShare *float64                      `json:"automated_share"`
		Wall           *float64                      `json:"wall_s"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line is not a JSON summary: %v\n%s", err, lines[len(lines)-1])
	}
	if sum.Policy != "fifo" || sum.Staff != 12 || len(sum.Overdue) == 0 || sum.Answer["fr-requisition"]["clock"] != 864000 || sum.AutomatedShare == nil || sum.Wall == nil {
		t.Errorf("summary %+v", sum)
	}
	b, err := os.ReadFile(svg)
	if err != nil || !strings.HasPrefix(string(b), "<svg") || !strings.Contains(string(b), "polyline") {
		t.Errorf("chart: %v\n%.200s", err, b)
	}
	if _, err := run(t, nil, "sim", "--policy", "lifo", "--requests", "10", "--notices", "0", "--days", "1"); err == nil {
		t.Error("an unknown policy was accepted")
	}
}
