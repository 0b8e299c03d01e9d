package report_test

import (
	"context"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/workflow"
)

// day returns 2026-03-DD at hh:mm UTC (DD may run into April: 32 is 1 April).
func day(dd, hh, mm int) time.Time { return time.Date(2026, 3, dd, hh, mm, 0, 0, time.UTC) }

// cases are the cases of the scenario, by name.
type cases map[string]string

// scenario works a month of requests through docket's workflow, the reference platform
// behind it; the report tests count them over March 2026.
//
//	before  FR police requisition received on 28 February (outside the period), answered in March
//	disclose FR police requisition for @alice: approved, a package disclosed, answered (data produced)
//	refuse  FR police requisition for @bob: refused (no_legal_basis)
//	tco     FR prosecutor TCO removal order: removed 30 min after receipt
//	art9    DE police DSA art. 9 order: restricted in Germany 2 h after receipt
//	emerg1  US police emergency: complied and answered 1 h 30 after receipt (data produced)
//	emerg2  US police emergency: refused on principle, answered 3 h after receipt
//	notice1 DE public notice: removed 4 h after receipt (illegal hate speech), answered
//	notice2 FR public notice: category corrected by a person, not actionable
//	email   an unverified e-mail: the content removed for the terms and conditions (own initiative)
//	art10   DE police DSA art. 10 order, with art10b merged into it: refused (no_legal_basis)
//	spam    spam e-mail closed by the routing rules, then found not to be spam by a person
//	spam2   spam e-mail closed by the routing rules
//	edge    BE authority without a kind, received on 31 March at 23:59:59
//	late    FR police requisition received on 1 April at 00:00 (outside the period)
func scenario(f *fixture) cases {
	c := cases{}
	f.at(time.Date(2026, 2, 28, 23, 30, 0, 0, time.UTC))
	c["before"] = f.submit("fr-police", docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: "PV-0",
		LegalBasis: "Article 60-1 du code de procédure pénale", Targets: []docket.Target{{Kind: "username", Value: "@early"}}})

	f.at(day(1, 9, 0))
	c["disclose"] = f.submit("fr-police", docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: "PV-1",
		LegalBasis: "Article 60-1 du code de procédure pénale", Targets: []docket.Target{{Kind: "username", Value: "@alice"}}})
	f.decide(c["before"], docket.OutcomeRefuse, "no_legal_basis")
	f.answer(c["before"])
	f.after(30 * time.Minute)
	f.decide(c["disclose"], docket.OutcomeComply, "")
	f.act(f.reviewer, c["disclose"], workflow.Action{Type: workflow.ActApprove})
	f.act(f.agent, c["disclose"], workflow.Action{Type: docket.OpDisclose, Target: &docket.Target{Kind: "username", Value: "@alice"}, Categories: []string{"subscriber"}})
	f.carryOut()
	f.after(30 * time.Minute)
	f.answer(c["disclose"])

	f.at(day(1, 10, 0))
	c["refuse"] = f.submit("fr-police", docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: "PV-2",
		LegalBasis: "Article 60-1 du code de procédure pénale", Targets: []docket.Target{{Kind: "username", Value: "@bob"}}})
	f.after(2 * time.Hour)
	f.decide(c["refuse"], docket.OutcomeRefuse, "no_legal_basis")
	f.answer(c["refuse"])

	f.at(day(2, 9, 0))
	c["tco"] = f.submit("fr-prosecutor", docket.RequestBody{Regime: "eu-tco-removal", Kind: docket.KindRemoval, Reference: "TCO-1",
		LegalBasis: "Regulation (EU) 2021/784, art. 3", Reasons: "Incitement to an attack.", Targets: []docket.Target{*f.message("2")}})
	f.decide(c["tco"], docket.OutcomeComply, "")
	f.act(f.agent, c["tco"], workflow.Action{Type: docket.OpRemove, Target: f.message("2"),
		Reasons: statement(docket.GroundIllegal, "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY")})
	f.after(30 * time.Minute)
	f.carryOut()
	f.answer(c["tco"])

	f.at(day(3, 9, 0))
	c["art9"] = f.submit("de-police", docket.RequestBody{Regime: "dsa-art9", Kind: docket.KindRemoval, Reference: "A9-1",
		LegalBasis: "DSA art. 9; StGB § 130", Reasons: "Holocaust denial.", Redress: "Verwaltungsgericht", Targets: []docket.Target{*f.message("3")}})
	f.decide(c["art9"], docket.OutcomeComply, "")
	f.after(2 * time.Hour)
	f.act(f.agent, c["art9"], workflow.Action{Type: docket.OpRestrict, Target: f.message("3"), Countries: []string{"DE"},
		Reasons: statement(docket.GroundIllegal, "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH")})
	f.carryOut()
	f.answer(c["art9"])

	f.at(day(4, 9, 0))
	c["emerg1"] = f.submit("us-police", docket.RequestBody{Regime: "us-emergency", Kind: docket.KindEmergencyDisclosure, Emergency: true, Reference: "EM-1",
		Description: "A hostage is held; we need the location of the account.", Targets: []docket.Target{{Kind: "username", Value: "@nightwolf"}}})
	f.after(90 * time.Minute)
	f.decide(c["emerg1"], docket.OutcomeComply, "")
	f.act(f.reviewer, c["emerg1"], workflow.Action{Type: workflow.ActApprove})
	f.answer(c["emerg1"])

	f.at(day(4, 12, 0))
	c["emerg2"] = f.submit("us-police", docket.RequestBody{Regime: "us-emergency", Kind: docket.KindEmergencyDisclosure, Emergency: true, Reference: "EM-2",
		Description: "Give us the encryption keys of every account now.", Targets: []docket.Target{{Kind: "username", Value: "@carol"}}})
	f.after(3 * time.Hour)
	f.decide(c["emerg2"], docket.OutcomeRefuse, "fundamental_rights")
	f.answer(c["emerg2"])

	f.at(day(5, 9, 0))
	c["notice1"] = f.notice("DE", "This message incites hatred against a religious minority.", f.message("4").Value)
	f.decide(c["notice1"], docket.OutcomeComply, "")
	f.act(f.agent, c["notice1"], workflow.Action{Type: docket.OpRemove, Target: f.message("4"),
		Reasons: statement(docket.GroundIllegal, "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH")})
	f.after(4 * time.Hour)
	f.carryOut()
	f.answer(c["notice1"])
	// The author appeals (DSA art. 20); a person who took no part upholds it a day later.
	f.after(time.Hour)
	cs, _ := f.store.Case(context.Background(), c["notice1"])
	_, ap, err := f.svc.FileAppeal(context.Background(), workflow.AppealFiling{PUID: cs.Actions[0].Statement.PUID, Appellant: docket.AppellantUser,
		Channel: docket.AppealChannelWeb, Text: "A quotation, in a report about hatred."})
	if err != nil {
		f.t.Fatal(err)
	}
	f.after(24 * time.Hour)
	f.act(f.reviewer, c["notice1"], workflow.Action{Type: workflow.ActDecideAppeal, Appeal: ap.Seq, Outcome: docket.AppealUpheld, Text: "Quoted to report on it."})
	f.carryOut()

	f.at(day(5, 10, 0))
	c["notice2"] = f.notice("FR", "This video shows cruelty to a dog.", f.message("1").Value)
	f.act(f.agent, c["notice2"], workflow.Action{Type: workflow.ActRetriage, Category: "STATEMENT_CATEGORY_ANIMAL_WELFARE", Text: "It is about animals."})
	f.decide(c["notice2"], docket.OutcomeNotActionable, "not_illegal")
	f.after(time.Hour)
	f.answer(c["notice2"])

	f.at(day(6, 9, 0))
	c["email"] = f.email("someone@mail.example", "Fake shop", "The channel sells counterfeit goods, see the post "+f.message("7").Value+" and remove it.", docket.KindRemoval)
	f.decide(c["email"], docket.OutcomeComply, "")
	f.act(f.agent, c["email"], workflow.Action{Type: docket.OpRemove, Target: f.message("1"),
		Reasons: statement(docket.GroundIncompatible, "STATEMENT_CATEGORY_SCAMS_AND_FRAUD")})
	f.after(time.Hour)
	f.carryOut()
	f.answer(c["email"])

	f.at(day(7, 9, 0))
	c["art10"] = f.submit("de-police", docket.RequestBody{Regime: "dsa-art10", Kind: docket.KindDisclosure, Reference: "A10-1",
		LegalBasis: "DSA art. 10", Redress: "Verwaltungsgericht", Targets: []docket.Target{{Kind: "username", Value: "@dora"}}})
	f.after(time.Hour)
	c["art10b"] = f.submit("de-police", docket.RequestBody{Regime: "dsa-art10", Kind: docket.KindDisclosure, Reference: "A10-2",
		LegalBasis: "DSA art. 10", Redress: "Verwaltungsgericht", Targets: []docket.Target{{Kind: "username", Value: "@emil"}}})
	f.act(f.agent, c["art10"], workflow.Action{Type: workflow.ActMerge, Case: c["art10b"], Text: "One investigation."})
	f.decide(c["art10"], docket.OutcomeRefuse, "no_legal_basis")
	f.answer(c["art10"])

	f.at(day(8, 9, 0))
	c["spam"] = f.email("win@prizes.example", "You won", "Congratulations! You have won a free iPhone. Click here to claim your prize now.", docket.KindOther)
	c["spam2"] = f.email("bonus@prizes.example", "Casino", "Congratulations, you have won a casino bonus! Click here to claim your prize.", docket.KindOther)
	f.after(time.Hour)
	f.act(f.agent, c["spam"], workflow.Action{Type: workflow.ActRetriage, Spam: new(false), Text: "A real complaint after all."})

	f.at(time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC))
	c["edge"] = f.submit("be-none", docket.RequestBody{Regime: "national-other", Kind: docket.KindDisclosure, Reference: "BE-1",
		Description: "Identity of the holder of the account.", Targets: []docket.Target{{Kind: "username", Value: "@fred"}}})

	f.at(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	c["late"] = f.submit("fr-police", docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: "PV-9",
		LegalBasis: "Article 60-1 du code de procédure pénale", Targets: []docket.Target{{Kind: "username", Value: "@gina"}}})
	return c
}
