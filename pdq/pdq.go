// Package pdq computes PDQ perceptual hashes of images: the 256-bit hash that Meta published
// with ThreatExchange (pdq/: the C++ and Python references, and the description
// hashing/hashing.pdf), which stays within a few bits under resizing, recompression and
// small edits, so that a known picture is recognised by Hamming distance.
//
// The steps are those of Meta's reference: luminance from RGB (0.299, 0.587, 0.114), a tent
// filter made of two passes of box filters along rows and columns (Jarosz), whose windows
// are 1/128 of the picture's width and height, 64×64 samples at the centres of a grid, the
// 16×16 lowest non-constant frequencies of their DCT, and one bit per frequency: above the
// median or not. The quality (0 to 100) counts strong gradients in the 64×64 samples; Meta
// suggests not trusting hashes of quality below 50. The eight rotations and flips of a
// picture are hashed from the same DCT (Dihedral).
//
// As Meta's Python tool does, a picture larger than 512 pixels is first shrunk to fit
// 512×512 (PIL's bicubic thumbnail), and JPEG colours are made as libjpeg makes them; on
// Meta's 17 reference images the hashes are then within 1.2 bits of its expected ones on
// average. The filter is fed one row at a time: beyond the decoded picture, memory is at
// most a copy of its luminance 512 pixels wide (a full copy for the EXIF orientations that
// turn it a quarter). Images are decoded from JPEG (with its EXIF orientation applied), PNG,
// GIF (first frame), WebP and BMP, after the header has been checked against a pixel budget.
package pdq

import (
	"math"
	"slices"
)

// Result is a PDQ hash and its quality.
type Result struct {
	Hash Hash
	// Quality is 0 to 100; Meta's advice is to ignore hashes below 50 (flat or tiny pictures).
	Quality int
}

// Transform is one of the eight rotations and flips of a picture (the dihedral group of the
// square), as Meta's reference names them.
type Transform int

// The transforms, in the reference's order.
const (
	Original   Transform = iota
	Rotate90             // turned a quarter counter-clockwise
	Rotate180            // turned upside down
	Rotate270            // turned a quarter clockwise
	FlipX                // mirrored top to bottom (about the horizontal axis)
	FlipY                // mirrored left to right (about the vertical axis)
	FlipPlus1            // mirrored about the main diagonal (transposed)
	FlipMinus1           // mirrored about the anti-diagonal
)

var transformNames = [...]string{"original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1"}

func (t Transform) String() string {
	if t < 0 || int(t) >= len(transformNames) {
		return "transform?"
	}
	return transformNames[t]
}

// Dihedral holds the hashes of a picture under each Transform: Hashes[t] is the hash that
// the picture transformed by t would have.
type Dihedral struct {
	Hashes  [8]Hash
	Quality int
}

// minDim is the smallest width or height hashed; smaller pictures get the zero hash and
// quality 0, as in the reference.
const minDim = 5

// dctMatrix holds rows 1 to 16 of the 64-point DCT-II basis, scaled by sqrt(2/64), computed
// as the reference does (in double, stored as float).
var dctMatrix = func() (d [16][64]float32) {
	scale := float32(math.Sqrt(2.0 / 64.0))
	for i := range 16 {
		for j := range 64 {
			d[i][j] = float32(float64(scale) * math.Cos(math.Pi/2/64*float64(i+1)*float64(2*j+1)))
		}
	}
	return d
}()

// window is the box-filter window along a dimension of n pixels: half of 1/64 of it, rounded
// up, since two passes make the tent.
func window(n int) int { return (n + 127) / 128 }

// hashSamples computes the DCT and the quality of 64×64 samples.
func hashSamples(a *[64][64]float32) (dct [16][16]float32, quality int) {
	return dct64To16(a), qualityOf(a)
}

// qualityOf sums the quantised differences between neighbours of the 64×64 samples,
// scaled to 0..100: a picture of flat areas scores low.
func qualityOf(a *[64][64]float32) int {
	sum := 0
	abs := func(d int) int {
		if d < 0 {
			return -d
		}
		return d
	}
	for i := range 63 {
		for j := range 64 {
			sum += abs(int((a[i][j] - a[i+1][j]) * 100 / 255))
		}
	}
	for i := range 64 {
		for j := range 63 {
			sum += abs(int((a[i][j] - a[i][j+1]) * 100 / 255))
		}
	}
	return min(sum/90, 100)
}

// dct64To16 returns D·A·Dᵀ, the frequencies 1 to 16 along both axes. Each sum is taken in
// the order k = 0..63, as in the reference, so the floats are the same.
func dct64To16(a *[64][64]float32) (b [16][16]float32) {
	var t [16][64]float32 // D·A
	for i := range 16 {
		ti := &t[i]
		di := &dctMatrix[i]
		for k := range 64 {
			d := di[k]
			ak := &a[k]
			for j := range 64 {
				ti[j] += d * ak[j]
			}
		}
	}
	for i := range 16 {
		ti := &t[i]
		for j := range 16 {
			dj := &dctMatrix[j]
			var s float32
			for k := range 64 {
				s += ti[k] * dj[k]
			}
			b[i][j] = s
		}
	}
	return b
}

// bitsOf sets one bit per coefficient above the median (the 128th smallest of the 256).
func bitsOf(b *[16][16]float32) Hash {
	var sorted [256]float32
	for i := range 16 {
		copy(sorted[i*16:], b[i][:])
	}
	slices.Sort(sorted[:])
	median := sorted[127]
	var h Hash
	for i := range 16 {
		for j := range 16 {
			if b[i][j] > median {
				h.set(i*16 + j)
			}
		}
	}
	return h
}

// transformDCT returns the DCT of the picture transformed by t, from the DCT of the
// picture: flips negate the odd frequencies along their axis (the rows or columns of b
// with an even index, frequencies being 1-based), and the diagonal ones transpose.
func transformDCT(b *[16][16]float32, t Transform) (out [16][16]float32) {
	for i := range 16 {
		for j := range 16 {
			v := b[i][j]
			switch t {
			case Original:
				out[i][j] = v
			case Rotate90:
				if j&1 == 0 {
					v = -v
				}
				out[j][i] = v
			case Rotate180:
				if (i+j)&1 == 1 {
					v = -v
				}
				out[i][j] = v
			case Rotate270:
				if i&1 == 0 {
					v = -v
				}
				out[j][i] = v
			case FlipX:
				if i&1 == 0 {
					v = -v
				}
				out[i][j] = v
			case FlipY:
				if j&1 == 0 {
					v = -v
				}
				out[i][j] = v
			case FlipPlus1:
				out[j][i] = v
			case FlipMinus1:
				if (i+j)&1 == 1 {
					v = -v
				}
				out[j][i] = v
			}
		}
	}
	return out
}
