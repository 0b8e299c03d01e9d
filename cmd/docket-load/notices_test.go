package main

import (
	"bytes"
	"encoding/json"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/docket-dev/docket/intake"
	"github.com/docket-dev/docket/pdq"
	"github.com/docket-dev/docket/regime"
	"github.com/docket-dev/docket/rules"
)

// TestPictures: pictures of different seeds are far apart in PDQ (no false match among
// them), a seed draws the same picture every time, and a copy edited as the run edits
// (1 % cut at most, resized, re-encoded) mostly stays within PDQ's 31 bits.
func TestPictures(t *testing.T) {
	t.Parallel()
	var hs []pdq.Hash
	for s := range 60 {
		r := pdq.HashImage(picture(uint64(s), pictureW, pictureH))
		if r.Quality < 50 {
			t.Errorf("picture %d: quality %d", s, r.Quality)
		}
		hs = append(hs, r.Hash)
	}
	for i := range hs {
		for j := i + 1; j < len(hs); j++ {
			if d := hs[i].Distance(hs[j]); d <= 31 {
				t.Errorf("pictures %d and %d are %d bits apart", i, j, d)
			}
		}
	}
	if again := pdq.HashImage(picture(7, pictureW, pictureH)).Hash; again != hs[7] {
		t.Error("the same seed drew another picture")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	near := 0
	for i := range 40 {
		e := randomEdit(rng, 0.01)
		file, err := e.apply(picture(uint64(i), pictureW, pictureH))
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if w := img.Bounds().Dx(); w < pictureW*48/100 || w > pictureW*151/100 {
			t.Errorf("edit %+v: width %d", e, w)
		}
		if pdq.HashImage(img).Hash.Distance(hs[i]) <= 31 {
			near++
		}
	}
	if near < 32 {
		t.Errorf("%d of 40 edited copies within 31 bits of their original, want most", near)
	}
}

// TestNoticePlan: the plan is the seed's (the same twice), about the asked share is banked,
// and each notice is one docket's intake accepts, pointing at its own message, with its
// picture when it has one.
func TestNoticePlan(t *testing.T) {
	t.Parallel()
	c, err := parseNoticesFlags([]string{"--notices", "400", "--banked", "0.25", "--pictures", "0.5", "--bank-size", "30"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.planNotice(17) != c.planNotice(17) {
		t.Fatal("the same notice planned twice differs")
	}
	regimes := regime.DefaultTable()
	banked, own := 0, 0
	for i := range c.notices {
		p := c.planNotice(i)
		if p.IsBanked {
			banked++
			if p.Banked < 0 || p.Banked >= c.bankSize {
				t.Fatalf("notice %d: banked picture %d of %d", i, p.Banked, c.bankSize)
			}
		} else if p.Own {
			own++
		}
		if i%40 != 0 && !p.IsBanked {
			continue // parse a sample, and every banked one
		}
		file, err := c.attachment(i, p)
		if err != nil {
			t.Fatal(err)
		}
		body, err := noticeJSON(i, "http://127.0.0.1:8090", p, file)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := intake.ParseNotice(body, regimes)
		if err != nil {
			t.Fatalf("notice %d refused: %v", i, err)
		}
		if want := "http://127.0.0.1:8090/m/" + itoa(firstMessage+i); parsed.Body.Targets[0].Value != want {
			t.Fatalf("notice %d points at %s, want %s", i, parsed.Body.Targets[0].Value, want)
		}
		if (file != nil) != (len(parsed.Blobs) == 1) || (p.IsBanked && parsed.Body.Attachments[0].ContentType != "image/jpeg") {
			t.Fatalf("notice %d: attachments %+v", i, parsed.Body.Attachments)
		}
	}
	if banked < 70 || banked > 130 || own < 110 || own > 190 {
		t.Errorf("%d banked and %d with a picture of their own, of 400 (25 %%, half the rest)", banked, own)
	}
}

// TestNoticesRule: the rule file the run writes loads, and its rule acts on the bank.
func TestNoticesRule(t *testing.T) {
	t.Parallel()
	var rs struct {
		Rules []map[string]any `json:"rules"`
	}
	if err := json.Unmarshal(rules.DefaultJSON(), &rs); err != nil {
		t.Fatal(err)
	}
	rs.Rules = append(rs.Rules, automatedRule("e2e", 0.02, 20))
	b, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	r := set.Rule("known-media-remove")
	if r == nil || r.Action != rules.ActionRemove || r.Sample != 0.02 || r.ReviewAbove != 20 {
		t.Fatalf("rule %+v", r)
	}
}

func TestNoticesRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--notices", "0"}, {"--banked", "1.5"}, {"--crop", "0.3"}, {"--authority-rate", "0"}, {"--no-such-flag"}} {
		if _, err := parseNoticesFlags(args, io.Discard); err == nil {
			t.Errorf("%s: no error", strings.Join(args, " "))
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
