package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
)

// hexHash returns a hash of the kind made of n, in hex.
func hexHash(kind string, n int) string {
	return fmt.Sprintf("%0*x", docket.HashLen(kind), n+1)
}

// changeBank records one bank event and its rows the way the workflow does: the event
// first (its seq names the rows), then the rows, then the bank's row.
func changeBank(ctx context.Context, tx docket.Tx, name string, typ docket.EventType, hs []docket.BankHash, at time.Time) (int64, error) {
	b, err := tx.Bank(ctx, name)
	if err != nil {
		return 0, err
	}
	var sum docket.BankDigest
	for i := range hs {
		if typ == docket.EventBankHashesAdded {
			sum.AddAdded(&hs[i])
		} else {
			sum.AddWithdrawn(&hs[i])
		}
	}
	var data any = docket.BankHashesAdded{BankID: b.ID, Bank: b.Name, Count: len(hs), Digest: sum.String()}
	if typ == docket.EventBankHashesWithdrawn {
		data = docket.BankHashesWithdrawn{BankID: b.ID, Bank: b.Name, Count: len(hs), Digest: sum.String()}
	}
	e := docket.NewEvent("", typ, "test", at, data)
	if err := tx.Append(ctx, e); err != nil {
		return 0, err
	}
	for i := range hs {
		hs[i].BankID = b.ID
		if typ == docket.EventBankHashesAdded {
			hs[i].AddedSeq, hs[i].AddedBy, hs[i].AddedAt = e.Seq, "test", e.At
		} else {
			hs[i].WithdrawnSeq, hs[i].WithdrawnBy, hs[i].WithdrawnAt = e.Seq, "test", e.At
		}
	}
	if typ == docket.EventBankHashesAdded {
		err = tx.AddBankHashes(ctx, hs)
		b.Hashes += int64(len(hs))
	} else {
		err = tx.WithdrawBankHashes(ctx, hs)
		b.Hashes -= int64(len(hs))
	}
	if err != nil {
		return 0, err
	}
	b.ChangedSeq = e.Seq
	return e.Seq, tx.UpdateBank(ctx, b)
}

func createBank(ctx context.Context, tx docket.Tx, name string, at time.Time) (*docket.Bank, error) {
	b := &docket.Bank{ID: docket.NewID(), Name: name, Source: "test list", Category: "csam", DSACategory: "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
		Action: docket.BankActionReview, Enabled: true, CreatedBy: "test", CreatedAt: at}
	e := docket.NewEvent("", docket.EventBankCreated, "test", at, docket.BankCreated{Bank: *b})
	if err := tx.Append(ctx, e); err != nil {
		return nil, err
	}
	b.ChangedSeq = e.Seq
	return b, tx.InsertBank(ctx, b)
}

