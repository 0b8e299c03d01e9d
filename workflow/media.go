package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/rules"
)

// JobMediaMatch is the kind of the job, queued in the transaction that stores a request with
// attachments, that hashes them and looks them up in the hash banks.
const JobMediaMatch = "media.match"

// MediaMatcher hashes a file and looks it up in the enabled hash banks (hashbank.Matcher).
// The error is for failures that a later attempt may not meet (the store); a file that
// cannot be hashed as a picture says why in MediaHash.Error.
type MediaMatcher interface {
	Match(ctx context.Context, data []byte) (docket.MediaHash, []docket.MediaMatch, error)
}

type mediaPayload struct {
	RequestID string `json:"request_id"`
}

// queueMediaMatch queues the hash check of a request's attachments, in the transaction that
// stores it, when the service matches media: the receipt never waits for it.
func (s *Service) queueMediaMatch(ctx context.Context, tx docket.Tx, req *docket.Request) error {
	if s.media == nil || len(req.Body.Attachments) == 0 {
		return nil
	}
	payload, err := json.Marshal(mediaPayload{RequestID: req.ID})
	if err != nil {
		return err
	}
	if err := tx.Enqueue(ctx, &docket.Job{Kind: JobMediaMatch, Payload: payload, RunAt: req.ReceivedAt, MaxAttempts: 12}); err != nil {
		return fmt.Errorf("queue %s: %w", JobMediaMatch, err)
	}
	return nil
}

// MatchMediaJob runs a JobMediaMatch job: it hashes every attachment of the request (SHA-256
// and MD5, and PDQ for pictures), looks them up in the enabled banks, and records on the
// request's case, in one transaction, a media_hashed event with the hashes and, when
// something matched, a media_matched event with the matches and what the routing rules
// that the matches made true did (queue, priority, automatic steps). A request checked
// already is left alone.
func (s *Service) MatchMediaJob(ctx context.Context, j *docket.Job) error {
	var p mediaPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		s.log.ErrorContext(ctx, "media.match job with a bad payload: dropped", slog.Int64("job", j.ID), slog.Any("err", err))
		return nil
	}
	return s.MatchMedia(ctx, p.RequestID)
}

