package pdq

import (
	"math/rand/v2"
	"testing"
)

// naiveSamples is the reference's downsampling done the plain way: four box-filter passes
// over whole buffers (rows, columns, rows, columns), then the 64×64 grid centres.
func naiveSamples(luma []float32, rows, cols int) (out [64][64]float32) {
	a := append([]float32(nil), luma...)
	b := make([]float32, len(a))
	wr, wc := window(cols), window(rows)
	col := func(buf []float32, j int) []float32 {
		c := make([]float32, rows)
		for i := range rows {
			c[i] = buf[i*cols+j]
		}
		return c
	}
	for range 2 {
		for i := range rows {
			boxRow(a[i*cols:(i+1)*cols], b[i*cols:(i+1)*cols], wr)
		}
		for j := range cols {
			o := make([]float32, rows)
			boxRow(col(b, j), o, wc)
			for i := range rows {
				a[i*cols+j] = o[i]
			}
		}
	}
	for i := range 64 {
		r := int((float64(i) + 0.5) * float64(rows) / 64)
		for j := range 64 {
			c := int((float64(j) + 0.5) * float64(cols) / 64)
			out[i][j] = a[r*cols+c]
		}
	}
	return out
}

// TestBoxRowIsTheReferenceFilter checks boxRow against the definition: each output is the
// mean of the window around it (w/2 before, the rest after), cut at the ends.
func TestBoxRowIsTheReferenceFilter(t *testing.T) {
	in := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	for _, w := range []int{1, 2, 3, 4, 7, 8, 16} {
		out := make([]float32, len(in))
		boxRow(in, out, w)
		half := (w + 2) / 2
		for i := range in {
			lo, hi := max(0, i-(w-half+1)+1), min(len(in), i+half)
			var sum float32
			for k := lo; k < hi; k++ {
				sum += in[k]
			}
			want := sum / float32(hi-lo)
			if d := out[i] - want; d > 1e-4 || d < -1e-4 {
				t.Errorf("window %d: out[%d] = %v, want %v", w, i, out[i], want)
			}
		}
	}
}

// TestStreamingFilterMatchesNaive: the row-by-row filter gives the same floats as the
// whole-buffer one, for sizes around the window and grid steps.
func TestStreamingFilterMatchesNaive(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range [][2]int{{5, 5}, {5, 9}, {17, 64}, {63, 65}, {64, 200}, {128, 129}, {256, 256}, {300, 511}, {512, 257}, {1004, 700}} {
		rows, cols := size[0], size[1]
		luma := make([]float32, rows*cols)
		for i := range luma {
			luma[i] = float32(rng.IntN(256)) * 0.987
		}
		want := naiveSamples(luma, rows, cols)
		var got [64][64]float32
		d := newDownsampler(rows, cols, &got)
		for i := range rows {
			d.push(luma[i*cols : (i+1)*cols])
		}
		d.finish()
		if got != want {
			for i := range 64 {
				for j := range 64 {
					if got[i][j] != want[i][j] {
						t.Fatalf("%d×%d: sample [%d][%d] = %v, want %v", rows, cols, i, j, got[i][j], want[i][j])
					}
				}
			}
		}
	}
}

func TestThumbSize(t *testing.T) {
	for _, c := range []struct{ w, h, tw, th int }{
		{512, 512, 512, 512}, {100, 700, 73, 512}, {1600, 1004, 512, 321}, {1004, 1600, 321, 512},
		{4032, 3024, 512, 384}, {513, 2, 512, 2}, {10000, 3, 512, 1}, {600, 600, 512, 512},
	} {
		if tw, th := thumbSize(c.w, c.h); tw != c.tw || th != c.th {
			t.Errorf("thumbSize(%d, %d) = %d, %d, want %d, %d", c.w, c.h, tw, th, c.tw, c.th)
		}
	}
}

// TestShrinkKeepsFlat: a flat picture stays flat through the thumbnail (weights sum to 1).
func TestShrinkKeepsFlat(t *testing.T) {
	var rows [][]float32
	s := newShrinker(1600, 1004, func(r []float32) { rows = append(rows, append([]float32(nil), r...)) })
	in := make([]float32, 1600)
	for i := range in {
		in[i] = 100
	}
	for range 1004 {
		s.push(in)
	}
	s.finish()
	if len(rows) != 321 || len(rows[0]) != 512 {
		t.Fatalf("thumbnail of %d rows of %d", len(rows), len(rows[0]))
	}
	for y, r := range rows {
		for x, v := range r {
			if v < 99.99 || v > 100.01 {
				t.Fatalf("pixel %d,%d = %v, want 100", x, y, v)
			}
		}
	}
}
