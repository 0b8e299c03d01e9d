package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/translog"
)

func testLogKey(t *testing.T) *translog.Signer {
	t.Helper()
	k, err := translog.NewSigner([]byte("the web tests' log key: 32 bytes"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// receiptOnPage reads the receipt a receipt page offers for download.
func receiptOnPage(t *testing.T, page string) *docket.Receipt {
	t.Helper()
	const link = `id="receipt-json" href="data:application/json;base64,`
	i := strings.Index(page, link)
	if i < 0 {
		t.Fatalf("the receipt page offers no receipt to download:\n%s", page)
	}
	b64 := page[i+len(link):]
	b64 = html.UnescapeString(b64[:strings.IndexByte(b64, '"')])
	js, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	var r docket.Receipt
	if err := json.Unmarshal(js, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestReceiptPagesCarryTheProof: the receipt page of the public notice form and of the
// portal shows the request's entry in the log and offers the receipt with its proof, which
// verifies offline with the log's public key.
func TestReceiptPagesCarryTheProof(t *testing.T) {
	h := newHarness(t, Config{})
	key := testLogKey(t).Public()
	code, page := h.post("", "/notice", url.Values{"locations": {"https://example.com/a"}, "explanation": {"hate speech"}, "good_faith": {"on"}, "name": {"N"}, "email": {"n@example.com"}})
	if code != 201 || !strings.Contains(page, "Entry in the log") {
		t.Fatalf("notice: %d\n%s", code, page)
	}
	if err := audit.VerifyReceipt(receiptOnPage(t, page), key); err != nil {
		t.Fatalf("the notice's receipt: %v", err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"regime": "fr-requisition", "kind": "disclosure", "reference": "PV-7",
		"description": "Identification du titulaire", "targets": "username: @suspect", "legal_basis": "Art. 60-1 CPP"} {
		mw.WriteField(k, v)
	}
	mw.Close()
	code, page = h.do("officerA", "POST", "/portal/new", &buf, http.Header{"Content-Type": {mw.FormDataContentType()}})
	if code != 201 {
		t.Fatalf("portal: %d", code)
	}
	r := receiptOnPage(t, page)
	if err := audit.VerifyReceipt(r, key); err != nil {
		t.Fatalf("the portal's receipt: %v", err)
	}
	if !strings.Contains(page, `id="case-id">`+r.CaseID+`<`) {
		t.Fatal("the receipt offered is not the one shown")
	}
}
