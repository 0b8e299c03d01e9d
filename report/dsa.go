package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/docket-dev/docket"
)

// euMemberStates are the member states whose authorities' orders the DSA report counts
// (ISO 3166 codes; Greece is GR, or EL as the EU writes it).
var euMemberStates = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "GR", "HR", "HU",
	"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}

// Column names of the templates of Implementing Regulation (EU) 2024/2835, Annex I, as the
// CSV files of the harmonised reports spell them (trailing spaces included).
const (
	colApplicability = "Applicability"
	colService       = "Service"
	colPeriod        = "Reporting period"
	colCategory      = "Category of illegal content"
	colOther         = `Description of the sub-category "Other"`
)

// fixed returns the three columns every table of the template begins with, and their cells.
func fixed(applicability, service string, p Period) ([]Column, []Cell) {
	return []Column{{ID: "applicability", Name: colApplicability}, {ID: "service", Name: colService}, {ID: "reporting_period", Name: colPeriod}},
		[]Cell{text(applicability), text(service), text(p.String())}
}

// DSA computes the DSA transparency report (Articles 15 and 24; the tables of Implementing
// Regulation (EU) 2024/2835) for service over p. It fills what docket's records hold and
// says, in the rows' contextual information and in the notes, what they do not.
func DSA(l *Log, p Period, service string) *Report {
	rep := l.newReport("dsa", "DSA transparency report (Regulation (EU) 2022/2065, art. 15 and 24)", p)
	cases := l.inPeriod(p)
	rep.Tables = []*Table{
		dsaIdentification(l, p, service),
		dsaOrders(l, cases, p, service, rep),
		dsaNotices(cases, p, service, rep),
		dsaNoticesBySubmitter(cases),
	}
	illegal, tc := dsaOwnInitiative(l, p, service)
	rep.Tables = append(rep.Tables, illegal, tc, dsaComplaints(l, p, service), dsaAutomated(cases, p, service))
	rep.Notes = dsaNotes
	return rep
}

func dsaIdentification(l *Log, p Period, service string) *Table {
	t := &Table{Name: "identification", File: "1_report_identification", Title: "Report identification",
		Columns: []Column{{ID: "applicability", Name: colApplicability}, {ID: "service", Name: colService, Show: true},
			{ID: "indicator", Name: "Indicator", Show: true}, {ID: "value", Name: "Value", Show: true}}}
	for _, iv := range [][2]string{
		{"Start date of the reporting period", p.From.Format("2006-01-02")},
		{"End date of the reporting period", p.To.Format("2006-01-02")},
		{"Source of the figures", fmt.Sprintf("docket audit log, events 1 to %d", l.HeadSeq)},
		{"Head of the audit log (docket audit verify --head)", fmt.Sprintf("%d:%s", l.HeadSeq, l.HeadHash)},
	} {
		t.Rows = append(t.Rows, &Row{Key: []string{iv[0]}, Cells: []Cell{text("Art. 15(1)"), text(service), text(iv[0]), text(iv[1])}})
	}
	return t
}

// Contextual information of the orders table (the template's columns for it).
const (
	ctxOrdersAct    = "Orders to act: cases of kind removal from an authority of the member state (DSA art. 9 orders, TCO removal orders, national removal orders), by the time of receipt."
	ctxItemsAct     = "Distinct targets (messages, accounts, channels…) each order's events name."
	ctxInformAct    = "Hours, median. API and portal requests get their receipt in the answer to the submission (0 h); e-mail: the first receipt sent, else the first answer."
	ctxEffectAct    = "Hours, median, from receipt to the platform's confirmation of the last removal or restriction the order led to; orders not carried out are not in the median."
	ctxOrdersInfo   = "Orders to provide information: cases of kind disclosure or emergency_disclosure from an authority of the member state (DSA art. 10, EPOC, national requisitions)."
	ctxInformInfo   = ctxInformAct
	ctxEffectInfo   = "Hours, median, from receipt to the first handing over of data (a disclosure package built, or the answer to a decision to comply); orders refused are not in the median."
	applicabilityMS = "Art. 15(1)(a)"
)

