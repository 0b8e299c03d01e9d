package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/docket-dev/docket/sqlstore"
	"os"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/translog"
)

// logKey prints the public key of the log's tree heads: the line GET /api/v1/log/key serves.
func (m *Main) logKey(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("log key", flag.ContinueOnError)
	resolve := m.flags(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	k, err := translog.LoadOrCreateKey(cfg.LogKey)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, translog.KeyLine(k.Public()))
	return nil
}

// logHead prints the latest signed tree head as GET /api/v1/log/head gives it: a checkpoint
// to keep elsewhere after a full `docket audit verify`, for `audit verify --since` later.
func (m *Main) logHead(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("log head", flag.ContinueOnError)
	resolve := m.flags(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withReadOnlyStore(ctx, resolve, func(s *sqlstore.Store) error {
		h, err := s.LatestTreeHead(ctx)
		if err != nil {
			return err
		}
		return json.NewEncoder(m.Stdout).Encode(h)
	})
}

// receiptVerify checks a saved receipt offline: no server, no database, only the platform's
// public key and what the platform's API gave.
func (m *Main) receiptVerify(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("receipt verify", flag.ContinueOnError)
	keyArg := fs.String("key", "", "the platform's public log key: the line ed25519:… (GET /api/v1/log/key, docket log key) or a file holding it")
	proofFile := fs.String("proof", "", "an inclusion proof of the request in a later tree, as GET /api/v1/requests/{id}/proof gave it")
	headFile := fs.String("head", "", "a later signed tree head, as GET /api/v1/log/head gave it")
	consFile := fs.String("consistency", "", "the consistency proof from the receipt's tree to the later one, as GET /api/v1/log/consistency?from=N&to=M gave it")
	const operands = " RECEIPT.json"
	rest, err := m.parseArgs(fs, args, operands)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return exitError{2, "receipt verify needs the receipt: docket receipt verify RECEIPT.json --key KEY"}
	}
	file := rest[0]
	if more, err := m.parseArgs(fs, rest[1:], operands); err != nil { // flags after the file
		return err
	} else if len(more) > 0 {
		return exitError{2, fmt.Sprintf("unexpected argument %q", more[0])}
	}
	if *keyArg == "" {
		return exitError{2, "--key is required: the platform's public log key (ed25519:…, or a file holding it)"}
	}
	key, err := readKey(*keyArg)
	if err != nil {
		return exitError{2, "--key: " + err.Error()}
	}
	var r docket.Receipt
	if err := readJSON(file, &r); err != nil {
		return exitError{1, "receipt verify FAILED: " + err.Error()}
	}
	fail := func(err error) error { return exitError{1, "receipt verify FAILED: " + err.Error()} }
	if err := audit.VerifyReceipt(&r, key); err != nil {
		return fail(err)
	}
	l := r.Log
	deadline := "none"
	if r.Deadline != nil {
		deadline = r.Deadline.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(m.Stdout, "receipt OK: request %s, case %s, received %s, SHA-256 %s, deadline %s\n",
		r.ID, r.CaseID, r.ReceivedAt.UTC().Format(time.RFC3339Nano), r.SHA256, deadline)
	fmt.Fprintf(m.Stdout, "  its event %d (%s) is leaf %d of the log of %d events whose head was signed at %s\n",
		l.Event.Seq, l.Event.Type, l.LeafIndex, l.TreeHead.TreeSize, l.TreeHead.Time().Format(time.RFC3339Nano))

	var newer *translog.SignedTreeHead
	if *headFile != "" {
		newer = &translog.SignedTreeHead{}
		if err := readJSON(*headFile, newer); err != nil {
			return fail(fmt.Errorf("--head: %w", err))
		}
	}
	if *proofFile != "" {
		var p docket.InclusionProof
		if err := readJSON(*proofFile, &p); err != nil {
			return fail(fmt.Errorf("--proof: %w", err))
		}
		head := p.TreeHead
		if newer != nil && newer.TreeSize == p.TreeSize {
			head = newer
		}
		switch {
		case head == nil:
			return fail(fmt.Errorf("--proof: the proof is against the tree of %d events, but no signed head of that size was given (--head)", p.TreeSize))
		case p.TreeSize != head.TreeSize:
			return fail(fmt.Errorf("--proof: the proof is against the tree of %d events, its head is of %d", p.TreeSize, head.TreeSize))
		case p.LeafIndex != l.LeafIndex || p.Event.Hash != l.Event.Hash:
			return fail(fmt.Errorf("--proof: it proves leaf %d (event %s), not the receipt's leaf %d", p.LeafIndex, p.Event.Hash, l.LeafIndex))
		}
		if err := audit.VerifyInclusionAt(&r, head, p.Inclusion, key); err != nil {
			return fail(err)
		}
		fmt.Fprintf(m.Stdout, "still there: leaf %d is in the log of %d events whose head was signed at %s\n", l.LeafIndex, head.TreeSize, head.Time().Format(time.RFC3339Nano))
	}
	if *consFile == "" && newer == nil {
		return nil
	}
	var c docket.ConsistencyProof
	if *consFile != "" {
		if err := readJSON(*consFile, &c); err != nil {
			return fail(fmt.Errorf("--consistency: %w", err))
		}
		if newer == nil {
			newer = c.TreeHead
		}
	}
	switch {
	case newer == nil:
		return fail(errors.New("--consistency: no signed head of the later tree (give --head)"))
	case *consFile == "" && newer.TreeSize != l.TreeHead.TreeSize:
		return fail(fmt.Errorf("--head: a head of %d events against the receipt's %d needs the consistency proof between them (--consistency)", newer.TreeSize, l.TreeHead.TreeSize))
	case *consFile != "" && (c.From != l.TreeHead.TreeSize || c.To != newer.TreeSize):
		return fail(fmt.Errorf("--consistency: it goes from %d to %d events; the receipt's tree has %d, the later head %d", c.From, c.To, l.TreeHead.TreeSize, newer.TreeSize))
	}
	if err := audit.VerifyGrowth(&l.TreeHead, newer, c.Consistency, key); err != nil {
		return fail(err)
	}
	fmt.Fprintf(m.Stdout, "log only grew: the log of %d events (head signed at %s) extends the receipt's %d events unchanged\n",
		newer.TreeSize, newer.Time().Format(time.RFC3339Nano), l.TreeHead.TreeSize)
	return nil
}

// readKey reads a public log key given as its line or as a file holding it.
func readKey(arg string) (ed25519.PublicKey, error) {
	if strings.HasPrefix(strings.TrimSpace(arg), "ed25519:") {
		return translog.ParseKeyLine(arg)
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return nil, fmt.Errorf("neither a key line (ed25519:…) nor a readable file: %w", err)
	}
	return translog.ParseKeyLine(string(b))
}

func readJSON(file string, v any) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: not what docket gave: %w", file, err)
	}
	return nil
}
