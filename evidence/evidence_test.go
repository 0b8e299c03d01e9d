package evidence

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/docket-dev/docket"
)

func TestKeyIsCreatedOnceAndSeals(t *testing.T) {
	file := filepath.Join(t.TempDir(), "evidence.key")
	k1, err := LoadOrCreateKey(file)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k1.Seal([]byte("snapshot"))
	if err != nil || bytes.Contains(sealed, []byte("snapshot")) {
		t.Fatalf("seal: %v", err)
	}
	k2, err := LoadOrCreateKey(file) // read back, not replaced
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := k2.Open(sealed); err != nil || string(plain) != "snapshot" {
		t.Fatalf("open = %q, %v", plain, err)
	}
	other, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), "other.key"))
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("another key opened the snapshot")
	}
	if _, err := ParseKey("# nothing\n"); err == nil {
		t.Fatal("an empty key file was accepted")
	}
}

func TestLinks(t *testing.T) {
	k, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), "k"))
	now := time.Now()
	exp := now.Add(time.Minute).Unix()
	sig := k.LinkSignature("case", "blob", exp)
	cases := []struct {
		name            string
		caseID, blob, s string
		expires         int64
		at              time.Time
		ok              bool
	}{
		{"valid", "case", "blob", sig, exp, now, true},
		{"expired", "case", "blob", sig, exp, now.Add(2 * time.Minute), false},
		{"other blob", "case", "blob2", sig, exp, now, false},
		{"other case", "case2", "blob", sig, exp, now, false},
		{"longer expiry", "case", "blob", sig, exp + 3600, now, false},
		{"forged", "case", "blob", "00" + sig[2:], exp, now, false},
	}
	for _, tc := range cases {
		if err := k.CheckLink(tc.caseID, tc.blob, tc.expires, tc.s, tc.at); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestPackageDecryptsWithTheAuthorityKey(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	m := &Manifest{CaseID: "c1", CreatedAt: time.Now()}
	zb, err := Package(m, []docket.ExportItem{{Name: "../../etc/subscriber.json", Category: "subscriber", Data: []byte(`{"a":1}`)}})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncryptTo(id.Recipient().String(), zb)
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(enc), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	z, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range z.File {
		names[f.Name] = true
	}
	if !names["manifest.json"] || !names["data/subscriber/subscriber.json"] || len(names) != 2 {
		t.Fatalf("zip holds %v (a name must not climb out of data/)", names)
	}
	var got Manifest
	f, _ := z.Open("manifest.json")
	json.NewDecoder(f).Decode(&got)
	if len(got.Given) != 1 || got.Given[0].SHA256 != SHA256([]byte(`{"a":1}`)) {
		t.Fatalf("manifest = %+v", got)
	}
	if _, err := EncryptTo("age1notakey", zb); err == nil {
		t.Fatal("a malformed recipient was accepted")
	}
}
