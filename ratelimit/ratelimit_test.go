package ratelimit

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	tests := []struct {
		name   string
		trust  bool
		ranges []string
		peer   string
		xff    []string
		want   string
	}{
		{"no proxy: the header is ignored", false, nil, "198.51.100.1:5000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"one proxy: its entry, not the client's", true, nil, "127.0.0.1:5000", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},
		{"one proxy, no header", true, nil, "127.0.0.1:5000", nil, "127.0.0.1"},
		{"two header lines", true, nil, "127.0.0.1:5000", []string{"6.6.6.6", "203.0.113.9"}, "203.0.113.9"},
		{"trusted chain", true, []string{"10.0.0.0/8", "192.0.2.7"}, "10.1.1.1:5000", []string{"6.6.6.6, 203.0.113.9, 192.0.2.7"}, "203.0.113.9"},
		{"ranges without trust_proxy still count", false, []string{"10.0.0.0/8"}, "10.1.1.1:5000", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},
		{"peer outside the ranges", true, []string{"10.0.0.0/8"}, "198.51.100.1:5000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"every entry trusted: the left-most", true, []string{"10.0.0.0/8"}, "10.1.1.1:5000", []string{"10.2.2.2, 10.3.3.3"}, "10.2.2.2"},
		{"IPv6 peer in range", true, []string{"::1/128"}, "[::1]:5000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"garbage entry is the client", true, nil, "127.0.0.1:5000", []string{"203.0.113.9, unknown"}, "unknown"},
	}
	for _, tt := range tests {
		p, err := NewProxies(tt.trust, tt.ranges)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.peer
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientAddr(r, p); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, err := NewProxies(true, []string{"not a range"}); err == nil {
		t.Error("a bad range was accepted")
	}
}
