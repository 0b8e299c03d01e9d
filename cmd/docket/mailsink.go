package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/emersion/go-smtp"
)

// mailSink is a relay for trying docket out: it accepts every message on a local address
// and prints it, so the tour can show the receipts and answers docket sends. It is not a
// real relay: it delivers nothing.
func (m *Main) mailSink(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mail-sink", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:2526", "listen address (keep it on loopback)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	var mu sync.Mutex
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{print: func(from string, to []string, data []byte) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(m.Stdout, "----- mail from <%s> to <%s>\n%s\n", from, strings.Join(to, ">, <"), strings.ReplaceAll(string(data), "\r\n", "\n"))
		}}, nil
	}))
	srv.Domain = "mail-sink.localhost"
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	fmt.Fprintf(m.Stdout, "mail sink listening on %s: every message is printed here, none is delivered\n", ln.Addr())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

type sinkSession struct {
	print func(from string, to []string, data []byte)
	from  string
	to    []string
}

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = append(s.to, to); return nil }
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.print(s.from, s.to, b)
	return nil
}
func (s *sinkSession) Reset()        { s.from, s.to = "", nil }
func (s *sinkSession) Logout() error { return nil }
