package workflow

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/sor"
)

// BankBatch is how many hashes one transaction adds or withdraws, each batch one event:
// a large list does not hold the single writer (and so the intake) for long.
const BankBatch = 2_000

// BankSpec is what a new hash bank is made of.
type BankSpec struct {
	Name   string
	Source string
	// Category is the bank's own word for what it holds ("csam", "terrorism"…);
	// DSACategory its DSA statement category (default: from Category, see DSACategoryOf).
	Category    string
	DSACategory string
	// Action is what a match calls for (docket.BankActions; default review).
	Action   string
	Disabled bool
}

var bankName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// dsaCategories maps common bank categories to their DSA statement category.
var dsaCategories = map[string]string{
	"csam": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "cse": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
	"child-abuse": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
	"terrorism":   "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "tvec": "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
	"violent-extremism": "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
	"ncii":              "STATEMENT_CATEGORY_CYBER_VIOLENCE",
}

// DSACategoryOf returns the DSA statement category of a common bank category (csam, cse,
// child-abuse; terrorism, tvec, violent-extremism; ncii), or "".
func DSACategoryOf(category string) string { return dsaCategories[strings.ToLower(category)] }

// CreateBank creates a hash bank, recorded as a bank_created event in the same transaction.
func (s *Service) CreateBank(ctx context.Context, by docket.Actor, spec BankSpec) (*docket.Bank, error) {
	b := &docket.Bank{
		Name: strings.TrimSpace(spec.Name), Source: strings.TrimSpace(spec.Source), Category: strings.TrimSpace(spec.Category),
		DSACategory: strings.TrimSpace(spec.DSACategory), Action: cmp.Or(strings.TrimSpace(spec.Action), docket.BankActionReview),
		Enabled: !spec.Disabled,
	}
	if b.DSACategory == "" {
		b.DSACategory = DSACategoryOf(b.Category)
	}
	bad := func(field, msg string) error {
		return &docket.Error{Code: docket.EINVALID, Message: msg, Fields: map[string]string{field: "invalid"}}
	}
	switch {
	case !bankName.MatchString(b.Name):
		return nil, bad("name", fmt.Sprintf("A bank's name is 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit (got %q): rules name it (match.bank).", b.Name))
	case b.Source == "" || len(b.Source) > 200:
		return nil, bad("source", "A bank needs a source: where its hashes come from (at most 200 characters).")
	case b.Category == "" || len(b.Category) > 64:
		return nil, bad("category", "A bank needs a category: what it holds, such as csam or terrorism (at most 64 characters).")
	case b.DSACategory == "":
		return nil, bad("dsa_category", fmt.Sprintf("Give the DSA category (STATEMENT_CATEGORY_…) of category %q.", b.Category))
	case !slices.Contains(sor.Categories, b.DSACategory):
		return nil, bad("dsa_category", fmt.Sprintf("Unknown DSA category %q: one of %s.", b.DSACategory, strings.Join(sor.Categories, ", ")))
	case !slices.Contains(docket.BankActions, b.Action):
		return nil, bad("action", fmt.Sprintf("Unknown default action %q: one of %s.", b.Action, strings.Join(docket.BankActions, ", ")))
	}
	b.ID, b.CreatedBy, b.CreatedAt = docket.NewID(), by, s.Now()
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		e := docket.NewEvent("", docket.EventBankCreated, by, b.CreatedAt, docket.BankCreated{Bank: *b})
		if err := tx.Append(ctx, e); err != nil {
			return err
		}
		b.ChangedSeq = e.Seq
		return tx.InsertBank(ctx, b)
	})
	if err != nil {
		return nil, fmt.Errorf("create bank: %w", err)
	}
	return b, nil
}

// SetBankEnabled enables or disables a bank, recorded as a bank_changed event. A disabled
// bank keeps its hashes but matches nothing. It reports false, and records nothing, when
// the bank was so already.
func (s *Service) SetBankEnabled(ctx context.Context, by docket.Actor, name string, enabled bool) (bool, error) {
	changed := false
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		b, err := tx.Bank(ctx, name)
		if err != nil {
			return err
		}
		if b.Enabled == enabled {
			return nil
		}
		e := docket.NewEvent("", docket.EventBankChanged, by, s.Now(), docket.BankChanged{ID: b.ID, Name: b.Name, Enabled: enabled})
		if err := tx.Append(ctx, e); err != nil {
			return err
		}
		b.Enabled, b.ChangedSeq, changed = enabled, e.Seq, true
		return tx.UpdateBank(ctx, b)
	})
	if isNotFound(err) {
		return false, notFound("hash bank")
	} else if err != nil {
		return false, fmt.Errorf("change bank %s: %w", name, err)
	}
	return changed, nil
}

// BankChange is what AddBankHashes or WithdrawBankHashes did: the hashes added (or
// withdrawn), those left alone (in the bank already, or not in it), and the events.
type BankChange struct {
	Changed, Unchanged int
	Events             []int64
}

