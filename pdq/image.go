package pdq

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"slices"

	_ "image/gif" // the first frame
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"
)

// DefaultMaxPixels is the pixel budget of a Hasher whose MaxPixels is 0: 50 megapixels
// (a decoded picture of that size takes 75 to 200 MB).
const DefaultMaxPixels = 50_000_000

// The errors of decoding; each is wrapped with details.
var (
	// ErrFormat: the data is not in one of the formats read (JPEG, PNG, GIF, WebP, BMP).
	ErrFormat = errors.New("pdq: not a JPEG, PNG, GIF, WebP or BMP image")
	// ErrMalformed: the header or the data of the image is broken or truncated.
	ErrMalformed = errors.New("pdq: malformed image")
	// ErrTooLarge: the header declares more pixels than the budget; nothing was decoded.
	ErrTooLarge = errors.New("pdq: image above the pixel budget")
)

// formats are the decoders' names (image.RegisterFormat) that pdq accepts: a format that
// another package registers is not read unless listed here.
var formats = []string{"jpeg", "png", "gif", "webp", "bmp"}

// Hasher decodes images and hashes them. The zero value is ready to use, and a Hasher is
// safe for concurrent use.
type Hasher struct {
	// MaxPixels is the largest width×height decoded (0: DefaultMaxPixels). It is checked
	// against the image's header before any pixel is decoded.
	MaxPixels int64
}

func (h *Hasher) maxPixels() int64 {
	if h == nil || h.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return h.MaxPixels
}

// Hash decodes an image and returns its PDQ hash and quality. A JPEG is turned as its EXIF
// orientation says first. r is read whole into memory unless it is an io.ReadSeeker (an
// *os.File, a *bytes.Reader), which is read from its current offset. A picture less than
// 5 pixels wide or high gets the zero hash and quality 0, as in the reference.
func (h *Hasher) Hash(r io.Reader) (Result, error) {
	src, orientation, err := h.decode(r)
	if err != nil {
		return Result{}, err
	}
	b, q, ok := dctOf(src, orientation)
	if !ok {
		return Result{}, nil
	}
	return Result{Hash: bitsOf(&b), Quality: q}, nil
}

// Dihedral decodes an image as Hash does and returns the hashes of its eight rotations and
// flips.
func (h *Hasher) Dihedral(r io.Reader) (Dihedral, error) {
	src, orientation, err := h.decode(r)
	if err != nil {
		return Dihedral{}, err
	}
	return dihedralOf(src, orientation), nil
}

// HashFile hashes the image in the named file.
func (h *Hasher) HashFile(name string) (Result, error) {
	f, err := os.Open(name)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	return h.Hash(f)
}

// DihedralFile returns the dihedral hashes of the image in the named file.
func (h *Hasher) DihedralFile(name string) (Dihedral, error) {
	f, err := os.Open(name)
	if err != nil {
		return Dihedral{}, err
	}
	defer f.Close()
	return h.Dihedral(f)
}

// HashImage hashes a decoded image as it is (no orientation is applied).
func HashImage(img image.Image) Result {
	b, q, ok := dctOf(lumaOf(img), 1)
	if !ok {
		return Result{}
	}
	return Result{Hash: bitsOf(&b), Quality: q}
}

// DihedralImage returns the hashes of a decoded image's eight rotations and flips.
func DihedralImage(img image.Image) Dihedral { return dihedralOf(lumaOf(img), 1) }

func dihedralOf(src lumaSource, orientation int) Dihedral {
	b, q, ok := dctOf(src, orientation)
	if !ok {
		return Dihedral{}
	}
	d := Dihedral{Quality: q}
	for t := range d.Hashes {
		tb := transformDCT(&b, Transform(t))
		d.Hashes[t] = bitsOf(&tb)
	}
	return d
}

