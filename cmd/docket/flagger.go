package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/workflow"
)

// Trusted flaggers (DSA art. 22) and notifiers' standing (art. 23).

// MisuseFile is the rule of DSA art. 23 as the config file gives it ("misuse").
type MisuseFile struct {
	Window      string  `json:"window"`       // default 90d
	MinManifest int     `json:"min_manifest"` // default 5
	Rate        float64 `json:"rate"`         // default 0.5
	Suspension  string  `json:"suspension"`   // default 30d
	Off         bool    `json:"off"`
}

// misuseConfig reads the rule of the config file (nil: the defaults).
func misuseConfig(f *MisuseFile) (workflow.MisuseConfig, error) {
	var m workflow.MisuseConfig
	if f == nil {
		return m, nil
	}
	for _, d := range []struct {
		name, val string
		to        *time.Duration
	}{{"misuse.window", f.Window, &m.Window}, {"misuse.suspension", f.Suspension, &m.Suspension}} {
		if d.val == "" {
			continue
		}
		v, err := docket.ParseDuration(d.val)
		if err != nil || v <= 0 {
			return m, fmt.Errorf("%s %q: want a positive duration such as 30d or 72h", d.name, d.val)
		}
		*d.to = time.Duration(v)
	}
	if f.MinManifest < 0 || f.Rate < 0 || f.Rate > 1 {
		return m, fmt.Errorf("misuse: min_manifest must be 0 (default) or more, rate from 0 (default) to 1")
	}
	m.MinManifest, m.Rate, m.Off = f.MinManifest, f.Rate, f.Off
	return m, nil
}

// flaggerAdd registers a trusted flagger.
func (m *Main) flaggerAdd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("flagger add", flag.ContinueOnError)
	resolve := m.flags(fs)
	name := fs.String("name", "", "the trusted flagger's name")
	coordinator := fs.String("coordinator", "", `the Digital Services Coordinator that awarded the status, e.g. "Arcom (FR)"`)
	reference := fs.String("reference", "", "the reference of the coordinator's decision")
	email := fs.String("email", "", "where the platform writes to the flagger")
	asJSON := fs.Bool("json", false, `print {"id","token"}`)
	var areas listFlag
	fs.Var(&areas, "area", "an area of expertise: a DSA category such as PROTECTION_OF_MINORS (repeatable)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		f, token, err := svc.RegisterFlagger(ctx, docket.Actor("cli"), workflow.FlaggerSpec{
			Name: *name, Coordinator: *coordinator, Reference: *reference, Areas: areas, Email: *email})
		if err != nil {
			return err
		}
		m.printCreated(*asJSON, f.ID, token, "trusted flagger", nil)
		return nil
	})
}

// flaggerChange suspends, reinstates or revokes a trusted flagger, or gives it a new token.
func (m *Main) flaggerChange(ctx context.Context, args []string, status string) error {
	name := "flagger " + map[string]string{docket.FlaggerSuspended: "suspend", docket.FlaggerActive: "reinstate",
		docket.FlaggerRevoked: "revoke", "": "rotate-token"}[status]
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	resolve := m.flags(fs)
	reason := fs.String("reason", "", "why: the coordinator's decision, an investigation… (required)")
	var until *string
	if status == docket.FlaggerSuspended {
		until = fs.String("until", "", "end of the suspension: a date (2026-03-01), a time (RFC 3339) or a duration from now (30d, 72h)")
	}
	asJSON := fs.Bool("json", false, `print {"id","token"}`)
	ops, err := m.parseBank(fs, args, " ID", 1)
	if err != nil {
		return err
	}
	return m.withService(ctx, resolve, func(ctx context.Context, svc *workflow.Service) error {
		ch := workflow.FlaggerChange{Status: status, Reason: *reason, RotateToken: status == ""}
		if until != nil {
			if ch.Until, err = parseUntil(*until, svc.Now()); err != nil {
				return exitError{2, err.Error()}
			}
		}
		token, err := svc.ChangeFlagger(ctx, docket.Actor("cli"), ops[0], ch)
		if docket.ErrorCode(err) == docket.ENOTFOUND {
			return exitError{1, fmt.Sprintf("no trusted flagger has id %q (docket flagger list)", ops[0])}
		} else if err != nil {
			return err
		}
		m.printCreated(*asJSON, ops[0], token, "changed trusted flagger", nil)
		return nil
	})
}

