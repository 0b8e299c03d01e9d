package hashindex

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sharedPDQ finds the shared data's pdq folder (Meta's PDQ reference material):
// DOCKET_SHARED_DATA/pdq if the variable is set, else a shared/data/pdq in this folder or
// one above it, else /work/shared/data/pdq. It skips the test, saying what it looked for,
// when none holds expected.tsv.
func sharedPDQ(t *testing.T) string {
	t.Helper()
	var tried []string
	if dir := os.Getenv("DOCKET_SHARED_DATA"); dir != "" {
		tried = append(tried, filepath.Join(dir, "pdq"))
	} else {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for dir := wd; ; dir = filepath.Dir(dir) {
			tried = append(tried, filepath.Join(dir, "shared", "data", "pdq"))
			if filepath.Dir(dir) == dir {
				break
			}
		}
		tried = append(tried, "/work/shared/data/pdq")
	}
	for _, dir := range tried {
		if _, err := os.Stat(filepath.Join(dir, "expected.tsv")); err == nil {
			return dir
		}
	}
	t.Skipf("the shared PDQ reference data is absent (no expected.tsv in DOCKET_SHARED_DATA/pdq, in a shared/data/pdq above this package, nor in /work/shared/data/pdq): tried %s", strings.Join(tried, ", "))
	return ""
}

// readHashes reads one hash per line, or the column named col of a tab-separated file
// with a header; it returns the hashes and their text as written.
func readHashes(t *testing.T, path, col string) ([]Hash, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hs []Hash
	var texts []string
	sc := bufio.NewScanner(f)
	field := 0
	for line := 1; sc.Scan(); line++ {
		cells := strings.Split(sc.Text(), "\t")
		if col != "" && line == 1 {
			if field = slices.Index(cells, col); field < 0 {
				t.Fatalf("%s: no column %q in %q", path, col, sc.Text())
			}
			continue
		}
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		text := strings.TrimSpace(cells[field])
		h, err := Parse(text)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		hs, texts = append(hs, h), append(texts, text)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(hs) == 0 {
		t.Fatalf("%s: no hashes", path)
	}
	return hs, texts
}

// TestReferenceHashesRoundTrip: every hash of Meta's reference files reads and writes back
// as written.
func TestReferenceHashesRoundTrip(t *testing.T) {
	t.Parallel()
	dir := sharedPDQ(t)
	files := map[string]string{
		"expected.tsv":                "hash_hex",
		"reg-test-input/haystack.txt": "",
		"reg-test-input/needles.txt":  "",
		"reg-test-input/long256.dat":  "",
		"reg-test-input/short256.dat": "",
	}
	for name, col := range files {
		hs, texts := readHashes(t, filepath.Join(dir, name), col)
		for i, h := range hs {
			if h.String() != strings.ToLower(texts[i]) {
				t.Errorf("%s: %s reads back as %s", name, texts[i], h)
			}
		}
	}
}

// TestReferenceHaystack: Meta's matching regression data (1,350 hashes of real images with
// their near-duplicates, and 100 needles planted in it), searched at every radius from 0
// to 64, through Build and through Add, probing and scanning: the index finds what the
// brute force finds, and at 31 every needle finds its planted hashes.
func TestReferenceHaystack(t *testing.T) {
	t.Parallel()
	dir := sharedPDQ(t)
	hay, _ := readHashes(t, filepath.Join(dir, "reg-test-input", "haystack.txt"), "")
	needles, _ := readHashes(t, filepath.Join(dir, "reg-test-input", "needles.txt"), "")
	ids := make([]uint32, len(hay))
	for i := range ids {
		ids[i] = uint32(i + 1) // line numbers
	}
	added := New()
	for i, h := range hay {
		added.Add(ids[i], h)
	}
	indexes := map[string]*Index{"added": added}
	for name, force := range map[string]strategy{"built": auto, "probing": forceProbe, "scanning": forceScan} {
		x := New()
		x.force = force
		if err := x.Build(slices.Clone(ids), slices.Clone(hay)); err != nil {
			t.Fatal(err)
		}
		indexes[name] = x
	}
	for name, x := range indexes {
		t.Run(name, func(t *testing.T) {
			// Each radius with a quarter of the needles (it is slow under -race), 31 with all.
			for r := range 65 {
				for i, q := range needles {
					if i%4 == r%4 || r == 31 {
						same(t, x, ids, hay, q, r)
					}
				}
			}
			// The haystack against itself: its near-duplicate groups.
			for _, q := range hay {
				same(t, x, ids, hay, q, 31)
			}
			matched, total := 0, 0
			for _, q := range needles {
				ms := x.Search(q, 31)
				total += len(ms)
				if len(ms) > 0 {
					matched++
				}
			}
			if matched != len(needles) {
				t.Errorf("%d of %d needles found a hash within 31", matched, len(needles))
			}
			t.Logf("%d needles, %d matches within 31 in %d hashes", len(needles), total, len(hay))
		})
	}
}
