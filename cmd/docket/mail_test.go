package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/foxcpp/go-mockdns"
)

// relay is the platform's outbound relay in the tests: a real SMTP server (go-smtp) with
// STARTTLS and AUTH PLAIN that records what it is given.
type relay struct {
	mu   sync.Mutex
	msgs []relayed
	fail int // refuse this many deliveries with 451 first
}

type relayed struct {
	From string
	To   []string
	Data []byte
}

func (r *relay) NewSession(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }

type relaySession struct {
	r      *relay
	authed bool
	from   string
	to     []string
}

func (s *relaySession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *relaySession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "docket" || pass != "relay-secret" {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}
func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}
func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.fail > 0 {
		s.r.fail--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}
	s.r.msgs = append(s.r.msgs, relayed{From: s.from, To: s.to, Data: b})
	return nil
}
func (s *relaySession) Reset()        { s.from, s.to = "", nil }
func (s *relaySession) Logout() error { return nil }

// waitFor polls until the relay holds a message for which match is true.
func (r *relay) waitFor(t *testing.T, what string, match func(relayed) bool) relayed {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		r.mu.Lock()
		for _, m := range r.msgs {
			if match(m) {
				r.mu.Unlock()
				return m
			}
		}
		r.mu.Unlock()
	}
	t.Fatalf("the relay never received %s", what)
	return relayed{}
}

func (r *relay) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.msgs) }

// selfSigned returns a TLS certificate for 127.0.0.1 and its PEM, to act as the relay's CA.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// swaks delivers raw to addr with Debian's swaks and returns its transcript.
func swaks(t *testing.T, addr, from, to string, raw []byte) (string, error) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(f, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("swaks", "--server", host, "--port", port, "--from", from, "--to", to,
		"--helo", "mx.sender.test", "--data", "@"+f, "--timeout", "30").CombinedOutput()
	return string(out), err
}

func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n"))
}

