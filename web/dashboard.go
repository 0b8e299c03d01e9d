package web

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/docket-dev/docket"
)

// dashboardDays is how far back the dashboard looks.
const dashboardDays = 14

type day struct {
	Date               time.Time
	Received, Answered int
}

// median is a group's median times, in hours.
type median struct {
	Key                 string
	Cases               int
	Acknowledge, Answer string
}

type dashboardData struct {
	Stats               *docket.Stats
	Days                []day
	Chart               template.HTML
	ByRegime            []median
	ByCountry           []median
	Acknowledge, Answer string
	Reports             []reportLink
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, p *page) error {
	stats, err := s.store.Stats(r.Context(), p.Now)
	if err != nil {
		return err
	}
	today := p.Now.Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -(dashboardDays - 1))
	times, err := s.store.CaseTimes(r.Context(), since)
	if err != nil {
		return err
	}
	d := &dashboardData{Stats: stats}
	idx := map[time.Time]int{}
	for i := range dashboardDays {
		t := since.AddDate(0, 0, i)
		idx[t] = i
		d.Days = append(d.Days, day{Date: t})
	}
	var all []docket.CaseTime
	for _, t := range times {
		if i, ok := idx[t.ReceivedAt.UTC().Truncate(24*time.Hour)]; ok {
			d.Days[i].Received++
			all = append(all, t)
		}
		if !t.AnsweredAt.IsZero() {
			if i, ok := idx[t.AnsweredAt.UTC().Truncate(24*time.Hour)]; ok {
				d.Days[i].Answered++
			}
		}
	}
	d.Acknowledge, d.Answer = medians(all)
	d.ByRegime = groupMedians(all, func(t docket.CaseTime) string { return t.Regime })
	d.ByCountry = groupMedians(all, func(t docket.CaseTime) string { return cmp.Or(t.Country, "—") })
	d.Chart = barChart(d.Days)
	d.Reports = reportLinks(p.Now)
	p.Title = "Dashboard"
	return s.render(w, r, p, http.StatusOK, "dashboard", d)
}

func groupMedians(all []docket.CaseTime, key func(docket.CaseTime) string) []median {
	groups := map[string][]docket.CaseTime{}
	for _, t := range all {
		groups[key(t)] = append(groups[key(t)], t)
	}
	var out []median
	for k, g := range groups {
		ack, ans := medians(g)
		out = append(out, median{Key: k, Cases: len(g), Acknowledge: ack, Answer: ans})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Cases > out[j].Cases || (out[i].Cases == out[j].Cases && out[i].Key < out[j].Key)
	})
	return out
}

// medians returns the median time from receipt to acknowledgement and to answer, over
// the cases that have them.
func medians(ts []docket.CaseTime) (ack, ans string) {
	var a, b []time.Duration
	for _, t := range ts {
		if !t.AcknowledgedAt.IsZero() {
			a = append(a, t.AcknowledgedAt.Sub(t.ReceivedAt))
		}
		if !t.AnsweredAt.IsZero() {
			b = append(b, t.AnsweredAt.Sub(t.ReceivedAt))
		}
	}
	return mid(a), mid(b)
}

func mid(ds []time.Duration) string {
	if len(ds) == 0 {
		return "—"
	}
	slices.Sort(ds)
	m := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		m = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	switch {
	case m < time.Minute:
		return fmt.Sprintf("%d s", int(m.Seconds()))
	case m < time.Hour:
		return fmt.Sprintf("%d min", int(m.Minutes()))
	case m < 48*time.Hour:
		return fmt.Sprintf("%.1f h", m.Hours())
	}
	return fmt.Sprintf("%.1f d", m.Hours()/24)
}

// barChart draws received and answered per day as an SVG bar chart. Everything in it is
// a number or a date docket formats itself.
func barChart(days []day) template.HTML {
	const w, h, pad, bottom = 720, 200, 30, 24
	top := 1
	for _, d := range days {
		top = max(top, d.Received, d.Answered)
	}
	slot := float64(w-pad) / float64(len(days))
	bar := slot * 0.35
	y := func(n int) float64 { return float64(h-bottom) - float64(n)*float64(h-bottom-10)/float64(top) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="Requests received and answered per day">`, w, h)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, pad, h-bottom, w, h-bottom)
	fmt.Fprintf(&b, `<text x="0" y="14" class="label">%d</text>`, top)
	for i, d := range days {
		x := float64(pad) + float64(i)*slot + slot*0.1
		fmt.Fprintf(&b, `<rect class="received" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d received</title></rect>`,
			x, y(d.Received), bar, float64(h-bottom)-y(d.Received), d.Date.Format("Jan 2"), d.Received)
		fmt.Fprintf(&b, `<rect class="answered" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d answered</title></rect>`,
			x+bar, y(d.Answered), bar, float64(h-bottom)-y(d.Answered), d.Date.Format("Jan 2"), d.Answered)
		if i%2 == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="label">%s</text>`, x, h-6, d.Date.Format("02/01"))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec: built above from numbers and formatted dates only
}
