package ncmec_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/evidence"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/ncmec"
	"github.com/docket-dev/docket/ncmec/ncmectest"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

const minors = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"

// bench is docket's service on a real store with NCMEC reporting on, a clock the test moves,
// the job runner, and the double of the CyberTipline API.
type bench struct {
	t        *testing.T
	store    docket.Store
	svc      *workflow.Service
	runner   *jobs.Runner
	api      *ncmectest.Server
	sender   *ncmec.Sender
	agent    *docket.User
	reviewer *docket.User
	mu       sync.Mutex
	now      time.Time
}

func (b *bench) Now() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }

func (b *bench) advance(d time.Duration) { b.mu.Lock(); b.now = b.now.Add(d); b.mu.Unlock() }

func setup(t *testing.T, engine string) *bench {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := &bench{t: t, store: storetest.Open(t, engine), now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	b.svc = workflow.New(workflow.Config{Store: b.store, Now: b.Now, Logger: log, NCMEC: true, AppealKey: []byte("appeal key of the test")})
	b.svc.Start(ctx)
	t.Cleanup(b.svc.Stop)
	b.agent = &docket.User{Email: "agent@x.org", Role: docket.RoleAgent}
	b.reviewer = &docket.User{Email: "reviewer@x.org", Role: docket.RoleReviewer}
	for _, u := range []*docket.User{b.agent, b.reviewer} {
		if _, err := b.svc.AddUser(ctx, "test", u); err != nil {
			t.Fatal(err)
		}
	}
	keeper, err := evidence.LoadOrCreateKey(filepath.Join(t.TempDir(), "evidence.key"))
	if err != nil {
		t.Fatal(err)
	}
	b.api = ncmectest.New("esp-user", "esp-password")
	t.Cleanup(b.api.Close)
	b.sender = &ncmec.Sender{Service: b.svc, Store: b.store, Keeper: keeper, Logger: log,
		Client: &ncmec.Client{BaseURL: b.api.URL, User: "esp-user", Password: "esp-password", HTTP: &http.Client{Timeout: 5 * time.Second}},
		Info: ncmec.Info{Platform: "Reference Messenger", FirstName: "Trust", LastName: "Safety", Email: "cybertip@platform.example",
			CompanyTemplate: "Legal process: legal@platform.example. Data kept 1 year."}}
	b.runner = jobs.New(jobs.Config{Store: b.store, Now: b.Now, Logger: log, Batch: 64})
	b.sender.Register(b.runner)
	return b
}

// notice files a public notice with n pictures, decides to comply and removes the message it
// names with a statement of reasons in the category of minors: the report is queued.
func (b *bench) notice(n int) string {
	b.t.Helper()
	ctx := context.Background()
	body := docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "Abuse pictures of a child in a public channel."}
	var blobs []docket.Blob
	for i := range n {
		data := []byte(fmt.Sprintf("picture %d of %s", i, b.t.Name()))
		sum := evidence.SHA256(data)
		body.Attachments = append(body.Attachments, docket.Attachment{SHA256: sum, Filename: fmt.Sprintf("p%d.jpg", i), ContentType: "image/jpeg", Size: int64(len(data))})
		blobs = append(blobs, docket.Blob{SHA256: sum, Data: data})
	}
	res, err := b.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(b.t.Name()), Body: body, Blobs: blobs})
	if err != nil {
		b.t.Fatal(err)
	}
	id := res.Receipt.CaseID
	b.act(b.agent, id, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "Apparent child sexual abuse material."})
	b.act(b.agent, id, workflow.Action{Type: docket.OpRemove, Target: &docket.Target{Kind: "message", Value: "https://messenger.example/m/77"},
		Reasons: &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "18 U.S.C. 2252A", Explanation: "Child sexual abuse material.",
			Facts: "Pictures reported by a notice.", Category: minors}})
	return id
}

func (b *bench) act(u *docket.User, id string, a workflow.Action) *docket.Case {
	b.t.Helper()
	c, _, err := b.svc.Act(context.Background(), u, id, a)
	if err != nil {
		b.t.Fatalf("%s: %v", a.Type, err)
	}
	return c
}

