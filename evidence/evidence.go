// Package evidence keeps what docket preserves and discloses safe: snapshots are encrypted
// at rest with docket's own age key, and disclosure packages (a zip with a manifest of
// SHA-256 hashes) are encrypted to the requesting authority's public key.
package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/docket-dev/docket"
)

// Keeper seals and opens snapshots with docket's own key.
type Keeper struct {
	id  age.Identity
	rcp age.Recipient
	mac []byte // key of download links, derived from the identity
}

// LoadOrCreateKey reads the age identity in file, creating it (mode 0600) when it does not
// exist. Every node of a cluster must use the same file.
func LoadOrCreateKey(file string) (*Keeper, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		id, err := age.GenerateHybridIdentity()
		if err != nil {
			return nil, fmt.Errorf("generate evidence key: %w", err)
		}
		text := "# docket evidence key: decrypts preserved snapshots. Back it up; keep it secret.\n" + id.String() + "\n"
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			return nil, fmt.Errorf("write evidence key: %w", err)
		}
		b = []byte(text)
	} else if err != nil {
		return nil, fmt.Errorf("read evidence key: %w", err)
	}
	return ParseKey(string(b))
}

// ParseKey reads an age identity (the text of a key file).
func ParseKey(text string) (*Keeper, error) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var k Keeper
		var err error
		switch {
		case strings.HasPrefix(line, "AGE-SECRET-KEY-PQ-1"):
			id, perr := age.ParseHybridIdentity(line)
			if err = perr; err == nil {
				k.id, k.rcp = id, id.Recipient()
			}
		default:
			id, perr := age.ParseX25519Identity(line)
			if err = perr; err == nil {
				k.id, k.rcp = id, id.Recipient()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("parse evidence key: %w", err)
		}
		sum := sha256.Sum256([]byte("docket download links\n" + line))
		k.mac = sum[:]
		return &k, nil
	}
	return nil, errors.New("parse evidence key: no key in the file")
}

// Seal encrypts plain to docket's own key.
func (k *Keeper) Seal(plain []byte) ([]byte, error) { return encrypt(plain, k.rcp) }

// Open decrypts what Seal encrypted.
func (k *Keeper) Open(sealed []byte) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(sealed), k.id)
	if err != nil {
		return nil, fmt.Errorf("open sealed evidence: %w", err)
	}
	return io.ReadAll(r)
}

// ParseRecipient checks an authority's public key: an age X25519 ("age1…") or hybrid
// post-quantum ("age1pq1…") recipient.
func ParseRecipient(s string) (age.Recipient, error) {
	rs, err := age.ParseRecipients(strings.NewReader(strings.TrimSpace(s)))
	if err != nil || len(rs) != 1 {
		return nil, fmt.Errorf("an age public key (age1…) is needed: %v", err)
	}
	return rs[0], nil
}

// EncryptTo encrypts data to an age recipient given as text.
func EncryptTo(recipient string, data []byte) ([]byte, error) {
	r, err := ParseRecipient(recipient)
	if err != nil {
		return nil, err
	}
	return encrypt(data, r)
}

func encrypt(data []byte, r age.Recipient) ([]byte, error) {
	var out bytes.Buffer
	w, err := age.Encrypt(&out, r)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return out.Bytes(), nil
}

// SHA256 returns the hex SHA-256 of b.
func SHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Manifest describes a disclosure package: what was asked, what is given, with hashes.
type Manifest struct {
	Format     string            `json:"format"` // "docket-disclosure/1"
	CaseID     string            `json:"case_id"`
	Reference  string            `json:"reference,omitempty"`
	Regime     string            `json:"regime"`
	Authority  string            `json:"authority"`
	Requests   []ManifestReq     `json:"requests"`
	Asked      ManifestAsk       `json:"asked"`
	Given      []ManifestItem    `json:"given"`
	Missing    map[string]string `json:"missing,omitempty"`
	DecidedBy  string            `json:"decided_by"`
	ApprovedBy string            `json:"approved_by"`
	CreatedAt  time.Time         `json:"created_at"`
}

// ManifestReq is a request the package answers.
type ManifestReq struct {
	ID         string    `json:"id"`
	SHA256     string    `json:"sha256"`
	ReceivedAt time.Time `json:"received_at"`
}

// ManifestAsk is what was asked.
type ManifestAsk struct {
	Target     docket.Target `json:"target"`
	Categories []string      `json:"categories"`
	From       *docket.Time  `json:"from,omitempty"`
	To         *docket.Time  `json:"to,omitempty"`
}

// ManifestItem is one file of the package.
type ManifestItem struct {
	Path        string `json:"path"`
	Category    string `json:"category"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	SHA256      string `json:"sha256"`
}

// Package builds the zip of a disclosure: manifest.json and each item under data/. It
// fills the manifest's Given from the items.
func Package(m *Manifest, items []docket.ExportItem) ([]byte, error) {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	m.Format = "docket-disclosure/1"
	m.Given = nil
	for _, it := range items {
		name := path.Base(strings.ReplaceAll(it.Name, "\\", "/"))
		if name == "." || name == "/" || name == "" {
			return nil, fmt.Errorf("package: item without a usable name %q", it.Name)
		}
		p := "data/" + it.Category + "/" + name
		w, err := z.CreateHeader(&zip.FileHeader{Name: p, Method: zip.Deflate, Modified: m.CreatedAt})
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", p, err)
		}
		if _, err := w.Write(it.Data); err != nil {
			return nil, fmt.Errorf("package %s: %w", p, err)
		}
		m.Given = append(m.Given, ManifestItem{Path: p, Category: it.Category, ContentType: it.ContentType, Size: len(it.Data), SHA256: SHA256(it.Data)})
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	w, err := z.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Deflate, Modified: m.CreatedAt})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(mb); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, fmt.Errorf("package: %w", err)
	}
	return buf.Bytes(), nil
}

// DeriveKey returns a key of its own for purpose (such as "appeal-token"), derived from the
// evidence key: every node that shares the evidence key derives the same one.
func (k *Keeper) DeriveKey(purpose string) []byte {
	m := hmac.New(sha256.New, k.mac)
	fmt.Fprintf(m, "docket-derive-v1\n%s", purpose)
	return m.Sum(nil)
}

// LinkSignature signs a download link: case, blob and expiry.
func (k *Keeper) LinkSignature(caseID, blob string, expires int64) string {
	m := hmac.New(sha256.New, k.mac)
	fmt.Fprintf(m, "%s\n%s\n%d", caseID, blob, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// CheckLink reports whether a download link's signature is right and it has not expired.
func (k *Keeper) CheckLink(caseID, blob string, expires int64, sig string, now time.Time) error {
	if !hmac.Equal([]byte(sig), []byte(k.LinkSignature(caseID, blob, expires))) {
		return errors.New("the link's signature does not match")
	}
	if now.Unix() > expires {
		return errors.New("the link has expired")
	}
	return nil
}
