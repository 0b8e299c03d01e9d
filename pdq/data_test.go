package pdq

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// expected is one row of an expected.tsv: a file, the hash Meta's Python reference gives it,
// and the distance its test tolerates.
type expected struct {
	file        string
	hash        Hash
	maxDistance int
}

func readExpected(t testing.TB, path string) []expected {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []expected
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			continue // header
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 3 {
			t.Fatalf("%s:%d: want file, hash_hex, max_distance", path, n)
		}
		h, err := Parse(cols[1])
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		d, err := strconv.Atoi(cols[2])
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		rows = append(rows, expected{filepath.Join(filepath.Dir(path), cols[0]), h, d})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// sharedPDQ finds the shared data's pdq folder (Meta's reference images): DOCKET_SHARED_DATA
// if set, else a shared/data/pdq in this folder or one above it (the repository's
// ../shared), else /work/shared/data. It skips the test, saying what is missing, when none
// holds expected.tsv.
func sharedPDQ(t testing.TB) string {
	t.Helper()
	dir, tried := findSharedPDQ()
	if dir == "" {
		wd, _ := os.Getwd()
		t.Skipf("the shared PDQ reference data is absent (no expected.tsv in DOCKET_SHARED_DATA/pdq, in a shared/data/pdq above %s, nor in /work/shared/data/pdq): tried %s",
			wd, strings.Join(tried, ", "))
	}
	return dir
}

func findSharedPDQ() (dir string, tried []string) {
	if dir := os.Getenv("DOCKET_SHARED_DATA"); dir != "" {
		tried = append(tried, filepath.Join(dir, "pdq"))
	} else {
		wd, _ := os.Getwd()
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
			return dir, tried
		}
	}
	return "", tried
}

// distances hashes every file of rows and checks each against its reference; it returns
// the distances.
func distances(t *testing.T, rows []expected) []int {
	t.Helper()
	var h Hasher
	var ds []int
	for _, r := range rows {
		res, err := h.HashFile(r.file)
		if err != nil {
			t.Errorf("%s: %v", r.file, err)
			continue
		}
		d := res.Hash.Distance(r.hash)
		ds = append(ds, d)
		if d > r.maxDistance {
			t.Errorf("%s: hash %v is %d bits from the reference %v (at most %d)", r.file, res.Hash, d, r.hash, r.maxDistance)
		}
		t.Logf("%-50s %v quality %3d distance %2d", r.file, res.Hash, res.Quality, d)
	}
	return ds
}

func summary(ds []int) (mean float64, most int) {
	sum := 0
	for _, d := range ds {
		sum += d
		most = max(most, d)
	}
	if len(ds) > 0 {
		mean = float64(sum) / float64(len(ds))
	}
	return mean, most
}

// TestReferenceHashes: the images copied into testdata (Meta's, BSD) hash within the
// reference test's tolerance of Meta's expected hashes, and close on average. Of these nine,
// q0003 is nearly flat (quality 2): its bits are noise, and it alone is 12 bits away (Meta's
// C++ tool is 10 bits from its Python tool on it), which makes the mean 2.2.
func TestReferenceHashes(t *testing.T) {
	t.Parallel()
	ds := distances(t, readExpected(t, "testdata/expected.tsv"))
	mean, most := summary(ds)
	t.Logf("testdata: %d images, mean distance %.2f bits, max %d", len(ds), mean, most)
	if mean > 2.5 {
		t.Errorf("mean distance %.2f bits, want at most 2.5", mean)
	}
}

// TestSharedReferenceHashes: every image of the shared reference data (expected.tsv).
func TestSharedReferenceHashes(t *testing.T) {
	t.Parallel()
	dir := sharedPDQ(t)
	ds := distances(t, readExpected(t, filepath.Join(dir, "expected.tsv")))
	mean, most := summary(ds)
	t.Logf("%s: %d images, mean distance %.2f bits, max %d", dir, len(ds), mean, most)
	if mean > 2 {
		t.Errorf("mean distance %.2f bits, want at most 2", mean)
	}
}
