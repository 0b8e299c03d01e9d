package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// arrival is one request arriving: its time (Unix microseconds) and class.
type arrival struct {
	at    int64
	class uint16
}

// arrivals is the arrival model: each class's rate per hour, shaped by the senders' local
// hour and weekday, holidays and bursts; counts are Poisson, times uniform in the hour.
type arrivals struct {
	cfg     *Config
	perHour []float64 // each class's mean arrivals per hour before shaping
	daily   [24]float64
	weekly  [7]float64
	rng     *rand.Rand
	buf     []arrival
}

func newArrivals(cfg *Config, rng *rand.Rand) *arrivals {
	a := &arrivals{cfg: cfg, rng: rng, perHour: make([]float64, len(cfg.Classes))}
	copy(a.daily[:], normalise(cfg.Daily))
	copy(a.weekly[:], normalise(cfg.Weekly))
	hours := float64(cfg.Days * 24)
	shares := map[string]float64{}
	for _, cl := range cfg.Classes {
		shares[cl.Pool] += cl.Share
	}
	for i, cl := range cfg.Classes {
		pool := float64(cfg.Requests)
		if cl.Pool == "notices" {
			pool = float64(cfg.Notices)
		}
		if shares[cl.Pool] > 0 {
			a.perHour[i] = pool * cl.Share / shares[cl.Pool] / hours
		}
	}
	return a
}

func normalise(f []float64) []float64 {
	sum := 0.0
	for _, v := range f {
		sum += v
	}
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = v * float64(len(f)) / sum
	}
	return out
}

// rate returns the mean arrivals of class i in the hour that begins at h.
func (a *arrivals) rate(i int, h time.Time) float64 {
	cl := &a.cfg.Classes[i]
	local := h.Add(time.Duration(cl.TZ) * time.Hour)
	r := a.perHour[i] * a.daily[local.Hour()] * a.weekly[local.Weekday()]
	day := h.Truncate(24 * time.Hour)
	for _, hol := range a.cfg.Holidays {
		if !day.Before(hol.From.Time) && day.Before(hol.To.Time) {
			r *= hol.Arrivals
		}
	}
	for _, b := range a.cfg.Bursts {
		if b.Class == cl.Name && !h.Before(b.Start.Truncate(time.Hour)) && h.Before(b.Start.Add(time.Duration(b.Hours)*time.Hour)) {
			r *= b.Factor
		}
	}
	return r
}

// hour returns the arrivals of the hour that begins at h, in time order. The slice is
// reused by the next call.
func (a *arrivals) hour(h time.Time) []arrival {
	a.buf = a.buf[:0]
	start := h.UnixMicro()
	const hourUs = int64(time.Hour / time.Microsecond)
	for i := range a.cfg.Classes {
		n := poisson(a.rng, a.rate(i, h))
		for range n {
			a.buf = append(a.buf, arrival{at: start + a.rng.Int64N(hourUs), class: uint16(i)})
		}
	}
	slices.SortFunc(a.buf, func(x, y arrival) int {
		if x.at != y.at {
			return cmpInt(x.at, y.at)
		}
		return int(x.class) - int(y.class)
	})
	return a.buf
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// poisson draws a Poisson count of mean m (Knuth's method below 30, a rounded normal above).
func poisson(rng *rand.Rand, m float64) int {
	if m <= 0 {
		return 0
	}
	if m < 30 {
		l, k, p := math.Exp(-m), 0, 1.0
		for {
			p *= rng.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	return max(0, int(math.Round(m+math.Sqrt(m)*rng.NormFloat64())))
}

// picker draws a key by weight.
type picker struct {
	keys []string
	cum  []float64
}

func newPicker(w map[string]float64) picker {
	var p picker
	for k := range w {
		p.keys = append(p.keys, k)
	}
	slices.Sort(p.keys) // map order is random: sort for a deterministic seed
	sum := 0.0
	for _, k := range p.keys {
		sum += w[k]
		p.cum = append(p.cum, sum)
	}
	for i := range p.cum {
		p.cum[i] /= sum
	}
	return p
}

func (p *picker) pick(rng *rand.Rand) int {
	u := rng.Float64()
	for i, c := range p.cum {
		if u < c {
			return i
		}
	}
	return len(p.cum) - 1
}
