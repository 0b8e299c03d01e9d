package main

import (
	"net"
	"testing"
)

// TestLocalURL: without public_url, links in mail point at the address serve listens on.
func TestLocalURL(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "http://localhost:8080"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, "http://localhost:80"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "http://[::1]:8080"},
	}
	for _, tt := range tests {
		if got := localURL(tt.addr); got != tt.want {
			t.Errorf("localURL(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