func (b *bench) kase(id string) *docket.Case {
	b.t.Helper()
	c, err := b.store.Case(context.Background(), id)
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// events lists the types of the case's NCMEC events and holds, in order.
func (b *bench) events(id string) []string {
	b.t.Helper()
	evs, err := b.store.CaseEvents(context.Background(), id)
	if err != nil {
		b.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if strings.HasPrefix(string(e.Type), "ncmec_") || e.Type == docket.EventHoldPlaced {
			out = append(out, string(e.Type))
		}
	}
	return out
}

func (b *bench) verify() {
	b.t.Helper()
	if _, err := audit.Verify(context.Background(), b.store, 0, ""); err != nil {
		b.t.Fatalf("audit verify: %v", err)
	}
}

// TestReportSent: a decided child-protection case with two pictures is reported — one
// /submit, each picture uploaded and described, /finish — every step an event on the case,
// the pictures sealed and held a year, and the audit verifies.
func TestReportSent(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			b := setup(t, engine)
			id := b.notice(2)
			c := b.kase(id)
			if c.NCMEC == nil || c.NCMEC.State != docket.NCMECQueued || len(c.NCMEC.Files) != 2 {
				t.Fatalf("report not queued with the decision's action: %+v", c.NCMEC)
			}
			b.runner.RunDue(context.Background())

			c = b.kase(id)
			r := c.NCMEC
			if r.State != docket.NCMECFinished || r.ReportID == 0 || r.Failures != 0 {
				t.Fatalf("report %+v", r)
			}
			reps := b.api.Reports()
			if len(reps) != 1 || reps[0].ID != r.ReportID || !reps[0].Finished || len(reps[0].Files) != 2 {
				t.Fatalf("NCMEC holds %+v", reps)
			}
			for i, f := range reps[0].Files {
				if f.Details == nil || r.Files[i].FileID != f.ID || r.Files[i].MD5 != f.MD5 || !r.Files[i].Described {
					t.Errorf("file %d: NCMEC %+v, case %+v", i, f, r.Files[i])
				}
				if !strings.Contains(string(f.Details), "<fileViewedByEsp>true</fileViewedByEsp>") || !strings.Contains(string(f.Details), `hashType="SHA256"`) {
					t.Errorf("details %s", f.Details)
				}
			}
			x := string(reps[0].XML)
			for _, want := range []string{"<incidentType>" + ncmec.IncidentCSAM + "</incidentType>", "<incidentDateTime>2026-12-03T09:00:00Z</incidentDateTime>",
				"<url>https://messenger.example/m/77</url>", "<email>cybertip@platform.example</email>", "docket case " + id} {
				if !strings.Contains(x, want) {
					t.Errorf("the report lacks %s:\n%s", want, x)
				}
			}
			if r.SHA256 != evidence.SHA256(reps[0].XML) {
				t.Errorf("the case records SHA-256 %s of another report", r.SHA256)
			}
			want := []string{"ncmec_report_queued", "ncmec_report_opened", "hold_placed", "hold_placed", "ncmec_file_uploaded", "ncmec_file_described",
				"ncmec_file_uploaded", "ncmec_file_described", "ncmec_report_finished"}
			if got := b.events(id); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("events %v, want %v", got, want)
			}
			if len(c.Holds) != 2 {
				t.Fatalf("holds %+v", c.Holds)
			}
			for _, h := range c.Holds {
				if !h.Until.Equal(b.Now().Add(ncmec.Hold)) || !strings.Contains(h.Basis, fmt.Sprint(r.ReportID)) || h.Blob == h.SHA256 {
					t.Errorf("hold %+v", h)
				}
			}
			// Run again: nothing more is sent.
			b.runner.RunDue(context.Background())
			if n := b.api.Calls("/submit") + b.api.Calls("/finish"); n != 2 {
				t.Errorf("%d calls of /submit and /finish, want 2", n)
			}
			b.verify()
		})
	}
}

