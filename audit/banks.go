package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/docket-dev/docket"
)

// banks are the hash banks as the chain's bank events left them, and each batch of hashes
// the events added or withdrew.
type banks struct {
	byID      map[string]*docket.Bank
	added     map[int64]*hashBatch // by the seq of its event
	withdrawn map[int64]*hashBatch
}

// hashBatch is one bank_hashes_added or bank_hashes_withdrawn event, and the rows found of it.
type hashBatch struct {
	bankID, bank string
	count        int
	digest       string
	by           docket.Actor
	at           int64
	rows         int
	sum          docket.BankDigest
}

func newBanks() banks {
	return banks{byID: map[string]*docket.Bank{}, added: map[int64]*hashBatch{}, withdrawn: map[int64]*hashBatch{}}
}

// apply replays one bank event; other events are no business of it.
func (bs *banks) apply(e *docket.Event) error {
	decode := func(v any) error {
		if err := json.Unmarshal(e.Data, v); err != nil {
			return fmt.Errorf("unreadable %s event: %w", e.Type, err)
		}
		return nil
	}
	bank := func(id string) (*docket.Bank, error) {
		b := bs.byID[id]
		if b == nil {
			return nil, fmt.Errorf("%s of bank %s, which no event created", e.Type, id)
		}
		b.ChangedSeq = e.Seq
		return b, nil
	}
	switch e.Type {
	case docket.EventBankCreated:
		var d docket.BankCreated
		if err := decode(&d); err != nil {
			return err
		}
		if bs.byID[d.ID] != nil {
			return fmt.Errorf("bank %s created twice", d.ID)
		}
		b := d.Bank
		b.ChangedSeq, b.Hashes = e.Seq, 0
		bs.byID[b.ID] = &b
	case docket.EventBankChanged:
		var d docket.BankChanged
		if err := decode(&d); err != nil {
			return err
		}
		b, err := bank(d.ID)
		if err != nil {
			return err
		}
		b.Enabled = d.Enabled
	case docket.EventBankHashesAdded:
		var d docket.BankHashesAdded
		if err := decode(&d); err != nil {
			return err
		}
		b, err := bank(d.BankID)
		if err != nil {
			return err
		}
		b.Hashes += int64(d.Count)
		bs.added[e.Seq] = &hashBatch{bankID: b.ID, bank: b.Name, count: d.Count, digest: d.Digest, by: e.Actor, at: docket.Micros(e.At)}
	case docket.EventBankHashesWithdrawn:
		var d docket.BankHashesWithdrawn
		if err := decode(&d); err != nil {
			return err
		}
		b, err := bank(d.BankID)
		if err != nil {
			return err
		}
		b.Hashes -= int64(d.Count)
		bs.withdrawn[e.Seq] = &hashBatch{bankID: b.ID, bank: b.Name, count: d.Count, digest: d.Digest, by: e.Actor, at: docket.Micros(e.At)}
	}
	return nil
}