func dsaOrders(l *Log, cases []*caseLog, p Period, service string, rep *Report) *Table {
	type row struct {
		act, info                                    count
		items                                        tally
		informAct, effectAct, informInfo, effectInfo durations
	}
	rows := map[[2]string]*row{}
	perState := map[string]int{}
	for _, cl := range cases {
		country, _ := l.requester(cl)
		if cl.c.AuthorityID == "" || !slices.Contains(euMemberStates, country) {
			continue
		}
		act := cl.c.Kind == docket.KindRemoval
		info := cl.c.Kind == docket.KindDisclosure || cl.c.Kind == docket.KindEmergencyDisclosure
		if !act && !info {
			continue
		}
		k := [2]string{cl.category(), country}
		r := rows[k]
		if r == nil {
			r = &row{}
			rows[k] = r
		}
		perState[country]++
		informed := cl.informed()
		if act {
			r.act.add(cl, cl.opened)
			r.items.add(cl, len(cl.targets()), cl.named...)
			if informed != nil {
				r.informAct.add(cl, cl.receivedAt, *informed)
			}
			if eff := cl.effect(); eff != nil {
				r.effectAct.add(cl, cl.receivedAt, *eff)
			}
		} else {
			r.info.add(cl, cl.opened)
			if informed != nil {
				r.informInfo.add(cl, cl.receivedAt, *informed)
			}
			if evs := cl.dataProduced(); len(evs) > 0 {
				first := slices.MinFunc(evs, func(a, b event) int { return cmp.Compare(a.Seq, b.Seq) })
				r.effectInfo.add(cl, cl.receivedAt, first)
			}
		}
	}
	cols, fixedCells := fixed(applicabilityMS, service, p)
	t := &Table{Name: "orders", File: "3_member_states_orders", Title: "Orders from member states' authorities (art. 9, 10 and other orders)",
		Columns: append(cols,
			Column{ID: "category", Name: colCategory, Show: true},
			Column{ID: "other", Name: colOther},
			Column{ID: "scope", Name: "Scope", Show: true},
			Column{ID: "orders_to_act", Name: "Number of orders to act against illegal content received", Figure: true, Show: true},
			Column{ID: "items_to_act", Name: "Number of specific items of information included in the total number of orders to act against illegal content", Figure: true, Show: true},
			Column{ID: "median_hours_receipt_act", Name: "Median time to inform the authority of the receipt of the order to act against illegal content", Figure: true, Show: true},
			Column{ID: "median_hours_effect_act", Name: "Median time to give effect to the order to act against illegal content", Figure: true, Show: true},
			Column{ID: "orders_to_provide_information", Name: "Number of orders to provide information", Figure: true, Show: true},
			Column{ID: "median_hours_receipt_info", Name: "Median time to inform the authority of the receipt of the order to provide information", Figure: true, Show: true},
			Column{ID: "median_hours_effect_info", Name: "Median time to give effect to the order to provide information", Figure: true, Show: true},
			Column{ID: "ctx_orders_act", Name: "Contextual information on number of orders to act against illegal content received"},
			Column{ID: "ctx_items_act", Name: "Contextual information on number of specific items of information included in the total number of orders to act against illegal content"},
			Column{ID: "ctx_receipt_act", Name: "Contextual information on Median time to inform the authority of the receipt of the order to act against illegal content"},
			Column{ID: "ctx_effect_act", Name: "Contextual information on Median time to give effect to the order to act against illegal content"},
			Column{ID: "ctx_orders_info", Name: "Contextual information on Number of orders to provide information"},
			Column{ID: "ctx_receipt_info", Name: "Contextual information on Median time to inform the authority of the receipt of the order to provide information"},
			Column{ID: "ctx_effect_info", Name: "Contextual information on Median time to give effect to the order to provide information"},
		),
		Notes: []string{"Member states are the 27 of the EU; orders from elsewhere are in the requests report. Preservation orders are neither orders to act nor to provide information: they are not counted here."}}
	for k, r := range rows {
		cells := append(slices.Clone(fixedCells), text(k[0]), text(""), text(k[1]),
			r.act.cell(), r.items.cell(), r.informAct.median(), r.effectAct.median(),
			r.info.cell(), r.informInfo.median(), r.effectInfo.median(),
			text(ctxOrdersAct), text(ctxItemsAct), text(ctxInformAct), text(ctxEffectAct), text(ctxOrdersInfo), text(ctxInformInfo), text(ctxEffectInfo))
		t.Rows = append(t.Rows, &Row{Key: k[:], Cells: cells})
	}
	sortRows(t.Rows, "")
	ch := &Chart{Title: "Orders from member states' authorities, by member state", Unit: "orders"}
	for _, k := range slices.Sorted(maps.Keys(perState)) {
		ch.Bars = append(ch.Bars, Bar{Label: k, Value: float64(perState[k]), Text: strconv.Itoa(perState[k])})
	}
	rep.Charts = append(rep.Charts, ch)
	return t
}