// TestReportResumed: an upload fails (NCMEC's server error); the failure is an event with
// NCMEC's code, and the job runner's retry resumes at the upload: the report is submitted
// once and finished once.
func TestReportResumed(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			b := setup(t, engine)
			ctx := context.Background()
			id := b.notice(2)
			b.api.Fail("/fileinfo", ncmectest.Fault{Status: http.StatusOK}) // the first details: an HTTP 200 that is no XML
			b.api.Fail("/upload", ncmectest.Fault{Status: http.StatusInternalServerError, Code: ncmec.CodeServerError})
			b.runner.RunDue(ctx)
			c := b.kase(id)
			if c.NCMEC.State != docket.NCMECOpen || c.NCMEC.Failures != 1 || c.NCMEC.Code != ncmec.CodeServerError {
				t.Fatalf("after the failed upload: %+v", c.NCMEC)
			}
			b.runner.RunDue(ctx) // not due yet
			if b.api.Calls("/upload") != 1 {
				t.Fatalf("retried before its time: %d uploads", b.api.Calls("/upload"))
			}
			b.advance(time.Minute)
			b.runner.RunDue(ctx) // the upload goes; its details fail (no XML answer)
			c = b.kase(id)
			if c.NCMEC.State != docket.NCMECOpen || c.NCMEC.Failures != 2 || c.NCMEC.Files[0].FileID == "" || c.NCMEC.Files[0].Described {
				t.Fatalf("after the failed details: %+v", c.NCMEC)
			}
			b.advance(time.Minute)
			b.runner.RunDue(ctx)
			c = b.kase(id)
			if c.NCMEC.State != docket.NCMECFinished {
				t.Fatalf("not finished: %+v", c.NCMEC)
			}
			if s, u, f := b.api.Calls("/submit"), b.api.Calls("/upload"), b.api.Calls("/finish"); s != 1 || u != 3 || f != 1 {
				t.Errorf("/submit %d, /upload %d, /finish %d times; want 1, 3, 1", s, u, f)
			}
			reps := b.api.Reports()
			if len(reps) != 1 || len(reps[0].Files) != 2 || !reps[0].Finished {
				t.Fatalf("NCMEC holds %+v", reps)
			}
			evs, _ := b.store.CaseEvents(ctx, id)
			var failed []string
			for _, e := range evs {
				if e.Type == docket.EventNCMECFailed {
					failed = append(failed, string(e.Data))
				}
			}
			if len(failed) != 2 || !strings.Contains(failed[0], `"step":"upload"`) || !strings.Contains(failed[0], `"code":1000`) ||
				!strings.Contains(failed[0], `"status":500`) || !strings.Contains(failed[1], `"step":"fileinfo"`) || strings.Contains(failed[0], `"final"`) {
				t.Errorf("failures %v", failed)
			}
			b.verify()
		})
	}
}

// TestWrongCredentials: NCMEC refuses the credentials; the refusal (HTTP 401, code 2000) is
// recorded on the case and retried; once the operator corrects them, the report goes.
func TestWrongCredentials(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			b := setup(t, engine)
			ctx := context.Background()
			b.sender.Client.Password = "wrong"
			id := b.notice(1)
			b.runner.RunDue(ctx)
			c := b.kase(id)
			if r := c.NCMEC; r.State != docket.NCMECQueued || r.Failures != 1 || r.Code != ncmec.CodeAuthenticationRequired || !strings.Contains(r.Error, "ncmec_password") {
				t.Fatalf("after wrong credentials: %+v", r)
			}
			if len(b.api.Reports()) != 0 {
				t.Fatal("a report was opened with wrong credentials")
			}
			b.sender.Client.Password = "esp-password"
			b.advance(time.Minute)
			b.runner.RunDue(ctx)
			if r := b.kase(id).NCMEC; r.State != docket.NCMECFinished || len(b.api.Reports()) != 1 {
				t.Fatalf("after correcting them: %+v", r)
			}
			b.verify()
		})
	}
}