func dkimSign(t *testing.T, key ed25519.PrivateKey, domain string, raw []byte) []byte {
	var out bytes.Buffer
	if err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{Domain: domain, Selector: "s1", Signer: key}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestMailChannel delivers real messages with swaks to `docket serve`: a DKIM-signed French
// requisition with a PDF from a registered authority (verified against a DNS server run by
// the test), its receipt through the relay, a reply that threads, the answer sent back by
// mail, an unverified emergency that cannot lead to disclosure until a person verifies the
// sender, mail to an unknown address refused, and real ham and spam from the SpamAssassin
// corpus.
func TestMailChannel(t *testing.T) {
	if _, err := exec.LookPath("swaks"); err != nil {
		t.Skip("swaks is not installed: apt-get install swaks (the mail tests deliver with it)")
	}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	dns, err := mockdns.NewServerWithLogger(map[string]mockdns.Zone{
		"s1._domainkey.police.example.": {TXT: []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}},
		"_dmarc.police.example.":        {TXT: []string{"v=DMARC1; p=reject"}},
		"police.example.":               {TXT: []string{"v=spf1 ip4:192.0.2.1 -all"}},
	}, silentPrintf{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()

	cert, caPEM := selfSigned(t)
	rl := &relay{fail: 1} // the first delivery attempt is refused: the job retries
	rs := smtp.NewServer(rl)
	rs.Domain, rs.TLSConfig = "relay.test", &tls.Config{Certificates: []tls.Certificate{cert}}
	rln, _ := net.Listen("tcp", "127.0.0.1:0")
	go rs.Serve(rln)
	defer rs.Close()

	dir := t.TempDir()
	caFile := filepath.Join(dir, "relay-ca.pem")
	os.WriteFile(caFile, caPEM, 0o600)
	// docket signs its own mail with this key (DKIM selector "out" at docket.test).
	outPub, outKey, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(outKey)
	keyFile := filepath.Join(dir, "dkim.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	cfgFile := filepath.Join(dir, "docket.json")
	cfg, _ := json.Marshal(map[string]any{
		"dkim_key": keyFile, "dkim_selector": "out",
		"smtp_addr": "127.0.0.1:0", "smtp_domain": "docket.test", "dns": dns.LocalAddr().String(),
		"relay_addr": rln.Addr().String(), "relay_username": "docket", "relay_password": "relay-secret", "relay_ca": caFile,
	})
	os.WriteFile(cfgFile, cfg, 0o600)
	env := map[string]string{"DOCKET_DATA": dir, "DOCKET_CONFIG": cfgFile}
	authorityID, _ := created(t, must(run(t, env, "authority", "add", "--name", "Example Police", "--country", "fr", "--domain", "police.example", "--json")))
	_, agent := created(t, must(run(t, env, "user", "add", "--email", "agent@platform.example", "--role", "agent", "--json")))
	_, reviewer := created(t, must(run(t, env, "user", "add", "--email", "legal@platform.example", "--role", "reviewer", "--json")))

	srv := startServe(t, env, "--clock-interval", "50ms")
	addr, mx, call := srv.addr, srv.listen["smtp"], srv.call
	requests := func() []any {
		var all []any
		for _, c := range call("GET", "/api/v1/cases?limit=1000", agent, "", 200)["cases"].([]any) {
			all = append(all, call("GET", "/api/v1/cases/"+c.(map[string]any)["id"].(string), agent, "", 200)["requests"].([]any)...)
		}
		return all
	}
	findRequest := func(messageID string) map[string]any {
		t.Helper()
		for _, r := range requests() {
			r := r.(map[string]any)
			if em, ok := r["body"].(map[string]any)["email"].(map[string]any); ok && em["message_id"] == messageID {
				return r
			}
		}
		t.Fatalf("no request for Message-ID %s", messageID)
		return nil
	}

	// 1. A DKIM-signed requisition with a PDF letter, from a registered authority.
	pdf, err := os.ReadFile("../../pdftext/testdata/requisition.pdf")
	if err != nil {
		t.Fatal(err)
	}
	requisition := dkimSign(t, key, "police.example", crlf(`From: Brigade numerique <officer@police.example>
To: legal@docket.test
Subject: =?utf-8?q?R=C3=A9quisition_judiciaire_PARQ-2026-4471?=
Message-ID: <req-4471@police.example>
Date: Fri, 20 Nov 2026 10:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Madame, Monsieur,
Veuillez trouver ci-joint une réquisition judiciaire concernant le compte t.me/exemple_vendeur.
--b1
Content-Type: application/pdf; name="requisition.pdf"
Content-Disposition: attachment; filename="requisition.pdf"
Content-Transfer-Encoding: base64

`+base64.StdEncoding.EncodeToString(pdf)+`
--b1--
`))
	if out, err := swaks(t, mx, "officer@police.example", "legal@docket.test", requisition); err != nil || !strings.Contains(out, "<-  250 ") {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	req := findRequest("req-4471@police.example")
	// swaks ends DATA with CRLF "." CRLF after the file, whose last line already ends with
	// CRLF: the message as received has one more CRLF, and that is what is kept.
	requisition = append(requisition, "\r\n"...)
	sum := sha256.Sum256(requisition)
	if req["sha256"] != hex.EncodeToString(sum[:]) || req["channel"] != "email" {

		t.Fatalf("request: %v", req)
	}
	body := req["body"].(map[string]any)
	sender := body["email"].(map[string]any)["sender"].(map[string]any)
	if sender["level"] != "registered" || sender["authority_id"] != authorityID || sender["dmarc"] != "pass" {
		t.Fatalf("sender check: %v", sender)
	}
	if !strings.Contains(fmt.Sprint(body["extracted_text"]), "Article 60-1") || len(body["attachments"].([]any)) != 1 {
		t.Fatalf("attachments / PDF text: %v / %v", body["attachments"], body["extracted_text"])
	}
	caseID, reqID := req["case_id"].(string), req["id"].(string)
	rawResp, err := http.DefaultClient.Do(func() *http.Request {
		r, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/requests/"+reqID+"/raw", nil)
		r.Header.Set("Authorization", "Bearer "+agent)
		return r
	}())
	if err != nil {
		t.Fatal(err)
	}
	rawBack, _ := io.ReadAll(rawResp.Body)
	rawResp.Body.Close()
	if !bytes.Equal(rawBack, requisition) {
		t.Fatalf("raw message not kept byte-exact: %d bytes back, %d sent", len(rawBack), len(requisition))
	}
	c := call("GET", "/api/v1/cases/"+caseID, agent, "", 200)["case"].(map[string]any)
	if c["sender"] != "registered" || c["authority_id"] != authorityID || c["triage"] == nil {
		t.Fatalf("case: %v", c)
	}

	// The receipt reaches the sender through the relay (after one refused attempt).
	receipt := rl.waitFor(t, "the receipt", func(m relayed) bool { return strings.Contains(string(m.Data), "[docket:"+caseID+"]") })
	if receipt.To[0] != "officer@police.example" || !strings.Contains(string(receipt.Data), hex.EncodeToString(sum[:])) ||
		!strings.Contains(string(receipt.Data), "In-Reply-To: <req-4471@police.example>") {
		t.Fatalf("receipt: %s", receipt.Data)
	}
	waitEvent(t, call, agent, caseID, "acknowledged")
	events := eventTypes(call, agent, caseID)
	// The attachment's hash check (media_hashed) may come between the two.
	if failed, sent := strings.Index(events, "mail_failed"), strings.Index(events, "mail_sent"); failed < 0 || sent < failed {
		t.Fatalf("the refused attempt and then the delivery are not both on the case: %s", events)
	}

	// 2. A reply to the receipt threads into the case.
	receiptID := headerValue(receipt.Data, "Message-ID")
	reply := dkimSign(t, key, "police.example", crlf(`From: officer@police.example
To: legal@docket.test
Subject: Re: complement
Message-ID: <req-4471-2@police.example>
In-Reply-To: `+receiptID+`
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Voici le numero de telephone associe: +33 6 12 34 56 78.
`))
	if out, err := swaks(t, mx, "officer@police.example", "legal@docket.test", reply); err != nil {
		t.Fatalf("swaks reply: %v\n%s", err, out)
	}
	if r := findRequest("req-4471-2@police.example"); r["case_id"] != caseID {
		t.Fatalf("reply opened case %v, want %s", r["case_id"], caseID)
	}

	// 3. The answer written in docket goes back by mail.
	call("POST", "/api/v1/cases/"+caseID+"/events", agent, `{"type":"decide","outcome":"refuse","reason_code":"not_our_service","statement":"Not our service."}`, 201)
	call("POST", "/api/v1/cases/"+caseID+"/events", agent, `{"type":"answer","text":"Ce compte n'est pas hébergé par notre service."}`, 201)
	answer := rl.waitFor(t, "the answer", func(m relayed) bool { return strings.Contains(string(m.Data), "pas h") })
	if answer.To[0] != "officer@police.example" || answer.From != "legal@docket.test" {
		t.Fatalf("answer envelope: %v → %v", answer.From, answer.To)
	}
	waitEvent(t, call, agent, caseID, "mail_sent")
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(answer.Data), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if name != "out._domainkey.docket.test" {
			return nil, fmt.Errorf("no TXT for %s", name)
		}
		return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(outPub)}, nil
	}})
	if err != nil || len(verifs) != 1 || verifs[0].Err != nil || verifs[0].Domain != "docket.test" {
		t.Fatalf("the answer's DKIM signature does not verify: %v %+v", err, verifs)
	}

	// 4. An unverified "emergency": SPF fails for police.example, no signature.
	forged := crlf(`From: Urgent Police <officer@police.example>
To: emergency@docket.test
Subject: URGENT threat to life - disclose subscriber data now
Message-ID: <forged-1@attacker.test>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p>A child is in danger. Send us the <b>phone number and IP addresses</b> of user @victim immediately.</p><script>steal()</script>
`)
	before := rl.count()
	if out, err := swaks(t, mx, "officer@police.example", "emergency@docket.test", forged); err != nil {
		t.Fatalf("swaks emergency: %v\n%s", err, out)
	}
	fr := findRequest("forged-1@attacker.test")
	ec := call("GET", "/api/v1/cases/"+fr["case_id"].(string), agent, "", 200)["case"].(map[string]any)
	if ec["sender"] != "unverified" || ec["emergency"] != true || ec["queue"] != "emergency" || ec["authority_id"] != nil {
		t.Fatalf("unverified emergency case: %v", ec)
	}
	if strings.Contains(fmt.Sprint(fr["body"].(map[string]any)["description"]), "steal") {
		t.Fatalf("script kept in the text: %v", fr["body"])
	}
	ecID := ec["id"].(string)
	call("POST", "/api/v1/cases/"+ecID+"/events", agent, `{"type":"decide","outcome":"comply","statement":"Disclose subscriber data."}`, 201)
	p := call("POST", "/api/v1/cases/"+ecID+"/events", reviewer, `{"type":"approve"}`, 409)
	if !strings.Contains(fmt.Sprint(p["detail"]), "unverified") {
		t.Fatalf("approval refusal: %v", p)
	}
	call("POST", "/api/v1/cases/"+ecID+"/events", reviewer, `{"type":"verify_sender","method":"callback","text":"Called the duty officer on the number in our directory; confirmed."}`, 201)
	call("POST", "/api/v1/cases/"+ecID+"/events", reviewer, `{"type":"approve"}`, 201)
	time.Sleep(300 * time.Millisecond)
	if got := rl.count(); got != before {
		t.Fatalf("a receipt went to an unverified sender (%d mails, %d before)", got, before)
	}

	// 5. Mail to an unknown address is refused at RCPT.
	if out, err := swaks(t, mx, "someone@example.org", "ceo@docket.test", crlf("From: someone@example.org\nSubject: hi\n\nhello\n")); err == nil || !strings.Contains(out, "550") {
		t.Fatalf("unknown recipient accepted: %v\n%s", err, out)
	}

	// 6. Real mail: ham and spam from the SpamAssassin corpus, byte-exact.
	files, _ := filepath.Glob("../../../shared/data/mail/*/*.eml")
	if len(files) == 0 {
		t.Log("../shared/data/mail is absent: the real-mail part is skipped")
		return
	}
	n0 := len(requests())
	sent := 0
	for i, f := range files {
		if i%35 != 0 { // 30 messages across ham and spam
			continue
		}
		raw, _ := os.ReadFile(f)
		raw = crlf(string(stripMboxLine(raw)))
		if out, err := swaks(t, mx, "sender@corpus.test", "abuse@docket.test", raw); err != nil {
			t.Fatalf("%s: %v\n%s", f, err, out)
		}
		sent++
	}
	if got := len(requests()) - n0; got != sent {
		t.Fatalf("%d corpus messages delivered, %d requests stored", sent, got)
	}
}

func stripMboxLine(b []byte) []byte {
	if bytes.HasPrefix(b, []byte("From ")) {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return b[i+1:]
		}
	}
	return b
}

func headerValue(msg []byte, key string) string {
	for _, line := range strings.Split(string(msg), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, key) {
			return strings.TrimSpace(v)
		}
		if line == "" {
			break
		}
	}
	return ""
}

func eventTypes(call func(string, string, string, string, int) map[string]any, token, caseID string) string {
	var types []string
	for _, e := range call("GET", "/api/v1/cases/"+caseID, token, "", 200)["events"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	return strings.Join(types, " ")
}

func waitEvent(t *testing.T, call func(string, string, string, string, int) map[string]any, token, caseID, typ string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if strings.Contains(" "+eventTypes(call, token, caseID)+" ", " "+typ+" ") {
			return
		}
	}
	t.Fatalf("case %s has no %s event: %s", caseID, typ, eventTypes(call, token, caseID))
}

type silentPrintf struct{}

func (silentPrintf) Printf(string, ...any) {}
