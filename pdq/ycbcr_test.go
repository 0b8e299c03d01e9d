package pdq

import (
	"image"
	"math/rand/v2"
	"testing"
)

// fancyChroma is libjpeg's triangle upsampling written pixel by pixel from its definition:
// 3/4 of the pixel's own chroma sample and 1/4 of the neighbour on its side, horizontally
// and vertically (h2v2: (3·(3·c + v) + (3·h + d) + 8 or 7) >> 4), the nearest sample
// standing in past the ends; planes 2 samples wide or less, and 4:1 ones, are repeated.
func fancyChroma(m *image.YCbCr, plane []uint8, x, y int) uint8 {
	sx, sy := chromaShift(m.SubsampleRatio)
	c0, c1 := m.Rect.Min.X>>sx, (m.Rect.Max.X-1)>>sx
	r0, r1 := m.Rect.Min.Y>>sy, (m.Rect.Max.Y-1)>>sy
	at := func(cx, cy int) int32 {
		cx, cy = max(c0, min(c1, cx)), max(r0, min(r1, cy))
		return int32(plane[(cy-r0)*m.CStride+cx-c0])
	}
	cx, cy := x>>sx, y>>sy
	if sx == 2 || (sx == 1 && c1-c0+1 <= 2) {
		return uint8(at(cx, cy))
	}
	ny := cy - 1 + 2*(y&1)      // the chroma row on the pixel's side
	nx := cx - 1 + 2*(x&1)      // the chroma column on the pixel's side
	col := func(cx int) int32 { // vertical part
		if sy == 0 {
			return at(cx, cy)
		}
		return 3*at(cx, cy) + at(cx, ny)
	}
	switch {
	case sx == 0 && sy == 0:
		return uint8(at(cx, cy))
	case sx == 0: // h1v2
		return uint8((col(cx) + 1 + int32(y&1)) >> 2)
	case sy == 0: // h2v1
		return uint8((3*col(cx) + col(nx) + 1 + int32(x&1)) >> 2)
	}
	return uint8((3*col(cx) + col(nx) + 8 - int32(x&1)) >> 4)
}

// TestYCbCrRows: the row reader gives, for every subsampling and odd or even sizes, the
// luminance of libjpeg's RGB of the definition above (through clamp8 and the plain tables).
func TestYCbCrRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	for _, ratio := range ratios {
		for _, r := range []image.Rectangle{
			image.Rect(0, 0, 17, 9), image.Rect(0, 0, 16, 8), image.Rect(0, 0, 3, 5), image.Rect(0, 0, 5, 2),
			image.Rect(3, 1, 20, 12), // a sub-image: odd first column
		} {
			full := image.NewYCbCr(image.Rect(0, 0, r.Max.X, r.Max.Y), ratio)
			for _, p := range [][]uint8{full.Y, full.Cb, full.Cr} {
				for i := range p {
					p[i] = uint8(rng.IntN(256))
				}
			}
			m := full.SubImage(r).(*image.YCbCr)
			rows := newYCbCrReader(m)
			got := make([]float32, r.Dx())
			for y := range r.Dy() {
				rows.row(y, got)
				ay := r.Min.Y + y
				for i := range got {
					ax := r.Min.X + i
					yv := int32(m.Y[m.YOffset(ax, ay)])
					cb, cr := fancyChroma(m, m.Cb, ax, ay), fancyChroma(m, m.Cr, ax, ay)
					want := luma(clamp8(yv+crToR[cr]), clamp8(yv+(cbToG[cb]+crToG[cr])>>16), clamp8(yv+cbToB[cb]))
					if got[i] != want {
						t.Fatalf("%v %v: pixel %d,%d = %v, want %v", ratio, r, ax, ay, got[i], want)
					}
				}
			}
		}
	}
}

// TestLibjpegColour: grey stays grey, and the primaries come out as libjpeg's.
func TestLibjpegColour(t *testing.T) {
	for _, c := range []struct {
		y, cb, cr uint8
		r, g, b   uint8
	}{
		{0, 128, 128, 0, 0, 0}, {255, 128, 128, 255, 255, 255}, {100, 128, 128, 100, 100, 100},
		{76, 85, 255, 254, 0, 0}, {150, 44, 21, 0, 255, 1}, {29, 255, 107, 0, 0, 254},
	} {
		y := int32(c.y)
		r, g, b := clamp8(y+crToR[c.cr]), clamp8(y+(cbToG[c.cb]+crToG[c.cr])>>16), clamp8(y+cbToB[c.cb])
		if r != c.r || g != c.g || b != c.b {
			t.Errorf("Y %d Cb %d Cr %d: %d %d %d, want %d %d %d", c.y, c.cb, c.cr, r, g, b, c.r, c.g, c.b)
		}
	}
}
