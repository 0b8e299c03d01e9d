package report

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/docket-dev/docket"
)

// allKey is the key of the rows that total a table.
const allKey = "ALL"

// PrincipleReason reports whether a refusal's reason code records a refusal on principle by
// its name (the code begins with "principle", such as principle_encryption_keys); a decision
// on a ground the decision table marks as principled (fundamental_rights) records it too
// (Decision.Principled). The report groups those apart from refusals for want of a valid
// request.
func PrincipleReason(code string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(code)), "principle")
}

// Requests computes the government-requests report over the cases received in p.
func Requests(l *Log, p Period) *Report {
	rep := l.newReport("requests", "Requests from authorities and the public", p)
	type group struct {
		requests, produced, refused, emergencies, removals count
		targets                                            distinct
		answer                                             durations
	}
	type emergency struct {
		n, answered count
		answer      durations
	}
	type removal struct {
		orders, removed count
		effect          durations
	}
	groups := map[[2]string]*group{}
	refusals := map[[2]string]*count{}
	emergencies := map[string]*emergency{}
	removals := map[string]*removal{}
	var refusedAll count
	for _, cl := range l.inPeriod(p) {
		c := cl.c
		country, typ := l.requester(cl)
		for _, k := range [][2]string{{country, typ}, {allKey, "all"}} {
			g := groups[k]
			if g == nil {
				g = &group{}
				groups[k] = g
			}
			g.requests.add(cl, cl.opened)
			g.targets.add(cl)
			if evs := cl.dataProduced(); len(evs) > 0 {
				g.produced.add(cl, evs...)
			}
			if c.Decision != nil && c.Decision.Outcome == docket.OutcomeRefuse && cl.decided != nil {
				g.refused.add(cl, *cl.decided)
			}
			if c.Emergency {
				g.emergencies.add(cl, cl.opened)
				if cl.answer != nil {
					g.answer.add(cl, cl.receivedAt, *cl.answer)
				}
			}
			if c.Kind == docket.KindRemoval {
				g.removals.add(cl, cl.opened)
			}
		}
		if c.Decision != nil && c.Decision.Outcome == docket.OutcomeRefuse && cl.decided != nil {
			reason := cmp.Or(strings.TrimSpace(c.Decision.ReasonCode), "none")
			group := "other"
			if c.Decision.Principled || PrincipleReason(reason) {
				group = "principle"
			}
			k := [2]string{group, reason}
			if refusals[k] == nil {
				refusals[k] = &count{}
			}
			refusals[k].add(cl, *cl.decided)
			refusedAll.add(cl, *cl.decided)
		}
		if c.Emergency {
			for _, k := range []string{country, allKey} {
				e := emergencies[k]
				if e == nil {
					e = &emergency{}
					emergencies[k] = e
				}
				e.n.add(cl, cl.opened)
				if cl.answer != nil {
					e.answered.add(cl, cl.opened, *cl.answer)
					e.answer.add(cl, cl.receivedAt, *cl.answer)
				}
			}
		}
		if c.Kind == docket.KindRemoval {
			for _, k := range []string{c.Regime, allKey} {
				r := removals[k]
				if r == nil {
					r = &removal{}
					removals[k] = r
				}
				r.orders.add(cl, cl.opened)
				if eff := cl.effect(); eff != nil {
					_, done := cl.contentDone()
					r.removed.add(cl, append([]event{cl.opened}, done...)...)
					r.effect.add(cl, cl.receivedAt, *eff)
				}
			}
		}
	}

	main := &Table{File: "requests_by_requester", Title: "Requests by country and requester",
		Columns: []Column{
			{ID: "country", Name: "country", Show: true},
			{ID: "requester_type", Name: "requester_type", Show: true},
			{ID: "requests", Name: "requests", Figure: true, Show: true},
			{ID: "accounts_specified", Name: "accounts_specified", Figure: true, Show: true},
			{ID: "data_produced", Name: "data_produced", Figure: true, Show: true},
			{ID: "data_produced_pct", Name: "data_produced_pct", Figure: true, Show: true},
			{ID: "refused", Name: "refused", Figure: true, Show: true},
			{ID: "emergencies", Name: "emergencies", Figure: true, Show: true},
			{ID: "emergency_median_hours", Name: "emergency_median_hours_to_answer", Figure: true, Show: true},
			{ID: "removal_orders", Name: "removal_orders", Figure: true, Show: true},
		}}
	perCountry := map[string]int{}
	for k, g := range groups {
		produced := g.produced.cell()
		pct := Cell{Value: percent(g.produced.n(), g.requests.n()), Refs: produced.Refs}
		main.Rows = append(main.Rows, &Row{Key: k[:], Cells: []Cell{text(k[0]), text(k[1]),
			g.requests.cell(), g.targets.cell(), produced, pct, g.refused.cell(), g.emergencies.cell(), g.answer.median(), g.removals.cell()}})
		if k[0] != allKey {
			perCountry[k[0]] += g.requests.n()
		}
	}
	sortRows(main.Rows, allKey)

	reasons := &Table{Name: "refusals", File: "requests_refusals", Title: "Refusals by reason",
		Columns: []Column{
			{ID: "group", Name: "group", Show: true},
			{ID: "reason_code", Name: "reason_code", Show: true},
			{ID: "refusals", Name: "refusals", Figure: true, Show: true},
			{ID: "pct_of_refusals", Name: "pct_of_refusals", Figure: true, Show: true},
		}}
	for k, n := range refusals {
		cell := n.cell()
		reasons.Rows = append(reasons.Rows, &Row{Key: k[:], Cells: []Cell{text(k[0]), text(k[1]), cell,
			{Value: percent(n.n(), refusedAll.n()), Refs: cell.Refs}}})
	}
	// Refusals on principle first: they are what a reader of such a report looks for.
	slices.SortFunc(reasons.Rows, func(a, b *Row) int {
		if a.Key[0] != b.Key[0] {
			return cmp.Compare(b.Key[0], a.Key[0]) // "principle" before "other"
		}
		return cmp.Compare(a.Key[1], b.Key[1])
	})

	emerg := &Table{Name: "emergencies", File: "requests_emergencies", Title: "Emergency requests: time from receipt to answer",
		Columns: []Column{
			{ID: "country", Name: "country", Show: true},
			{ID: "emergencies", Name: "emergencies", Figure: true, Show: true},
			{ID: "answered", Name: "answered", Figure: true, Show: true},
			{ID: "median_hours", Name: "median_hours_to_answer", Figure: true, Show: true},
			{ID: "p90_hours", Name: "p90_hours_to_answer", Figure: true, Show: true},
		}}
	for k, e := range emergencies {
		emerg.Rows = append(emerg.Rows, &Row{Key: []string{k}, Cells: []Cell{text(k), e.n.cell(), e.answered.cell(), e.answer.median(), e.answer.p90()}})
	}
	sortRows(emerg.Rows, allKey)

	remove := &Table{Name: "removals", File: "requests_removal_orders", Title: "Removal orders: time from receipt to the platform's confirmation",
		Columns: []Column{
			{ID: "regime", Name: "regime", Show: true},
			{ID: "orders", Name: "orders", Figure: true, Show: true},
			{ID: "removed", Name: "removed", Figure: true, Show: true},
			{ID: "median_hours", Name: "median_hours_to_removal", Figure: true, Show: true},
			{ID: "p90_hours", Name: "p90_hours_to_removal", Figure: true, Show: true},
		}}
	removalChart := &Chart{Title: "Median hours from receipt to removal, by regime", Unit: "h"}
	for k, r := range removals {
		med := r.effect.median()
		remove.Rows = append(remove.Rows, &Row{Key: []string{k}, Cells: []Cell{text(k), r.orders.cell(), r.removed.cell(), med, r.effect.p90()}})
		if v, err := strconv.ParseFloat(med.Value, 64); err == nil && k != allKey {
			removalChart.Bars = append(removalChart.Bars, Bar{Label: k, Value: v, Text: med.Value + " h"})
		}
	}
	sortRows(remove.Rows, allKey)
	slices.SortFunc(removalChart.Bars, func(a, b Bar) int { return cmp.Compare(a.Label, b.Label) })

	byCountry := &Chart{Title: "Requests by country", Unit: "requests"}
	for _, k := range slices.Sorted(maps.Keys(perCountry)) {
		byCountry.Bars = append(byCountry.Bars, Bar{Label: k, Value: float64(perCountry[k]), Text: strconv.Itoa(perCountry[k])})
	}
	rep.Tables = []*Table{main, reasons, emerg, remove}
	rep.Charts = []*Chart{byCountry, removalChart}
	rep.Notes = requestsNotes
	return rep
}

