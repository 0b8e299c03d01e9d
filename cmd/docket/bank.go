package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/hashbank"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/workflow"
)

// splitOperands separates a command's operands (NAME, FILE) from its flags, wherever they
// stand, so that `docket bank import NAME FILE --format csv` reads as written: an argument
// is a flag's value when it follows a flag that takes one.
func splitOperands(fs *flag.FlagSet, args []string) (flags, operands []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(operands, args[i+1:]...)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			f := fs.Lookup(name)
			if f == nil || hasValue || i+1 == len(args) {
				continue
			}
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			flags = append(flags, args[i+1])
			i++
		default:
			operands = append(operands, a)
		}
	}
	return flags, operands
}

// parseBank parses a bank command's flags and returns exactly n operands (usage names them).
func (m *Main) parseBank(fs *flag.FlagSet, args []string, usage string, n int) ([]string, error) {
	flags, operands := splitOperands(fs, args)
	if _, err := m.parseArgs(fs, flags, usage); err != nil {
		return nil, err
	}
	if len(operands) != n {
		return nil, exitError{2, fmt.Sprintf("docket %s wants%s (got %d arguments)", fs.Name(), usage, len(operands))}
	}
	return operands, nil
}

// bankAdd creates a hash bank.
func (m *Main) bankAdd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bank add", flag.ContinueOnError)
	resolve := m.flags(fs)
	source := fs.String("source", "", "where the hashes come from (an organisation, a list)")
	category := fs.String("category", "", "what the bank holds: csam, terrorism, ncii, removed-before…")
	dsa := fs.String("dsa-category", "", "the DSA statement category (STATEMENT_CATEGORY_…); default from --category for csam, cse, child-abuse, terrorism, tvec, violent-extremism, ncii")
	action := fs.String("action", docket.BankActionReview, "what a match calls for: "+strings.Join(docket.BankActions, ", ")+" (recorded and shown; docket takes no action by itself)")
	disabled := fs.Bool("disabled", false, "create it disabled (it matches nothing until enabled)")
	asJSON := fs.Bool("json", false, "print the bank as JSON")
	ops, err := m.parseBank(fs, args, " NAME", 1)
	if err != nil {
		return err
	}
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		b, err := svc.CreateBank(ctx, docket.Actor("cli"), workflow.BankSpec{Name: ops[0], Source: *source, Category: *category,
			DSACategory: *dsa, Action: *action, Disabled: *disabled})
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(m.Stdout).Encode(b)
		}
		fmt.Fprintf(m.Stdout, "bank %s created (%s, %s, default action %s, %s)\n", b.Name, b.Category, b.DSACategory, b.Action, enabledWord(b.Enabled))
		return nil
	})
}

func enabledWord(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}

// bankImport adds (or, with withdraw, withdraws) the hashes of a file.
func (m *Main) bankImport(ctx context.Context, args []string, withdraw bool) error {
	name := "bank import"
	if withdraw {
		name = "bank withdraw"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	resolve := m.flags(fs)
	format := fs.String("format", hashbank.FormatLines, "the file's format: lines (HASH or TYPE HASH a line), csv (hash,quality,…) or hma (Meta's ThreatExchange/HMA CSV)")
	kind := fs.String("kind", docket.HashPDQ, "the kind of the hashes the file does not type: pdq, sha256 or md5")
	ops, err := m.parseBank(fs, args, " NAME FILE", 2)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(ops[1])
	if err != nil {
		return exitError{1, err.Error()}
	}
	parsed, err := hashbank.Parse(bytes.NewReader(data), *format, *kind)
	var le *hashbank.LineError
	if errors.As(err, &le) {
		return exitError{1, fmt.Sprintf("%s: %v: nothing was %s", ops[1], le, map[bool]string{false: "imported", true: "withdrawn"}[withdraw])}
	} else if err != nil {
		return exitError{2, err.Error()}
	}
	sum := sha256.Sum256(data)
	source := fmt.Sprintf("file %s (sha256 %s), format %s", filepath.Base(ops[1]), hex.EncodeToString(sum[:]), *format)
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		change := svc.AddBankHashes
		verb, left := "added to", "already in the bank"
		if withdraw {
			change, verb, left = svc.WithdrawBankHashes, "withdrawn from", "not in the bank"
		}
		res, err := change(ctx, docket.Actor("cli"), ops[0], parsed.Hashes, source)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%d hashes %s bank %s (%d %s", res.Changed, verb, ops[0], res.Unchanged, left)
		if parsed.Repeated > 0 {
			fmt.Fprintf(m.Stdout, ", %d repeated in the file", parsed.Repeated)
		}
		if parsed.Skipped > 0 {
			fmt.Fprintf(m.Stdout, ", %d false positives skipped", parsed.Skipped)
		}
		fmt.Fprintf(m.Stdout, "); %d events\n", len(res.Events))
		return nil
	})
}

