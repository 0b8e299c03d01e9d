package mailout

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/translog"
	"github.com/docket-dev/docket/workflow"
)

// TestMailedReceiptCarriesItsProof: the automatic receipt of a verified sender's mail and of
// a notice attach the receipt as JSON, proven against the log's latest signed head: it
// verifies offline with the log's public key, and the mail's text names its log entry.
func TestMailedReceiptCarriesItsProof(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, "sqlite")
	key, err := translog.NewSigner([]byte("the mail tests' log key, 32 b.!!"))
	if err != nil {
		t.Fatal(err)
	}
	st.(*sqlstore.Store).SetSigner(key)
	svc := workflow.New(workflow.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	svc.Start(ctx)
	defer svc.Stop()
	relay := &collecting{}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := smtp.NewServer(relay)
	go srv.Serve(ln)
	defer srv.Close()
	m := &Mailer{Service: svc, Store: st, Relay: Relay{Addr: ln.Addr().String(), Security: "none", From: "legal@docket.test"}, Logger: slog.New(slog.DiscardHandler)}
	for i, sub := range []*workflow.Submission{
		{Channel: docket.ChannelEmail, Raw: []byte("From: officer@police.example\r\n\r\nhi"), ContentType: "message/rfc822", Sender: docket.SenderOfficial,
			Body: docket.RequestBody{Regime: "national-other", Kind: docket.KindOther, Description: "hi",
				Email: &docket.Email{From: "officer@police.example", MessageID: "m1@police.example"}}},
		{Channel: docket.ChannelNotice, Raw: []byte(`{"explanation":"x"}`), ContentType: "application/json",
			Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "x",
				Notifier: &docket.Notifier{Name: "Alex", Email: "alex@example.org", GoodFaith: true}}},
	} {
		res, err := svc.Submit(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(workflow.FollowUp{RequestID: res.Receipt.ID, CaseID: res.Receipt.CaseID})
		if err := m.Receipt(ctx, &docket.Job{ID: int64(i + 1), Kind: JobReceipt, Payload: payload, Attempts: 1, MaxAttempts: 12}); err != nil {
			t.Fatal(err)
		}
		relay.mu.Lock()
		raw := relay.msgs[len(relay.msgs)-1]
		relay.mu.Unlock()
		msg, err := mail.ReadMessage(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/mixed" {
			t.Fatalf("%s: content type %q", sub.Channel, msg.Header.Get("Content-Type"))
		}
		mr := multipart.NewReader(msg.Body, params["boundary"])
		var text string
		var rec *docket.Receipt
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			var r io.Reader = p
			if p.Header.Get("Content-Transfer-Encoding") == "base64" {
				r = base64.NewDecoder(base64.StdEncoding, p)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if p.FileName() == "receipt-"+res.Receipt.ID+".json" {
				rec = &docket.Receipt{}
				if err := json.Unmarshal(b, rec); err != nil {
					t.Fatal(err)
				}
			} else {
				text = string(b)
			}
		}
		if rec == nil || !strings.Contains(text, "Log entry:") || !strings.Contains(text, res.Receipt.SHA256) {
			t.Fatalf("%s: the receipt mail has no proof:\n%s", sub.Channel, raw)
		}
		if err := audit.VerifyReceipt(rec, key.Public()); err != nil {
			t.Fatalf("%s: the mailed receipt: %v", sub.Channel, err)
		}
		if rec.ID != res.Receipt.ID || rec.Log.LeafIndex != res.Receipt.Log.LeafIndex || rec.Log.TreeHead.TreeSize < res.Receipt.Log.TreeHead.TreeSize {
			t.Fatalf("%s: the mailed receipt %+v differs from the API's %+v", sub.Channel, rec, res.Receipt)
		}
	}
}
