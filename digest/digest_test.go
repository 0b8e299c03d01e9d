package digest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestKnownDigests(t *testing.T) {
	for _, c := range []struct{ in, sha, md5 string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "d41d8cd98f00b204e9800998ecf8427e"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "900150983cd24fb0d6963f7d28e17f72"},
	} {
		s, err := Read(strings.NewReader(c.in), All)
		if err != nil {
			t.Fatal(err)
		}
		if s.SHA256Hex() != c.sha || s.MD5Hex() != c.md5 || s.Size != int64(len(c.in)) {
			t.Errorf("%q: %s %s %d", c.in, s.SHA256Hex(), s.MD5Hex(), s.Size)
		}
		only, _ := Read(strings.NewReader(c.in), MD5)
		if only.SHA256 != nil || only.SHA256Hex() != "" || only.MD5Hex() != c.md5 {
			t.Errorf("MD5 alone: %+v", only)
		}
	}
}

// TestLargeStream: a stream longer than the copy buffer, fed in odd pieces, digests as
// the whole, and a file as its bytes.
func TestLargeStream(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 100_000) // 1.8 MB
	whole, err := Read(bytes.NewReader(data), All)
	if err != nil {
		t.Fatal(err)
	}
	pieces, err := Read(iotest.HalfReader(bytes.NewReader(data)), All)
	if err != nil || !bytes.Equal(pieces.SHA256, whole.SHA256) || !bytes.Equal(pieces.MD5, whole.MD5) || pieces.Size != int64(len(data)) {
		t.Fatalf("in pieces: %+v %v", pieces, err)
	}
	name := filepath.Join(t.TempDir(), "video.mp4")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := File(name, SHA256)
	if err != nil || !bytes.Equal(f.SHA256, whole.SHA256) {
		t.Fatalf("file: %+v %v", f, err)
	}
}

func TestErrors(t *testing.T) {
	if _, err := File(filepath.Join(t.TempDir(), "absent"), All); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
	boom := errors.New("disk on fire")
	if _, err := Read(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), All); !errors.Is(err, boom) {
		t.Errorf("read error: %v", err)
	}
}
