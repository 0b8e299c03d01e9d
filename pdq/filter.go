package pdq

// The tent filter of the reference is four one-dimensional box filters over the whole
// picture: along the rows (R1), the columns (C2), the rows (R3), the columns (C4), each from
// one full-size buffer into another; then 64×64 pixels are taken at the centres of a grid.
// Here the picture is fed one row at a time through the four stages: a column filter keeps
// only the last rows of its window (a ring) and one running sum per column, and the last
// two stages compute only what the 64×64 samples need (R3 at the 64 sampled columns, C4 at
// the 64 sampled rows). Every sum is formed with the same additions in the same order as
// the reference's box filter, so the samples are the same floats; memory is a few rows.

// boxRow is the reference's one-dimensional box filter of window w over in, into out. The
// window is centred (w/2 before, the rest after) and shrinks at both ends, where the sum is
// divided by the number of pixels it holds.
func boxRow(in, out []float32, w int) {
	n := len(in)
	out = out[:n]
	half := (w + 2) / 2
	var sum float32
	ri, oi := 0, 0
	for ; ri < half-1; ri++ {
		sum += in[ri]
	}
	for ; ri < w; ri++ {
		sum += in[ri]
		out[oi] = sum / float32(ri+1)
		oi++
	}
	d := float32(w)
	for li := 0; ri < n; ri, li = ri+1, li+1 {
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / d
		oi++
	}
	for li := n - w; oi < n; li++ {
		sum -= in[li]
		out[oi] = sum / float32(n-1-li)
		oi++
	}
}

// boxRowSampled is boxRow computing only the outputs at the (sorted) indices at; out[k]
// gets the output at at[k].
func boxRowSampled(in []float32, w int, at *[64]int, out *[64]float32) {
	n := len(in)
	half := (w + 2) / 2
	var sum float32
	k := 0
	ri, oi := 0, 0
	put := func(cur float32) {
		for k < 64 && at[k] == oi {
			out[k] = sum / cur
			k++
		}
	}
	for ; ri < half-1; ri++ {
		sum += in[ri]
	}
	for ; ri < w; ri++ {
		sum += in[ri]
		put(float32(ri + 1))
		oi++
	}
	d := float32(w)
	for li := 0; ri < n; ri, li = ri+1, li+1 {
		sum += in[ri]
		sum -= in[li]
		if at[min(k, 63)] == oi {
			put(d)
		}
		oi++
	}
	for li := n - w; oi < n; li++ {
		sum -= in[li]
		put(float32(n - 1 - li))
		oi++
	}
}

// colBox is the box filter along the columns, fed one row at a time: row i of its output
// is handed to emit as soon as the rows it needs have been pushed, and the last ones on
// flush.
type colBox struct {
	w, half, n, width int
	ring              []float32 // the last w rows pushed, row r in slot r%w
	sum, out          []float32
	read, written     int
	need              []bool // the output rows wanted (nil: all); the others are skipped
	emit              func(i int, row []float32)
}

func newColBox(n, width, w int, need []bool, emit func(int, []float32)) *colBox {
	return &colBox{
		w: w, half: (w + 2) / 2, n: n, width: width,
		ring: make([]float32, w*width),
		sum:  make([]float32, width),
		out:  make([]float32, width),
		need: need, emit: emit,
	}
}

func (c *colBox) wanted() bool { return c.need == nil || c.need[c.written] }

// write hands on the running sums divided by the rows they hold.
func (c *colBox) write(cur int) {
	if c.wanted() {
		d := float32(cur)
		out, sum := c.out, c.sum[:len(c.out)]
		for j := range out {
			out[j] = sum[j] / d
		}
		c.emit(c.written, out)
	}
	c.written++
}

func (c *colBox) push(in []float32) {
	ri := c.read
	c.read++
	in = in[:c.width]
	slot := c.ring[(ri%c.w)*c.width:][:c.width]
	sum := c.sum[:c.width]
	if ri < c.w { // the window grows
		for j, v := range in {
			sum[j] += v
		}
		copy(slot, in)
		if ri >= c.half-1 {
			c.write(ri + 1)
		}
		return
	}
	// The full window: add the new row, take off the one w rows before (in the slot).
	if !c.wanted() {
		for j, v := range in {
			s := sum[j] + v
			sum[j] = s - slot[j]
		}
		copy(slot, in)
		c.written++
		return
	}
	out := c.out[:c.width]
	d := float32(c.w)
	for j, v := range in {
		s := sum[j] + v
		s -= slot[j]
		sum[j] = s
		out[j] = s / d
	}
	copy(slot, in)
	c.emit(c.written, out)
	c.written++
}

// flush writes the last rows, whose window shrinks.
func (c *colBox) flush() {
	sum := c.sum[:c.width]
	for li := c.n - c.w; c.written < c.n; li++ {
		slot := c.ring[(li%c.w)*c.width:][:c.width]
		for j, v := range slot {
			sum[j] -= v
		}
		c.write(c.n - 1 - li)
	}
}

// downsampler filters a rows×cols picture pushed row by row and fills the 64×64 samples.
type downsampler struct {
	rows, cols int
	wr, wc     int // windows along the rows (from the width) and along the columns
	sampleRow  [64]int
	sampleCol  [64]int
	r1         []float32
	r3         [64]float32
	c2, c4     *colBox
	out        *[64][64]float32
}

// newDownsampler prepares for a picture of rows×cols (both at least minDim).
func newDownsampler(rows, cols int, out *[64][64]float32) *downsampler {
	d := &downsampler{rows: rows, cols: cols, wr: window(cols), wc: window(rows), out: out}
	for k := range 64 {
		// The centre of each cell of a 64×64 grid, as the reference computes it.
		d.sampleRow[k] = int((float64(k) + 0.5) * float64(rows) / 64)
		d.sampleCol[k] = int((float64(k) + 0.5) * float64(cols) / 64)
	}
	d.r1 = make([]float32, cols)
	need := make([]bool, rows)
	for _, r := range d.sampleRow {
		need[r] = true
	}
	d.c4 = newColBox(rows, 64, d.wc, need, func(i int, row []float32) {
		for k, r := range d.sampleRow {
			if r == i {
				copy(d.out[k][:], row)
			}
		}
	})
	d.c2 = newColBox(rows, cols, d.wc, nil, func(_ int, row []float32) {
		boxRowSampled(row, d.wr, &d.sampleCol, &d.r3)
		d.c4.push(d.r3[:])
	})
	return d
}

// push takes the next row of luminance.
func (d *downsampler) push(row []float32) {
	boxRow(row, d.r1, d.wr)
	d.c2.push(d.r1)
}

// finish flushes the column filters once every row has been pushed.
func (d *downsampler) finish() {
	d.c2.flush()
	d.c4.flush()
}
