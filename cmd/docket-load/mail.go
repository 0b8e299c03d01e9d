package main

import (
	"bytes"
	"crypto/ed25519"
	crand "crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"
	"github.com/foxcpp/go-mockdns"
)

// mailBench starts "docket serve" with its SMTP listener and delivers ~size-byte messages
// (text and a base64 attachment) over several SMTP connections from this process: first as
// fast as they go, then at a steady rate. It reports messages per second and the time from
// the end of DATA to the server's 250, which docket sends only after the commit.
func mailBench(args []string) error {
	fs := flag.NewFlagSet("mail", flag.ExitOnError)
	docketBin := fs.String("docket", "./docket", "the docket binary")
	db := fs.String("db", "", "postgres://… to measure PostgreSQL instead of SQLite")
	duration := fs.Duration("duration", 10*time.Second, "length of each run")
	concurrency := fs.Int("concurrency", 16, "SMTP connections")
	rate := fs.Float64("rate", 200, "messages per second for the steady run")
	size := fs.Int("size", 20000, "approximate message size in bytes")
	fs.Parse(args)

	dir, env, engine, err := benchData("docket-mailbench-", *db)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// The senders' DNS (DKIM key, DMARC policy, SPF for 127.0.0.1) is served by this
	// process, as a local resolver would answer it: every message goes through the checks.
	pub, key, _ := ed25519.GenerateKey(crand.Reader)
	dns, err := mockdns.NewServerWithLogger(map[string]mockdns.Zone{
		"s1._domainkey.police.example.": {TXT: []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}},
		"_dmarc.police.example.":        {TXT: []string{"v=DMARC1; p=reject"}},
		"police.example.":               {TXT: []string{"v=spf1 ip4:127.0.0.1 -all"}},
	}, quiet{}, false)
	if err != nil {
		return err
	}
	defer dns.Close()
	signKey = key
	// The receipts go to a relay in this process that takes and drops them.
	sink := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return sinkSession{}, nil }))
	sinkLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go sink.Serve(sinkLn)
	defer sink.Close()
	cfgFile := dir + "/relay.json"
	if err := os.WriteFile(cfgFile, []byte(`{"relay_addr":"`+sinkLn.Addr().String()+`","relay_security":"none"}`), 0o600); err != nil {
		return err
	}
	env = append(env, "DOCKET_DNS="+dns.LocalAddr().String(), "DOCKET_CONFIG="+cfgFile)
	add := exec.Command(*docketBin, "authority", "add", "--name", "Bench Police", "--country", "FR", "--domain", "police.example", "--json")
	add.Env = append(os.Environ(), env...)
	if out, err := add.CombinedOutput(); err != nil {
		return fmt.Errorf("authority add: %v: %s", err, out)
	}
	srv, err := start(*docketBin, []string{"serve", "--addr", "127.0.0.1:0", "--smtp-addr", "127.0.0.1:0", "--smtp-domain", "bench.test"}, env)
	if err != nil {
		return err
	}
	defer srv.stop()
	mx := srv.smtpAddr()
	if mx == "" {
		return fmt.Errorf("docket did not say where it listens for SMTP: %q", srv.lines)
	}
	fmt.Printf("machine: %d CPUs, %s; engine %s; SMTP client in this process, %d connections, ~%d-byte messages\n",
		runtime.NumCPU(), runtime.Version(), engine, *concurrency, *size)
	mailLoad(mx, *concurrency, 0, 2*time.Second, *size) // warm up
	// The steady rate first: a saturating run leaves receipts to send that would land in it.
	steady := mailLoad(mx, *concurrency, *rate, *duration, *size)
	time.Sleep(2 * time.Second)
	closed := mailLoad(mx, *concurrency, 0, *duration, *size)
	rss := peakRSS(srv.cmd.Process.Pid)
	for _, r := range []struct {
		name string
		r    *result
	}{{fmt.Sprintf("mail intake, %d conns", *concurrency), closed}, {fmt.Sprintf("mail intake at %.0f/s", *rate), steady}} {
		fmt.Printf("%-28s %7.0f msg/s  ok %6d  failed %4d  end-of-DATA→250 p50 %7.2fms  p99 %7.2fms  max %7.2fms\n",
			r.name, r.r.rate(), r.r.ok, r.r.failed, ms(r.r.pct(0.5)), ms(r.r.pct(0.99)), ms(r.r.pct(1)))
	}
	fmt.Printf("docket peak RSS %.0f MiB\n", rss)
	return nil
}

var mailSeq atomic.Int64

func benchMessage(size int) []byte {
	n := mailSeq.Add(1)
	attachOnce.Do(func() {
		attach = make([]byte, size*3/4*3/4)
		for i := range attach {
			attach[i] = byte(rand.IntN(256))
		}
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Officer %d <officer@police.example>\r\nTo: legal@bench.test\r\nSubject: Request for preservation %d\r\n", n, n)
	fmt.Fprintf(&b, "Message-ID: <bench-%d-%d@police.example>\r\nDate: %s\r\nMIME-Version: 1.0\r\n", n, rand.Int64(), time.Now().Format(time.RFC1123Z))
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "Please preserve the data of the account t.me/user%d and its messages for 90 days.\r\n", n)
	b.WriteString(strings.Repeat("This request is made under 18 U.S.C. 2703(f) in an ongoing investigation.\r\n", size/4/76))
	b.WriteString("--b\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(attach)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	var signed bytes.Buffer
	if err := dkim.Sign(&signed, &b, &dkim.SignOptions{Domain: "police.example", Selector: "s1", Signer: signKey}); err != nil {
		panic(err)
	}
	return signed.Bytes()
}

var (
	signKey    ed25519.PrivateKey
	attach     []byte // the same attachment in every message: the headers make each unique
	attachOnce sync.Once
)

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// mailLoad runs SMTP sessions on conc connections for d; with rate > 0 the messages are
// paced to that many per second in all.
func mailLoad(addr string, conc int, rate float64, d time.Duration, size int) *result {
	res := &result{statuses: map[int]int64{}}
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	end := start.Add(d)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := smtp.Dial(addr)
			if err != nil {
				mu.Lock()
				res.failed++
				mu.Unlock()
				return
			}
			defer c.Close()
			for {
				if rate > 0 {
					at := start.Add(time.Duration(float64(next.Add(1)-1) / rate * float64(time.Second)))
					if at.After(end) {
						return
					}
					time.Sleep(time.Until(at))
				} else if time.Now().After(end) {
					return
				}
				msg := benchMessage(size)
				took, err := deliverOne(c, msg)
				mu.Lock()
				if err != nil {
					res.failed++
					if se, ok := err.(*smtp.SMTPError); ok {
						res.statuses[se.Code]++
					}
				} else {
					res.ok++
					res.statuses[250]++
					lat = append(lat, took)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(lat)
	res.lat = lat
	return res
}

func deliverOne(c *smtp.Client, msg []byte) (time.Duration, error) {
	if err := c.Mail("officer@police.example", nil); err != nil {
		return 0, err
	}
	if err := c.Rcpt("legal@bench.test", nil); err != nil {
		return 0, err
	}
	w, err := c.Data()
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(msg); err != nil {
		return 0, err
	}
	t0 := time.Now() // the body is written; Close sends the final "." and waits for 250
	err = w.Close()
	return time.Since(t0), err
}

type sinkSession struct{}

func (sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (sinkSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }
func (sinkSession) Reset()                               {}
func (sinkSession) Logout() error                        { return nil }