// bankExport writes a bank's live hashes.
func (m *Main) bankExport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bank export", flag.ContinueOnError)
	resolve := m.flags(fs)
	format := fs.String("format", hashbank.FormatLines, "lines, csv or hma")
	ops, err := m.parseBank(fs, args, " NAME", 1)
	if err != nil {
		return err
	}
	return m.withReadOnlyStore(ctx, resolve, func(s *sqlstore.Store) error {
		b, err := s.Bank(ctx, ops[0])
		if errors.Is(err, docket.ErrNotFound) {
			return exitError{1, fmt.Sprintf("no hash bank is named %q (docket bank list)", ops[0])}
		} else if err != nil {
			return err
		}
		w, err := hashbank.NewWriter(m.Stdout, *format, b)
		if err != nil {
			return exitError{2, err.Error()}
		}
		var hs []docket.BankHash
		err = s.BankHashes(ctx, docket.BankHashFilter{BankID: b.ID, Live: true}, func(h *docket.BankHash) error {
			hs = append(hs, *h)
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(hs, func(a, b docket.BankHash) int {
			return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Hash, b.Hash))
		})
		for i := range hs {
			if err := w.Write(&hs[i]); err != nil {
				return err
			}
		}
		return w.Flush()
	})
}

// bankList lists the banks.
func (m *Main) bankList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bank list", flag.ContinueOnError)
	resolve := m.flags(fs)
	asJSON := fs.Bool("json", false, "one JSON object per bank")
	if _, err := m.parseBank(fs, args, "", 0); err != nil {
		return err
	}
	return m.withReadOnlyStore(ctx, resolve, func(s *sqlstore.Store) error {
		banks, err := s.Banks(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(m.Stdout)
			for _, b := range banks {
				if err := enc.Encode(b); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATE\tHASHES\tCATEGORY\tDSA CATEGORY\tACTION\tSOURCE")
		for _, b := range banks {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", b.Name, enabledWord(b.Enabled), b.Hashes, b.Category, b.DSACategory, b.Action, b.Source)
		}
		return tw.Flush()
	})
}

// bankEnable enables or disables a bank.
func (m *Main) bankEnable(ctx context.Context, args []string, on bool) error {
	fs := flag.NewFlagSet("bank "+map[bool]string{false: "disable", true: "enable"}[on], flag.ContinueOnError)
	resolve := m.flags(fs)
	ops, err := m.parseBank(fs, args, " NAME", 1)
	if err != nil {
		return err
	}
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		changed, err := svc.SetBankEnabled(ctx, docket.Actor("cli"), ops[0], on)
		if err != nil {
			return err
		}
		if !changed {
			fmt.Fprintf(m.Stdout, "bank %s was %s already\n", ops[0], enabledWord(on))
			return nil
		}
		fmt.Fprintf(m.Stdout, "bank %s %s\n", ops[0], enabledWord(on))
		return nil
	})
}
