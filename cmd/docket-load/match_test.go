package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestMatchJSON: `docket-load match --json` prints one line with exactly the five figures,
// and the index finds everything the brute force finds, on uniform and clustered hashes.
func TestMatchJSON(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--hashes", "30000", "--queries", "2000", "--check", "100", "--json"},
		{"--hashes", "30000", "--queries", "2000", "--check", "100", "--json", "--clustered", "--bases", "50", "--seed", "7"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			if err := matchBench(args, &out); err != nil {
				t.Fatal(err)
			}
			if lines := strings.Count(out.String(), "\n"); lines != 1 {
				t.Fatalf("%d lines, want one: %s", lines, out.String())
			}
			var v map[string]float64
			if err := json.Unmarshal(out.Bytes(), &v); err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if want := []string{"build_s", "hashes", "qps", "recall", "rss_mb"}; !slices.Equal(keys, want) {
				t.Fatalf("keys %v, want %v", keys, want)
			}
			if v["hashes"] != 30000 || v["recall"] != 1 || v["qps"] <= 0 || v["build_s"] <= 0 || v["rss_mb"] <= 0 {
				t.Fatalf("figures %v", v)
			}
		})
	}
}

// TestMatchText: the report names each figure, with recall 1.000.
func TestMatchText(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := matchBench([]string{"--hashes", "5000", "--queries", "500", "--check", "50", "--radius", "40"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"index of 5000 uniform random hashes, radius 40", "build ", "queries ", "recall             1.000", "brute force ", "peak RSS "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

func TestMatchRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--hashes", "0"}, {"--queries", "-1"}, {"--check", "-2"}, {"--no-such-flag"}} {
		var out bytes.Buffer
		if err := matchBench(args, &out); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