// MatchMedia checks the attachments of a stored request against the hash banks (see
// MatchMediaJob).
func (s *Service) MatchMedia(ctx context.Context, requestID string) error {
	if s.media == nil {
		return fmt.Errorf("match media of request %s: no matcher on this node", requestID)
	}
	req, err := s.store.Request(ctx, requestID)
	if err != nil {
		return fmt.Errorf("match media of request %s: %w", requestID, err)
	}
	if c, err := s.store.Case(ctx, req.CaseID); err == nil && c.MediaChecked(req.ID) {
		return nil
	}
	hashed := docket.MediaHashed{RequestID: req.ID}
	var matches []docket.MediaMatch
	seen := map[string]bool{}
	for _, a := range req.Body.Attachments {
		if seen[a.SHA256] {
			continue
		}
		seen[a.SHA256] = true
		blob, err := s.store.Blob(ctx, a.SHA256)
		if isNotFound(err) {
			hashed.Media = append(hashed.Media, docket.MediaHash{SHA256: a.SHA256, Filename: a.Filename, Error: "the file is not stored"})
			continue
		} else if err != nil {
			return fmt.Errorf("match media of request %s: %w", requestID, err)
		}
		h, ms, err := s.media.Match(ctx, blob.Data)
		if err != nil {
			return fmt.Errorf("match media of request %s: %w", requestID, err)
		}
		h.SHA256, h.Filename = a.SHA256, a.Filename
		hashed.Media = append(hashed.Media, h)
		for _, m := range ms {
			m.SHA256, m.Filename = a.SHA256, a.Filename
			matches = append(matches, m)
		}
	}
	err = s.store.Update(ctx, func(tx docket.Tx) error {
		c, first, err := s.caseOfRequest(ctx, tx, req)
		if err != nil {
			return err
		}
		if c.MediaChecked(req.ID) {
			return nil
		}
		now := s.Now().Truncate(time.Microsecond)
		if err := record(ctx, tx, c, docket.NewEvent(c.ID, docket.EventMediaHashed, docket.ActorMatch, now, hashed)); err != nil {
			return err
		}
		if len(matches) > 0 {
			d := docket.MediaMatched{RequestID: req.ID, Matches: matches}
			steps := s.routeMatches(first, c, matches, &d)
			if err := record(ctx, tx, c, docket.NewEvent(c.ID, docket.EventMediaMatched, docket.ActorMatch, now, d)); err != nil {
				return err
			}
			events, err := s.ruleSteps(c, first, steps, now, true)
			if err != nil {
				return err
			}
			for _, e := range events {
				was := c.Emergency
				if err := record(ctx, tx, c, e); err != nil {
					return err
				}
				if err := s.followUp(ctx, tx, c, e, was); err != nil {
					return err
				}
			}
			if err := s.requestReviews(ctx, tx, c, events, now); err != nil {
				return err
			}
		}
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		return fmt.Errorf("match media of request %s: %w", requestID, err)
	}
	if len(matches) > 0 {
		s.log.InfoContext(ctx, "attachments matched hash banks", slog.String("request", req.ID), slog.Int("matches", len(matches)))
	}
	return nil
}

// caseOfRequest reads, inside tx, the case that holds the request now (a merge may have
// moved it since it was received) and that case's first request.
func (s *Service) caseOfRequest(ctx context.Context, tx docket.Tx, req *docket.Request) (*docket.Case, *docket.Request, error) {
	c, err := tx.Case(ctx, req.CaseID)
	for hops := 0; err == nil && c.State == docket.StateMerged && hops < 10; hops++ {
		c, err = tx.Case(ctx, c.MergedInto)
	}
	if err != nil {
		return nil, nil, err
	}
	reqs, err := tx.CaseRequests(ctx, c.ID)
	if err != nil {
		return nil, nil, err
	}
	if !slices.ContainsFunc(reqs, func(r *docket.Request) bool { return r.ID == req.ID }) {
		// Split off since it was read: the next attempt reads it again.
		return nil, nil, fmt.Errorf("request %s is no longer in case %s", req.ID, c.ID)
	}
	return c, reqs[0], nil
}

// routeMatches runs the routing rules on the case with and without the matches (those of
// its earlier requests and these), and records in d what the rules that only the matches
// made true do: the queue of the first of them to choose one (unless a person has corrected
// the case's triage: the queue is then theirs), a priority raised to theirs. It returns
// their automatic steps.
func (s *Service) routeMatches(first *docket.Request, c *docket.Case, matches []docket.MediaMatch, d *docket.MediaMatched) []rules.Step {
	f := caseFacts(first, c)
	before := s.rules.Evaluate(f)
	f.Matches = matchFacts(append(c.MediaMatches(), matches...))
	after := s.rules.Evaluate(f)
	var steps []rules.Step
	prio := c.Priority
	for _, name := range after.Matched {
		if slices.Contains(before.Matched, name) {
			continue
		}
		d.Rules = append(d.Rules, name)
		if r := s.rules.Rule(name); r != nil {
			prio = max(prio, r.PriorityAtLeast)
		}
		for _, st := range after.Actions {
			if st.Rule == name {
				steps = append(steps, st)
			}
		}
	}
	corrected := c.Triage != nil && c.Triage.By != "triage"
	if after.Queue != "" && after.Queue != c.Queue && slices.Contains(d.Rules, after.QueueRule) && !corrected {
		d.Queue = after.Queue
	}
	if prio > c.Priority {
		d.Priority = &prio
	}
	return steps
}

// caseFacts are what the routing rules see of a case as it stands: its first request, and
// its triage (regime, kind, queue and priority as the case has them now).
func caseFacts(first *docket.Request, c *docket.Case) rules.Facts {
	f := rules.Facts{
		Request: rules.RequestFacts{Channel: first.Channel, Regime: c.Regime, Kind: string(c.Kind), Country: c.Country,
			Authority: first.AuthorityID, Reference: first.Body.Reference, Emergency: first.Body.Emergency},
		Triage: rules.TriageFacts{Regime: c.Regime, Kind: string(c.Kind), Queue: c.Queue, Emergency: c.Emergency, Priority: c.Priority},
	}
	if t := c.Triage; t != nil {
		f.Triage.Language, f.Triage.Label, f.Triage.Category, f.Triage.Spam, f.Triage.Confidence = t.Language, t.Label, t.Category, t.Spam, t.Confidence
		f.Triage.Signals = t.Signals
		for _, tg := range t.Targets {
			f.Triage.Targets = append(f.Triage.Targets, map[string]string{"kind": tg.Kind, "value": tg.Value})
		}
	}
	return f
}

// matchFacts are what the routing rules see of matches, nearest first.
func matchFacts(ms []docket.MediaMatch) []rules.MatchFacts {
	out := make([]rules.MatchFacts, 0, len(ms))
	for _, m := range ms {
		out = append(out, rules.MatchFacts{Bank: m.Bank, Category: m.Category, DSACategory: m.DSACategory, Action: m.Action,
			Kind: m.Kind, Hash: m.Hash, Distance: m.Distance, Quality: m.Quality})
	}
	slices.SortStableFunc(out, func(a, b rules.MatchFacts) int { return a.Distance - b.Distance })
	return out
}
