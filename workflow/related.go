package workflow

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/triage"
)

// relatedFilter is a Bloom filter of the references and targets of pending cases, by
// requester. When it says a request's keys are all absent, the store need not be asked for
// a related case: the usual request costs two bit tests per key instead of a query. A
// "maybe" is settled by the store, so a false positive costs only a query. Keys of cases
// opened through other nodes arrive with the periodic refresh (Config.RefreshRelated).
type relatedFilter struct {
	bits []uint64
}

const filterBits = 1 << 24 // 2 MiB; about 0.2 % false positives at a million keys

func newRelatedFilter() *relatedFilter { return &relatedFilter{bits: make([]uint64, filterBits/64)} }

func filterHashes(authorityID, kind, value string) (uint64, uint64) {
	h := fnv.New64a()
	h.Write([]byte(authorityID))
	h.Write([]byte{0})
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(value))
	a := h.Sum64()
	return a, a>>32 | a<<32 | 1
}

func (f *relatedFilter) add(authorityID, kind, value string) {
	a, b := filterHashes(authorityID, kind, value)
	for i := range uint64(4) {
		bit := (a + i*b) % filterBits
		atomic.OrUint64(&f.bits[bit/64], 1<<(bit%64))
	}
}

func (f *relatedFilter) mayHave(authorityID, kind, value string) bool {
	a, b := filterHashes(authorityID, kind, value)
	for i := range uint64(4) {
		bit := (a + i*b) % filterBits
		if atomic.LoadUint64(&f.bits[bit/64])&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

// addRequest records a stored request's keys.
func (f *relatedFilter) addRequest(r *docket.Request) {
	if r.Body.Reference != "" {
		f.add(r.AuthorityID, "reference", r.Body.Reference)
	}
	for _, t := range r.Body.Targets {
		f.add(r.AuthorityID, t.Kind, t.Value)
	}
	for _, k := range r.Keys {
		f.add(r.AuthorityID, k.Kind, k.Value)
	}
}

// mayRelate reports whether some pending case may share a key with the request.
func (f *relatedFilter) mayRelate(r *docket.Request) bool {
	if r.Body.Reference != "" && f.mayHave(r.AuthorityID, "reference", r.Body.Reference) {
		return true
	}
	for _, t := range append(r.Body.Targets[:len(r.Body.Targets):len(r.Body.Targets)], r.Keys...) {
		if f.mayHave(r.AuthorityID, t.Kind, t.Value) {
			return true
		}
	}
	return false
}

// loadRelated fills the filter from the store (pending cases received since since).
func (s *Service) loadRelated(ctx context.Context, since time.Time) error {
	return s.store.RelatedKeys(ctx, since, func(authorityID, kind, value string) error {
		s.related.add(authorityID, kind, value)
		return nil
	})
}

// refreshRelated adds, every few seconds, the keys of cases other nodes opened.
func (s *Service) refreshRelated(ctx context.Context, every time.Duration) {
	last := s.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			now := s.Now()
			if err := s.loadRelated(ctx, last.Add(-every)); err != nil {
				s.log.WarnContext(ctx, "refresh related-case filter", slog.Any("err", err))
				continue
			}
			last = now
		}
	}
}

// textKeys are the related-case keys of a request's text: the bands of its SimHash.
func textKeys(body *docket.RequestBody) []docket.Target {
	h, ok := triage.SimHash(body.Description)
	if !ok {
		return nil
	}
	var keys []docket.Target
	for _, b := range triage.SimHashBands(h) {
		keys = append(keys, docket.Target{Kind: "simhash", Value: b})
	}
	return keys
}

// nearDuplicate reports whether a request's text is within triage.NearDuplicate bits of the
// text of the request that opened a case, and how far. (Only the first: a campaign of ten
// thousand copies must not cost ten thousand comparisons each.)
func (s *Service) nearDuplicate(ctx context.Context, body *docket.RequestBody, caseID string) (int, bool) {
	h, ok := triage.SimHash(body.Description)
	if !ok {
		return 0, false
	}
	first, err := s.store.FirstRequest(ctx, caseID)
	if err != nil {
		return 0, false
	}
	if g, ok := triage.SimHash(first.Body.Description); ok {
		if d := triage.Distance(h, g); d <= triage.NearDuplicate {
			return d, true
		}
	}
	return 0, false
}
