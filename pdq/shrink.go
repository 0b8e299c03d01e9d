package pdq

import "math"

// Meta's reference tools do not filter a large picture at full size: the Python one first
// makes a thumbnail of at most 512×512 pixels that keeps the aspect ratio (PIL's thumbnail:
// bicubic, widened to average every pixel when shrinking), the C++ one squeezes it to
// 512×512. The expected hashes of the reference test come from the Python tool, so a
// picture wider or taller than thumbSide is shrunk the same way here, on the luminance:
// the reference's eight 1600×1004 photographs then get its hashes exactly (4 to 12 bits
// away when filtered at full size). PIL takes a shortcut for a picture four times the
// thumbnail or more: it decodes a JPEG at 1/2, 1/4 or 1/8 of its size, or averages blocks
// of pixels, before the bicubic step. That is not reproduced; the bridge photo enlarged to
// 2600 and 4000 pixels (JPEG and PNG) and another picture enlarged to 2100 still get PIL's
// hashes exactly, but enlargements are smooth, and a large sharp photo may differ by a few
// bits.

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
// output i is the sum over k of weights[i*size+k]·input[first[i]+k], k from 0 to size-1
// (the weights past an output's window are zero).
type taps struct {
	size    int
	first   []int
	weights []float32
}

// newTaps computes the weights as PIL does: the kernel is stretched by the scale when
// shrinking, centred on each output pixel's centre, cut at the edges and normalised.
func newTaps(in, out int) taps {
	scale := float64(in) / float64(out)
	filterScale := max(scale, 1)
	support := 2 * filterScale
	window := func(i int) (center float64, lo, hi int) {
		center = (float64(i) + 0.5) * scale
		return center, max(int(center-support+0.5), 0), min(int(center+support+0.5), in)
	}
	// Every output reads the same number of pixels: the widest window (never more than
	// the input), the weights past an output's own window being zero.
	t := taps{first: make([]int, out)}
	for i := range out {
		_, lo, hi := window(i)
		t.size = max(t.size, hi-lo)
	}
	t.weights = make([]float32, t.size*out)
	for i := range out {
		center, lo, hi := window(i)
		first := max(0, min(lo, in-t.size)) // the window kept inside the input
		w := make([]float64, hi-lo)
		var total float64
		for k := range w {
			w[k] = bicubic((float64(k+lo) - center + 0.5) / filterScale)
			total += w[k]
		}
		for k := range w {
			if total != 0 {
				w[k] /= total
			}
			t.weights[i*t.size+k+lo-first] = float32(w[k])
		}
		t.first[i] = first
	}
	return t
}

// apply resamples one row. Each sum is taken in the order of k, as PIL does; four outputs
// are summed side by side so that the additions do not wait on each other.
func (t taps) apply(in, out []float32) {
	n, size := len(out), t.size
	i := 0
	for ; i+4 <= n; i += 4 {
		w := t.weights[i*size : (i+4)*size]
		w0, w1, w2, w3 := w[:size], w[size:2*size], w[2*size:3*size], w[3*size:4*size]
		r0, r1, r2, r3 := in[t.first[i]:][:size], in[t.first[i+1]:][:size], in[t.first[i+2]:][:size], in[t.first[i+3]:][:size]
		var s0, s1, s2, s3 float32
		for k := range w0 {
			s0 += w0[k] * r0[k]
			s1 += w1[k] * r1[k]
			s2 += w2[k] * r2[k]
			s3 += w3[k] * r3[k]
		}
		out[i], out[i+1], out[i+2], out[i+3] = s0, s1, s2, s3
	}
	for ; i < n; i++ {
		w, r := t.weights[i*size:][:size], in[t.first[i]:][:size]
		var s float32
		for k := range w {
			s += w[k] * r[k]
		}
		out[i] = s
	}
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
		s.horiz.apply(row, out)
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
		w := s.vert.weights[y*s.vert.size:][:s.vert.size]
		k := 0
		for ; k+4 <= len(w); k += 4 { // four rows at a time, added in order
			w0, w1, w2, w3 := w[k], w[k+1], w[k+2], w[k+3]
			r := s.rows[(first+k)*s.tw : (first+k+4)*s.tw]
			a, b, c, d := r[:s.tw], r[s.tw:2*s.tw], r[2*s.tw:3*s.tw], r[3*s.tw:]
			for x := range out {
				out[x] = out[x] + w0*a[x] + w1*b[x] + w2*c[x] + w3*d[x]
			}
		}
		for ; k < len(w); k++ {
			src := s.rows[(first+k)*s.tw : (first+k+1)*s.tw]
			for x, v := range src {
				out[x] += w[k] * v
			}
		}
		s.next(out)
	}
}
