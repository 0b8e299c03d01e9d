package pdq

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"testing"
)

// benchImages are the reference images of the shared data (Meta's 17), or those of
// testdata when it is absent.
func benchImages(b *testing.B) (names []string, files [][]byte, decoded []image.Image) {
	list := "testdata/expected.tsv"
	if dir, _ := findSharedPDQ(); dir != "" {
		list = filepath.Join(dir, "expected.tsv")
	}
	for _, e := range readExpected(b, list) {
		data, err := os.ReadFile(e.file)
		if err != nil {
			b.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		names, files, decoded = append(names, e.file), append(files, data), append(decoded, img)
	}
	b.Logf("%d images from %s", len(files), list)
	return names, files, decoded
}

// BenchmarkHash hashes each reference image per iteration: from the file's bytes
// (decode+hash: the header check, EXIF, decoding and hashing, what docket hash pdq does),
// from the decoded image (hash), and decoding alone with Go's decoders (decode). The
// ns/image metric is per image.
func BenchmarkHash(b *testing.B) {
	_, files, decoded := benchImages(b)
	perImage := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(files)), "ns/image")
	}
	b.Run("decode+hash", func(b *testing.B) {
		var h Hasher
		for b.Loop() {
			for _, f := range files {
				if _, err := h.Hash(bytes.NewReader(f)); err != nil {
					b.Fatal(err)
				}
			}
		}
		perImage(b)
	})
	b.Run("hash", func(b *testing.B) {
		for b.Loop() {
			for _, img := range decoded {
				HashImage(img)
			}
		}
		perImage(b)
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			for _, f := range files {
				if _, _, err := image.Decode(bytes.NewReader(f)); err != nil {
					b.Fatal(err)
				}
			}
		}
		perImage(b)
	})
}