// requestsNotes say what each figure of the requests report counts.
var requestsNotes = []string{
	"A request is a case received in the period (the time of authenticated receipt, UTC). Requests that joined a case about the same matter count with it once; a case merged into another counts with the case that answers for it.",
	"Requester: the registered authority's country and kind (as its authority_registered event says; \"unspecified\" when it has none); \"official\" is e-mail from a government domain that no registered authority owns; \"public\" is everyone else (notices, unverified e-mail). XX: country not recorded.",
	"accounts_specified: distinct targets (accounts, channels, messages, numbers…) that the case's events name: its triage as corrected and merged, its approval's coverage, its actions. The targets written in a request's body are read only through the triage of that request.",
	"data_produced: cases where user data left docket: a disclosure package was built, or the answer to a decision to comply (or partly) on a case that discloses was sent. data_produced_pct is their share of the requests.",
	"refused: cases whose decision in effect is a refusal. Refusals are grouped by the decision's reason code as recorded; decisions on a ground the decision table marks as principled (fundamental_rights), and codes that begin with \"principle\", are refusals on principle.",
	"Emergencies: cases flagged as emergencies (at receipt, by triage or by a person). Time to answer: from receipt to the first answer that closed the case; p90 is the nearest-rank 90th percentile. Unanswered emergencies count, but not in the times.",
	"Removal orders: cases of kind removal, per regime. Removed: the platform confirmed at least one of the case's removals or restrictions; the time runs from receipt to the platform's confirmation of the last of them.",
	"Times are in hours with two decimals; a median of an even number of times is the mean of the two middle ones. An empty cell has nothing to measure.",
}
