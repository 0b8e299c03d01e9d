package refplatform

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/docket-dev/docket/platform"
)

// FuzzConnector sends signed calls with arbitrary bodies to every operation: the platform
// answers each with a 2xx or a 4xx, never a 5xx or a crash.
//
//	go test -fuzz FuzzConnector ./refplatform
func FuzzConnector(f *testing.F) {
	for _, seed := range []string{
		`{"target":{"kind":"message","value":"1"}}`,
		`{"op":"remove","target":{"kind":"url","value":"https://x/m/2"},"statement":{"puid":"p","decision_ground":"DECISION_GROUND_ILLEGAL_CONTENT"}}`,
		`{"op":"restrict","target":{"kind":"channel","value":"news"},"countries":["DE"],"statement":{"puid":"q"}}`,
		`{"target":{"kind":"phone","value":"+33612345678"},"categories":["subscriber","traffic","content"],"from":"2026-01-01T00:00:00Z"}`,
		`{"target":{"kind":"username","value":"@bob"},"statement":null,"text":"x"}`,
		`{"target":{"kind":"message","value":"99999999999999999999"}}`, `[]`, `{`, `{"target":{"kind":"url","value":"%zz/m/1"}}`,
	} {
		for i := range 5 {
			f.Add(i, []byte(seed))
		}
	}
	db, err := Open(context.Background(), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Seed(context.Background(), time.Now()); err != nil {
		f.Fatal(err)
	}
	secret := []byte("fuzz")
	h := (&Server{DB: db, Verifier: &platform.Verifier{Secret: secret}}).Handler()
	paths := []string{platform.PathLookup, platform.PathAct, platform.PathPreserve, platform.PathExport, platform.PathNotify}
	var n int
	f.Fuzz(func(t *testing.T, which int, body []byte) {
		path := paths[(which%len(paths)+len(paths))%len(paths)]
		n++
		ts := time.Now().Unix()
		nonce := "fuzz-nonce-" + strconv.Itoa(n) + "-" + strconv.FormatInt(time.Now().UnixNano(), 10)
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set(platform.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(platform.HeaderNonce, nonce)
		req.Header.Set(platform.HeaderIdempotency, nonce)
		req.Header.Set(platform.HeaderSignature, platform.Sign(secret, "POST", path, ts, nonce, nonce, body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code == http.StatusUnauthorized {
			t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body)
		}
	})
}