// TestRetractedAfterAppeal: the report stays open while an upload fails; an upheld appeal
// reverts the removal, which asks for the report's retraction: /retract, recorded, and the
// report job stops.
func TestRetractedAfterAppeal(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			b := setup(t, engine)
			ctx := context.Background()
			id := b.notice(1)
			b.api.Fail("/upload", ncmectest.Fault{Status: http.StatusServiceUnavailable})
			b.runner.RunDue(ctx)
			c := b.kase(id)
			if c.NCMEC.State != docket.NCMECOpen {
				t.Fatalf("%+v", c.NCMEC)
			}
			act := c.Actions[0]
			err := b.svc.Change(ctx, id, docket.ActorPlatform, func(tx docket.Tx, cs *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
				_, err := rec(docket.EventActionDone, docket.ActionDone{Action: act.Seq, Op: act.Op, EffectiveAt: b.Now()})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			_, ap, err := b.svc.FileAppeal(ctx, workflow.AppealFiling{PUID: act.Statement.PUID, Appellant: docket.AppellantUser, Channel: docket.AppealChannelWeb, Text: "It is a drawing."})
			if err != nil {
				t.Fatal(err)
			}
			b.act(b.reviewer, id, workflow.Action{Type: workflow.ActDecideAppeal, Appeal: ap.Seq, Outcome: docket.AppealUpheld, Text: "Not what it seemed."})
			if r := b.kase(id).NCMEC; r.Retract == 0 {
				t.Fatalf("no retraction asked for: %+v", r)
			}
			b.advance(time.Hour)
			b.runner.RunDue(ctx)
			c = b.kase(id)
			reps := b.api.Reports()
			if c.NCMEC.State != docket.NCMECRetracted || len(reps) != 1 || !reps[0].Retracted || len(reps[0].Files) != 0 {
				t.Fatalf("case %+v, NCMEC %+v", c.NCMEC, reps)
			}
			b.verify()
		})
	}
}

// TestNotReported: nothing is queued without NCMEC reporting on, nor for a case outside
// child protection.
func TestNotReported(t *testing.T) {
	b := setup(t, "sqlite")
	res, err := b.svc.Submit(context.Background(), &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte("x"),
		Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "A counterfeit bag."}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Receipt.CaseID
	b.act(b.agent, id, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeComply, Statement: "Counterfeit."})
	b.act(b.agent, id, workflow.Action{Type: docket.OpRemove, Target: &docket.Target{Kind: "message", Value: "9"},
		Reasons: &docket.StatementOfReasons{DecisionGround: docket.GroundIllegal, LegalGround: "Trade mark law", Explanation: "Counterfeit.", Facts: "Notice."}})
	if c := b.kase(id); c.NCMEC != nil {
		t.Fatalf("queued for a counterfeit: %+v", c.NCMEC)
	}
}