// notice reports whether a case is a DSA art. 16 notice: filed through the notice form or
// API, or of kind notice (an e-mail to the abuse address, say).
func notice(cl *caseLog) bool {
	return cl.c.Channel == docket.ChannelNotice || cl.c.Kind == docket.KindNotice
}

// Contextual information of the notices table.
const (
	ctxNotices    = "Cases filed through the notice form or API (DSA art. 16), or of kind notice, by the time of receipt; category: the statement of reasons' where a person gave one, else the triage's."
	ctxTF         = "Notices sent with a registered trusted flagger's token (DSA art. 22) while its status was in effect, as the case's events record it; counted in the totals too."
	ctxItems      = "Distinct targets (messages, accounts, channels…) each notice's events name."
	ctxActionTime = "Hours, median, from receipt to the platform's confirmation of the first removal or restriction taken on the notice; notices not acted on are not in the median."
	ctxLaw        = "Removals, restrictions, suspensions and terminations the platform confirmed whose statement of reasons gives illegal content as the ground."
	ctxTC         = "The same, whose statement of reasons gives incompatibility with the terms and conditions as the ground."
)

func dsaNotices(cases []*caseLog, p Period, service string, rep *Report) *Table {
	type figures struct {
		notices        count
		items, law, tc tally
		action         durations
	}
	type row struct{ all, tf figures }
	rows := map[string]*row{}
	for _, cl := range cases {
		if !notice(cl) {
			continue
		}
		k := cl.category()
		r := rows[k]
		if r == nil {
			r = &row{}
			rows[k] = r
		}
		add := func(f *figures) {
			f.notices.add(cl, cl.opened)
			f.items.add(cl, len(cl.targets()), cl.named...)
			acts, done := cl.contentDone()
			if len(done) > 0 {
				f.action.add(cl, cl.receivedAt, slices.MinFunc(done, func(a, b event) int { return a.At.Compare(b.At) }))
			}
			for i, a := range acts {
				if a.Statement != nil && a.Statement.DecisionGround == docket.GroundIncompatible {
					f.tc.add(cl, 1, done[i])
				} else {
					f.law.add(cl, 1, done[i])
				}
			}
		}
		add(&r.all)
		if cl.c.TrustedFlagger != "" {
			add(&r.tf)
		}
	}
	cols, fixedCells := fixed("Art. 15(1)(b)", service, p)
	t := &Table{Name: "notices", File: "4_notices", Title: "Notices of illegal content (art. 16)",
		Columns: append(cols,
			Column{ID: "category", Name: colCategory, Show: true},
			Column{ID: "other", Name: colOther},
			Column{ID: "notices", Name: "Number of notices received ", Figure: true, Show: true},
			Column{ID: "notices_tf", Name: "Number of notices received from Trusted flaggers", Figure: true},
			Column{ID: "items", Name: "Number of specific items of information included in the total number of notices", Figure: true, Show: true},
			Column{ID: "items_tf", Name: "Number of specific items of information included in the total number of notices by Trusted Flaggers (Trusted Flagger notices)", Figure: true},
			Column{ID: "median_hours_action", Name: "Median time to take action", Figure: true, Show: true},
			Column{ID: "median_hours_action_tf", Name: "Median time to take action (Trusted Flagger notices)", Figure: true},
			Column{ID: "actions_law", Name: "Number of actions taken on the basis of the law", Figure: true, Show: true},
			Column{ID: "actions_law_tf", Name: "Number of actions taken on the basis of the law (Trusted Flagger notices)", Figure: true},
			Column{ID: "actions_tc", Name: "Number of actions taken on the basis of the terms and conditions of the service", Figure: true, Show: true},
			Column{ID: "actions_tc_tf", Name: "Number of actions taken on the basis of the terms and conditions of the service (Trusted Flagger notices)", Figure: true},
			Column{ID: "ctx_notices", Name: "Contextual information on Number of notices received "},
			Column{ID: "ctx_notices_tf", Name: "Contextual information on Number of notices received from Trusted flaggers"},
			Column{ID: "ctx_items", Name: "Contextual information on Number of specific items of information included in the total number of notices"},
			Column{ID: "ctx_items_tf", Name: "Contextual information on Number of specific items of information included in the total number of notices by Trusted Flaggers (Trusted Flagger notices)"},
			Column{ID: "ctx_action", Name: "Contextual information on Median time to take action"},
			Column{ID: "ctx_action_tf", Name: "Contextual information on Median time to take action (Trusted Flagger notices)"},
			Column{ID: "ctx_law", Name: "Contextual information on Number of actions taken on the basis of the law"},
			Column{ID: "ctx_law_tf", Name: "Contextual information on Number of actions taken on the basis of the law (Trusted Flagger notices)"},
			Column{ID: "ctx_tc", Name: "Contextual information on Number of actions taken on the basis of the terms and conditions of the service"},
			Column{ID: "ctx_tc_tf", Name: "Contextual information on Number of actions taken on the basis of the terms and conditions of the service (Trusted Flagger notices)"},
		),
		Notes: []string{"Trusted flaggers: notices sent with a registered trusted flagger's token while its status was in effect (docket flagger); they are counted in the totals and apart."}}
	ch := &Chart{Title: "Notices by category", Unit: "notices"}
	for k, r := range rows {
		a, tf := &r.all, &r.tf
		cells := append(slices.Clone(fixedCells), text(k), text(""),
			a.notices.cell(), tf.notices.cell(), a.items.cell(), tf.items.cell(), a.action.median(), tf.action.median(),
			a.law.cell(), tf.law.cell(), a.tc.cell(), tf.tc.cell(),
			text(ctxNotices), text(ctxTF), text(ctxItems), text(ctxTF), text(ctxActionTime), text(ctxTF), text(ctxLaw), text(ctxTF), text(ctxTC), text(ctxTF))
		t.Rows = append(t.Rows, &Row{Key: []string{k}, Cells: cells})
		ch.Bars = append(ch.Bars, Bar{Label: strings.TrimPrefix(k, "STATEMENT_CATEGORY_"), Value: float64(a.notices.n()), Text: strconv.Itoa(a.notices.n())})
	}
	sortRows(t.Rows, "")
	slices.SortFunc(ch.Bars, func(a, b Bar) int { return cmp.Compare(a.Label, b.Label) })
	rep.Charts = append(rep.Charts, ch)
	return t
}

