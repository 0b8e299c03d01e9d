package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/docket-dev/docket/report"
)

// reportCmd computes a transparency report (requests or dsa) from the audit log, read-only:
// as CSV, HTML or JSON; or the figures' paths; or the cases and events behind one figure.
func (m *Main) reportCmd(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet("report "+name, flag.ContinueOnError)
	resolve := m.flags(fs)
	formats := []string{"csv", "html", "json"}
	if name == "dsa" {
		formats = []string{"csv", "html"}
	}
	from := fs.String("from", "", "the first day covered, YYYY-MM-DD (UTC); a case counts on the day it was received")
	to := fs.String("to", "", "the last day covered, YYYY-MM-DD (UTC), included")
	format := fs.String("format", "csv", strings.Join(formats, ", "))
	out := fs.String("out", "", "with --format csv: write one CSV file per table into this folder (else all to stdout, each after a line \"# FILE.csv\")")
	explain := fs.String("explain", "", "a figure's path, such as requests/FR/police/requests: print the cases and events behind it")
	figures := fs.Bool("figures", false, "print every figure's path and value")
	upto := fs.Int64("upto", 0, "compute from the audit log up to this event only (the log as it was then; 0: all of it)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	period, err := report.ParsePeriod(*from, *to)
	if err != nil {
		return exitError{2, err.Error()}
	}
	switch {
	case !slices.Contains(formats, *format):
		return exitError{2, fmt.Sprintf("--format %q: want %s", *format, orList(formats))}
	case *out != "" && *format != "csv":
		return exitError{2, "--out writes CSV files: it goes with --format csv"}
	case *upto < 0:
		return exitError{2, "--upto wants an event's sequence number (docket audit head prints the last one)"}
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	s, err := openReadOnly(ctx, cfg)
	if err != nil {
		return exitError{1, err.Error()}
	}
	defer s.Close()
	// One snapshot: a server writing meanwhile cannot make the events and the requests'
	// targets disagree.
	view, end, err := s.Snapshot(ctx)
	if err != nil {
		return err
	}
	defer end()
	l, err := report.Read(ctx, view, *upto)
	if err != nil {
		return exitError{1, "report " + name + ": " + err.Error()}
	}
	rep := report.Requests(l, period)
	if name == "dsa" {
		rep = report.DSA(l, period, cfg.PlatformName)
	}
	w := bufio.NewWriter(m.Stdout)
	defer w.Flush()
	switch {
	case *explain != "":
		f, err := rep.Explain(*explain)
		if err != nil {
			return exitError{1, err.Error()}
		}
		return report.WriteExplain(w, f)
	case *figures:
		return rep.WriteFigures(w)
	case *format == "html":
		return rep.WriteHTML(w)
	case *format == "json":
		return rep.WriteJSON(w)
	case *out != "":
		files, err := rep.WriteCSVDir(*out)
		if err != nil {
			return exitError{1, "report " + name + ": " + err.Error()}
		}
		for _, f := range files {
			fmt.Fprintln(w, f)
		}
		return nil
	}
	return rep.WriteCSV(w)
}

// orList writes a list as "a, b or c".
func orList(l []string) string {
	if len(l) < 2 {
		return strings.Join(l, "")
	}
	return strings.Join(l[:len(l)-1], ", ") + " or " + l[len(l)-1]
}