// checkBankHashes validates hashes given to a bank and drops repeats: each must be of a
// known kind, in lower-case hex of its length, with a quality from -1 (none) to 100.
func checkBankHashes(hs []docket.BankHash) ([]docket.BankHash, error) {
	out := make([]docket.BankHash, 0, len(hs))
	seen := make(map[string]bool, len(hs))
	for i, h := range hs {
		n := docket.HashLen(h.Kind)
		ok := n > 0 && len(h.Hash) == n && strings.Trim(h.Hash, "0123456789abcdef") == "" && h.Quality >= -1 && h.Quality <= 100
		if !ok {
			return nil, docket.Errorf(docket.EINVALID, "Hash #%d (%s %q, quality %d) is not a pdq, sha256 or md5 hash in lower-case hexadecimal with a quality from -1 (none) to 100.", i+1, h.Kind, h.Hash, h.Quality)
		}
		if k := h.Kind + h.Hash; !seen[k] {
			seen[k] = true
			out = append(out, docket.BankHash{Kind: h.Kind, Hash: h.Hash, Quality: h.Quality})
		}
	}
	return out, nil
}

// AddBankHashes adds hashes to a bank, BankBatch at a time: each batch is one transaction
// with one bank_hashes_added event (its count, its kinds and the digest of its rows, and
// source: where the hashes came from). Hashes the bank holds already are left as they are.
// All the hashes are checked before the first batch is written; a batch that fails stops
// the rest (those written stay, and adding the same list again completes it).
func (s *Service) AddBankHashes(ctx context.Context, by docket.Actor, name string, hs []docket.BankHash, source string) (BankChange, error) {
	return s.changeBankHashes(ctx, by, name, hs, source, false)
}

// WithdrawBankHashes withdraws hashes from a bank as AddBankHashes adds them, each batch a
// bank_hashes_withdrawn event; hashes the bank does not hold are left alone. A withdrawn
// hash matches nothing; its row stays, with who withdrew it and when.
func (s *Service) WithdrawBankHashes(ctx context.Context, by docket.Actor, name string, hs []docket.BankHash, source string) (BankChange, error) {
	return s.changeBankHashes(ctx, by, name, hs, source, true)
}

func (s *Service) changeBankHashes(ctx context.Context, by docket.Actor, name string, hs []docket.BankHash, source string, withdraw bool) (BankChange, error) {
	var out BankChange
	hs, err := checkBankHashes(hs)
	if err != nil {
		return out, err
	}
	if _, err := s.store.Bank(ctx, name); isNotFound(err) {
		return out, notFound("hash bank")
	} else if err != nil {
		return out, err
	}
	for len(hs) > 0 {
		batch := hs[:min(len(hs), BankBatch)]
		hs = hs[len(batch):]
		err := s.store.Update(ctx, func(tx docket.Tx) error {
			b, err := tx.Bank(ctx, name)
			if err != nil {
				return err
			}
			todo, err := bankHashesToChange(ctx, tx, b.ID, batch, withdraw)
			if err != nil {
				return err
			}
			if len(todo) == 0 {
				return nil
			}
			var sum docket.BankDigest
			kinds := map[string]int{}
			for i := range todo {
				if withdraw {
					sum.AddWithdrawn(&todo[i])
				} else {
					sum.AddAdded(&todo[i])
				}
				kinds[todo[i].Kind]++
			}
			now := s.Now()
			var e *docket.Event
			if withdraw {
				e = docket.NewEvent("", docket.EventBankHashesWithdrawn, by, now, docket.BankHashesWithdrawn{
					BankID: b.ID, Bank: b.Name, Count: len(todo), Digest: sum.String(), Source: source})
			} else {
				e = docket.NewEvent("", docket.EventBankHashesAdded, by, now, docket.BankHashesAdded{
					BankID: b.ID, Bank: b.Name, Count: len(todo), Kinds: kinds, Digest: sum.String(), Source: source})
			}
			if err := tx.Append(ctx, e); err != nil {
				return err
			}
			for i := range todo {
				h := &todo[i]
				h.BankID = b.ID
				if withdraw {
					h.WithdrawnSeq, h.WithdrawnBy, h.WithdrawnAt = e.Seq, by, e.At
				} else {
					h.AddedSeq, h.AddedBy, h.AddedAt = e.Seq, by, e.At
				}
			}
			if withdraw {
				err = tx.WithdrawBankHashes(ctx, todo)
				b.Hashes -= int64(len(todo))
			} else {
				err = tx.AddBankHashes(ctx, todo)
				b.Hashes += int64(len(todo))
			}
			if err != nil {
				return err
			}
			b.ChangedSeq = e.Seq
			if err := tx.UpdateBank(ctx, b); err != nil {
				return err
			}
			out.Changed += len(todo)
			out.Unchanged += len(batch) - len(todo)
			out.Events = append(out.Events, e.Seq)
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("bank %s: %w", name, err)
		}
	}
	return out, nil
}

// bankHashesToChange returns the hashes of batch that the bank does not hold live (to add),
// or holds live (to withdraw).
func bankHashesToChange(ctx context.Context, tx docket.Tx, bankID string, batch []docket.BankHash, withdraw bool) ([]docket.BankHash, error) {
	byKind := map[string][]string{}
	for _, h := range batch {
		byKind[h.Kind] = append(byKind[h.Kind], h.Hash)
	}
	live := map[string]bool{}
	for kind, hashes := range byKind {
		held, err := tx.LiveBankHashes(ctx, bankID, kind, hashes)
		if err != nil {
			return nil, err
		}
		for h := range held {
			live[kind+h] = true
		}
	}
	var out []docket.BankHash
	for _, h := range batch {
		if live[h.Kind+h.Hash] == withdraw {
			out = append(out, h)
		}
	}
	return out, nil
}
