package sim

import (
	"fmt"
	"io"
	"strings"
)

// WriteSVG draws the cases waiting for a person, every hour of the run, one line per run
// (and, for the first, the approvals and emergencies waiting), with the measured period
// shaded. Hand-written SVG: no dependency.
func WriteSVG(w io.Writer, runs []*Result) error {
	if len(runs) == 0 || len(runs[0].Series) == 0 {
		return fmt.Errorf("sim svg: nothing to draw")
	}
	const width, height, left, right, top, bottom = 960.0, 420.0, 70.0, 20.0, 40.0, 50.0
	peak := int64(1)
	n := 0
	for _, r := range runs {
		n = max(n, len(r.Series))
		for _, s := range r.Series {
			peak = max(peak, s.Waiting)
		}
	}
	peak = niceCeil(peak)
	first := runs[0].Series[0].At
	x := func(i int) float64 { return left + (width-left-right)*float64(i)/float64(max(n-1, 1)) }
	y := func(v int64) float64 { return height - bottom - (height-top-bottom)*float64(v)/float64(peak) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	r0 := runs[0]
	fmt.Fprintf(&b, `<text x="%.0f" y="22" font-size="15">Cases waiting for a person, hourly — %d staff, %d requests + %d notices, policy %s</text>`+"\n", left, r0.Staff, r0.Requests, r0.Notices, r0.Policy)
	// The measured period.
	hours := func(i int) int { return i }
	ms, me := -1, -1
	for i, s := range r0.Series {
		d := s.At.Sub(first).Hours()
		_ = d
		if ms < 0 && !s.At.Before(r0.periodStart()) {
			ms = hours(i)
		}
		if s.At.Before(r0.periodEnd()) {
			me = hours(i)
		}
	}
	if ms >= 0 && me > ms {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" fill="#f2f2f2"/>`+"\n", x(ms), top, x(me)-x(ms), height-top-bottom)
	}
	// Axes and grid.
	for i := 0; i <= 5; i++ {
		v := peak * int64(i) / 5
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.0f" y="%.1f" text-anchor="end">%d</text>`+"\n", left, width-right, y(v), y(v), left-6, y(v)+4, v)
	}
	for i, s := range r0.Series {
		if s.At.Hour() == 0 && s.At.Weekday() == 1 {
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#ccc"/><text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n",
				x(i), x(i), top, height-bottom, x(i), height-bottom+16, s.At.Format("Mon 2 Jan"))
		}
	}
	colours := []string{"#1f4e9c", "#c0392b", "#2e8b57", "#8e44ad"}
	line := func(vals []int64, colour string, w float64, dash string) {
		var pts strings.Builder
		for i, v := range vals {
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(v))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="%.1f" %s points="%s"/>`+"\n", colour, w, dash, strings.TrimSpace(pts.String()))
	}
	legend := 0
	label := func(colour, text string) {
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="14" height="3" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n",
			left+float64(legend)*230, height-14, colour, left+float64(legend)*230+18, height-10, text)
		legend++
	}
	for i, r := range runs {
		vals := make([]int64, len(r.Series))
		for j, s := range r.Series {
			vals[j] = s.Waiting
		}
		c := colours[i%len(colours)]
		line(vals, c, 1.6, "")
		label(c, "waiting ("+r.Policy+")")
	}
	if len(runs) == 1 {
		ap, em := make([]int64, len(r0.Series)), make([]int64, len(r0.Series))
		for j, s := range r0.Series {
			ap[j], em[j] = s.Approval, s.Emergency
		}
		line(ap, "#e67e22", 1.2, `stroke-dasharray="4 3"`)
		label("#e67e22", "of which approvals (four eyes)")
		line(em, "#c0392b", 1.2, "")
		label("#c0392b", "of which emergencies")
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="#666">grey: the measured period</text>`+"\n", width-right-160, top-6)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func niceCeil(v int64) int64 {
	p := int64(1)
	for p*10 < v {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if p*m >= v {
			return p * m
		}
	}
	return p * 10
}
