// Package report computes transparency reports from the audit log alone: a
// government-requests report in the style platforms publish (requests per country and
// requester type, accounts named, data produced, refusals, emergencies, removal orders),
// and the DSA report in the tables of Commission Implementing Regulation (EU) 2024/2835.
//
// Every figure is computed by reading the events in Seq order and rebuilding the cases
// with the replay audit verify checks the stored state with (audit.Cases): nothing reads
// the tables the events are projected into. The same log gives the same report, byte for
// byte: rows are sorted, nothing depends on map order or on the time the report is made.
// Each figure has a path (requests/FR/police/requests) and Explain lists the cases and the
// events it rests on.
package report

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/docket-dev/docket"
)

// Period is the days a report covers, From's first to To's last instant (UTC): a case
// counts in it when it was received on one of those days.
type Period struct {
	From, To time.Time // days at 00:00 UTC; To is the last day covered
}

// ParsePeriod reads --from and --to (YYYY-MM-DD); the error says which is wrong and why.
func ParsePeriod(from, to string) (Period, error) {
	var p Period
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"--from", from, &p.From}, {"--to", to, &p.To}} {
		if f.v == "" {
			return p, fmt.Errorf("%s is required: a day as YYYY-MM-DD", f.name)
		}
		t, err := time.Parse(time.DateOnly, f.v)
		if err != nil {
			return p, fmt.Errorf("%s %q: want a day as YYYY-MM-DD", f.name, f.v)
		}
		*f.t = t
	}
	if p.To.Before(p.From) {
		return p, fmt.Errorf("--from %s is after --to %s", from, to)
	}
	return p, nil
}

// Contains reports whether t falls on one of the period's days.
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.From) && t.Before(p.To.AddDate(0, 0, 1))
}

// String is the period as an ISO 8601 interval of days: 2025-01-01/2025-12-31.
func (p Period) String() string {
	return p.From.Format(time.DateOnly) + "/" + p.To.Format(time.DateOnly)
}

// Report is a computed report: tables of figures, each figure with the cases and events it
// rests on.
type Report struct {
	// Name is the first segment of the paths of its figures: "requests" or "dsa".
	Name   string
	Title  string
	Period Period
	// Events, HeadSeq and HeadHash say which part of the audit log it was computed from.
	Events   int64
	HeadSeq  int64
	HeadHash string
	Tables   []*Table
	Charts   []*Chart
	// Notes say, in words, what the figures count and what docket's records cannot say.
	Notes []string
}

// Table is one table of a report. Its figures' paths are the report's name, the table's
// name (none for a report's main table), the row's key and the column's ID.
type Table struct {
	Name  string
	File  string // the CSV file's name, without .csv
	Title string
	// Columns are the CSV's; Rows hold one cell per column.
	Columns []Column
	Rows    []*Row
	Notes   []string
}

// Column is a column of a table. A figure column's cells are figures with a path; the
// others describe the row.
type Column struct {
	ID     string
	Name   string // the CSV header: the template's wording where there is one
	Figure bool
	// Show is whether the HTML page shows it (the template's fixed and contextual columns
	// are in the CSV only).
	Show bool
}

// Row is a row of a table: Key names it in the figures' paths.
type Row struct {
	Key   []string
	Cells []Cell
}

// Cell is one value of a table; a figure's Refs are what it rests on.
type Cell struct {
	Value string
	Refs  []Ref
}

// Ref is a case a figure rests on, and the events of it that count.
type Ref struct {
	Case   string
	Events []event
}

// Chart is a bar chart of the HTML page.
type Chart struct {
	Title string
	Unit  string
	Bars  []Bar
}

// Bar is one bar of a chart.
type Bar struct {
	Label string
	Value float64
	Text  string
}

// Path returns the path of the figure in column col of row r of table t.
func (rep *Report) Path(t *Table, r *Row, col Column) string {
	parts := []string{rep.Name}
	if t.Name != "" {
		parts = append(parts, t.Name)
	}
	for _, k := range r.Key {
		parts = append(parts, url.PathEscape(k))
	}
	return strings.Join(append(parts, col.ID), "/")
}

// Figure is one figure of a report, found by its path.
type Figure struct {
	Path  string
	Value string
	Refs  []Ref
}

// Figures lists every figure of the report, table by table, row by row.
func (rep *Report) Figures() []Figure {
	var out []Figure
	for _, t := range rep.Tables {
		for _, r := range t.Rows {
			for i, col := range t.Columns {
				if col.Figure {
					out = append(out, Figure{Path: rep.Path(t, r, col), Value: r.Cells[i].Value, Refs: r.Cells[i].Refs})
				}
			}
		}
	}
	return out
}

// Explain returns the figure at path, with the cases and events behind it.
func (rep *Report) Explain(path string) (*Figure, error) {
	for _, f := range rep.Figures() {
		if f.Path == path {
			return &f, nil
		}
	}
	return nil, fmt.Errorf("no figure %q in this report: --figures lists them (paths look like %s)", path, rep.example())
}

func (rep *Report) example() string {
	if fs := rep.Figures(); len(fs) > 0 {
		return fs[0].Path
	}
	if rep.Name == "requests" {
		return "requests/FR/police/requests"
	}
	return rep.Name + "/TABLE/KEY/COLUMN"
}

