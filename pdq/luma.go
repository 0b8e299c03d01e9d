package pdq

import (
	"image"
	"image/color"
)

// The luminance coefficients of the reference (ITU-R BT.601), as float32 products of each
// 8-bit value, so that a table look-up gives the reference's float exactly.
var lumaR, lumaG, lumaB = lumaTable(0.299), lumaTable(0.587), lumaTable(0.114)

func lumaTable(c float32) (t [256]float32) {
	for v := range 256 {
		t[v] = c * float32(v)
	}
	return t
}

// luma is the reference's luminance of an RGB pixel.
func luma(r, g, b uint8) float32 { return lumaR[r] + lumaG[g] + lumaB[b] }

// lumaSource gives the luminance of a picture one row at a time.
type lumaSource struct {
	rows, cols int
	fill       func(y int, dst []float32) // row y (0-based) into dst[:cols]
}

// lumaOf reads an image's luminance, the way the reference does: from 8-bit R, G and B,
// alpha ignored (grey pictures are taken as they are). The types that Go's decoders return
// are read directly; others through At. YCbCr (JPEG, lossy WebP) goes through RGB as
// libjpeg makes it (see ycbcr.go).
func lumaOf(img image.Image) lumaSource {
	b := img.Bounds()
	src := lumaSource{rows: b.Dy(), cols: b.Dx()}
	switch m := img.(type) {
	case *image.YCbCr:
		if b.Min.X >= 0 && b.Min.Y >= 0 {
			src.fill = newYCbCrReader(m).row
			return src
		}
	case *image.NYCbCrA:
		if b.Min.X >= 0 && b.Min.Y >= 0 {
			src.fill = newYCbCrReader(&m.YCbCr).row
			return src
		}
	case *image.Gray:
		src.fill = func(y int, dst []float32) {
			pix := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:len(dst)]
			for i, v := range pix {
				dst[i] = float32(v)
			}
		}
		return src
	case *image.NRGBA:
		src.fill = func(y int, dst []float32) {
			pix := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*len(dst)]
			for i := range dst {
				p := pix[4*i : 4*i+3 : 4*i+3]
				dst[i] = luma(p[0], p[1], p[2])
			}
		}
		return src
	case *image.RGBA:
		src.fill = func(y int, dst []float32) {
			pix := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*len(dst)]
			for i := range dst {
				p := pix[4*i : 4*i+4 : 4*i+4]
				if p[3] == 0xff {
					dst[i] = luma(p[0], p[1], p[2])
					continue
				}
				c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
				dst[i] = luma(c.R, c.G, c.B)
			}
		}
		return src
	case *image.Paletted:
		var table [256]float32 // indices past the palette stay black
		for i, c := range m.Palette {
			if i < len(table) && c != nil {
				n := color.NRGBAModel.Convert(c).(color.NRGBA)
				table[i] = luma(n.R, n.G, n.B)
			}
		}
		src.fill = func(y int, dst []float32) {
			pix := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:len(dst)]
			for i, v := range pix {
				dst[i] = table[v]
			}
		}
		return src
	}
	src.fill = func(y int, dst []float32) {
		for i := range dst {
			c := img.At(b.Min.X+i, b.Min.Y+y)
			if c == nil {
				dst[i] = 0
				continue
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			dst[i] = luma(n.R, n.G, n.B)
		}
	}
	return src
}
