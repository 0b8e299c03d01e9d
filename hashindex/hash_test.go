package hashindex

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseAndString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want Hash
	}{
		{strings.Repeat("0", 63) + "1", Hash{1, 0, 0, 0}},                           // bit 0 is the last digit's low bit
		{"8" + strings.Repeat("0", 63), Hash{0, 0, 0, 1 << 63}},                     // bit 255 the first digit's high bit
		{strings.Repeat("0", 47) + "1" + strings.Repeat("0", 16), Hash{0, 1, 0, 0}}, // bit 64
		{"0123456789abcdef" + strings.Repeat("f", 48), Hash{^uint64(0), ^uint64(0), ^uint64(0), 0x0123456789abcdef}},
	}
	for _, tt := range tests {
		h, err := Parse(tt.text)
		if err != nil || h != tt.want {
			t.Errorf("Parse(%s) = %x, %v; want %x", tt.text, h, err, tt.want)
		}
		if s := tt.want.String(); s != tt.text {
			t.Errorf("String() = %s, want %s", s, tt.text)
		}
		if up, err := Parse(strings.ToUpper(tt.text)); err != nil || up != tt.want {
			t.Errorf("Parse(upper case %s) = %x, %v", tt.text, up, err)
		}
	}
	for _, bad := range []string{"", "00", strings.Repeat("0", 65), strings.Repeat("g", 64), " " + strings.Repeat("0", 63)} {
		if _, err := Parse(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): got %v, want ErrSyntax", bad, err)
		}
	}
}

func TestHashJSON(t *testing.T) {
	t.Parallel()
	h := Hash{1, 2, 3, 4}
	b, err := json.Marshal(map[string]Hash{"pdq": h})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"pdq":"` + h.String() + `"}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	var back map[string]Hash
	if err := json.Unmarshal(b, &back); err != nil || back["pdq"] != h {
		t.Fatalf("read back %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"pdq":"12"}`), &back); !errors.Is(err, ErrSyntax) {
		t.Fatalf("short hash: got %v, want ErrSyntax", err)
	}
}

func TestDistance(t *testing.T) {
	t.Parallel()
	a := Hash{0, 0, 0, 0}
	for _, tt := range []struct {
		h    Hash
		want int
	}{
		{a, 0},
		{Hash{1, 0, 0, 0}, 1},
		{Hash{0, 0, 0, 1 << 63}, 1},
		{Hash{^uint64(0), 0, 0, 0}, 64},
		{Hash{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}, 256},
	} {
		if d := a.Distance(tt.h); d != tt.want || tt.h.Distance(a) != tt.want {
			t.Errorf("Distance(%v) = %d, want %d", tt.h, d, tt.want)
		}
	}
}