// submitter returns who filed a notice, as its case_opened event records it.
func submitter(cl *caseLog) string {
	if cl.c.TrustedFlagger != "" {
		return "trusted_flagger"
	}
	switch a := string(cl.actor); {
	case strings.HasPrefix(a, "flagger:"):
		return "flagger_not_trusted"
	case a == string(docket.ActorPublic):
		return "public"
	case strings.HasPrefix(a, "email:"):
		return "email"
	case strings.HasPrefix(a, "authority:"):
		return "authority"
	}
	return "other"
}

func dsaNoticesBySubmitter(cases []*caseLog) *Table {
	type row struct {
		notices, acted count
		action, answer durations
	}
	rows := map[string]*row{}
	for _, cl := range cases {
		if !notice(cl) {
			continue
		}
		k := submitter(cl)
		r := rows[k]
		if r == nil {
			r = &row{}
			rows[k] = r
		}
		r.notices.add(cl, cl.opened)
		if _, done := cl.contentDone(); len(done) > 0 {
			first := slices.MinFunc(done, func(a, b event) int { return a.At.Compare(b.At) })
			r.acted.add(cl, first)
			r.action.add(cl, cl.receivedAt, first)
		}
		if cl.answer != nil {
			r.answer.add(cl, cl.receivedAt, *cl.answer)
		}
	}
	t := &Table{Name: "notices_by_submitter", File: "docket_notices_by_submitter", Title: "Notices by submitter (docket's table, beside the template)",
		Columns: []Column{
			{ID: "submitter", Name: "submitter", Show: true},
			{ID: "notices", Name: "notices", Figure: true, Show: true},
			{ID: "acted_on", Name: "acted_on", Figure: true, Show: true},
			{ID: "median_hours_action", Name: "median_hours_to_action", Figure: true, Show: true},
			{ID: "median_hours_answer", Name: "median_hours_to_answer", Figure: true, Show: true},
		},
		Notes: []string{"Submitter, as the case's events record it: trusted_flagger (a registered trusted flagger's notice while its status was in effect, DSA art. 22), public (the notice form or API, anyone), email (a message to one of the platform's addresses), authority."}}
	for k, r := range rows {
		t.Rows = append(t.Rows, &Row{Key: []string{k}, Cells: []Cell{text(k), r.notices.cell(), r.acted.cell(), r.action.median(), r.answer.median()}})
	}
	sortRows(t.Rows, "")
	return t
}

