package web

import (
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/report"
)

// reportLink is a link to a transparency report of a period.
type reportLink struct {
	Name, Label, From, To string
}

// reportLinks returns the links the dashboard shows: both reports for the last full
// calendar year and the last full quarter before now.
func reportLinks(now time.Time) []reportLink {
	now = now.UTC()
	year := time.Date(now.Year()-1, 1, 1, 0, 0, 0, 0, time.UTC)
	q := time.Date(now.Year(), time.Month((int(now.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -3, 0)
	periods := []struct {
		label    string
		from, to time.Time
	}{
		{year.Format("2006"), year, year.AddDate(1, 0, -1)},
		{fmt.Sprintf("%d Q%d", q.Year(), (int(q.Month())-1)/3+1), q, q.AddDate(0, 3, -1)},
	}
	var out []reportLink
	for _, p := range periods {
		for _, r := range []struct{ name, label string }{{"requests", "Requests"}, {"dsa", "DSA"}} {
			out = append(out, reportLink{Name: r.name, Label: r.label + " " + p.label,
				From: p.from.Format(time.DateOnly), To: p.to.Format(time.DateOnly)})
		}
	}
	return out
}

type reportData struct {
	Body template.HTML
}

// reportPage shows a transparency report (requests or dsa) of the days ?from= to ?to=,
// computed from the audit log as `docket report` computes it.
func (s *Server) reportPage(w http.ResponseWriter, r *http.Request, p *page) error {
	name := r.PathValue("name")
	if name != "requests" && name != "dsa" {
		return docket.Errorf(docket.ENOTFOUND, "There is no report %q: the reports are requests and dsa.", name)
	}
	period, err := report.ParsePeriod(r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		return docket.Errorf(docket.EINVALID, "This report's period: %s.", err.Error())
	}
	l, err := report.Read(r.Context(), s.store, 0)
	if err != nil {
		return err
	}
	rep := report.Requests(l, period)
	if name == "dsa" {
		rep = report.DSA(l, period, s.cfg.PlatformName)
	}
	body, err := rep.HTML()
	if err != nil {
		return err
	}
	p.Title = rep.Title
	return s.render(w, r, p, http.StatusOK, "report", reportData{Body: body})
}
