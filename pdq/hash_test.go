package pdq

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestHashTextRoundTrip(t *testing.T) {
	for _, s := range []string{
		"0000000000000000000000000000000000000000000000000000000000000000",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22",
	} {
		h, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if h.String() != s {
			t.Errorf("Parse(%s).String() = %s", s, h)
		}
		if up, err := Parse(strings.ToUpper(s)); err != nil || up != h {
			t.Errorf("upper case: %v %v", up, err)
		}
	}
}

// TestHashBitOrder: bit k is the coefficient k (row k/16, column k%16), and the text puts
// bit 255 first, as Meta's Hash256 (sixteen 16-bit words, the last printed first).
func TestHashBitOrder(t *testing.T) {
	var h Hash
	h.set(0)
	if got := h.String(); got != strings.Repeat("0", 63)+"1" {
		t.Errorf("bit 0: %s", got)
	}
	h = Hash{}
	h.set(255)
	if got := h.String(); got != "8"+strings.Repeat("0", 63) {
		t.Errorf("bit 255: %s", got)
	}
	h = Hash{}
	h.set(16) // word 1 of Meta's sixteen: the 15th group of four digits
	if got := h.String(); got != strings.Repeat("0", 56)+"00010000" {
		t.Errorf("bit 16: %s", got)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, s := range []string{"", "abc", strings.Repeat("0", 63), strings.Repeat("0", 65), strings.Repeat("g", 64), " " + strings.Repeat("0", 63)} {
		if _, err := Parse(s); !errors.Is(err, ErrHashSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrHashSyntax", s, err)
		}
	}
}

func TestDistance(t *testing.T) {
	a, _ := Parse("d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22")
	if d := a.Distance(a); d != 0 {
		t.Errorf("distance to itself %d", d)
	}
	var zero, ones Hash
	for k := range 256 {
		ones.set(k)
	}
	if d := zero.Distance(ones); d != 256 {
		t.Errorf("zero to ones: %d", d)
	}
	b := a
	b.set(3)
	b[2] ^= 1 << 40
	want := 1
	if a[0]&(1<<3) == 0 {
		want = 2
	}
	if d := a.Distance(b); d != want {
		t.Errorf("distance %d, want %d", d, want)
	}
}

func TestHashJSON(t *testing.T) {
	h, _ := Parse("d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22")
	b, err := json.Marshal(map[string]Hash{"pdq": h})
	if err != nil || string(b) != `{"pdq":"d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"}` {
		t.Fatalf("%s %v", b, err)
	}
	var back map[string]Hash
	if err := json.Unmarshal(b, &back); err != nil || back["pdq"] != h {
		t.Fatalf("%v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"pdq":"nope"}`), &back); !errors.Is(err, ErrHashSyntax) {
		t.Errorf("bad hash in JSON: %v", err)
	}
}
