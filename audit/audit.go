// Package audit seals events into the hash chain and verifies a store end to end: the chain
// of every event, the stored head, the raw requests against their hashes, and every case's
// stored state against the state its events produce, and every request's case against the
// case its receipt, merge and split events put it in.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"reflect"
	"time"

	"github.com/docket-dev/docket"
)

// Hash returns the hex SHA-256 that seals e after the event whose hash is prev. It covers
// every field of the event: its sequence number, case, type, actor, time (microseconds),
// data and prev; each field is length-prefixed so that no two events encode alike.
func Hash(prev string, e *docket.Event) string {
	h := sha256.New()
	h.Write([]byte("docket-event-v1"))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	field(h, e.CaseID)
	field(h, string(e.Type))
	field(h, string(e.Actor))
	binary.BigEndian.PutUint64(n[:], uint64(docket.Micros(e.At)))
	h.Write(n[:])
	field(h, string(e.Data))
	field(h, prev)
	return hex.EncodeToString(h.Sum(nil))
}

func field(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// Seal sets e's Seq, PrevHash and Hash to follow the event (prevSeq, prevHash).
func Seal(prevSeq int64, prevHash string, e *docket.Event) {
	e.Seq = prevSeq + 1
	e.PrevHash = prevHash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = Hash(prevHash, e)
}

// Report is what Verify checked.
type Report struct {
	Events   int64  `json:"events"`
	Cases    int    `json:"cases"`
	Requests int    `json:"requests"`
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
}

// Problem is the first inconsistency Verify found. Seq names the bad event when there is one.
type Problem struct {
	Seq    int64
	CaseID string
	What   string
}

func (p *Problem) Error() string {
	switch {
	case p.Seq > 0:
		return fmt.Sprintf("event %d (case %s): %s", p.Seq, p.CaseID, p.What)
	case p.CaseID != "":
		return fmt.Sprintf("case %s: %s", p.CaseID, p.What)
	}
	return p.What
}

// Verify checks everything the store holds and returns the first Problem found, or another
// error when the store could not be read. When expectSeq > 0, the chain must contain an event
// with that sequence number and hash expectHash: a head recorded outside the database earlier
// (docket audit head) proves that nothing was cut off the end since.
func Verify(ctx context.Context, s docket.Store, expectSeq int64, expectHash string) (*Report, error) {
	rep := &Report{}
	// The chain is checked here while a second goroutine replays the events into cases, so
	// that verification uses two cores.
	rp := &replay{cases: map[string]*docket.Case{}, received: map[string]string{}, member: map[string]string{}}
	batches := make(chan []*docket.Event, 16)
	replayed := make(chan struct{})
	go func() {
		defer close(replayed)
		for batch := range batches {
			rp.apply(batch)
		}
	}()
	var prevSeq int64
	var prevHash string
	var problem *Problem
	fail := func(p *Problem) error { problem = p; return p }
	batch := make([]*docket.Event, 0, 512)
	err := s.ScanEvents(ctx, func(e *docket.Event) error {
		if e.Seq != prevSeq+1 {
			return fail(&Problem{Seq: e.Seq, CaseID: e.CaseID, What: fmt.Sprintf("follows event %d: events %d to %d are missing or out of order", prevSeq, prevSeq+1, e.Seq-1)})
		}
		if e.PrevHash != prevHash {
			return fail(&Problem{Seq: e.Seq, CaseID: e.CaseID, What: "its link to the previous event does not match the previous event's hash"})
		}
		if want := Hash(prevHash, e); e.Hash != want {
			return fail(&Problem{Seq: e.Seq, CaseID: e.CaseID, What: "its content does not match its hash (the event was changed)"})
		}
		if expectSeq == e.Seq && expectHash != e.Hash {
			return fail(&Problem{Seq: e.Seq, CaseID: e.CaseID, What: "its hash differs from the head recorded earlier"})
		}
		prevSeq, prevHash = e.Seq, e.Hash
		rep.Events++
		if e.CaseID != "" {
			batch = append(batch, e)
			if len(batch) == cap(batch) {
				batches <- batch
				batch = make([]*docket.Event, 0, 512)
			}
		}
		return nil
	})
	batches <- batch
	close(batches)
	<-replayed
	// Report the earliest problem, whether the chain or the replay found it.
	if rp.problem != nil && (problem == nil || rp.problem.Seq < problem.Seq) {
		problem = rp.problem
	}
	if problem != nil {
		return rep, problem
	} else if err != nil {
		return rep, fmt.Errorf("verify: scan events: %w", err)
	}
	cases, received, member := rp.cases, rp.received, rp.member
	if expectSeq > prevSeq {
		return rep, &Problem{What: fmt.Sprintf("the chain ends at event %d but a head at event %d was recorded earlier: events were cut off the end", prevSeq, expectSeq)}
	}
	headSeq, headHash, err := s.Head(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify: read head: %w", err)
	}
	rep.HeadSeq, rep.HeadHash = headSeq, headHash
	if headSeq != prevSeq || headHash != prevHash {
		return rep, &Problem{Seq: prevSeq, What: fmt.Sprintf("the recorded head (event %d) does not match the last event of the chain (event %d): events were added or removed at the end", headSeq, prevSeq)}
	}

	check := func(stored *docket.Case) error {
		rep.Cases++
		replayed := cases[stored.ID]
		if replayed == nil {
			return fail(&Problem{CaseID: stored.ID, What: "the case has no events in the chain"})
		}
		if diff := caseDiff(stored, replayed); diff != "" {
			return fail(&Problem{CaseID: stored.ID, What: "stored state differs from the state its events produce: " + diff})
		}
		delete(cases, stored.ID)
		return nil
	}
	if ds, ok := s.(docScanner); ok {
		// Fast path: compare the stored encoding with the replayed case's, and decode only
		// cases that differ (to name the field).
		err = ds.ScanCaseDocs(ctx, func(id string, doc []byte) error {
			if replayed := cases[id]; replayed != nil {
				if js, err := json.Marshal(replayed); err == nil && string(js) == string(doc) {
					rep.Cases++
					delete(cases, id)
					return nil
				}
			}
			var stored docket.Case
			if err := json.Unmarshal(doc, &stored); err != nil {
				return fail(&Problem{CaseID: id, What: "unreadable stored state: " + err.Error()})
			}
			stored.ID = id
			return check(&stored)
		})
	} else {
		err = s.ScanCases(ctx, check)
	}
	if problem != nil {
		return rep, problem
	} else if err != nil {
		return rep, fmt.Errorf("verify: scan cases: %w", err)
	}
	for id := range cases {
		return rep, &Problem{CaseID: id, What: "the chain has events of this case but the case is gone"}
	}

	err = s.ScanRequests(ctx, func(r *docket.Request) error {
		rep.Requests++
		sum := sha256.Sum256(r.Raw)
		if got := hex.EncodeToString(sum[:]); got != r.SHA256 {
			return fail(&Problem{CaseID: r.CaseID, What: fmt.Sprintf("request %s: its raw body does not match its SHA-256", r.ID)})
		}
		want, ok := received[r.ID]
		if !ok {
			return fail(&Problem{CaseID: r.CaseID, What: fmt.Sprintf("request %s has no receipt event in the chain", r.ID)})
		}
		if want != r.SHA256 {
			return fail(&Problem{CaseID: r.CaseID, What: fmt.Sprintf("request %s: its SHA-256 differs from the one its receipt event recorded", r.ID)})
		}
		if in := member[r.ID]; in != r.CaseID {
			return fail(&Problem{CaseID: r.CaseID, What: fmt.Sprintf("request %s is stored in case %s but its events put it in case %s", r.ID, r.CaseID, in)})
		}
		delete(received, r.ID)
		return nil
	})
	if problem != nil {
		return rep, problem
	} else if err != nil {
		return rep, fmt.Errorf("verify: scan requests: %w", err)
	}
	for id := range received {
		return rep, &Problem{What: fmt.Sprintf("request %s has a receipt event but the request is gone", id)}
	}
	return rep, nil
}

// docScanner is implemented by stores that can list each case's stored encoding.
type docScanner interface {
	ScanCaseDocs(ctx context.Context, fn func(id string, doc []byte) error) error
}

// replay applies events to the cases they belong to and collects the hash each receipt
// event recorded for its request.
type replay struct {
	cases    map[string]*docket.Case
	received map[string]string // request id -> sha256 recorded at receipt
	member   map[string]string // request id -> the case it belongs to: received by, or moved to
	problem  *Problem
}

func (rp *replay) apply(events []*docket.Event) {
	for _, e := range events {
		if rp.problem != nil {
			return
		}
		c := rp.cases[e.CaseID]
		if c == nil {
			c = &docket.Case{}
			rp.cases[e.CaseID] = c
		}
		data, err := docket.DecodeEvent(e)
		if err == nil {
			err = c.ApplyDecoded(e, data)
		}
		if err != nil {
			rp.problem = &Problem{Seq: e.Seq, CaseID: e.CaseID, What: err.Error()}
			return
		}
		switch d := data.(type) {
		case *docket.CaseOpened:
			if d.SplitFrom != "" {
				rp.move(e, d.SplitFrom, d.Requests)
				break
			}
			rp.received[d.RequestID], rp.member[d.RequestID] = d.SHA256, e.CaseID
		case *docket.RequestReceived:
			rp.received[d.RequestID], rp.member[d.RequestID] = d.SHA256, e.CaseID
		case *docket.RequesterReplied:
			rp.received[d.RequestID], rp.member[d.RequestID] = d.SHA256, e.CaseID
		case *docket.Merged:
			rp.move(e, d.From, d.Requests)
		}
	}
}

// move records that event e moved requests from case from to its own case.
func (rp *replay) move(e *docket.Event, from string, requests []string) {
	for _, id := range requests {
		if rp.member[id] != from {
			rp.problem = &Problem{Seq: e.Seq, CaseID: e.CaseID, What: fmt.Sprintf("it moves request %s from case %s, which does not hold it", id, from)}
			return
		}
		rp.member[id] = e.CaseID
	}
}

// caseDiff names the first field in which two cases differ, or returns "".
func caseDiff(a, b *docket.Case) string {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA == nil && errB == nil && string(ja) == string(jb) {
		return ""
	}
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	for i := 0; i < va.NumField(); i++ {
		fa, fb := va.Field(i).Interface(), vb.Field(i).Interface()
		if ta, ok := fa.(time.Time); ok {
			if !ta.Equal(fb.(time.Time)) {
				return va.Type().Field(i).Name
			}
			continue
		}
		ja, _ := json.Marshal(fa)
		jb, _ := json.Marshal(fb)
		if string(ja) != string(jb) {
			return va.Type().Field(i).Name
		}
	}
	return ""
}
