package pdq

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/bmp"
)

// FuzzHash: no input makes hashing panic; whatever is hashed has a quality of 0 to 100.
// The seeds are the test images, small pictures in every format and a JPEG with EXIF.
// Run: go test -fuzz FuzzHash ./pdq/
func FuzzHash(f *testing.F) {
	for _, pattern := range []string{"testdata/*.jpg", "testdata/*.webp"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil && len(b) < 32<<10 {
				f.Add(b)
			}
		}
	}
	pic := image.NewNRGBA(image.Rect(0, 0, 9, 7))
	for y := range 7 {
		for x := range 9 {
			pic.Set(x, y, color.NRGBA{uint8(x * 28), uint8(y * 36), uint8(x * y), uint8(200 + x)})
		}
	}
	for _, enc := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return png.Encode(b, pic) },
		func(b *bytes.Buffer) error { return gif.Encode(b, pic, nil) },
		func(b *bytes.Buffer) error { return bmp.Encode(b, pic) },
		func(b *bytes.Buffer) error { return jpeg.Encode(b, pic, nil) },
	} {
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	var j bytes.Buffer
	jpeg.Encode(&j, pic, nil)
	f.Add(withSegment(j.Bytes(), exifSegment(6, binary.LittleEndian)))

	h := &Hasher{MaxPixels: 1 << 20} // small, so that the fuzzer spends its time on parsing
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := h.Hash(bytes.NewReader(data))
		if err != nil {
			return
		}
		if res.Quality < 0 || res.Quality > 100 {
			t.Fatalf("quality %d", res.Quality)
		}
	})
}
