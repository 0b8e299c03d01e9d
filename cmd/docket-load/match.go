package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docket-dev/docket/hashindex"
)

// matchBench measures the hash matching index: it builds an index of generated hashes
// (seeded; uniform, or near-duplicates of a few thousand bases), times the build, runs
// queries on all cores (near-duplicates of stored hashes and random hashes, half each),
// checks a sample of them against the brute force (recall must be 1.000) and reports the
// process's peak resident memory.
//
//	docket-load match --hashes N [--queries Q] [--radius 31] [--clustered] [--json]
func matchBench(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("match", flag.ContinueOnError)
	fs.SetOutput(out)
	n := fs.Int("hashes", 1_000_000, "hashes in the index")
	queries := fs.Int("queries", 20_000, "queries to time")
	radius := fs.Int("radius", 31, "Hamming distance of a match (PDQ: 31)")
	clustered := fs.Bool("clustered", false, "near-duplicates of a few thousand bases (0–40 bits flipped) instead of uniform hashes")
	bases := fs.Int("bases", 3000, "bases of a clustered set")
	check := fs.Int("check", 200, "queries checked against the brute force (and timed with it)")
	seed := fs.Uint64("seed", 1, "seed of the generated hashes and queries")
	asJSON := fs.Bool("json", false, "print one JSON line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *n > math.MaxUint32 || *queries < 1 || *bases < 1 || *check < 0 {
		return fmt.Errorf("match: --hashes (at most %d), --queries and --bases must be positive, --check not negative", uint32(math.MaxUint32))
	}

	rng := rand.New(rand.NewPCG(*seed, 15))
	ids, hs := make([]uint32, *n), make([]hashindex.Hash, *n)
	base := make([]hashindex.Hash, *bases)
	for i := range base {
		base[i] = randomHash(rng)
	}
	for i := range hs {
		ids[i] = uint32(i)
		if *clustered {
			hs[i] = flipBits(rng, base[rng.IntN(len(base))], rng.IntN(41))
		} else {
			hs[i] = randomHash(rng)
		}
	}
	qs := make([]hashindex.Hash, *queries)
	for i := range qs {
		if i%2 == 0 {
			qs[i] = flipBits(rng, hs[rng.IntN(len(hs))], rng.IntN(41))
		} else {
			qs[i] = randomHash(rng)
		}
	}

	x := hashindex.New()
	t0 := time.Now()
	// The index takes the slices (sorted in place, ids alongside); they are read below for
	// the brute force, never changed.
	if err := x.Build(ids, hs); err != nil {
		return err
	}
	build := time.Since(t0)

	workers := runtime.GOMAXPROCS(0)
	var next, found atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuSeconds()
	t0 = time.Now()
	for range workers {
		wg.Go(func() {
			var dst []hashindex.Match
			for {
				i := next.Add(1) - 1
				if i >= int64(len(qs)) {
					return
				}
				dst = x.SearchAppend(dst[:0], qs[i], *radius)
				found.Add(int64(len(dst)))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	qps := float64(len(qs)) / elapsed.Seconds()
	cpuPerQuery := (cpuSeconds() - cpu0) / float64(len(qs))

	// Recall (and no false match) on a sample, against the brute force over the same
	// hashes; the brute force is timed on the way.
	sample := qs[:min(*check, len(qs))]
	var truth, hit int
	var bruteTime time.Duration
	for _, q := range sample {
		t := time.Now()
		want := hashindex.BruteForce(ids, hs, q, *radius)
		bruteTime += time.Since(t)
		got := x.Search(q, *radius)
		at := make(map[uint32]int, len(got))
		for _, m := range got {
			at[m.ID] = m.Distance
		}
		for _, m := range want {
			if d, ok := at[m.ID]; ok && d == m.Distance {
				hit++
			}
		}
		truth += len(want)
		if len(got) > len(want) {
			return fmt.Errorf("match: the index found %d hashes for a query, the brute force %d", len(got), len(want))
		}
	}
	recall := 1.0
	if truth > 0 {
		recall = float64(hit) / float64(truth)
	}
	rss := peakRSS(os.Getpid())

	if *asJSON {
		b, err := json.Marshal(struct {
			Hashes int     `json:"hashes"`
			BuildS float64 `json:"build_s"`
			QPS    float64 `json:"qps"`
			Recall float64 `json:"recall"`
			RSSMB  float64 `json:"rss_mb"`
		}{*n, round(build.Seconds(), 3), round(qps, 1), round(recall, 4), round(rss, 1)})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	}
	kind := "uniform random"
	if *clustered {
		kind = fmt.Sprintf("clustered (near-duplicates of %d bases)", *bases)
	}
	fmt.Fprintf(out, "machine: %d CPUs (GOMAXPROCS), %s\n", workers, runtime.Version())
	fmt.Fprintf(out, "index of %d %s hashes, radius %d\n", *n, kind, *radius)
	fmt.Fprintf(out, "build              %.2f s\n", build.Seconds())
	fmt.Fprintf(out, "queries            %.0f/s (%d queries on %d goroutines, %.1f matches per query)\n", qps, len(qs), workers, float64(found.Load())/float64(len(qs)))
	if cpuPerQuery > 0 {
		// On a shared machine the wall-clock rate depends on what else runs; the CPU time
		// this process spent per query says what the cores it got did.
		fmt.Fprintf(out, "CPU per query      %.0f µs (%.0f queries per CPU-second)\n", cpuPerQuery*1e6, 1/cpuPerQuery)
	}
	if len(sample) > 0 {
		fmt.Fprintf(out, "recall             %.3f (%d of %d matches of %d queries, against the brute force)\n", recall, hit, truth, len(sample))
		fmt.Fprintf(out, "brute force        %.1f queries/s (all cores per query)\n", float64(len(sample))/bruteTime.Seconds())
	}
	fmt.Fprintf(out, "peak RSS           %.0f MiB\n", rss)
	return nil
}

func randomHash(rng *rand.Rand) hashindex.Hash {
	return hashindex.Hash{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
}

// flipBits flips up to k random bits of h (a bit drawn twice flips back).
func flipBits(rng *rand.Rand, h hashindex.Hash, k int) hashindex.Hash {
	for range k {
		b := rng.IntN(256)
		h[b/64] ^= 1 << (b % 64)
	}
	return h
}

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

// cpuSeconds is the CPU time this process has used (user and system, all threads), from
// /proc/self/stat; 0 where there is no /proc. Linux counts it in ticks of 10 ms.
func cpuSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// After "pid (command) ": state, ppid, … utime and stime are the 12th and 13th.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return (utime + stime) / 100
}
