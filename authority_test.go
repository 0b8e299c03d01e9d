package docket

import "testing"

func TestOwnsDomain(t *testing.T) {
	a := &Authority{Domains: []string{"Police.example.", "justice.gouv.example"}}
	for _, tt := range []struct {
		domain string
		want   bool
	}{
		{"police.example", true},
		{"lyon.POLICE.example", true},
		{"police.example.", true},
		{"evilpolice.example", false},
		{"police.example.evil.example", false},
		{"gouv.example", false},
		{"", false},
	} {
		if got := a.OwnsDomain(tt.domain); got != tt.want {
			t.Errorf("OwnsDomain(%q) = %v, want %v", tt.domain, got, tt.want)
		}
	}
}
