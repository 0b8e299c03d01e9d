package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/docket-dev/docket"
)

// Hash banks (tables banks and bank_hashes).

const bankCols = `id, name, source, category, dsa_category, action, enabled, created_by, created_at, changed_seq, hashes`

func scanBank(r rowScanner) (*docket.Bank, error) {
	var b docket.Bank
	var enabled int
	var created int64
	var by string
	if err := r.Scan(&b.ID, &b.Name, &b.Source, &b.Category, &b.DSACategory, &b.Action, &enabled, &by, &created, &b.ChangedSeq, &b.Hashes); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, err
	}
	b.Enabled, b.CreatedBy, b.CreatedAt = enabled != 0, docket.Actor(by), docket.FromMicros(created)
	return &b, nil
}

const bankHashCols = `bank_id, kind, hash, quality, added_seq, added_by, added_at, withdrawn_seq, withdrawn_by, withdrawn_at`

func scanBankHash(r rowScanner, h *docket.BankHash) error {
	var addedBy, withdrawnBy string
	var added, withdrawn int64
	if err := r.Scan(&h.BankID, &h.Kind, &h.Hash, &h.Quality, &h.AddedSeq, &addedBy, &added, &h.WithdrawnSeq, &withdrawnBy, &withdrawn); err != nil {
		return err
	}
	h.AddedBy, h.AddedAt = docket.Actor(addedBy), docket.FromMicros(added)
	h.WithdrawnBy, h.WithdrawnAt = docket.Actor(withdrawnBy), docket.FromMicros(withdrawn)
	return nil
}

// Banks lists the hash banks by name.
func (s *Store) Banks(ctx context.Context) ([]*docket.Bank, error) {
	var out []*docket.Bank
	err := s.scanAll(ctx, "banks", `SELECT `+bankCols+` FROM banks ORDER BY name`, func(rows *sql.Rows) error {
		b, err := scanBank(rows)
		if err != nil {
			return fmt.Errorf("scan banks: %w", err)
		}
		out = append(out, b)
		return nil
	})
	return out, err
}

// Bank finds a bank by its name.
func (s *Store) Bank(ctx context.Context, name string) (*docket.Bank, error) {
	b, err := scanBank(s.queryRow(ctx, `SELECT `+bankCols+` FROM banks WHERE name = ?`, name))
	return b, notFoundOr(err, "read bank "+name)
}

// BankHashes calls fn for each hash f selects. The hash passed is reused for the next row.
func (s *Store) BankHashes(ctx context.Context, f docket.BankHashFilter, fn func(*docket.BankHash) error) error {
	q := `SELECT ` + bankHashCols + ` FROM bank_hashes WHERE 1 = 1`
	var args []any
	switch {
	case f.Since > 0 && f.Withdrawn:
		q += ` AND withdrawn_seq > ?`
		args = append(args, f.Since)
	case f.Since > 0:
		q += ` AND added_seq > ?`
		args = append(args, f.Since)
	}
	if f.BankID != "" {
		q += ` AND bank_id = ?`
		args = append(args, f.BankID)
	}
	if f.Live {
		// The literal lets the engine use the partial index of live hashes.
		q += ` AND withdrawn_seq = 0`
	}
	var h docket.BankHash
	return s.scanAllArgs(ctx, "bank hashes", q, args, func(rows *sql.Rows) error {
		if err := scanBankHash(rows, &h); err != nil {
			return fmt.Errorf("scan bank hashes: %w", err)
		}
		return fn(&h)
	})
}

// InsertBank stores a new bank.
func (t *tx) InsertBank(ctx context.Context, b *docket.Bank) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO banks (`+bankCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, b.Name, b.Source, b.Category, b.DSACategory, b.Action, b2i(b.Enabled), string(b.CreatedBy), docket.Micros(b.CreatedAt), b.ChangedSeq, b.Hashes)
	if err != nil {
		if t.s.d.IsUniqueViolation(err) {
			return docket.Errorf(docket.ECONFLICT, "A hash bank named %s exists already.", b.Name)
		}
		return fmt.Errorf("insert bank %s: %w", b.Name, err)
	}
	return nil
}

// Bank reads a bank by its name inside the transaction.
func (t *tx) Bank(ctx context.Context, name string) (*docket.Bank, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	b, err := scanBank(t.queryRow(ctx, `SELECT `+bankCols+` FROM banks WHERE name = ?`+t.s.d.ForUpdate, name))
	return b, notFoundOr(err, "read bank "+name)
}

// UpdateBank stores a bank's enabled flag, count of hashes and last event.
func (t *tx) UpdateBank(ctx context.Context, b *docket.Bank) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE banks SET enabled = ?, hashes = ?, changed_seq = ? WHERE id = ?`, b2i(b.Enabled), b.Hashes, b.ChangedSeq, b.ID)
	if err != nil {
		return fmt.Errorf("update bank %s: %w", b.Name, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("update bank %s: %w", b.Name, docket.ErrNotFound)
	}
	return nil
}