// TestValidation: the checks the double shares with docket refuse what the API refuses, and
// the client reads the API's codes.
func TestValidation(t *testing.T) {
	good := `<?xml version="1.0" encoding="UTF-8"?><report><incidentSummary><incidentType>Child Sex Trafficking</incidentType>` +
		`<incidentDateTime>2026-01-02T03:04:05-05:00</incidentDateTime></incidentSummary><reporter><reportingPerson><email>a@b.example</email></reportingPerson></reporter></report>`
	if err := ncmec.ValidateReport([]byte(good)); err != nil {
		t.Fatalf("good report refused: %v", err)
	}
	for name, bad := range map[string]string{
		"malformed":      `<report><incidentSummary>`,
		"other root":     `<fileDetails/>`,
		"no type":        strings.Replace(good, "<incidentType>Child Sex Trafficking</incidentType>", "", 1),
		"unknown type":   strings.Replace(good, "Child Sex Trafficking", "Spam", 1),
		"no time":        strings.Replace(good, "<incidentDateTime>2026-01-02T03:04:05-05:00</incidentDateTime>", "", 1),
		"bad time":       strings.Replace(good, "2026-01-02T03:04:05-05:00", "yesterday", 1),
		"out of order":   strings.Replace(strings.Replace(good, "<reporter><reportingPerson><email>a@b.example</email></reportingPerson></reporter>", "", 1), "<report>", "<report><reporter><reportingPerson/></reporter>", 1),
		"unknown":        strings.Replace(good, "</report>", "<mood>bad</mood></report>", 1),
		"no reporter":    strings.Replace(good, "<reporter><reportingPerson><email>a@b.example</email></reportingPerson></reporter>", "", 1),
		"summary twice":  strings.Replace(good, "</incidentSummary>", "</incidentSummary><incidentSummary/>", 1),
		"two roots":      good + "<report/>",
		"text at top":    good + "text",
		"wrong sequence": strings.Replace(good, "<incidentType>Child Sex Trafficking</incidentType><incidentDateTime>2026-01-02T03:04:05-05:00</incidentDateTime>", "<incidentDateTime>2026-01-02T03:04:05-05:00</incidentDateTime><incidentType>Child Sex Trafficking</incidentType>", 1),
	} {
		if err := ncmec.ValidateReport([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "malformed" && !errors.Is(err, ncmec.ErrMalformed) {
			t.Errorf("malformed: %v is not ErrMalformed", err)
		}
	}
	details := `<fileDetails><reportId>7</reportId><fileId>f1</fileId><fileViewedByEsp>false</fileViewedByEsp><fileRelevance>Reported</fileRelevance><originalFileHash hashType="MD5">abc</originalFileHash></fileDetails>`
	if id, f, err := ncmec.ValidateFileDetails([]byte(details)); err != nil || id != 7 || f != "f1" {
		t.Fatalf("good details: %d %q %v", id, f, err)
	}
	for name, bad := range map[string]string{
		"no report":  strings.Replace(details, "<reportId>7</reportId>", "", 1),
		"bad report": strings.Replace(details, ">7<", ">seven<", 1),
		"no file":    strings.Replace(details, "<fileId>f1</fileId>", "", 1),
		"bad bool":   strings.Replace(details, ">false<", ">no<", 1),
		"relevance":  strings.Replace(details, ">Reported<", ">Important<", 1),
		"hash type":  strings.Replace(details, ` hashType="MD5"`, "", 1),
	} {
		if _, _, err := ncmec.ValidateFileDetails([]byte(bad)); err == nil {
			t.Errorf("details %s: accepted", name)
		}
	}

	api := ncmectest.New("u", "p")
	defer api.Close()
	ctx := context.Background()
	cl := &ncmec.Client{BaseURL: api.URL, User: "u", Password: "p"}
	if err := cl.Status(ctx); err != nil {
		t.Fatalf("status: %v", err)
	}
	var ae *ncmec.Error
	if _, err := cl.Submit(ctx, []byte(strings.Replace(good, "Child Sex Trafficking", "Spam", 1))); !errors.As(err, &ae) || ae.Code != ncmec.CodeValidationFailed || !ae.Permanent() {
		t.Errorf("invalid report: %v", err)
	}
	if _, err := cl.Submit(ctx, []byte("<report>")); !errors.As(err, &ae) || ae.Code != ncmec.CodeMalformedXML {
		t.Errorf("malformed report: %v", err)
	}
	if _, _, err := cl.Upload(ctx, 99, "x.jpg", []byte("x")); !errors.As(err, &ae) || ae.Code != ncmec.CodeNoSuchReport || !ae.Permanent() {
		t.Errorf("upload to no report: %v", err)
	}
	id, err := cl.Submit(ctx, []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.FileInfo(ctx, []byte(strings.Replace(details, ">7<", fmt.Sprintf(">%d<", id), 1))); !errors.As(err, &ae) || ae.Code != ncmec.CodeNoSuchFile {
		t.Errorf("details of no file: %v", err)
	}
	if _, err := cl.Finish(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Finish(ctx, id); !errors.As(err, &ae) || ae.Code != ncmec.CodeAlreadyFinished {
		t.Errorf("second finish: %v", err)
	}
	if err := cl.Retract(ctx, id); !errors.As(err, &ae) || ae.Code != ncmec.CodeAlreadyFinished {
		t.Errorf("retract of a finished report: %v", err)
	}
	bad := &ncmec.Client{BaseURL: api.URL, User: "u", Password: "x"}
	if err := bad.Status(ctx); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || !ae.Credentials() || ae.Permanent() {
		t.Errorf("wrong credentials: %v", err)
	}
}
