package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/report"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// TestTrustedFlaggersApart: a trusted flagger's notice is counted in the notices' totals
// and apart in the trusted flaggers' columns, and under its own submitter; a notice of the
// same flagger while its status is suspended is an ordinary one.
func TestTrustedFlaggersApart(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t, engine)
			f.at(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
			fl, _, err := f.svc.RegisterFlagger(ctx, "test", workflow.FlaggerSpec{Name: "Hotline", Coordinator: "BNetzA (DE)", Areas: []string{"ILLEGAL_OR_HARMFUL_SPEECH"}})
			if err != nil {
				t.Fatal(err)
			}
			flag := func(text, location string) string {
				res, err := f.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(text), Flagger: fl,
					Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: text, Country: "DE",
						Targets:  []docket.Target{{Kind: "url", Value: location}},
						Notifier: &docket.Notifier{Name: "Analyst", Email: "desk@hotline.example", GoodFaith: true}}})
				if err != nil {
					t.Fatal(err)
				}
				return res.Receipt.CaseID
			}
			tf := flag("This message incites hatred against a religious minority.", f.message("4").Value)
			f.act(f.agent, tf, workflow.Action{Type: workflow.ActRetriage, Category: "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", Text: "speech"})
			f.decide(tf, docket.OutcomeComply, "")
			f.act(f.agent, tf, workflow.Action{Type: docket.OpRemove, Target: f.message("4"),
				Reasons: statement(docket.GroundIllegal, "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH")})
			f.after(2 * time.Hour)
			f.carryOut()
			f.answer(tf)
			plain := f.notice("DE", "This message incites hatred against a religious minority, again.", f.message("1").Value)
			f.act(f.agent, plain, workflow.Action{Type: workflow.ActRetriage, Category: "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", Text: "speech"})
			if _, err := f.svc.ChangeFlagger(ctx, "test", fl.ID, workflow.FlaggerChange{Status: docket.FlaggerSuspended, Until: f.Now().Add(48 * time.Hour), Reason: "investigation"}); err != nil {
				t.Fatal(err)
			}
			flag("Another message, sent while the status is suspended.", f.message("2").Value)

			l, err := report.Read(ctx, f.store, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := figures(report.DSA(l, march(t), "Reference Messenger"))
			const speech = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
			for path, want := range map[string]string{
				"dsa/notices/" + speech + "/notices":                   "2",
				"dsa/notices/" + speech + "/notices_tf":                "1",
				"dsa/notices/" + speech + "/actions_law_tf":            "1",
				"dsa/notices/" + speech + "/median_hours_action_tf":    "2.00",
				"dsa/notices_by_submitter/trusted_flagger/notices":     "1",
				"dsa/notices_by_submitter/trusted_flagger/acted_on":    "1",
				"dsa/notices_by_submitter/public/notices":              "1",
				"dsa/notices_by_submitter/flagger_not_trusted/notices": "1",
			} {
				if v, ok := got[path]; !ok || v != want {
					t.Errorf("%s = %q (present %v), want %q", path, v, ok, want)
				}
			}
		})
	}
}
