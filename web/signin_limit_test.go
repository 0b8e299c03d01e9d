package web

import (
	"net/http"
	"net/url"
	"testing"
)

// TestSignInLimitPerAddress: sign-ins from one address beyond the burst are refused with
// 429 and Retry-After before any password is hashed (200 parallel sign-ins to unknown
// accounts took resident memory from 0.8 to 3.9 GB).
func TestSignInLimitPerAddress(t *testing.T) {
	h := newHarness(t, Config{SignInsPerMinute: 1, SignInBurst: 3})
	tests := []struct {
		path string
		want int
	}{
		{"/console/signin", http.StatusUnauthorized},
		{"/portal/signin", http.StatusUnauthorized},
		{"/console/signin", http.StatusUnauthorized},
		{"/console/signin", http.StatusTooManyRequests},
		{"/portal/signin", http.StatusTooManyRequests},
	}
	for i, tt := range tests {
		form := url.Values{"email": {"nobody@platform.example"}, "password": {"a wrong password"}, "code": {"123456"}}
		resp, err := http.PostForm(h.srv.URL+tt.path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("sign-in %d at %s: %d, want %d", i+1, tt.path, resp.StatusCode, tt.want)
		}
		if tt.want == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Errorf("sign-in %d: 429 without Retry-After", i+1)
		}
	}
}