// bankChunk is how many hashes one statement names: far below the engines' limits on
// parameters (SQLite 32,766, PostgreSQL 65,535).
const bankChunk = 500

// LiveBankHashes returns those of hashes that the bank holds live.
func (t *tx) LiveBankHashes(ctx context.Context, bankID, kind string, hashes []string) (map[string]bool, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for len(hashes) > 0 {
		chunk := hashes[:min(len(hashes), bankChunk)]
		hashes = hashes[len(chunk):]
		args := make([]any, 0, len(chunk)+2)
		args = append(args, bankID, kind)
		for _, h := range chunk {
			args = append(args, h)
		}
		rows, err := t.query(ctx, `SELECT hash FROM bank_hashes WHERE bank_id = ? AND kind = ? AND withdrawn_seq = 0 AND hash IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("look up bank hashes: %w", err)
		}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("look up bank hashes: %w", err)
			}
			out[h] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("look up bank hashes: %w", err)
		}
	}
	return out, nil
}

// AddBankHashes stores hashes, as multi-row INSERTs of up to 100 rows.
func (t *tx) AddBankHashes(ctx context.Context, hs []docket.BankHash) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	const rowsPer = 100
	row := "(" + placeholders(10) + ")"
	for len(hs) > 0 {
		chunk := hs[:min(len(hs), rowsPer)]
		hs = hs[len(chunk):]
		args := make([]any, 0, len(chunk)*10)
		for _, h := range chunk {
			args = append(args, h.BankID, h.Kind, h.Hash, h.Quality, h.AddedSeq, string(h.AddedBy), docket.Micros(h.AddedAt), 0, "", 0)
		}
		q := `INSERT INTO bank_hashes (` + bankHashCols + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)), ", ")
		if _, err := t.exec(ctx, q, args...); err != nil {
			if t.s.d.IsUniqueViolation(err) {
				return docket.Errorf(docket.ECONFLICT, "A hash is in the bank already.")
			}
			return fmt.Errorf("add bank hashes: %w", err)
		}
	}
	return nil
}

// WithdrawBankHashes marks live hashes withdrawn, by kind, up to bankChunk per statement.
func (t *tx) WithdrawBankHashes(ctx context.Context, hs []docket.BankHash) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	type group struct {
		bank, kind string
		seq        int64
		by         docket.Actor
		at         int64
	}
	groups := map[group][]string{}
	var order []group
	for _, h := range hs {
		g := group{h.BankID, h.Kind, h.WithdrawnSeq, h.WithdrawnBy, docket.Micros(h.WithdrawnAt)}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], h.Hash)
	}
	for _, g := range order {
		hashes := groups[g]
		for len(hashes) > 0 {
			chunk := hashes[:min(len(hashes), bankChunk)]
			hashes = hashes[len(chunk):]
			args := make([]any, 0, len(chunk)+5)
			args = append(args, g.seq, string(g.by), g.at, g.bank, g.kind)
			for _, h := range chunk {
				args = append(args, h)
			}
			res, err := t.exec(ctx, `UPDATE bank_hashes SET withdrawn_seq = ?, withdrawn_by = ?, withdrawn_at = ?
				WHERE bank_id = ? AND kind = ? AND withdrawn_seq = 0 AND hash IN (`+placeholders(len(chunk))+`)`, args...)
			if err != nil {
				return fmt.Errorf("withdraw bank hashes: %w", err)
			}
			if n, _ := res.RowsAffected(); n != int64(len(chunk)) {
				return fmt.Errorf("withdraw bank hashes: %d of %d are not in the bank: %w", int64(len(chunk))-n, len(chunk), docket.ErrNotFound)
			}
		}
	}
	return nil
}