// parseUntil reads an end time: a date, an RFC 3339 time, or a duration from now.
func parseUntil(s string, now time.Time) (time.Time, error) {
	if d, err := docket.ParseDuration(s); err == nil && d > 0 {
		return now.Add(time.Duration(d)), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--until %q: want a date (2026-03-01), an RFC 3339 time or a duration such as 30d", s)
}

// flaggerList lists the trusted flaggers with their accuracy.
func (m *Main) flaggerList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("flagger list", flag.ContinueOnError)
	resolve := m.flags(fs)
	asJSON := fs.Bool("json", false, "one JSON object per flagger, with its notices' counts")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withReadOnlyStore(ctx, resolve, func(s *sqlstore.Store) error {
		fs, err := s.Flaggers(ctx)
		if err != nil {
			return err
		}
		now := m.clock()
		enc := json.NewEncoder(m.Stdout)
		tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		if !*asJSON {
			fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tCOORDINATOR\tACTIONED\tUNFOUNDED\tMANIFEST\tACCURACY\tSTANDING\tAREAS")
		}
		for _, f := range fs {
			n, err := s.Notifier(ctx, "flagger:"+f.ID)
			if errors.Is(err, docket.ErrNotFound) {
				n, err = &docket.NotifierStanding{Key: "flagger:" + f.ID}, nil
			}
			if err != nil {
				return err
			}
			if *asJSON {
				if err := enc.Encode(map[string]any{"flagger": f, "status_now": f.StatusAt(now), "notices": n, "accuracy": n.Accuracy()}); err != nil {
					return err
				}
				continue
			}
			status := f.StatusAt(now)
			if status == docket.FlaggerSuspended {
				status += " until " + f.SuspendedUntil.Format("2006-01-02")
			}
			acc := "-"
			if n.Actioned+n.Unfounded > 0 {
				acc = fmt.Sprintf("%.0f%%", 100*n.Accuracy())
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", f.ID, f.Name, status, f.Coordinator, n.Actioned, n.Unfounded, n.Manifest,
				acc, standing(n, now), strings.Join(shortAreas(f.Areas), ","))
		}
		if *asJSON {
			return nil
		}
		return tw.Flush()
	})
}

func shortAreas(areas []string) []string {
	out := make([]string, len(areas))
	for i, a := range areas {
		out[i] = strings.ToLower(strings.TrimPrefix(a, "STATEMENT_CATEGORY_"))
	}
	return out
}

// standing says in words where a notifier stands under DSA art. 23.
func standing(n *docket.NotifierStanding, now time.Time) string {
	switch {
	case n.Suspended(now):
		return "suspended until " + n.SuspendedUntil.Format(time.RFC3339)
	case n.Warned():
		return "warned " + n.WarnedAt.Format("2006-01-02")
	}
	return "ok"
}

// notifierList lists notifiers with their counts and standing.
func (m *Main) notifierList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("notifier list", flag.ContinueOnError)
	resolve := m.flags(fs)
	warned := fs.Bool("warned", false, "only notifiers ever warned (DSA art. 23)")
	limit := fs.Int("limit", 100, "at most this many, latest change first")
	key := fs.String("key", "", "one notifier: email:ADDRESS or flagger:ID")
	asJSON := fs.Bool("json", false, "one JSON object per notifier")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	return m.withReadOnlyStore(ctx, resolve, func(s *sqlstore.Store) error {
		var ns []*docket.NotifierStanding
		if *key != "" {
			n, err := s.Notifier(ctx, *key)
			if errors.Is(err, docket.ErrNotFound) {
				return exitError{1, fmt.Sprintf("no notice of %q has been assessed", *key)}
			} else if err != nil {
				return err
			}
			ns = append(ns, n)
		} else {
			var err error
			if ns, err = s.Notifiers(ctx, docket.NotifierFilter{Warned: *warned, Limit: *limit}); err != nil {
				return err
			}
		}
		now := m.clock()
		if *asJSON {
			enc := json.NewEncoder(m.Stdout)
			for _, n := range ns {
				if err := enc.Encode(n); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NOTIFIER\tACTIONED\tUNFOUNDED\tMANIFEST\tWARNINGS\tSUSPENSIONS\tSTANDING")
		for _, n := range ns {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", n.Key, n.Actioned, n.Unfounded, n.Manifest, n.Warnings, n.Suspensions, standing(n, now))
		}
		return tw.Flush()
	})
}

// clock is the time now (Main.Now when set, as tests set it).
func (m *Main) clock() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}
