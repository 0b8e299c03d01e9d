package mailout

import "testing"

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"officer@police.example", true},
		{"first.last+tag@sub.police-a.example", true},
		{"o'brien@garda.example", true},
		{"attacker@evil.example>@police-a.example", false}, // "attacker@evil.example>"@police-a.example, unquoted
		{"a b@police.example", false},
		{"a\r\nRCPT TO:<x@evil.example>@police.example", false},
		{"a\x00b@police.example", false},
		{"<a@police.example>", false},
		{"a@police.example>", false},
		{"a..b@police.example", false},
		{".a@police.example", false},
		{"a@[192.0.2.1]", false},
		{"a@police..example", false},
		{"a\"b@police.example", false},
		{"a\\b@police.example", false},
		{"@police.example", false},
		{"a@", false},
		{"noat", false},
		{"a@b@police.example", false},
	}
	for _, tt := range tests {
		_, err := CheckAddress(tt.addr)
		if (err == nil) != tt.ok {
			t.Errorf("CheckAddress(%q): %v, want ok=%v", tt.addr, err, tt.ok)
		}
	}
}