// refs collects the cases behind a figure, each once, in the order they were opened.
type refs struct {
	byCase map[string]*Ref
	order  []*caseLog
}

func (rs *refs) add(cl *caseLog, evs ...event) {
	if rs.byCase == nil {
		rs.byCase = map[string]*Ref{}
	}
	r := rs.byCase[cl.c.ID]
	if r == nil {
		r = &Ref{Case: cl.c.ID}
		rs.byCase[cl.c.ID] = r
		rs.order = append(rs.order, cl)
	}
	for _, e := range evs {
		if !slices.ContainsFunc(r.Events, func(x event) bool { return x.Seq == e.Seq }) {
			r.Events = append(r.Events, e)
		}
	}
}

func (rs *refs) list() []Ref {
	order := slices.Clone(rs.order)
	slices.SortFunc(order, func(a, b *caseLog) int { return cmp.Compare(a.opened.Seq, b.opened.Seq) })
	out := make([]Ref, 0, len(order))
	for _, cl := range order {
		r := *rs.byCase[cl.c.ID]
		slices.SortFunc(r.Events, func(a, b event) int { return cmp.Compare(a.Seq, b.Seq) })
		out = append(out, r)
	}
	return out
}

func (rs *refs) n() int { return len(rs.order) }

// count counts cases: each case added once.
type count struct{ refs }

func (c *count) cell() Cell { return Cell{Value: fmt.Sprint(c.n()), Refs: c.list()} }

// tally counts things of cases (actions, targets), with the cases they belong to.
type tally struct {
	refs
	n int
}

func (t *tally) add(cl *caseLog, k int, evs ...event) {
	t.refs.add(cl, evs...)
	t.n += k
}

func (t *tally) cell() Cell { return Cell{Value: fmt.Sprint(t.n), Refs: t.list()} }

// distinct counts distinct targets over the cases added.
type distinct struct {
	refs
	seen map[string]bool
}

func (d *distinct) add(cl *caseLog) {
	ts := cl.targets()
	if len(ts) == 0 {
		return
	}
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	for _, t := range ts {
		d.seen[t] = true
	}
	d.refs.add(cl, cl.named...)
}

func (d *distinct) cell() Cell { return Cell{Value: fmt.Sprint(len(d.seen)), Refs: d.list()} }

// durations is a figure of times: from receipt to an event, per case.
type durations struct {
	refs
	d []time.Duration
}

func (ds *durations) add(cl *caseLog, from time.Time, to event, evs ...event) {
	ds.refs.add(cl, append([]event{cl.opened, to}, evs...)...)
	ds.d = append(ds.d, to.At.Sub(from))
}

// median returns the median in hours (the mean of the two middle times for an even
// number), or "" when there is none.
func (ds *durations) median() Cell {
	if len(ds.d) == 0 {
		return Cell{}
	}
	s := slices.Clone(ds.d)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Cell{Value: hours(m), Refs: ds.list()}
}

// p90 returns the 90th percentile by nearest rank (the smallest time at least 90 % of the
// times do not exceed), in hours.
func (ds *durations) p90() Cell {
	if len(ds.d) == 0 {
		return Cell{}
	}
	s := slices.Clone(ds.d)
	slices.Sort(s)
	rank := (len(s)*9 + 9) / 10 // ceil(0.9 n)
	return Cell{Value: hours(s[rank-1]), Refs: ds.list()}
}

// hours writes a duration in hours with two decimals.
func hours(d time.Duration) string { return fmt.Sprintf("%.2f", d.Hours()) }

// percent writes n/of as a percentage with one decimal, "" when of is 0.
func percent(n, of int) string {
	if of == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f", float64(n)*100/float64(of))
}

// ratio writes n/of with three decimals, "" when of is 0.
func ratio(n, of int) string {
	if of == 0 {
		return ""
	}
	return fmt.Sprintf("%.3f", float64(n)/float64(of))
}

// text is a cell that is no figure.
func text(s string) Cell { return Cell{Value: s} }

// sortRows sorts rows by key, keeping those whose first key is last (totals) at the end.
func sortRows(rows []*Row, last string) {
	slices.SortStableFunc(rows, func(a, b *Row) int {
		if (a.Key[0] == last) != (b.Key[0] == last) {
			if a.Key[0] == last {
				return 1
			}
			return -1
		}
		return slices.Compare(a.Key, b.Key)
	})
}

// inPeriod returns the cases received in the period, in the order they were opened; a case
// merged into another is left out (the case that took its requests answers for them).
func (l *Log) inPeriod(p Period) []*caseLog {
	var out []*caseLog
	for _, cl := range l.cases {
		if cl.c.ID != "" && cl.c.State != docket.StateMerged && p.Contains(cl.receivedAt) {
			out = append(out, cl)
		}
	}
	return out
}

func (l *Log) newReport(name, title string, p Period) *Report {
	return &Report{Name: name, Title: title, Period: p, Events: l.Events, HeadSeq: l.HeadSeq, HeadHash: l.HeadHash}
}
