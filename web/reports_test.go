package web

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReportLinks: the dashboard links to both reports of the last full calendar year and
// of the last full quarter.
func TestReportLinks(t *testing.T) {
	for _, tc := range []struct {
		now  time.Time
		want []string
	}{
		{time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC), []string{"Requests 2025 2025-01-01 2025-12-31", "DSA 2025 2025-01-01 2025-12-31",
			"Requests 2026 Q3 2026-07-01 2026-09-30", "DSA 2026 Q3 2026-07-01 2026-09-30"}},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), []string{"Requests 2025 2025-01-01 2025-12-31", "DSA 2025 2025-01-01 2025-12-31",
			"Requests 2025 Q4 2025-10-01 2025-12-31", "DSA 2025 Q4 2025-10-01 2025-12-31"}},
		{time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), []string{"Requests 2025 2025-01-01 2025-12-31", "DSA 2025 2025-01-01 2025-12-31",
			"Requests 2026 Q1 2026-01-01 2026-03-31", "DSA 2026 Q1 2026-01-01 2026-03-31"}},
		{time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC), []string{"Requests 2025 2025-01-01 2025-12-31", "DSA 2025 2025-01-01 2025-12-31",
			"Requests 2025 Q4 2025-10-01 2025-12-31", "DSA 2025 Q4 2025-10-01 2025-12-31"}},
	} {
		var got []string
		for _, l := range reportLinks(tc.now) {
			got = append(got, l.Label+" "+l.From+" "+l.To)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.now, got, tc.want)
		}
	}
}

// TestReportPages: the dashboard links to the reports; staff read them in the console,
// computed from the log; the page keeps to the console's Content-Security-Policy.
func TestReportPages(t *testing.T) {
	h := newHarness(t, Config{})
	_, page := h.do("auditor", "GET", "/console/dashboard", nil, nil)
	links := reportLinks(h.clk.now())
	if !strings.Contains(page, `id="reports"`) || !strings.Contains(page, fmt.Sprintf(`/console/reports/dsa?from=%s&amp;to=%s`, links[3].From, links[3].To)) {
		t.Errorf("dashboard without the links to the reports:\n%s", page)
	}
	year := h.clk.now().Format("2006")
	code, page := h.do("auditor", "GET", "/console/reports/requests?from="+year+"-01-01&to="+year+"-12-31", nil, nil)
	if code != 200 || !strings.Contains(page, "Requests by country and requester") || !strings.Contains(page, "<td>FR</td>") || strings.Contains(page, "<style") {
		t.Errorf("requests report: %d\n%s", code, page)
	}
	code, page = h.do("agent", "GET", "/console/reports/dsa?from="+year+"-01-01&to="+year+"-12-31", nil, nil)
	if code != 200 || !strings.Contains(page, "Orders from member states") || !strings.Contains(page, "<svg") || strings.Contains(page, "<style") {
		t.Errorf("dsa report: %d\n%s", code, page)
	}
	code, page = h.do("agent", "GET", "/console/reports/dsa?from="+year+"-12-31&to="+year+"-01-01", nil, nil)
	if code != 422 || !strings.Contains(page, "is after --to") {
		t.Errorf("a period backwards: %d\n%.500s", code, page)
	}
}