// decode checks the header against the budget, reads a JPEG's orientation, then decodes.
func (h *Hasher) decode(r io.Reader) (lumaSource, int, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		data, err := io.ReadAll(r)
		if err != nil {
			return lumaSource{}, 0, err
		}
		rs = bytes.NewReader(data)
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return lumaSource{}, 0, err
	}
	br := bufio.NewReaderSize(rs, 64<<10)
	rewind := func() error {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return err
		}
		br.Reset(rs)
		return nil
	}

	cfg, format, err := safely(func() (image.Config, string, error) { return image.DecodeConfig(br) })
	switch {
	case errors.Is(err, image.ErrFormat) || (err == nil && !slices.Contains(formats, format)):
		return lumaSource{}, 0, ErrFormat
	case err != nil:
		return lumaSource{}, 0, fmt.Errorf("%w: %s header: %v", ErrMalformed, format, err)
	}
	if err := h.checkSize(format, cfg.Width, cfg.Height); err != nil {
		return lumaSource{}, 0, err
	}

	orientation := 1
	if format == "jpeg" {
		if err := rewind(); err != nil {
			return lumaSource{}, 0, err
		}
		orientation = jpegOrientation(br)
	}
	if err := rewind(); err != nil {
		return lumaSource{}, 0, err
	}
	img, _, err := safely(func() (image.Image, string, error) { return image.Decode(br) })
	if err != nil {
		return lumaSource{}, 0, fmt.Errorf("%w: %s: %v", ErrMalformed, format, err)
	}
	if err := h.checkSize(format, img.Bounds().Dx(), img.Bounds().Dy()); err != nil {
		return lumaSource{}, 0, err // a decoder that disagrees with its own header
	}
	return lumaOf(img), orientation, nil
}

func (h *Hasher) checkSize(format string, w, ht int) error {
	if w <= 0 || ht <= 0 {
		return fmt.Errorf("%w: %s of %d×%d pixels", ErrMalformed, format, w, ht)
	}
	if px := int64(w) * int64(ht); px > h.maxPixels() {
		return fmt.Errorf("%w: %s of %d×%d = %d pixels, above the budget of %d", ErrTooLarge, format, w, ht, px, h.maxPixels())
	}
	return nil
}

// safely runs a decoder, turning a panic on crafted input into an error.
func safely[T any](f func() (T, string, error)) (v T, format string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder failed: %v", p)
		}
	}()
	return f()
}

// dctOf filters the picture, turned by orientation and shrunk to its thumbnail, into 64×64
// samples and returns their 16×16 DCT and the quality; ok is false for a picture too small
// to hash.
func dctOf(src lumaSource, orientation int) (b [16][16]float32, quality int, ok bool) {
	rows, cols := src.rows, src.cols
	if orientation >= 5 {
		rows, cols = cols, rows
	}
	tw, th := thumbSize(cols, rows)
	if th < minDim || tw < minDim {
		return b, 0, false
	}
	var a [64][64]float32
	var push func([]float32)
	finish := func() {}
	if th == 64 && tw == 64 {
		// Already the size of the samples (a frame scaled by a video tool): not filtered,
		// as in the reference.
		y := 0
		push = func(row []float32) { copy(a[y][:], row); y++ }
	} else {
		d := newDownsampler(th, tw, &a)
		push, finish = d.push, d.finish
	}
	if tw != cols || th != rows {
		s := newShrinker(cols, rows, push)
		feed(src, orientation, s.push)
		s.finish()
	} else {
		feed(src, orientation, push)
	}
	finish()
	b, quality = hashSamples(&a)
	return b, quality, true
}

// feed hands push the rows of the picture as orientation says it is displayed. The slice
// is reused from one row to the next.
func feed(src lumaSource, orientation int, push func([]float32)) {
	h, w := src.rows, src.cols
	if orientation < 5 {
		row := make([]float32, w)
		for y := range h {
			sy := y
			if orientation == 3 || orientation == 4 {
				sy = h - 1 - y
			}
			src.fill(sy, row)
			if orientation == 2 || orientation == 3 {
				slices.Reverse(row)
			}
			push(row)
		}
		return
	}
	// Transposed: displayed row y is a column of the stored picture, read in blocks of
	// columns so that each stored row is read once per block.
	stored := make([]float32, h*w)
	for y := range h {
		src.fill(y, stored[y*w:(y+1)*w])
	}
	const block = 16
	rows := make([]float32, block*h)
	for y0 := 0; y0 < w; y0 += block {
		n := min(block, w-y0)
		for sy := range h {
			x := sy // displayed column of stored row sy
			if orientation == 6 || orientation == 7 {
				x = h - 1 - sy
			}
			line := stored[sy*w : (sy+1)*w]
			for k := range n {
				sx := y0 + k
				if orientation == 7 || orientation == 8 {
					sx = w - 1 - sx
				}
				rows[k*h+x] = line[sx]
			}
		}
		for k := range n {
			push(rows[k*h : (k+1)*h])
		}
	}
}
