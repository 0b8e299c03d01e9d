package ncmec

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/evidence"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/workflow"
)

// Hold is how long reported content is kept: one year (18 U.S.C. § 2258A(h), as amended by
// the REPORT Act, 2024).
const Hold = 365 * 24 * time.Hour

// Info is what the report says of the provider: the platform, the person NCMEC and law
// enforcement contact, and the texts the provider adds to every report.
type Info struct {
	Platform        string // the service where the content was (incidentSummary/platform, espService)
	FirstName       string
	LastName        string
	Email           string
	CompanyTemplate string // how to serve legal process, retention, 24-hour contact…
	TermsOfService  string
	LegalURL        string
}

// Sender runs the jobs of the CyberTipline reports.
type Sender struct {
	Service *workflow.Service
	Store   docket.Store
	Client  *Client
	// Keeper seals the copies of the reported files kept for a year.
	Keeper *evidence.Keeper
	Info   Info
	Logger *slog.Logger
}

// Register adds the jobs to a runner.
func (r *Sender) Register(run *jobs.Runner) {
	run.Handle(workflow.JobNCMECReport, r.Report)
	run.Handle(workflow.JobNCMECRetract, r.Retract)
}

func (r *Sender) log() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// Report sends a case's queued report, resuming after the last step its events record:
// /submit (once: a report with an id is never submitted again), /upload of each file not
// uploaded, /fileinfo of each file not described, /finish. Each step is recorded on the case
// as soon as NCMEC answered; a failure is recorded with NCMEC's answer and retried by the job
// runner, unless retrying cannot mend it.
func (r *Sender) Report(ctx context.Context, j *docket.Job) error {
	var p workflow.NCMECJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return fmt.Errorf("ncmec job payload: %w", err)
	}
	c, err := r.Store.Case(ctx, p.CaseID)
	if err != nil {
		return fmt.Errorf("ncmec report of case %s: %w", p.CaseID, err)
	}
	rep := c.NCMEC
	if rep == nil || !rep.Pending() || rep.Retract != 0 {
		return nil // sent, failed for good, or to be retracted
	}
	if rep.ReportID == 0 {
		if err := r.submit(ctx, j, c); err != nil {
			return err
		}
		if c, err = r.Store.Case(ctx, p.CaseID); err != nil {
			return fmt.Errorf("ncmec report of case %s: %w", p.CaseID, err)
		}
		if rep = c.NCMEC; rep.State != docket.NCMECOpen {
			return nil
		}
	}
	for _, f := range rep.Files {
		if f.FileID != "" {
			continue
		}
		blob, err := r.Store.Blob(ctx, f.SHA256)
		if err != nil {
			return r.failed(ctx, j, c.ID, "upload", permanent(fmt.Errorf("file %s: %w", f.SHA256, err)))
		}
		fileID, md5, err := r.Client.Upload(ctx, rep.ReportID, cmp.Or(f.Filename, f.SHA256), blob.Data)
		if err != nil {
			return r.failed(ctx, j, c.ID, "upload", err)
		}
		if err := r.record(ctx, c.ID, docket.EventNCMECUploaded, docket.NCMECUploadedData{ReportID: rep.ReportID, SHA256: f.SHA256, FileID: fileID, MD5: md5}); err != nil {
			return err
		}
		f.FileID, f.MD5 = fileID, md5
		if err := r.describe(ctx, j, c, rep.ReportID, f); err != nil {
			return err
		}
		f.Described = true
	}
	for _, f := range rep.Files {
		if f.FileID != "" && !f.Described {
			if err := r.describe(ctx, j, c, rep.ReportID, f); err != nil {
				return err
			}
		}
	}
	files, err := r.Client.Finish(ctx, rep.ReportID)
	already := false
	var ae *Error
	if errors.As(err, &ae) && ae.Code == CodeAlreadyFinished {
		err, already = nil, true // an earlier /finish whose answer was lost
	}
	if err != nil {
		return r.failed(ctx, j, c.ID, "finish", err)
	}
	if err := r.record(ctx, c.ID, docket.EventNCMECFinished, docket.NCMECFinishedData{ReportID: rep.ReportID, Files: files, Already: already}); err != nil {
		return err
	}
	r.log().InfoContext(ctx, "CyberTipline report finished", slog.String("case", c.ID), slog.Int64("report", rep.ReportID), slog.Int("files", len(rep.Files)))
	return nil
}

