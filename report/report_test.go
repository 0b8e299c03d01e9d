package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/report"
	"github.com/docket-dev/docket/storetest"
)

func march(t *testing.T) report.Period {
	t.Helper()
	p, err := report.ParsePeriod("2026-03-01", "2026-03-31")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func figures(rep *report.Report) map[string]string {
	out := map[string]string{}
	for _, f := range rep.Figures() {
		out[f.Path] = f.Value
	}
	return out
}

// TestReports builds a month of work with docket's workflow on each engine, the reference
// platform carrying the actions out, and checks the figures of both reports, that they are
// the same bytes when made again, and what --explain names.
func TestReports(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := setup(t, engine)
			c := scenario(f)
			ctx := context.Background()
			l, err := report.Read(ctx, f.store, 0)
			if err != nil {
				t.Fatal(err)
			}
			p := march(t)
			req, dsa := report.Requests(l, p), report.DSA(l, p, "Reference Messenger")

			t.Run("requests", func(t *testing.T) {
				got := figures(req)
				for path, want := range map[string]string{
					// Two requisitions of the French police: one answered with data, one refused.
					// The one received on 28 February and the one on 1 April are not counted.
					"requests/FR/police/requests":           "2",
					"requests/FR/police/accounts_specified": "2",
					"requests/FR/police/data_produced":      "1",
					"requests/FR/police/data_produced_pct":  "50.0",
					"requests/FR/police/refused":            "1",
					"requests/FR/police/emergencies":        "0",
					"requests/FR/prosecutor/requests":       "1",
					"requests/FR/prosecutor/removal_orders": "1",
					// The art. 10 order took in another by a merge: one request, three targets
					// with the art. 9 order's message.
					"requests/DE/police/requests":                                    "2",
					"requests/DE/police/accounts_specified":                          "3",
					"requests/DE/police/refused":                                     "1",
					"requests/US/police/requests":                                    "2",
					"requests/US/police/emergencies":                                 "2",
					"requests/US/police/emergency_median_hours":                      "2.25",
					"requests/US/police/data_produced":                               "1",
					"requests/BE/unspecified/requests":                               "1", // received at 23:59:59 on the last day
					"requests/DE/public/requests":                                    "1",
					"requests/FR/public/requests":                                    "1",
					"requests/XX/public/requests":                                    "3", // e-mails, no country
					"requests/XX/public/removal_orders":                              "1",
					"requests/ALL/all/requests":                                      "13",
					"requests/ALL/all/accounts_specified":                            "12", // one message named by a notice and an action counts once; the e-mail names another
					"requests/ALL/all/data_produced":                                 "2",
					"requests/ALL/all/data_produced_pct":                             "15.4",
					"requests/ALL/all/refused":                                       "3",
					"requests/ALL/all/removal_orders":                                "3",
					"requests/refusals/principle/fundamental_rights/refusals":        "1",
					"requests/refusals/principle/fundamental_rights/pct_of_refusals": "33.3",
					"requests/refusals/other/no_legal_basis/refusals":                "2",
					"requests/refusals/other/no_legal_basis/pct_of_refusals":         "66.7",
					"requests/emergencies/US/emergencies":                            "2",
					"requests/emergencies/US/answered":                               "2",
					"requests/emergencies/ALL/median_hours":                          "2.25", // 1.5 h and 3 h
					"requests/emergencies/ALL/p90_hours":                             "3.00",
					"requests/removals/eu-tco-removal/median_hours":                  "0.50",
					"requests/removals/dsa-art9/median_hours":                        "2.00",
					"requests/removals/national-other/removed":                       "1",
					"requests/removals/ALL/orders":                                   "3",
					"requests/removals/ALL/removed":                                  "3",
					"requests/removals/ALL/median_hours":                             "1.00",
					"requests/removals/ALL/p90_hours":                                "2.00",
				} {
					if got[path] != want {
						t.Errorf("%s = %q, want %q", path, got[path], want)
					}
				}
				if _, ok := got["requests/emergencies/FR/emergencies"]; ok {
					t.Error("a row of emergencies for a country that sent none")
				}
			})

			t.Run("dsa", func(t *testing.T) {
				got := figures(dsa)
				const risk, speech, unspecified = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
				for path, want := range map[string]string{
					"dsa/orders/" + risk + "/FR/orders_to_act":                          "1",
					"dsa/orders/" + risk + "/FR/items_to_act":                           "1",
					"dsa/orders/" + risk + "/FR/median_hours_receipt_act":               "0.00",
					"dsa/orders/" + risk + "/FR/median_hours_effect_act":                "0.50",
					"dsa/orders/" + speech + "/DE/orders_to_act":                        "1",
					"dsa/orders/" + speech + "/DE/median_hours_effect_act":              "2.00",
					"dsa/orders/" + unspecified + "/FR/orders_to_provide_information":   "2",
					"dsa/orders/" + unspecified + "/FR/median_hours_effect_info":        "0.50", // the package, 30 min after receipt; the refusal is not in it
					"dsa/orders/" + unspecified + "/DE/orders_to_provide_information":   "1",
					"dsa/orders/" + unspecified + "/DE/median_hours_effect_info":        "",
					"dsa/orders/" + unspecified + "/BE/orders_to_provide_information":   "1",
					"dsa/notices/" + speech + "/notices":                                "1",
					"dsa/notices/" + speech + "/median_hours_action":                    "4.00",
					"dsa/notices/" + speech + "/actions_law":                            "1",
					"dsa/notices/" + speech + "/actions_tc":                             "0",
					"dsa/notices/" + speech + "/notices_tf":                             "0",
					"dsa/notices/STATEMENT_CATEGORY_ANIMAL_WELFARE/notices":             "1", // the category a person corrected
					"dsa/notices/STATEMENT_CATEGORY_ANIMAL_WELFARE/median_hours_action": "",
					"dsa/notices_by_submitter/public/notices":                           "2",
					"dsa/notices_by_submitter/public/acted_on":                          "1",
					"dsa/notices_by_submitter/public/median_hours_answer":               "2.50",
					"dsa/own_initiative_tc/STATEMENT_CATEGORY_SCAMS_AND_FRAUD/measures": "1",
					"dsa/own_initiative_tc/STATEMENT_CATEGORY_SCAMS_AND_FRAUD/removal":  "1",
					"dsa/own_initiative_tc/STATEMENT_CATEGORY_SCAMS_AND_FRAUD/demoted":  "0",
					"dsa/complaints/complaints/value":                                   "1",
					"dsa/complaints/complaints_illegal/value":                           "1",
					"dsa/complaints/complaints_tc/value":                                "0",
					"dsa/complaints/decisions_reversed/value":                           "1",
					"dsa/complaints/decisions_upheld/value":                             "0",
					"dsa/complaints/complaints_pending/value":                           "0",
					"dsa/complaints/median_hours_to_decide/value":                       "24.00",
					"dsa/complaints/disputes/value":                                     "",
					"dsa/automated/triage/cases/value":                                  "13",
					"dsa/automated/triage/spam/corrected/value":                         "1",
					"dsa/automated/triage/spam/accuracy/value":                          "0.923",
					"dsa/automated/triage/category/corrected/value":                     "1",
					"dsa/automated/triage/regime/accuracy/value":                        "1.000",
					"dsa/automated/rules/acknowledged/value":                            "2",
					"dsa/automated/rules/closed/value":                                  "2",
					"dsa/automated/rules/closed_corrected/value":                        "1",
					"dsa/automated/rules/closed_accuracy/value":                         "0.500",
				} {
					if v, ok := got[path]; !ok || v != want {
						t.Errorf("%s = %q (present %v), want %q", path, v, ok, want)
					}
				}
				for path := range got {
					if strings.HasPrefix(path, "dsa/orders/") && strings.Contains(path, "/US/") {
						t.Errorf("an order from outside the EU in the DSA report: %s", path)
					}
					if strings.HasPrefix(path, "dsa/own_initiative_illegal/") {
						t.Errorf("an own-initiative measure against illegal content: %s", path)
					}
				}
			})

			t.Run("deterministic", func(t *testing.T) {
				again, err := report.Read(ctx, f.store, 0)
				if err != nil {
					t.Fatal(err)
				}
				p2 := march(t)
				for _, pair := range [][2]*report.Report{{req, report.Requests(again, p2)}, {dsa, report.DSA(again, p2, "Reference Messenger")}} {
					for name, write := range map[string]func(*report.Report, *bytes.Buffer) error{
						"csv":  func(r *report.Report, b *bytes.Buffer) error { return r.WriteCSV(b) },
						"html": func(r *report.Report, b *bytes.Buffer) error { return r.WriteHTML(b) },
						"json": func(r *report.Report, b *bytes.Buffer) error { return r.WriteJSON(b) },
					} {
						var a, b bytes.Buffer
						if err := write(pair[0], &a); err != nil {
							t.Fatal(err)
						}
						if err := write(pair[1], &b); err != nil {
							t.Fatal(err)
						}
						if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
							t.Errorf("%s %s differs when made again (%d and %d bytes)", pair[0].Name, name, a.Len(), b.Len())
						}
					}
				}
			})

			t.Run("explain", func(t *testing.T) {
				for path, want := range map[string][]string{
					"requests/FR/police/requests":                           {c["disclose"], c["refuse"]},
					"requests/FR/police/data_produced":                      {c["disclose"]},
					"requests/refusals/other/no_legal_basis/refusals":       {c["refuse"], c["art10"]},
					"requests/emergencies/ALL/p90_hours":                    {c["emerg1"], c["emerg2"]},
					"requests/DE/police/accounts_specified":                 {c["art9"], c["art10"]},
					"dsa/automated/rules/closed_corrected/value":            {c["spam"]},
					"dsa/notices/STATEMENT_CATEGORY_ANIMAL_WELFARE/notices": {c["notice2"]},
				} {
					fig, err := req.Explain(path)
					if strings.HasPrefix(path, "dsa/") {
						fig, err = dsa.Explain(path)
					}
					if err != nil {
						t.Fatal(err)
					}
					var ids []string
					for _, r := range fig.Refs {
						ids = append(ids, r.Case)
						if len(r.Events) == 0 {
							t.Errorf("%s: case %s with no event", path, r.Case)
						}
					}
					if !slices.Equal(ids, want) {
						t.Errorf("%s rests on %v, want %v", path, ids, want)
					}
				}
				// The refused case's refusal: its decided event, named by seq and type.
				fig, _ := req.Explain("requests/refusals/principle/fundamental_rights/refusals")
				var b bytes.Buffer
				report.WriteExplain(&b, fig)
				if !strings.Contains(b.String(), "case "+c["emerg2"]+": ") || !strings.Contains(b.String(), " decided 2026-03-04T15:00:00Z") {
					t.Errorf("explain:\n%s", b.String())
				}
				// The merged case answers for the merged one: the receipt of its request is there.
				fig, _ = req.Explain("requests/DE/police/accounts_specified")
				if n := len(fig.Refs[1].Events); n < 3 {
					t.Errorf("the art. 10 order's targets rest on %d events, want its two receipts and its merge: %+v", n, fig.Refs[1])
				}
				if _, err := req.Explain("requests/FR/army/requests"); err == nil || !strings.Contains(err.Error(), "--figures") {
					t.Errorf("an unknown figure: %v", err)
				}
			})

			t.Run("period", func(t *testing.T) {
				for _, tc := range []struct {
					from, to string
					want     map[string]string
				}{
					{"2026-02-28", "2026-02-28", map[string]string{"requests/ALL/all/requests": "1", "requests/FR/police/refused": "1"}},
					{"2026-03-31", "2026-03-31", map[string]string{"requests/ALL/all/requests": "1", "requests/BE/unspecified/requests": "1"}},
					{"2026-04-01", "2026-04-30", map[string]string{"requests/ALL/all/requests": "1", "requests/FR/police/requests": "1"}},
					{"2026-03-02", "2026-03-02", map[string]string{"requests/ALL/all/requests": "1", "requests/FR/prosecutor/requests": "1"}},
					{"2027-01-01", "2027-12-31", map[string]string{"requests/ALL/all/requests": ""}},
				} {
					p, err := report.ParsePeriod(tc.from, tc.to)
					if err != nil {
						t.Fatal(err)
					}
					got := figures(report.Requests(l, p))
					for path, want := range tc.want {
						if got[path] != want {
							t.Errorf("%s to %s: %s = %q, want %q", tc.from, tc.to, path, got[path], want)
						}
					}
				}
			})

			t.Run("upto", func(t *testing.T) {
				// The log as it was before the first emergency was answered.
				var seq int64
				fig, _ := req.Explain("requests/emergencies/US/answered")
				for _, e := range fig.Refs[0].Events {
					if e.Type == "answered" {
						seq = e.Seq
					}
				}
				then, err := report.Read(ctx, f.store, seq-1)
				if err != nil {
					t.Fatal(err)
				}
				if then.HeadSeq != seq-1 || then.Events != seq-1 {
					t.Fatalf("read up to %d: head %d, %d events", seq-1, then.HeadSeq, then.Events)
				}
				got := figures(report.Requests(then, p))
				if got["requests/emergencies/US/emergencies"] != "1" || got["requests/emergencies/US/answered"] != "0" || got["requests/emergencies/US/median_hours"] != "" {
					t.Errorf("as of event %d: %v", seq-1, got)
				}
				if _, err := report.Read(ctx, f.store, l.HeadSeq+1); err == nil {
					t.Error("a report beyond the end of the log")
				}
			})

			t.Run("formats", func(t *testing.T) {
				dir := t.TempDir()
				files, err := dsa.WriteCSVDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, f := range files {
					names = append(names, filepath.Base(f))
				}
				want := []string{"1_report_identification.csv", "3_member_states_orders.csv", "4_notices.csv", "docket_notices_by_submitter.csv",
					"5_own_initiative_illegal.csv", "6_own_initiative_TC.csv", "7_appeals_and_recidivism.csv", "8_automated_means.csv"}
				if !slices.Equal(names, want) {
					t.Fatalf("files %v, want %v", names, want)
				}
				b, _ := os.ReadFile(filepath.Join(dir, "3_member_states_orders.csv"))
				if !bytes.Contains(b, []byte("\r\n")) {
					t.Error("RFC 4180 wants CRLF line ends")
				}
				recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if len(recs[0]) != 20 || recs[0][6] != "Number of orders to act against illegal content received" || recs[1][2] != "2026-03-01/2026-03-31" || recs[1][1] != "Reference Messenger" {
					t.Errorf("header %q, first row %q", recs[0], recs[1])
				}
				var js struct {
					Report string
					Log    struct {
						HeadSeq int64 `json:"head_seq"`
					}
					Tables []struct{ Name string }
				}
				var jb bytes.Buffer
				req.WriteJSON(&jb)
				if err := json.Unmarshal(jb.Bytes(), &js); err != nil || js.Report != "requests" || js.Log.HeadSeq != l.HeadSeq || len(js.Tables) != 4 {
					t.Errorf("json %+v (%v)", js, err)
				}
				var hb bytes.Buffer
				dsa.WriteHTML(&hb)
				for _, s := range []string{"<svg", "<rect", "Orders from member states", "Number of initial decisions reversed", "docket records no out-of-court disputes", "Trusted flaggers: notices sent with"} {
					if !strings.Contains(hb.String(), s) {
						t.Errorf("the DSA page lacks %q", s)
					}
				}
			})
		})
	}
}

func TestParsePeriod(t *testing.T) {
	for _, tc := range []struct{ from, to, err string }{
		{"2025-01-01", "2025-12-31", ""},
		{"", "2025-12-31", "--from is required"},
		{"2025-01-01", "", "--to is required"},
		{"2025-13-01", "2025-12-31", `--from "2025-13-01": want a day as YYYY-MM-DD`},
		{"2025-01-01", "31/12/2025", `--to "31/12/2025": want a day as YYYY-MM-DD`},
		{"2025-12-31", "2025-01-01", "--from 2025-12-31 is after --to 2025-01-01"},
	} {
		p, err := report.ParsePeriod(tc.from, tc.to)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s..%s: %v", tc.from, tc.to, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s..%s: %v, want %q", tc.from, tc.to, err, tc.err)
		case tc.err == "":
			last := time.Date(2025, 12, 31, 23, 59, 59, 999999000, time.UTC)
			if !p.Contains(last) || p.Contains(last.Add(time.Microsecond)) || p.Contains(p.From.Add(-time.Microsecond)) || !p.Contains(p.From) {
				t.Errorf("%v: bounds", p)
			}
		}
	}
}
