package triage

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// evalLines calls fn with every line of every evaluation text.
func evalLines(t *testing.T, fn func(line string)) {
	t.Helper()
	files, _ := filepath.Glob("../testdata/eval/*.jsonl")
	if len(files) == 0 {
		t.Fatal("no evaluation files in ../testdata/eval")
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			var in Input
			if json.Unmarshal(sc.Bytes(), &in) == nil {
				for _, line := range strings.Split(in.Text, "\n") {
					fn(line)
				}
			}
		}
		fh.Close()
	}
}

// The hand-written scanners find exactly what the regular expressions they replace find.
func TestUsernameSpansAgreeWithTheRegexp(t *testing.T) {
	check := func(line string) {
		t.Helper()
		want := reUsername.FindAllStringSubmatchIndex(line, -1)
		got := usernameSpans(line)
		if !slices.EqualFunc(got, want, slices.Equal[[]int]) {
			t.Fatalf("%q: got %v, want %v", line, got, want)
		}
	}
	for _, line := range []string{"", "@", "@abc", "@abcd", " @abcd", "x@abcd", "é@abcd", "«@abcd»", "@abcd@efgh", "@abcd @efgh", "@a_b1 .@abcd /@abcd",
		"(@Name_2026)", "@1abc", "@" + strings.Repeat("a", 32), "@" + strings.Repeat("a", 33), "@abcdé", "@abcd-ef", "mail@example.org", "Ник: @ivan_petrov;"} {
		check(line)
	}
	alphabet := []string{"@", "@", "a", "Z", "_", "1", " ", ".", "/", "é", "ж", "-", "\t", "b", "c", "d"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		check(b.String())
	}
	evalLines(t, check)
}

func TestEmailSpansAgreeWithTheRegexp(t *testing.T) {
	check := func(line string) {
		t.Helper()
		want := reEmail.FindAllStringIndex(line, -1)
		got := emailSpans(line)
		if !slices.EqualFunc(got, want, slices.Equal[[]int]) {
			t.Fatalf("%q: got %v, want %v", line, got, want)
		}
	}
	for _, line := range []string{"", "@", "a@b.cd", "mail: a.b@c.de, x@y.org", " .x@y.org", "(x_y@y.org)", "x@y", "é@x.org", "jean.dupont@interieur.gouv.fr.", "a@b.c@d.ef", "%x+y-z@ex-ample.co.uk"} {
		check(line)
	}
	alphabet := []string{"@", "a", "Z", "_", "1", " ", ".", "%", "+", "-", "é", "org", "de", ",", "(", "x"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		check(b.String())
	}
	evalLines(t, check)
}
