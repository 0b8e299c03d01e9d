package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Generated pictures for the end-to-end run: each seed draws its own picture (a gradient
// with discs, rectangles and stripes of its own colours), and an edit makes the kind of copy
// that circulates (cropped a little, resized, re-encoded as JPEG).

// picture draws the picture of a seed, w×h.
func picture(seed uint64, w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	c0, c1 := randomColor(rng), randomColor(rng)
	angle := rng.Float64() * 2 * math.Pi
	dx, dy := math.Cos(angle), math.Sin(angle)
	for y := range h {
		for x := range w {
			t := (float64(x)/float64(w)-0.5)*dx + (float64(y)/float64(h)-0.5)*dy + 0.5
			img.SetRGBA(x, y, lerp(c0, c1, min(1, max(0, t))))
		}
	}
	for range 6 + rng.IntN(10) {
		c := randomColor(rng)
		cx, cy := rng.IntN(w), rng.IntN(h)
		rx, ry := w/20+rng.IntN(w/3), h/20+rng.IntN(h/3)
		switch rng.IntN(3) {
		case 0: // a disc
			for y := max(0, cy-ry); y < min(h, cy+ry); y++ {
				for x := max(0, cx-rx); x < min(w, cx+rx); x++ {
					fx, fy := float64(x-cx)/float64(rx), float64(y-cy)/float64(ry)
					if fx*fx+fy*fy <= 1 {
						img.SetRGBA(x, y, c)
					}
				}
			}
		case 1: // a rectangle
			for y := max(0, cy-ry); y < min(h, cy+ry); y++ {
				for x := max(0, cx-rx); x < min(w, cx+rx); x++ {
					img.SetRGBA(x, y, c)
				}
			}
		default: // stripes across a band
			period := 4 + rng.IntN(16)
			for y := max(0, cy-ry); y < min(h, cy+ry); y++ {
				for x := range w {
					if (x+y)/period%2 == 0 {
						img.SetRGBA(x, y, c)
					}
				}
			}
		}
	}
	return img
}

func randomColor(rng *rand.Rand) color.RGBA {
	return color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
}

func lerp(a, b color.RGBA, t float64) color.RGBA {
	m := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t + 0.5) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 255}
}

// edit is how a copy differs from its original: the share cut from each side, the scale of
// the result and the JPEG quality it was saved at.
type edit struct {
	Left, Top, Right, Bottom float64 // 0.01 is 1 %
	Scale                    float64
	Quality                  int
}

// randomEdit draws an edit: 0 – maxCrop cut from each side, scaled by 0.5 – 1.5, saved at
// JPEG quality 40 – 90.
func randomEdit(rng *rand.Rand, maxCrop float64) edit {
	return edit{Left: rng.Float64() * maxCrop, Top: rng.Float64() * maxCrop, Right: rng.Float64() * maxCrop, Bottom: rng.Float64() * maxCrop,
		Scale: 0.5 + rng.Float64(), Quality: 40 + rng.IntN(51)}
}

// apply makes the edited copy of img, as a JPEG file.
func (e edit) apply(img *image.RGBA) ([]byte, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	crop := image.Rect(int(e.Left*float64(w)), int(e.Top*float64(h)), w-int(e.Right*float64(w)), h-int(e.Bottom*float64(h)))
	out := resize(img, crop, max(1, int(float64(crop.Dx())*e.Scale+0.5)), max(1, int(float64(crop.Dy())*e.Scale+0.5)))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: e.Quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// resize scales the part r of src to w×h, bilinearly.
func resize(src *image.RGBA, r image.Rectangle, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	sx, sy := float64(r.Dx())/float64(w), float64(r.Dy())/float64(h)
	for y := range h {
		fy := min(max((float64(y)+0.5)*sy-0.5, 0), float64(r.Dy()-1))
		y0 := int(fy)
		y1, ty := min(y0+1, r.Dy()-1), fy-float64(y0)
		for x := range w {
			fx := min(max((float64(x)+0.5)*sx-0.5, 0), float64(r.Dx()-1))
			x0 := int(fx)
			x1, tx := min(x0+1, r.Dx()-1), fx-float64(x0)
			p00 := src.RGBAAt(r.Min.X+x0, r.Min.Y+y0)
			p10 := src.RGBAAt(r.Min.X+x1, r.Min.Y+y0)
			p01 := src.RGBAAt(r.Min.X+x0, r.Min.Y+y1)
			p11 := src.RGBAAt(r.Min.X+x1, r.Min.Y+y1)
			mix := func(a, b, c, d uint8) uint8 {
				top := float64(a)*(1-tx) + float64(b)*tx
				bottom := float64(c)*(1-tx) + float64(d)*tx
				return uint8(top*(1-ty) + bottom*ty + 0.5)
			}
			dst.SetRGBA(x, y, color.RGBA{mix(p00.R, p10.R, p01.R, p11.R), mix(p00.G, p10.G, p01.G, p11.G), mix(p00.B, p10.B, p01.B, p11.B), 255})
		}
	}
	return dst
}