// ownInitiative reports whether an action was taken at the platform's own initiative: its
// statement of reasons says so (SOURCE_VOLUNTARY), or its case came neither from a notice
// nor from an authority (a registered one, or an e-mail sender on a government domain).
func ownInitiative(cl *caseLog, a *docket.CaseAction) bool {
	if a.Statement != nil && a.Statement.SourceType == "SOURCE_VOLUNTARY" {
		return true
	}
	return !notice(cl) && cl.c.AuthorityID == "" && cl.sender != docket.SenderOfficial
}

func dsaOwnInitiative(l *Log, p Period, service string) (illegal, tc *Table) {
	const (
		measures = iota
		automated
		removal
		disable
		accountSuspension
		accountTermination
		kinds
	)
	type row [kinds]tally
	rows := [2]map[string]*row{{}, {}} // illegal, terms and conditions
	for _, cl := range l.cases {
		acts, done := cl.contentDone()
		for i := range acts {
			a := &acts[i]
			if !p.Contains(done[i].At) || !ownInitiative(cl, a) {
				continue
			}
			which, cat := 0, cl.category()
			if a.Statement != nil {
				if a.Statement.DecisionGround == docket.GroundIncompatible {
					which = 1
				}
				cat = cmp.Or(a.Statement.Category, cat)
			}
			r := rows[which][cat]
			if r == nil {
				r = &row{}
				rows[which][cat] = r
			}
			evs := []event{done[i]}
			r[measures].add(cl, 1, evs...)
			if a.Statement != nil && a.Statement.AutomatedDetection {
				r[automated].add(cl, 1, evs...)
			}
			switch a.Op {
			case docket.OpRemove:
				r[removal].add(cl, 1, evs...)
			case docket.OpRestrict:
				r[disable].add(cl, 1, evs...)
			case docket.OpSuspend:
				r[accountSuspension].add(cl, 1, evs...)
			case docket.OpTerminate:
				r[accountTermination].add(cl, 1, evs...)
			}
		}
	}
	build := func(name, file, title, catCol string, rows map[string]*row) *Table {
		cols, fixedCells := fixed("Art. 15(1)(c)", service, p)
		cols = append(cols, Column{ID: "category", Name: catCol, Show: true}, Column{ID: "other", Name: colOther})
		figs := []struct{ id, name string }{
			{"measures", "Number of measures taken at the provider's own initiative "},
			{"measures_automated", "Number of measures taken after detection with solely automated means "},
			{"removal", "Visibility restriction Removal"}, {"disable", "Visibility restriction Disable"},
			{"demoted", "Visibility restriction Demoted"}, {"age_restricted", "Visibility restriction Age restricted"},
			{"interaction_restricted", "Visibility restriction Interaction restricted"}, {"labelled", "Visibility restriction Labelled "},
			{"visibility_other", "Visibility restriction Other"},
			{"monetary_suspension", "Monetary restriction Suspension"}, {"monetary_termination", "Monetary restriction Termination"},
			{"monetary_other", "Monetary restriction Other"},
			{"provision_suspension", "Provision of the service Suspension"}, {"provision_termination", "Provision of the service Termination"},
			{"account_suspension", "Account restriction Suspension"}, {"account_termination", "Account restriction Termination"},
		}
		for _, f := range figs {
			cols = append(cols, Column{ID: f.id, Name: f.name, Figure: true, Show: true})
		}
		for _, f := range figs {
			cols = append(cols, Column{ID: "ctx_" + f.id, Name: "Contextual Information on " + f.name})
		}
		t := &Table{Name: name, File: file, Title: title, Columns: cols,
			Notes: []string{"Measures the platform confirmed in the period (removals, restrictions in some countries, account suspensions and terminations) whose case came neither from a notice nor from an authority, or whose statement of reasons says the platform acted of its own accord (SOURCE_VOLUNTARY). docket carries out no demotion, age restriction, label or monetary restriction: those columns are 0."}}
		for k, r := range rows {
			cells := append(slices.Clone(fixedCells), text(k), text(""))
			byID := map[string]Cell{"measures": r[measures].cell(), "measures_automated": r[automated].cell(), "removal": r[removal].cell(),
				"disable": r[disable].cell(), "account_suspension": r[accountSuspension].cell(), "account_termination": r[accountTermination].cell()}
			for _, f := range figs {
				c, ok := byID[f.id]
				if !ok {
					c = text("0")
				}
				cells = append(cells, c)
			}
			for i := range figs {
				ctx := ""
				switch i {
				case 0:
					ctx = "Confirmed by the platform in the period; own initiative: no notice and no authority behind the case, or a statement of reasons that says SOURCE_VOLUNTARY."
				case 1:
					ctx = "Measures whose statement of reasons records automated detection."
				}
				cells = append(cells, text(ctx))
			}
			t.Rows = append(t.Rows, &Row{Key: []string{k}, Cells: cells})
		}
		sortRows(t.Rows, "")
		return t
	}
	return build("own_initiative_illegal", "5_own_initiative_illegal", "Own-initiative measures against illegal content", colCategory, rows[0]),
		build("own_initiative_tc", "6_own_initiative_TC", "Own-initiative measures against content incompatible with the terms and conditions",
			"Category of incompatibility with the provider's terms and conditions", rows[1])
}

