// Package pdqtest gives tests edited copies of the PDQ test pictures (pdq/testdata), as copies
// of known media arrive: shrunk and re-encoded.
package pdqtest

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/image/draw"

	"github.com/docket-dev/docket/pdq"
)

// Path returns the path of a picture of pdq/testdata, wherever the test runs.
func Path(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", name)
}

// Resized returns the picture shrunk to 60 % and re-encoded as a JPEG of quality 40.
func Resized(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(Path(name))
	if err != nil {
		t.Fatal(err)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()*6/10, b.Dy()*6/10))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 40}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Hash returns the PDQ hash of a picture of pdq/testdata, in hex.
func Hash(t testing.TB, name string) string {
	t.Helper()
	r, err := (&pdq.Hasher{}).HashFile(Path(name))
	if err != nil {
		t.Fatal(err)
	}
	return r.Hash.String()
}
