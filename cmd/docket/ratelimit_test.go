package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// postNotice files a public notice by the API or by the form, from the client address
// X-Forwarded-For claims, and returns the status.
func postNotice(t *testing.T, s *served, byForm bool, xff string) int {
	t.Helper()
	var req *http.Request
	if byForm {
		form := url.Values{"explanation": {"This channel sells forged identity papers."}, "locations": {"https://t.me/fakeids/42"},
			"name": {"Jane Doe"}, "email": {"jane@example.org"}, "good_faith": {"on"}}
		req, _ = http.NewRequest("POST", "http://"+s.addr+"/notice", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest("POST", "http://"+s.addr+"/api/v1/notices", strings.NewReader(
			`{"explanation":"This channel sells forged identity papers.","locations":["https://t.me/fakeids/42"],"name":"Jane Doe","email":"jane@example.org","good_faith":true}`))
		req.Header.Set("Content-Type", "application/json")
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestNoticeLimitBehindProxy replays the attack: with trust_proxy the limit keyed on the
// first X-Forwarded-For entry, which the client writes (300 of 300 notices accepted with
// rotating values), and the API and the form each had a limiter of their own (twice the
// documented limit). Now the key is the right-most address not in trusted_proxies, and one
// limiter counts both doors.
func TestNoticeLimitBehindProxy(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		xff     func(i int) string
		byForm  func(i int) bool
		allowed int
	}{
		{"rotating first entry, API", `{"trust_proxy": true, "notice_burst": 3, "notices_per_minute": 1}`,
			func(i int) string { return fmt.Sprintf("10.9.%d.%d, 203.0.113.7", i/250, i%250) }, func(int) bool { return false }, 3},
		{"rotating first entry, trusted chain", `{"trust_proxy": true, "trusted_proxies": ["127.0.0.0/8", "192.0.2.0/24"], "notice_burst": 3, "notices_per_minute": 1}`,
			func(i int) string { return fmt.Sprintf("10.9.%d.%d, 203.0.113.7, 192.0.2.10", i/250, i%250) }, func(int) bool { return false }, 3},
		{"API and form share one limit", `{"trust_proxy": true, "notice_burst": 4, "notices_per_minute": 1}`,
			func(int) string { return "203.0.113.8" }, func(i int) bool { return i%2 == 1 }, 4},
		{"without trust_proxy the header is ignored", `{"notice_burst": 2, "notices_per_minute": 1}`,
			func(i int) string { return fmt.Sprintf("198.51.100.%d", i) }, func(i int) bool { return i%2 == 1 }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.json")
			if err := os.WriteFile(cfg, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			s := startServe(t, map[string]string{"DOCKET_DATA": dir, "DOCKET_NO_TRIAGE": "true", "DOCKET_CONFIG": cfg})
			accepted := 0
			for i := range 12 {
				switch code := postNotice(t, s, tt.byForm(i), tt.xff(i)); code {
				case http.StatusCreated:
					accepted++
				case http.StatusTooManyRequests:
				default:
					t.Fatalf("notice %d: %d", i, code)
				}
			}
			if accepted != tt.allowed {
				t.Errorf("%d of 12 notices accepted, want %d", accepted, tt.allowed)
			}
		})
	}
}