// sectionColumns are the columns of the template's tables of indicators (7 and 8).
func sectionColumns(applicability, service string, p Period) ([]Column, []Cell) {
	cols, cells := fixed(applicability, service, p)
	return append(cols,
		Column{ID: "section", Name: "Section", Show: true},
		Column{ID: "indicator", Name: "Indicator", Show: true},
		Column{ID: "scope", Name: "Scope", Show: true},
		Column{ID: "value", Name: "Value", Figure: true, Show: true},
		Column{ID: "context", Name: "Contextual Information", Show: true}), cells
}

func dsaComplaints(l *Log, p Period, service string) *Table {
	cols, fixedCells := sectionColumns("Art. 15(1)(d), 24(1)", service, p)
	t := &Table{Name: "complaints", File: "7_appeals_and_recidivism", Title: "Complaints, out-of-court disputes and suspensions (art. 20, 21, 23)", Columns: cols,
		Notes: []string{"Complaints: appeals against actions on content or accounts (DSA art. 20) received in the period, by the time of receipt, whether through the public appeal page or the platform's app; their decisions whenever taken (up to the end of the log read). docket records no out-of-court disputes (art. 21), nor the grounds of suspensions under art. 23."}}
	var received, decided, reversed, confirmed, pending tally
	byGround := map[string]*tally{}
	var toDecide durations
	for _, cl := range l.cases {
		for _, ap := range cl.appeals {
			if !p.Contains(ap.received.At) {
				continue
			}
			received.add(cl, 1, ap.received)
			g := map[string]string{docket.GroundIllegal: "illegal", docket.GroundIncompatible: "tc"}[ap.ground]
			if byGround[g] == nil {
				byGround[g] = &tally{}
			}
			byGround[g].add(cl, 1, ap.received)
			if ap.decided == nil {
				pending.add(cl, 1, ap.received)
				continue
			}
			decided.add(cl, 1, ap.received, *ap.decided)
			toDecide.add(cl, ap.received.At, *ap.decided, ap.received)
			if ap.outcome == docket.AppealUpheld {
				reversed.add(cl, 1, ap.received, *ap.decided)
			} else {
				confirmed.add(cl, 1, ap.received, *ap.decided)
			}
		}
	}
	const sec = "Internal complaint-handling system (Art. 20)"
	add := func(key, section, indicator, scope string, c Cell, ctx string) {
		t.Rows = append(t.Rows, &Row{Key: []string{key}, Cells: append(slices.Clone(fixedCells), text(section), text(indicator), text(scope), c, text(ctx))})
	}
	ground := func(g string) Cell {
		if byGround[g] == nil {
			return Cell{Value: "0"}
		}
		return byGround[g].cell()
	}
	add("complaints", sec, "Number of complaints received", "Total", received.cell(), "Appeals received in the period (appeal_received), through the public appeal page or API and through the platform's in-app appeal; six months from the decision (art. 20(1)).")
	add("complaints_illegal", sec, "Number of complaints received", "Decisions on the ground of illegal content", ground("illegal"), "By the ground of the statement of reasons contested.")
	add("complaints_tc", sec, "Number of complaints received", "Decisions on the ground of incompatibility with the terms and conditions", ground("tc"), "By the ground of the statement of reasons contested.")
	add("complaints_decided", sec, "Number of complaints decided", "Total", decided.cell(), "Decided by a person who took no part in the decision contested (appeal_decided); never by automated means.")
	add("decisions_reversed", sec, "Number of initial decisions reversed", "Total", reversed.cell(), "Appeals upheld: the action was reverted on the platform (content restored, account reinstated) with a new statement of reasons.")
	add("decisions_upheld", sec, "Number of initial decisions upheld", "Total", confirmed.cell(), "Appeals rejected: the decision stands.")
	add("complaints_pending", sec, "Number of complaints not yet decided", "Total", pending.cell(), "Received in the period, undecided at the end of the log read.")
	add("median_hours_to_decide", sec, "Median time to decide on a complaint", "Total", toDecide.median(), "Hours, median, from the appeal's receipt to its decision; undecided appeals are not in the median.")
	add("disputes", "Out-of-court dispute settlement (Art. 21)", "Number of disputes submitted", "Total", text(""), "docket records no out-of-court disputes: the answers to appeals name the bodies, whose outcomes docket does not receive.")
	add("suspensions", "Suspensions for misuse (Art. 23)", "Number of suspensions", "Total", text(""), "docket records account suspensions as actions but not whether art. 23 was their ground.")
	return t
}

