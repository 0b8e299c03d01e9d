package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/docket-dev/docket"
)

// Jobs of the reports to NCMEC's CyberTipline (18 U.S.C. § 2258A), run by package ncmec.
const (
	// JobNCMECReport sends a case's queued report, step by step, resuming from the last
	// step its events record.
	JobNCMECReport = "ncmec.report"
	// JobNCMECRetract retracts a case's report after its decision was reversed.
	JobNCMECRetract = "ncmec.retract"
)

// NCMECJob is the payload of a JobNCMECReport or JobNCMECRetract job: the case, and the seq
// of its ncmec_report_queued (or ncmec_retract_requested) event.
type NCMECJob struct {
	CaseID string `json:"case_id"`
	Seq    int64  `json:"seq"`
}

// ncmecFollowUp queues, in the transaction of an action_requested event on c, what it sets
// off for the case's CyberTipline report: the report itself, when the action acts on content
// after a decision to comply on a case of child protection and reporting is on; its
// retraction, when the action reverts the action that queued it (an upheld appeal, an
// automated decision overturned).
func (s *Service) ncmecFollowUp(ctx context.Context, tx docket.Tx, c *docket.Case, ev *docket.Event) error {
	a := c.Action(ev.Seq)
	if a == nil {
		return nil
	}
	enqueue := func(kind string, seq int64) error {
		b, err := json.Marshal(NCMECJob{CaseID: c.ID, Seq: seq})
		if err != nil {
			return err
		}
		return tx.Enqueue(ctx, &docket.Job{Kind: kind, UniqueKey: fmt.Sprintf("%s:%s:%d", kind, c.ID, seq), Payload: b, RunAt: ev.At, MaxAttempts: 24})
	}
	r := c.NCMEC
	if a.Reverts != 0 {
		if r == nil || r.Action != a.Reverts || r.Retract != 0 || r.State == docket.NCMECRetracted || (r.State == docket.NCMECFailed && r.ReportID == 0) {
			return nil
		}
		e := docket.NewEvent(c.ID, docket.EventNCMECRetractRequested, docket.ActorNCMEC, ev.At,
			docket.NCMECRetractData{Action: a.Seq, Reverts: a.Reverts, Reason: a.Reason})
		if err := record(ctx, tx, c, e); err != nil {
			return err
		}
		return enqueue(JobNCMECRetract, e.Seq)
	}
	if !s.ncmec || r != nil || !docket.ContentOp(a.Op) || c.Decision == nil || !c.Decision.Outcome.Releases() {
		return nil
	}
	why := c.ChildProtection()
	if why == "" {
		return nil
	}
	files, err := ncmecFiles(ctx, tx, c)
	if err != nil {
		return err
	}
	e := docket.NewEvent(c.ID, docket.EventNCMECQueued, docket.ActorNCMEC, ev.At, docket.NCMECQueuedData{Action: a.Seq, Reason: why, Files: files})
	if err := record(ctx, tx, c, e); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "CyberTipline report queued", "case", c.ID, "why", why, "files", len(files))
	return enqueue(JobNCMECReport, e.Seq)
}

// ncmecFiles lists the attachments a case reports: those found in a child-protection hash
// bank when there are any, else every attachment of the case's requests (as this
// transaction reads them).
func ncmecFiles(ctx context.Context, tx docket.Tx, c *docket.Case) ([]docket.NCMECFile, error) {
	reqs, err := tx.CaseRequests(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("requests of case %s: %w", c.ID, err)
	}
	matched := map[string]string{}
	for _, m := range c.MediaMatches() {
		if strings.EqualFold(m.Category, "csam") || m.DSACategory == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS" {
			if matched[m.SHA256] == "" {
				matched[m.SHA256] = m.HashSignal()
			}
		}
	}
	var all, known []docket.NCMECFile
	seen := map[string]bool{}
	for _, r := range reqs {
		for _, at := range r.Body.Attachments {
			if seen[at.SHA256] {
				continue
			}
			seen[at.SHA256] = true
			f := docket.NCMECFile{SHA256: at.SHA256, Filename: at.Filename, ContentType: at.ContentType, Size: at.Size, RequestID: r.ID, Match: matched[at.SHA256]}
			all = append(all, f)
			if f.Match != "" {
				known = append(known, f)
			}
		}
	}
	if len(known) > 0 {
		return known, nil
	}
	return all, nil
}