// submit builds the report, checks it by the API's rules and opens it; NCMEC's report id,
// the report as sent and the holds on the reported files are recorded in one transaction.
func (r *Sender) submit(ctx context.Context, j *docket.Job, c *docket.Case) error {
	if r.Keeper == nil {
		return r.failed(ctx, j, c.ID, "build", permanent(errors.New("no evidence key: the reported files could not be kept a year")))
	}
	report, err := Build(c, r.Info, r.Service.Now())
	if err == nil {
		err = ValidateReport(report)
	}
	if err != nil {
		return r.failed(ctx, j, c.ID, "build", permanent(fmt.Errorf("the report breaks NCMEC's schema: %w", err)))
	}
	// The copies kept a year are sealed before anything is sent: a file that cannot be read
	// stops the report here, not half-way.
	type sealed struct {
		f    docket.NCMECFile
		blob docket.Blob
		size int
	}
	var keep []sealed
	for _, f := range c.NCMEC.Files {
		b, err := r.Store.Blob(ctx, f.SHA256)
		if err != nil {
			return r.failed(ctx, j, c.ID, "build", fmt.Errorf("file %s: %w", f.SHA256, err))
		}
		s, err := r.Keeper.Seal(b.Data)
		if err != nil {
			return r.failed(ctx, j, c.ID, "build", err)
		}
		keep = append(keep, sealed{f, docket.Blob{SHA256: evidence.SHA256(s), Data: s}, len(b.Data)})
	}
	id, err := r.Client.Submit(ctx, report)
	if err != nil {
		return r.failed(ctx, j, c.ID, "submit", err)
	}
	now := r.Service.Now()
	err = r.Service.Change(ctx, c.ID, docket.ActorNCMEC, func(tx docket.Tx, cs *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
		if _, err := rec(docket.EventNCMECOpened, docket.NCMECOpenedData{ReportID: id, SHA256: evidence.SHA256(report), Report: string(report), Attempt: j.Attempts}); err != nil {
			return err
		}
		for _, k := range keep {
			if err := tx.InsertBlob(ctx, &k.blob); err != nil {
				return err
			}
			e, err := rec(docket.EventHoldPlaced, docket.HoldPlaced{Target: docket.Target{Kind: "media", Value: "sha256:" + k.f.SHA256},
				SHA256: k.f.SHA256, Blob: k.blob.SHA256, Size: k.size, TakenAt: now, Until: now.Add(Hold),
				Basis: fmt.Sprintf("18 U.S.C. § 2258A(h): reported to NCMEC's CyberTipline (report %d), kept one year", id)})
			if err != nil {
				return err
			}
			if err := r.Service.QueueHoldRelease(ctx, tx, cs.ID, e.Seq, now.Add(Hold)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// NCMEC holds an open report docket could not record: a retry would open another.
		// Said loudly, with the id, so that a person can retract it.
		r.log().ErrorContext(ctx, "CyberTipline report opened but not recorded: retract it at NCMEC if the retry opens another",
			slog.String("case", c.ID), slog.Int64("report", id), slog.Any("err", err))
		return fmt.Errorf("record CyberTipline report %d of case %s: %w", id, c.ID, err)
	}
	r.log().InfoContext(ctx, "CyberTipline report opened", slog.String("case", c.ID), slog.Int64("report", id))
	return nil
}

// describe sends an uploaded file's details and records them.
func (r *Sender) describe(ctx context.Context, j *docket.Job, c *docket.Case, reportID int64, f docket.NCMECFile) error {
	details, err := BuildFileDetails(c, reportID, f)
	if err == nil {
		_, _, err = ValidateFileDetails(details)
	}
	if err != nil {
		return r.failed(ctx, j, c.ID, "fileinfo", permanent(fmt.Errorf("the details of file %s break NCMEC's schema: %w", f.FileID, err)))
	}
	if err := r.Client.FileInfo(ctx, details); err != nil {
		return r.failed(ctx, j, c.ID, "fileinfo", err)
	}
	return r.record(ctx, c.ID, docket.EventNCMECDescribed, docket.NCMECDescribedData{ReportID: reportID, FileID: f.FileID, Details: string(details)})
}

// Retract retracts the report of a case whose decision was reversed (/retract); a report
// that never reached NCMEC is cancelled. NCMEC's refusal (a report already finished) is
// recorded and ends the job: a person must then tell NCMEC by its other channels.
func (r *Sender) Retract(ctx context.Context, j *docket.Job) error {
	var p workflow.NCMECJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return fmt.Errorf("ncmec job payload: %w", err)
	}
	c, err := r.Store.Case(ctx, p.CaseID)
	if err != nil {
		return fmt.Errorf("ncmec retraction of case %s: %w", p.CaseID, err)
	}
	rep := c.NCMEC
	if rep == nil || rep.Retract != p.Seq || rep.State == docket.NCMECRetracted {
		return nil
	}
	if rep.ReportID == 0 {
		return r.record(ctx, c.ID, docket.EventNCMECRetracted, docket.NCMECRetractedData{Unsent: true})
	}
	err = r.Client.Retract(ctx, rep.ReportID)
	var ae *Error
	if errors.As(err, &ae) && ae.Code == CodeAlreadyRetracted {
		err = nil
	}
	if err != nil {
		return r.failed(ctx, j, c.ID, "retract", err)
	}
	if err := r.record(ctx, c.ID, docket.EventNCMECRetracted, docket.NCMECRetractedData{ReportID: rep.ReportID}); err != nil {
		return err
	}
	r.log().InfoContext(ctx, "CyberTipline report retracted", slog.String("case", c.ID), slog.Int64("report", rep.ReportID))
	return nil
}

func (r *Sender) record(ctx context.Context, caseID string, typ docket.EventType, data any) error {
	return r.Service.Record(ctx, caseID, docket.ActorNCMEC, workflow.Entry{Type: typ, Data: data})
}

// permanentError is a failure retrying cannot mend (docket's own: a report its schema
// refuses, a file that cannot be read).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

// failed records a failed attempt of a step on the case, with NCMEC's answer; the job
// retries unless the failure is final (NCMEC judged what was sent, or the last attempt).
func (r *Sender) failed(ctx context.Context, j *docket.Job, caseID, step string, cause error) error {
	d := docket.NCMECFailedData{Step: step, Attempt: j.Attempts, Description: cause.Error()}
	var ae *Error
	var pe *permanentError
	final := errors.As(cause, &pe) || j.Attempts >= j.MaxAttempts
	level := slog.LevelWarn
	if errors.As(cause, &ae) {
		d.Status, d.Code = ae.Status, ae.Code
		final = final || ae.Permanent()
		if ae.Credentials() {
			level, d.Description = slog.LevelError, d.Description+" (check ncmec_user and ncmec_password)"
		}
	}
	d.Final = final
	if !final {
		d.NextAt = docket.OptTime(r.Service.Now().Add(jobs.Backoff(j.Attempts)))
	}
	if err := r.record(ctx, caseID, docket.EventNCMECFailed, d); err != nil {
		return errors.Join(cause, err)
	}
	r.log().Log(ctx, level, "CyberTipline step failed", slog.String("case", caseID), slog.String("step", step), slog.Int("attempt", j.Attempts),
		slog.Int("status", d.Status), slog.Int("code", d.Code), slog.Bool("final", final), slog.Any("err", cause))
	if final {
		return nil
	}
	return fmt.Errorf("ncmec %s of case %s: %w", step, caseID, cause)
}

// Build returns the report of a case's queued CyberTipline report: apparent child sexual
// abuse material, the time docket received the case (with its time zone), the addresses of
// the content acted on, the provider, the account the case names, and what docket decided.
func Build(c *docket.Case, info Info, now time.Time) ([]byte, error) {
	rep := c.NCMEC
	if rep == nil {
		return nil, errors.New("the case has no CyberTipline report")
	}
	a := c.Action(rep.Action)
	if a == nil {
		return nil, fmt.Errorf("the case has no action %d", rep.Action)
	}
	var urls []string
	var named []string
	add := func(t docket.Target) {
		v := strings.TrimSpace(t.Value)
		if strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://") {
			if !contains(urls, v) {
				urls = append(urls, v)
			}
		} else if v != "" && !contains(named, t.Kind+" "+v) {
			named = append(named, t.Kind+" "+v)
		}
	}
	add(a.Target)
	var account *PersonOrUserReported
	if c.Triage != nil {
		for _, t := range c.Triage.Targets {
			add(t)
			if account == nil && (t.Kind == "account" || t.Kind == "username") {
				account = &PersonOrUserReported{ScreenName: strings.TrimPrefix(t.Value, "@"), EspService: info.Platform}
			}
		}
	}
	if account == nil && (a.Target.Kind == "account" || a.Target.Kind == "username") {
		account = &PersonOrUserReported{ScreenName: strings.TrimPrefix(a.Target.Value, "@"), EspService: info.Platform}
	}
	where := fmt.Sprintf("Content on %s acted on by the provider (%s)", cmp.Or(info.Platform, "the platform"), a.Op)
	if len(named) > 0 {
		where += ": " + strings.Join(named, ", ")
	}
	decided := ""
	if c.Decision != nil {
		decided = fmt.Sprintf(" Decided %s by %s on %s.", c.Decision.Outcome, decider(c), c.Decision.DecidedAt.UTC().Format(time.RFC3339))
	}
	report := Report{
		IncidentSummary: IncidentSummary{
			IncidentType:                IncidentCSAM,
			Platform:                    info.Platform,
			IncidentDateTime:            c.ReceivedAt.UTC().Format(time.RFC3339),
			IncidentDateTimeDescription: "When the provider received the notice or request about the content (docket case " + c.ID + ").",
		},
		InternetDetails: []InternetDetails{{WebPageIncident: &WebPageIncident{URL: urls, AdditionalInfo: where}}},
		Reporter: Reporter{ReportingPerson: Person{FirstName: info.FirstName, LastName: info.LastName, Email: nonEmpty(info.Email)},
			CompanyTemplate: info.CompanyTemplate, TermsOfService: info.TermsOfService, LegalURL: info.LegalURL},
		PersonOrUserReported: account,
		AdditionalInfo: fmt.Sprintf("Provider's reference: docket case %s. Why reported: %s.%s Files: %d. Reported %s.",
			c.ID, rep.Reason, decided, len(rep.Files), now.UTC().Format(time.RFC3339)),
	}
	return Marshal(report)
}

// BuildFileDetails returns the details of an uploaded file: its name as received, whether a
// person of the provider decided on it (fileViewedByEsp: false when the decision was
// automated), its digests, and the hash bank match that made it known content.
func BuildFileDetails(c *docket.Case, reportID int64, f docket.NCMECFile) ([]byte, error) {
	d := FileDetails{ReportID: reportID, FileID: f.FileID, OriginalFileName: f.Filename, FileViewedByEsp: !automated(c),
		FileRelevance: "Reported", OriginalFileHash: []Hash{{Value: f.SHA256, HashType: "SHA256"}}}
	for _, m := range c.Media {
		if m.SHA256 == f.SHA256 && m.MD5 != "" {
			d.OriginalFileHash = append([]Hash{{Value: m.MD5, HashType: "MD5"}}, d.OriginalFileHash...)
			break
		}
	}
	d.AdditionalInfo = append(d.AdditionalInfo, fmt.Sprintf("Attached to request %s received by the provider.", f.RequestID))
	if f.Match != "" {
		d.AdditionalInfo = append(d.AdditionalInfo, "Known content: "+f.Match+".")
	}
	return Marshal(d)
}

// automated reports whether the case's decision was taken by a rule, not a person.
func automated(c *docket.Case) bool { return c.Decision != nil && c.Decision.DecidedBy == "rules" }

func decider(c *docket.Case) string {
	if automated(c) {
		return "an automated rule (known media)"
	}
	return "a person"
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