func bankHashes(t *testing.T, s docket.Store, f docket.BankHashFilter) []string {
	t.Helper()
	var out []string
	err := s.BankHashes(context.Background(), f, func(h *docket.BankHash) error {
		out = append(out, fmt.Sprintf("%s:%s:%d:%d", h.Kind, h.Hash[len(h.Hash)-4:], h.AddedSeq, h.WithdrawnSeq))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func testBanks(t *testing.T, s docket.Store) {
	ctx := context.Background()
	var bank *docket.Bank
	err := s.Update(ctx, func(tx docket.Tx) error {
		var err error
		bank, err = createBank(ctx, tx, "csam", t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx docket.Tx) error {
		_, err := createBank(ctx, tx, "csam", t0)
		return err
	})
	if docket.ErrorCode(err) != docket.ECONFLICT {
		t.Fatalf("a second bank named csam: %v, want ECONFLICT", err)
	}
	if _, err := s.Bank(ctx, "nope"); !errors.Is(err, docket.ErrNotFound) {
		t.Fatalf("unknown bank: %v", err)
	}
	// Two batches: PDQ hashes, then digests and a PDQ hash.
	pdqs := []docket.BankHash{{Kind: docket.HashPDQ, Hash: hexHash("pdq", 1), Quality: 90}, {Kind: docket.HashPDQ, Hash: hexHash("pdq", 2), Quality: -1}}
	var first, second int64
	err = s.Update(ctx, func(tx docket.Tx) error {
		var err error
		first, err = changeBank(ctx, tx, "csam", docket.EventBankHashesAdded, pdqs, t0.Add(time.Minute))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx docket.Tx) error {
		var err error
		second, err = changeBank(ctx, tx, "csam", docket.EventBankHashesAdded, []docket.BankHash{
			{Kind: docket.HashSHA256, Hash: hexHash("sha256", 1), Quality: -1}, {Kind: docket.HashMD5, Hash: hexHash("md5", 1), Quality: -1},
			{Kind: docket.HashPDQ, Hash: hexHash("pdq", 3), Quality: 50}}, t0.Add(2*time.Minute))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A hash held live already is refused, and the whole transaction with it.
	err = s.Update(ctx, func(tx docket.Tx) error {
		_, err := changeBank(ctx, tx, "csam", docket.EventBankHashesAdded, []docket.BankHash{{Kind: docket.HashPDQ, Hash: hexHash("pdq", 1), Quality: 1}}, t0)
		return err
	})
	if docket.ErrorCode(err) != docket.ECONFLICT {
		t.Fatalf("a hash added twice: %v, want ECONFLICT", err)
	}
	got, err := s.Bank(ctx, "csam")
	if err != nil || got.Hashes != 5 || got.ChangedSeq != second || got.ID != bank.ID || !got.Enabled || got.DSACategory != bank.DSACategory {
		t.Fatalf("bank after two batches: %+v, %v (second batch %d)", got, err, second)
	}
	err = s.Update(ctx, func(tx docket.Tx) error {
		live, err := tx.LiveBankHashes(ctx, bank.ID, docket.HashPDQ, []string{hexHash("pdq", 1), hexHash("pdq", 3), hexHash("pdq", 9), hexHash("sha256", 1)})
		if err != nil {
			return err
		}
		if len(live) != 2 || !live[hexHash("pdq", 1)] || !live[hexHash("pdq", 3)] {
			return fmt.Errorf("live PDQ hashes %v", live)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Withdraw one; withdrawing a hash not held live is ENOTFOUND.
	var third int64
	err = s.Update(ctx, func(tx docket.Tx) error {
		var err error
		third, err = changeBank(ctx, tx, "csam", docket.EventBankHashesWithdrawn, []docket.BankHash{{Kind: docket.HashPDQ, Hash: hexHash("pdq", 1)}}, t0.Add(3*time.Minute))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx docket.Tx) error {
		_, err := changeBank(ctx, tx, "csam", docket.EventBankHashesWithdrawn, []docket.BankHash{{Kind: docket.HashPDQ, Hash: hexHash("pdq", 1)}}, t0.Add(3*time.Minute))
		return err
	})
	if !errors.Is(err, docket.ErrNotFound) {
		t.Fatalf("a hash withdrawn twice: %v, want ErrNotFound", err)
	}
	// Added again after its withdrawal: a new row beside the withdrawn one.
	var fourth int64
	err = s.Update(ctx, func(tx docket.Tx) error {
		var err error
		fourth, err = changeBank(ctx, tx, "csam", docket.EventBankHashesAdded, []docket.BankHash{{Kind: docket.HashPDQ, Hash: hexHash("pdq", 1), Quality: 80}}, t0.Add(4*time.Minute))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	all := bankHashes(t, s, docket.BankHashFilter{})
	want := []string{
		fmt.Sprintf("md5:0002:%d:0", second), fmt.Sprintf("pdq:0002:%d:%d", first, third), fmt.Sprintf("pdq:0002:%d:0", fourth),
		fmt.Sprintf("pdq:0003:%d:0", first), fmt.Sprintf("pdq:0004:%d:0", second), fmt.Sprintf("sha256:0002:%d:0", second)}
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("every row:\n%v\nwant\n%v", strings.Join(all, "\n"), strings.Join(want, "\n"))
	}
	if live := bankHashes(t, s, docket.BankHashFilter{BankID: bank.ID, Live: true}); len(live) != 5 || slices.Contains(live, fmt.Sprintf("pdq:0002:%d:%d", first, third)) {
		t.Fatalf("live rows %v", live)
	}
	if since := bankHashes(t, s, docket.BankHashFilter{Since: second, Live: true}); !slices.Equal(since, []string{fmt.Sprintf("pdq:0002:%d:0", fourth)}) {
		t.Fatalf("added since %d: %v", second, since)
	}
	if since := bankHashes(t, s, docket.BankHashFilter{Since: second, Withdrawn: true}); !slices.Equal(since, []string{fmt.Sprintf("pdq:0002:%d:%d", first, third)}) {
		t.Fatalf("withdrawn since %d: %v", second, since)
	}
	if none := bankHashes(t, s, docket.BankHashFilter{BankID: "other"}); len(none) != 0 {
		t.Fatalf("another bank's rows %v", none)
	}
	// Disabled, and a second bank: Banks lists them by name.
	err = s.Update(ctx, func(tx docket.Tx) error {
		if _, err := createBank(ctx, tx, "aaa-removed", t0); err != nil {
			return err
		}
		b, err := tx.Bank(ctx, "csam")
		if err != nil {
			return err
		}
		e := docket.NewEvent("", docket.EventBankChanged, "test", t0.Add(5*time.Minute), docket.BankChanged{ID: b.ID, Name: b.Name, Enabled: false})
		if err := tx.Append(ctx, e); err != nil {
			return err
		}
		b.Enabled, b.ChangedSeq = false, e.Seq
		return tx.UpdateBank(ctx, b)
	})
	if err != nil {
		t.Fatal(err)
	}
	banks, err := s.Banks(ctx)
	if err != nil || len(banks) != 2 || banks[0].Name != "aaa-removed" || banks[1].Name != "csam" || banks[1].Enabled || banks[1].Hashes != 5 ||
		!banks[1].CreatedAt.Equal(t0) || banks[1].CreatedBy != "test" {
		t.Fatalf("banks %+v, %v", banks, err)
	}
	mustVerify(t, s)
}