func dsaAutomated(cases []*caseLog, p Period, service string) *Table {
	cols, fixedCells := sectionColumns("Art. 15(1)(e)", service, p)
	t := &Table{Name: "automated", File: "8_automated_means", Title: "Automated means and their accuracy", Columns: cols,
		Notes: []string{"Accuracy here is the share of automatic conclusions that no person corrected: only the corrections people made are known to be errors, so it is an upper bound of the true accuracy, and says nothing of cases no one reviewed."}}
	var triaged count
	corrected := map[string]*count{}
	var acked, closed, closedCorrected count
	for _, cl := range cases {
		if cl.triaged != nil {
			triaged.add(cl, *cl.triaged)
			for f, ev := range cl.corrected {
				if corrected[f] == nil {
					corrected[f] = &count{}
				}
				corrected[f].add(cl, *cl.triaged, ev)
			}
		}
		if cl.ack != nil && cl.ackByRules {
			acked.add(cl, *cl.ack)
		}
		if cl.rulesClosed != nil {
			closed.add(cl, *cl.rulesClosed)
			if ev, ok := cl.corrected["spam"]; ok && ev.Seq > cl.rulesClosed.Seq {
				closedCorrected.add(cl, *cl.rulesClosed, ev)
			}
		}
	}
	const secTriage, secRules = "Automated triage (system:triage)", "Automatic steps of the routing rules (system:rules)"
	add := func(key []string, section, indicator, scope string, c Cell, ctx string) {
		t.Rows = append(t.Rows, &Row{Key: key, Cells: append(slices.Clone(fixedCells), text(section), text(indicator), text(scope), c, text(ctx))})
	}
	add([]string{"triage", "cases"}, secTriage, "Cases triaged by automated means", "All", triaged.cell(),
		"Requests and notices received in the period that the automatic triage sorted (language, regime, kind, emergency, spam, label, category, targets).")
	for _, f := range triageFields {
		c := corrected[f]
		if c == nil {
			c = &count{}
		}
		cell := c.cell()
		add([]string{"triage", f, "corrected"}, secTriage, "Cases whose automatic "+f+" a person corrected", f, cell,
			"A correction is a retriaged event by a person that changed it.")
		add([]string{"triage", f, "accuracy"}, secTriage, "Accuracy: share of triaged cases whose "+f+" no person corrected", f,
			Cell{Value: ratio(triaged.n()-c.n(), triaged.n()), Refs: cell.Refs}, "0 to 1; an upper bound: only corrections are known errors.")
	}
	add([]string{"rules", "acknowledged"}, secRules, "Receipts acknowledged automatically", "All", acked.cell(), "")
	add([]string{"rules", "closed"}, secRules, "Cases closed automatically as not actionable", "All", closed.cell(), "Spam without an authority or a target, closed by the rule close-spam (or another rule) with its reason code.")
	add([]string{"rules", "closed_corrected"}, secRules, "Automatic closures a person corrected", "All", closedCorrected.cell(), "A person took the spam flag off after the closure.")
	add([]string{"rules", "closed_accuracy"}, secRules, "Accuracy: share of automatic closures no person corrected", "All",
		Cell{Value: ratio(closed.n()-closedCorrected.n(), closed.n()), Refs: closedCorrected.list()}, "0 to 1; an upper bound: only corrections are known errors.")
	return t
}

// dsaNotes say what the DSA report's tables count, and what docket's records cannot give.
var dsaNotes = []string{
	"The CSV files follow the tables of Implementing Regulation (EU) 2024/2835 (Annex I): their names and column headers as the harmonised reports spell them; categories are the EU Transparency Database's (STATEMENT_CATEGORY_…). Times are in hours, two decimals.",
	"Applicability: the article of the DSA each table answers. Reporting period: the days covered, as an ISO 8601 interval. Scope (orders): the member state of the issuing authority.",
	"Orders and notices count by their time of receipt; own-initiative measures by the time the platform confirmed them.",
	"Trusted flaggers: their notices are counted apart (docket flagger). Complaints (art. 20) are the appeals docket recorded; out-of-court disputes (art. 21) and art. 23 suspensions: docket records none, so their rows of table 7 are empty.",
	"Table 2 (names of the categories), the human-resources table and the qualitative template are not produced: docket's records say nothing of them.",
}
