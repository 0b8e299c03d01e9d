package pdq

import "math"

// Meta's reference tools do not filter a large picture at full size: the Python one first
// makes a thumbnail of at most 512×512 pixels that keeps the aspect ratio (PIL's thumbnail:
// bicubic, widened to average every pixel when shrinking), the C++ one squeezes it to
// 512×512. The expected hashes of the reference test come from the Python tool, so a
// picture wider or taller than thumbSide is shrunk the same way here, on the luminance:
// the reference's eight 1600×1004 photographs then get its hashes exactly (4 to 12 bits
// away when filtered at full size). (PIL's thumbnail
// first shrinks a picture more than four times too large by a whole factor, decoding a
// JPEG at 1/2, 1/4 or 1/8 of its size; that shortcut is not reproduced.)

// thumbSide is the largest width or height that is filtered as it is.
const thumbSide = 512

// thumbSize is the size of PIL's thumbnail of a w×h picture within thumbSide×thumbSide:
// the side that is too large becomes thumbSide, and the other the integer nearest to the
// aspect ratio (at least 1).
func thumbSize(w, h int) (int, int) {
	if w <= thumbSide && h <= thumbSide {
		return w, h
	}
	aspect := float64(w) / float64(h)
	x, y := thumbSide, thumbSide
	// round picks floor or ceil of v, whichever makes dist smaller (floor on a tie).
	round := func(v float64, dist func(n float64) float64) int {
		lo, hi := math.Floor(v), math.Ceil(v)
		n := lo
		if dist(hi) < dist(lo) {
			n = hi
		}
		return max(int(n), 1)
	}
	if float64(x)/float64(y) >= aspect {
		x = round(float64(y)*aspect, func(n float64) float64 { return math.Abs(aspect - n/float64(y)) })
	} else {
		y = round(float64(x)/aspect, func(n float64) float64 {
			if n == 0 {
				return 0
			}
			return math.Abs(aspect - float64(x)/n)
		})
	}
	return x, y
}

// bicubic is PIL's cubic convolution kernel (a = -0.5), support 2.
func bicubic(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// taps are the weights that make each output pixel of a resampling from in to out pixels:
// output i is the sum of weights[i][k]·input[first[i]+k].
type taps struct {
	first   []int
	weights [][]float32
}

// newTaps computes the weights as PIL does: the kernel is stretched by the scale when
// shrinking, centred on each output pixel's centre, cut at the edges and normalised.
func newTaps(in, out int) taps {
	scale := float64(in) / float64(out)
	filterScale := max(scale, 1)
	support := 2 * filterScale
	t := taps{first: make([]int, out), weights: make([][]float32, out)}
	for i := range out {
		center := (float64(i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		w := make([]float64, hi-lo)
		var total float64
		for k := range w {
			w[k] = bicubic((float64(k+lo) - center + 0.5) / filterScale)
			total += w[k]
		}
		ws := make([]float32, len(w))
		for k := range w {
			if total != 0 {
				w[k] /= total
			}
			ws[k] = float32(w[k])
		}
		t.first[i], t.weights[i] = lo, ws
	}
	return t
}

func (t taps) apply(i int, in []float32) float32 {
	var s float32
	for k, w := range t.weights[i] {
		s += w * in[t.first[i]+k]
	}
	return s
}

// shrinker resamples a picture pushed row by row to its thumbnail size, then pushes the
// thumbnail's rows to next.
type shrinker struct {
	w, h, tw, th int
	horiz, vert  taps
	rows         []float32 // the pushed rows, resampled to tw wide
	n            int
	next         func([]float32)
}

func newShrinker(w, h int, next func([]float32)) *shrinker {
	tw, th := thumbSize(w, h)
	return &shrinker{
		w: w, h: h, tw: tw, th: th,
		horiz: newTaps(w, tw), vert: newTaps(h, th),
		rows: make([]float32, h*tw), next: next,
	}
}

func (s *shrinker) push(row []float32) {
	out := s.rows[s.n*s.tw : (s.n+1)*s.tw]
	if s.tw == s.w {
		copy(out, row)
	} else {
		for i := range out {
			out[i] = s.horiz.apply(i, row)
		}
	}
	s.n++
}

// finish resamples the columns and pushes the thumbnail's rows.
func (s *shrinker) finish() {
	if s.th == s.h {
		for y := range s.h {
			s.next(s.rows[y*s.tw : (y+1)*s.tw])
		}
		return
	}
	out := make([]float32, s.tw)
	for y := range s.th {
		clear(out)
		first := s.vert.first[y]
		for k, w := range s.vert.weights[y] {
			src := s.rows[(first+k)*s.tw : (first+k+1)*s.tw]
			for x, v := range src {
				out[x] += w * v
			}
		}
		s.next(out)
	}
}
