package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetricsNotPublic replays the finding: /metrics was served on the public listener to
// anyone. By default it is not there; --metrics-addr serves it on a listener of its own,
// and metrics_token lets the public listener serve it to a bearer of the token.
func TestMetricsNotPublic(t *testing.T) {
	get := func(url, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	env := func() map[string]string {
		return map[string]string{"DOCKET_DATA": t.TempDir(), "DOCKET_NO_TRIAGE": "true"}
	}

	s := startServe(t, env())
	if code, body := get("http://"+s.addr+"/metrics", ""); code == http.StatusOK || strings.Contains(body, "docket_cases_overdue") {
		t.Errorf("default: /metrics on the public listener answers %d", code)
	}
	s.stop()

	s = startServe(t, env(), "--metrics-addr", "127.0.0.1:0")
	if code, _ := get("http://"+s.addr+"/metrics", ""); code == http.StatusOK {
		t.Errorf("--metrics-addr: /metrics on the public listener answers %d", code)
	}
	maddr := s.listen["metrics"]
	if maddr == "" {
		t.Fatal("no metrics listener reported")
	}
	if code, body := get("http://"+maddr+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, "docket_cases_overdue 0") {
		t.Errorf("metrics listener: %d\n%.300s", code, body)
	}
	s.stop()

	e := env()
	cfg := filepath.Join(e["DOCKET_DATA"], "config.json")
	if err := os.WriteFile(cfg, []byte(`{"metrics_token": "s3cret-scraper-token"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e["DOCKET_CONFIG"] = cfg
	s = startServe(t, e)
	for _, tt := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {"s3cret-scraper-token", http.StatusOK}} {
		if code, _ := get("http://"+s.addr+"/metrics", tt.token); code != tt.want {
			t.Errorf("metrics_token, bearer %q: %d, want %d", tt.token, code, tt.want)
		}
	}
}
