package mailauth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/foxcpp/go-mockdns"

	"github.com/docket-dev/docket"
)

type dir map[string]*docket.Authority

func (d dir) AuthorityForDomain(_ context.Context, domain string) (*docket.Authority, bool) {
	for dom, a := range d {
		if domain == dom || strings.HasSuffix(domain, "."+dom) {
			return a, true
		}
	}
	return nil, false
}

func sign(t *testing.T, key ed25519.PrivateKey, domain, msg string) []byte {
	var out bytes.Buffer
	if err := dkim.Sign(&out, strings.NewReader(msg), &dkim.SignOptions{Domain: domain, Selector: "s1", Signer: key}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestLevels(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	dkimTXT := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	res := &mockdns.Resolver{Zones: map[string]mockdns.Zone{
		"s1._domainkey.police.example.":   {TXT: []string{dkimTXT}},
		"_dmarc.police.example.":          {TXT: []string{"v=DMARC1; p=reject"}},
		"police.example.":                 {TXT: []string{"v=spf1 ip4:192.0.2.10 -all"}},
		"s1._domainkey.attacker.example.": {TXT: []string{dkimTXT}},
		"interieur.gouv.fr.":              {TXT: []string{"v=spf1 ip4:192.0.2.20 -all"}},
		"_dmarc.interieur.gouv.fr.":       {TXT: []string{"v=DMARC1; p=quarantine"}},
	}}
	v := &Verifier{Resolver: res, Directory: dir{"police.example": {ID: "a1", Name: "Example Police"}}, Official: DefaultOfficial()}
	msg := func(from string) string {
		return "From: Officer <" + from + ">\r\nTo: legal@docket.test\r\nSubject: request\r\nMessage-ID: <1@x>\r\n\r\nPlease preserve the account.\r\n"
	}
	for _, tc := range []struct {
		name    string
		raw     []byte
		env     Envelope
		level   string
		dmarc   string
		aligned bool
	}{
		{"DKIM aligned, registered authority", sign(t, key, "police.example", msg("officer@police.example")),
			Envelope{RemoteIP: net.ParseIP("198.51.100.1"), Helo: "mx.other", MailFrom: "bounce@other.example", From: "officer@police.example"},
			docket.SenderRegistered, "pass", true},
		{"subdomain DKIM aligns (relaxed)", sign(t, key, "police.example", msg("officer@cyber.police.example")),
			Envelope{From: "officer@cyber.police.example"}, docket.SenderRegistered, "pass", true},
		{"SPF aligned, known government domain", []byte(msg("chef@interieur.gouv.fr")),
			Envelope{RemoteIP: net.ParseIP("192.0.2.20"), Helo: "mx.interieur.gouv.fr", MailFrom: "chef@interieur.gouv.fr", From: "chef@interieur.gouv.fr"},
			docket.SenderOfficial, "pass", true},
		{"forged From: signed by another domain", sign(t, key, "attacker.example", msg("officer@police.example")),
			Envelope{RemoteIP: net.ParseIP("198.51.100.9"), Helo: "mx.attacker.example", MailFrom: "x@attacker.example", From: "officer@police.example"},
			docket.SenderUnverified, "fail", false},
		{"forged From: SPF fails", []byte(msg("officer@police.example")),
			Envelope{RemoteIP: net.ParseIP("198.51.100.9"), Helo: "mx", MailFrom: "officer@police.example", From: "officer@police.example"},
			docket.SenderUnverified, "fail", false},
		{"wrong key", sign(t, otherKey, "police.example", msg("officer@police.example")),
			Envelope{From: "officer@police.example"}, docket.SenderUnverified, "fail", false},
		{"aligned but nobody official", sign(t, key, "attacker.example", msg("x@attacker.example")),
			Envelope{From: "x@attacker.example"}, docket.SenderUnverified, "none", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := v.Check(context.Background(), tc.raw, tc.env)
			if got.Level != tc.level || got.DMARC != tc.dmarc || got.Aligned != tc.aligned {
				t.Errorf("level %s dmarc %s aligned %v, want %s %s %v (%+v)", got.Level, got.DMARC, got.Aligned, tc.level, tc.dmarc, tc.aligned, got)
			}
			if got.Reason == "" {
				t.Error("no reason given")
			}
		})
	}
}

func TestOfficialTable(t *testing.T) {
	o := DefaultOfficial()
	for d, want := range map[string]string{"gendarmerie.interieur.gouv.fr": "FR", "fbi.gov": "US", "met.police.uk": "GB", "europol.europa.eu": "EU", "gouv.fr.evil.example": "", "notgouv.fr": ""} {
		if got, _ := o.Match(d); got != want {
			t.Errorf("%s → %q, want %q", d, got, want)
		}
	}
	if _, err := ParseOfficial([]byte(`{"x.example": "France"}`)); err == nil {
		t.Error("a bad country code was accepted")
	}
}