// checkBanks compares the banks and bank_hashes tables with the bank events: every bank's
// row (name, source, categories, default action, enabled, who created it and when, its
// last event and its count of live hashes), and every hash row against the event that
// added it and the one that withdrew it — its bank, who and when, and each event's rows
// adding up to its count and digest, so that a hash changed, inserted, deleted or brought
// back from withdrawal is caught.
func (v *verifier) checkBanks(ctx context.Context) error {
	bs := v.banks
	rows, err := v.src.Banks(ctx)
	if err != nil {
		return wrap(err, "scan banks")
	}
	seen := map[string]bool{}
	for _, b := range rows {
		v.rep.Banks++
		fail := func(format string, args ...any) error {
			return &Problem{Table: "banks", What: fmt.Sprintf("bank %s (%s): ", b.ID, b.Name) + fmt.Sprintf(format, args...)}
		}
		want := bs.byID[b.ID]
		switch {
		case want == nil:
			return fail("no bank_created event of the chain created it")
		case b.Enabled != want.Enabled:
			return fail("enabled is %v but its events make it %v", b.Enabled, want.Enabled)
		case b.Name != want.Name || b.Source != want.Source || b.Category != want.Category || b.DSACategory != want.DSACategory || b.Action != want.Action:
			return fail("name, source, category, DSA category or default action (%q, %q, %q, %q, %q) differ from the chain's (%q, %q, %q, %q, %q)",
				b.Name, b.Source, b.Category, b.DSACategory, b.Action, want.Name, want.Source, want.Category, want.DSACategory, want.Action)
		case b.CreatedBy != want.CreatedBy || docket.Micros(b.CreatedAt) != docket.Micros(want.CreatedAt):
			return fail("who created it, or when, differs from the chain's")
		case b.Hashes != want.Hashes:
			return fail("it counts %d live hashes but its events make it %d", b.Hashes, want.Hashes)
		case b.ChangedSeq != want.ChangedSeq:
			return fail("its last change is recorded as event %d but it is event %d", b.ChangedSeq, want.ChangedSeq)
		}
		seen[b.ID] = true
	}
	for _, id := range slices.Sorted(maps.Keys(bs.byID)) {
		if !seen[id] {
			return &Problem{Table: "banks", What: fmt.Sprintf("bank %s (%s) is in the chain but was deleted from the table", id, bs.byID[id].Name)}
		}
	}
	err = v.src.BankHashes(ctx, docket.BankHashFilter{}, func(h *docket.BankHash) error {
		v.rep.BankHashes++
		fail := func(format string, args ...any) error {
			return &Problem{Table: "bank_hashes", What: fmt.Sprintf("%s hash %s of bank %s: ", h.Kind, h.Hash, h.BankID) + fmt.Sprintf(format, args...)}
		}
		a := bs.added[h.AddedSeq]
		switch {
		case a == nil:
			return fail("no bank_hashes_added event of the chain is event %d, which it names", h.AddedSeq)
		case a.bankID != h.BankID:
			return fail("event %d added hashes to bank %s, not to this one", h.AddedSeq, a.bankID)
		case a.by != h.AddedBy || a.at != docket.Micros(h.AddedAt):
			return fail("who added it, or when, differs from event %d", h.AddedSeq)
		}
		a.rows++
		a.sum.AddAdded(h)
		if h.WithdrawnSeq == 0 {
			if h.WithdrawnBy != "" || !h.WithdrawnAt.IsZero() {
				return fail("it is live but records a withdrawal")
			}
			return nil
		}
		w := bs.withdrawn[h.WithdrawnSeq]
		switch {
		case w == nil:
			return fail("no bank_hashes_withdrawn event of the chain is event %d, which it names", h.WithdrawnSeq)
		case w.bankID != h.BankID:
			return fail("event %d withdrew hashes of bank %s, not of this one", h.WithdrawnSeq, w.bankID)
		case h.WithdrawnSeq < h.AddedSeq:
			return fail("withdrawn by event %d, before event %d added it", h.WithdrawnSeq, h.AddedSeq)
		case w.by != h.WithdrawnBy || w.at != docket.Micros(h.WithdrawnAt):
			return fail("who withdrew it, or when, differs from event %d", h.WithdrawnSeq)
		}
		w.rows++
		w.sum.AddWithdrawn(h)
		return nil
	})
	if err != nil {
		return wrap(err, "scan bank hashes")
	}
	for _, what := range []struct {
		verb    string
		batches map[int64]*hashBatch
	}{{"added", bs.added}, {"withdrew", bs.withdrawn}} {
		for _, seq := range slices.Sorted(maps.Keys(what.batches)) {
			b := what.batches[seq]
			if b.rows != b.count || b.sum.String() != b.digest {
				return &Problem{Table: "bank_hashes", What: fmt.Sprintf("the hashes that event %d %s (bank %s) are %d rows that differ from the %d it recorded: hashes were changed, added, deleted or brought back behind docket's back",
					seq, what.verb, b.bank, b.rows, b.count)}
			}
		}
	}
	return nil
}
