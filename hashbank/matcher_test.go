package hashbank_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/digest"
	"github.com/docket-dev/docket/hashbank"
	"github.com/docket-dev/docket/pdq"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

const testdata = "../pdq/testdata"

func readImage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Edited returns a copy of a picture resized to a fraction of its width and height and
// re-encoded as a JPEG of quality 40: what a re-upload does to a known picture.
func Edited(t testing.TB, data []byte, scale float64) []byte {
	t.Helper()
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, int(float64(b.Dx())*scale), int(float64(b.Dy())*scale)))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 40}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func pdqHex(t testing.TB, data []byte) string {
	t.Helper()
	r, err := (&pdq.Hasher{}).Hash(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return r.Hash.String()
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestMatcher, on each engine: pictures of the test set in a bank match themselves, and
// resized, re-encoded and mirrored copies within 31; other pictures do not; a document
// matches by its SHA-256 and MD5; a disabled bank, a withdrawn hash match nothing, and
// what another Matcher (another node, the command line) changes is seen at the next
// look-up.
func TestMatcher(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s docket.Store) {
		ctx := context.Background()
		svc := workflow.New(workflow.Config{Store: s, Logger: quiet()})
		x := hashbank.New(hashbank.Config{Store: s})
		known, other := readImage(t, "q1050.jpg"), readImage(t, "q0291.jpg")
		letter := []byte("%PDF-1.4 a known leaflet")
		sums, err := digest.Read(bytes.NewReader(letter), digest.All)
		if err != nil {
			t.Fatal(err)
		}
		// Nothing yet: nothing matches.
		if _, ms, err := x.Match(ctx, known); err != nil || len(ms) != 0 {
			t.Fatalf("empty store: %v, %v", ms, err)
		}
		for _, name := range []string{"csam", "tve"} {
			if _, err := svc.CreateBank(ctx, "test", workflow.BankSpec{Name: name, Source: "a hotline", Category: map[string]string{"csam": "csam", "tve": "terrorism"}[name]}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.AddBankHashes(ctx, "test", "csam", []docket.BankHash{
			{Kind: docket.HashPDQ, Hash: pdqHex(t, known), Quality: 100}, {Kind: docket.HashPDQ, Hash: pdqHex(t, readImage(t, "q0003.jpg")), Quality: -1}}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddBankHashes(ctx, "test", "tve", []docket.BankHash{
			{Kind: docket.HashSHA256, Hash: sums.SHA256Hex(), Quality: -1}, {Kind: docket.HashMD5, Hash: sums.MD5Hex(), Quality: -1}}, "test"); err != nil {
			t.Fatal(err)
		}
		h, ms, err := x.Match(ctx, known)
		if err != nil || len(ms) != 1 || ms[0].Bank != "csam" || ms[0].Distance != 0 || ms[0].Kind != "pdq" || ms[0].Transform != "" ||
			ms[0].DSACategory != "STATEMENT_CATEGORY_PROTECTION_OF_MINORS" || ms[0].Action != "review" || h.PDQ != ms[0].Hash || h.Quality < 50 {
			t.Fatalf("the known picture: %+v %+v, %v", h, ms, err)
		}
		for _, c := range []struct {
			name string
			data []byte
		}{
			{"resized to 60% and re-encoded", Edited(t, known, 0.6)},
			{"doubled and re-encoded", Edited(t, known, 2)},
			{"as lossy WebP", readImage(t, "q1050.webp")},
		} {
			_, ms, err := x.Match(ctx, c.data)
			if err != nil || len(ms) != 1 || ms[0].Bank != "csam" || ms[0].Distance > 31 || ms[0].Transform != "" {
				t.Fatalf("%s: %+v, %v", c.name, ms, err)
			}
			t.Logf("%s: distance %d %s", c.name, ms[0].Distance, ms[0].Transform)
		}
		if _, ms, err := x.Match(ctx, other); err != nil || len(ms) != 0 {
			t.Fatalf("another picture matched: %+v, %v", ms, err)
		}
		h, ms, err = x.Match(ctx, letter)
		if err != nil || len(ms) != 2 || ms[0].Bank != "tve" || ms[0].Kind != "md5" || ms[1].Kind != "sha256" || ms[0].Distance != 0 ||
			ms[1].Hash != sums.SHA256Hex() || h.PDQ != "" || h.Error == "" || h.SHA256 != sums.SHA256Hex() {
			t.Fatalf("the known leaflet: %+v %+v, %v", h, ms, err)
		}
		// A PNG of the known picture: its bytes differ, its PDQ hash does not.
		img, _, _ := image.Decode(bytes.NewReader(known))
		var pngBuf bytes.Buffer
		png.Encode(&pngBuf, img)

		// Another matcher, as another node would have, makes changes through the store: the
		// first sees them at its next look-up.
		if _, err := svc.SetBankEnabled(ctx, "test", "csam", false); err != nil {
			t.Fatal(err)
		}
		if _, ms, err := x.Match(ctx, pngBuf.Bytes()); err != nil || len(ms) != 0 {
			t.Fatalf("a disabled bank matched: %+v, %v", ms, err)
		}
		if _, err := svc.SetBankEnabled(ctx, "test", "csam", true); err != nil {
			t.Fatal(err)
		}
		if _, ms, err := x.Match(ctx, pngBuf.Bytes()); err != nil || len(ms) != 1 {
			t.Fatalf("enabled again: %+v, %v", ms, err)
		}
		if _, err := svc.WithdrawBankHashes(ctx, "test", "csam", []docket.BankHash{{Kind: docket.HashPDQ, Hash: pdqHex(t, known), Quality: -1}}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, ms, err := x.Match(ctx, known); err != nil || len(ms) != 0 {
			t.Fatalf("a withdrawn hash matched: %+v, %v", ms, err)
		}
		// Added again, and the other picture too: a fresh matcher loads the same.
		if _, err := svc.AddBankHashes(ctx, "test", "csam", []docket.BankHash{
			{Kind: docket.HashPDQ, Hash: pdqHex(t, known), Quality: -1}, {Kind: docket.HashPDQ, Hash: pdqHex(t, other), Quality: -1}}, "test"); err != nil {
			t.Fatal(err)
		}
		for name, m := range map[string]*hashbank.Matcher{"updated": x, "loaded": hashbank.New(hashbank.Config{Store: s})} {
			for _, data := range [][]byte{known, other} {
				if _, ms, err := m.Match(ctx, data); err != nil || len(ms) != 1 || ms[0].Distance != 0 {
					t.Fatalf("%s matcher, added again: %+v, %v", name, ms, err)
				}
			}
		}
	})
}

// TestMatcherTransforms: a bank's hash of a picture's mirror image (as pdq.Dihedral computes
// it) matches the picture, and the match names the flip.
func TestMatcherTransforms(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, "sqlite")
	svc := workflow.New(workflow.Config{Store: s, Logger: quiet()})
	known := readImage(t, "q2821.jpg")
	d, err := (&pdq.Hasher{}).Dihedral(bytes.NewReader(known))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateBank(ctx, "test", workflow.BankSpec{Name: "mirrors", Source: "test", Category: "csam"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddBankHashes(ctx, "test", "mirrors", []docket.BankHash{{Kind: docket.HashPDQ, Hash: d.Hashes[pdq.FlipY].String(), Quality: -1}}, "test"); err != nil {
		t.Fatal(err)
	}
	_, ms, err := hashbank.New(hashbank.Config{Store: s}).Match(ctx, known)
	if err != nil || len(ms) != 1 || ms[0].Distance != 0 || ms[0].Transform != "flipy" {
		t.Fatalf("the mirror image's hash: %+v, %v", ms, err)
	}
}

// TestMatcherPictures: a picture too small to hash, a broken one and one above the pixel
// budget get no PDQ hash and say why, and still match by digest.
func TestMatcherPictures(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	x := hashbank.New(hashbank.Config{Store: s, MaxPixels: 1000})
	for name, data := range map[string][]byte{
		"tiny":   pngOf(t, 3, 3),
		"broken": readImage(t, "q1050.jpg")[:2000],
		"large":  pngOf(t, 100, 100),
	} {
		h, _, err := x.Match(context.Background(), data)
		if err != nil || h.PDQ != "" || h.Error == "" || h.SHA256 == "" || h.MD5 == "" {
			t.Fatalf("%s: %+v, %v", name, h, err)
		}
	}
}

func pngOf(t testing.TB, w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 37)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
