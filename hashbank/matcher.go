package hashbank

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/digest"
	"github.com/docket-dev/docket/hashindex"
	"github.com/docket-dev/docket/pdq"
)

// DefaultRadius is the Hamming distance within which a PDQ hash matches: Meta's advice.
const DefaultRadius = 31

// Config configures a Matcher. Zero fields take defaults.
type Config struct {
	Store docket.Store
	// Radius is the Hamming distance of a PDQ match (default DefaultRadius).
	Radius int
	// MaxPixels is the pixel budget of a picture decoded (default pdq.DefaultMaxPixels).
	MaxPixels int64
	// Decoders is how many pictures are decoded at once (default GOMAXPROCS): a decoded
	// picture can take a few hundred megabytes.
	Decoders int
}

// Matcher hashes files and looks them up in the enabled banks. It holds every live hash of
// every bank in memory — PDQ hashes in a hashindex.Index, digests in maps — read from the
// store at the first look-up (or Refresh), and brings itself up to date before each look-up
// with what the store's bank events changed since: banks created, enabled or disabled, and
// hashes added or withdrawn, by this process, another node or the command line. A Matcher
// is safe for concurrent use.
type Matcher struct {
	store  docket.Store
	radius int
	hasher pdq.Hasher
	sem    chan struct{}

	refreshing sync.Mutex // one refresh at a time; it guards the fields up to mu
	seen       int64      // the last bank event taken in
	bankIdx    map[string]uint32
	newBanks   []string // banks interned, not yet in bankIDs

	mu      sync.RWMutex
	banks   map[string]*docket.Bank // by id
	bankIDs []string                // by the index entries hold
	entries []entry
	pdq     *hashindex.Index
	exact   map[exactKey][]uint32
}

// entry is one bank hash held (48 bytes); its index in entries is its ID in the indexes.
type entry struct {
	raw      [32]byte // the hash's bytes (an MD5 fills the first 16)
	addedSeq int64
	bank     uint32 // in bankIDs
	kind     uint8  // in kinds
	dead     bool   // withdrawn
}

// kinds are the kinds of hash by the code entries hold.
var kinds = [...]string{1: docket.HashPDQ, 2: docket.HashSHA256, 3: docket.HashMD5}

const kindPDQ = 1

func kindCode(kind string) uint8 {
	for i, k := range kinds {
		if k == kind && k != "" {
			return uint8(i)
		}
	}
	return 0
}

type exactKey struct {
	kind uint8
	raw  [32]byte
}

// New returns a Matcher over a store.
func New(cfg Config) *Matcher {
	return &Matcher{
		store:   cfg.Store,
		radius:  cmp.Or(cfg.Radius, DefaultRadius),
		hasher:  pdq.Hasher{MaxPixels: cfg.MaxPixels},
		sem:     make(chan struct{}, cmp.Or(cfg.Decoders, runtime.GOMAXPROCS(0))),
		banks:   map[string]*docket.Bank{},
		bankIdx: map[string]uint32{},
		pdq:     hashindex.New(),
		exact:   map[exactKey][]uint32{},
	}
}

// Len returns how many hashes the matcher holds (withdrawn ones included until restart).
func (x *Matcher) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries)
}

// Refresh brings the matcher up to date with the store: the banks as they are, and the
// hashes added or withdrawn since the last bank event it took in (all of them the first
// time). Changes committed while it reads are taken in now or at the next refresh: the
// store's events are committed in the order of their seq, and taking a row in twice is
// harmless.
func (x *Matcher) Refresh(ctx context.Context) error {
	x.refreshing.Lock()
	defer x.refreshing.Unlock()
	banks, err := x.store.Banks(ctx)
	if err != nil {
		return fmt.Errorf("refresh hash banks: %w", err)
	}
	byID := make(map[string]*docket.Bank, len(banks))
	var last int64
	for _, b := range banks {
		byID[b.ID] = b
		last = max(last, b.ChangedSeq)
	}
	if last <= x.seen {
		x.mu.Lock()
		x.banks = byID
		x.mu.Unlock()
		return nil
	}
	if x.seen == 0 {
		err = x.load(ctx, byID)
	} else {
		err = x.update(ctx, byID)
	}
	if err != nil {
		return fmt.Errorf("refresh hash banks: %w", err)
	}
	x.seen = last
	return nil
}

// load reads every live hash at once and builds the PDQ index in one go.
func (x *Matcher) load(ctx context.Context, banks map[string]*docket.Bank) error {
	var entries []entry
	var ids []uint32
	var hs []hashindex.Hash
	exact := map[exactKey][]uint32{}
	err := x.store.BankHashes(ctx, docket.BankHashFilter{Live: true}, func(h *docket.BankHash) error {
		e, err := x.entryOf(h)
		if err != nil {
			return err
		}
		id := uint32(len(entries))
		entries = append(entries, e)
		if e.kind == kindPDQ {
			ids, hs = append(ids, id), append(hs, pdqOf(&e.raw))
		} else {
			k := exactKey{e.kind, e.raw}
			exact[k] = append(exact[k], id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.bankIDs, x.newBanks = append(x.bankIDs, x.newBanks...), nil
	x.banks, x.entries, x.exact, x.pdq = banks, slices.Clip(entries), exact, hashindex.New()
	return x.pdq.Build(ids, hs)
}

// update takes in the hashes withdrawn, then those added, after the last event seen.
func (x *Matcher) update(ctx context.Context, banks map[string]*docket.Bank) error {
	var withdrawn, added []entry
	collect := func(to *[]entry) func(*docket.BankHash) error {
		return func(h *docket.BankHash) error {
			e, err := x.entryOf(h)
			if err == nil {
				*to = append(*to, e)
			}
			return err
		}
	}
	if err := x.store.BankHashes(ctx, docket.BankHashFilter{Since: x.seen, Withdrawn: true}, collect(&withdrawn)); err != nil {
		return err
	}
	if err := x.store.BankHashes(ctx, docket.BankHashFilter{Since: x.seen, Live: true}, collect(&added)); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.bankIDs, x.newBanks = append(x.bankIDs, x.newBanks...), nil
	x.banks = banks
	for _, w := range withdrawn {
		for _, id := range x.held(&w) {
			if x.entries[id].addedSeq == w.addedSeq {
				x.entries[id].dead = true
			}
		}
	}
	for _, a := range added {
		if len(x.held(&a)) > 0 {
			continue // taken in already
		}
		id := uint32(len(x.entries))
		x.entries = append(x.entries, a)
		if a.kind == kindPDQ {
			x.pdq.Add(id, pdqOf(&a.raw))
		} else {
			k := exactKey{a.kind, a.raw}
			x.exact[k] = append(x.exact[k], id)
		}
	}
	return nil
}

// held returns the IDs of the live entries of e's bank with e's kind and hash. x.mu is held.
func (x *Matcher) held(e *entry) []uint32 {
	var out []uint32
	keep := func(id uint32) {
		if o := &x.entries[id]; !o.dead && o.bank == e.bank && o.kind == e.kind && o.raw == e.raw {
			out = append(out, id)
		}
	}
	if e.kind == kindPDQ {
		for _, m := range x.pdq.Search(pdqOf(&e.raw), 0) {
			keep(m.ID)
		}
		return out
	}
	for _, id := range x.exact[exactKey{e.kind, e.raw}] {
		keep(id)
	}
	return out
}

// entryOf reads a row of bank_hashes. Only refresh calls it (it interns the bank's id).
func (x *Matcher) entryOf(h *docket.BankHash) (entry, error) {
	e := entry{kind: kindCode(h.Kind), dead: h.WithdrawnSeq > 0, addedSeq: h.AddedSeq}
	b, err := hex.DecodeString(h.Hash)
	if err != nil || e.kind == 0 || len(b) != docket.HashLen(h.Kind)/2 {
		return entry{}, fmt.Errorf("bank %s holds a malformed %s hash %q", h.BankID, h.Kind, h.Hash)
	}
	copy(e.raw[:], b)
	i, ok := x.bankIdx[h.BankID]
	if !ok {
		i = uint32(len(x.bankIdx))
		x.bankIdx[h.BankID] = i
		x.newBanks = append(x.newBanks, h.BankID)
	}
	e.bank = i
	return e, nil
}

// pdqOf reads the bytes of a PDQ hash (big-endian, as its hex form) into the index's form.
func pdqOf(raw *[32]byte) hashindex.Hash {
	var h hashindex.Hash
	for w := range 4 {
		var v uint64
		for i := range 8 {
			v = v<<8 | uint64(raw[w*8+i])
		}
		h[3-w] = v
	}
	return h
}

// Match hashes a file — SHA-256 and MD5, and for a picture its PDQ hash and quality — and
// looks it up in the enabled banks, after a Refresh. It returns, for each bank and kind of
// hash, the nearest of the bank's hashes that matches: a digest equal to the file's, or a
// PDQ hash within the radius of one of the picture's eight rotations and flips (the picture
// as it is first, at equal distance). Matches are sorted nearest first, then by bank. A
// file that is no picture has no PDQ hash, and MediaHash.Error says why; the error returned
// is the store's.
func (x *Matcher) Match(ctx context.Context, data []byte) (docket.MediaHash, []docket.MediaMatch, error) {
	if err := x.Refresh(ctx); err != nil {
		return docket.MediaHash{}, nil, err
	}
	sums, err := digest.Read(bytes.NewReader(data), digest.All)
	if err != nil {
		return docket.MediaHash{}, nil, err
	}
	h := docket.MediaHash{SHA256: sums.SHA256Hex(), MD5: sums.MD5Hex()}
	var d *pdq.Dihedral
	select {
	case x.sem <- struct{}{}:
	case <-ctx.Done():
		return docket.MediaHash{}, nil, ctx.Err()
	}
	dh, err := x.hasher.Dihedral(bytes.NewReader(data))
	<-x.sem
	switch {
	case errors.Is(err, pdq.ErrFormat):
		h.Error = "not a picture docket reads (JPEG, PNG, GIF, WebP, BMP)"
	case errors.Is(err, pdq.ErrTooLarge):
		h.Error = "a picture above the pixel budget: not decoded"
	case err != nil:
		h.Error = "an unreadable picture"
	case dh.Hashes[0] == pdq.Hash{}:
		h.Error = "a picture too small to hash"
	default:
		d = &dh
		h.PDQ, h.Quality = dh.Hashes[0].String(), dh.Quality
	}
	return h, x.Lookup(h.SHA256, h.MD5, d), nil
}

// Lookup looks hashes up in the enabled banks as they stand (see Match): the file's SHA-256
// and MD5 (hex; "" for none) and its picture's dihedral PDQ hashes (nil for none).
func (x *Matcher) Lookup(sha256, md5 string, d *pdq.Dihedral) []docket.MediaMatch {
	x.mu.RLock()
	defer x.mu.RUnlock()
	type key struct {
		bank uint32
		kind uint8
	}
	best := map[key]docket.MediaMatch{}
	consider := func(id uint32, distance int, t pdq.Transform) {
		e := &x.entries[id]
		b := x.banks[x.bankIDs[e.bank]]
		if e.dead || b == nil || !b.Enabled {
			return
		}
		k := key{e.bank, e.kind}
		if m, ok := best[k]; ok && m.Distance <= distance {
			return
		}
		kind := kinds[e.kind]
		m := docket.MediaMatch{BankID: b.ID, Bank: b.Name, Category: b.Category, DSACategory: b.DSACategory, Action: b.Action,
			Kind: kind, Hash: hex.EncodeToString(e.raw[:docket.HashLen(kind)/2]), Distance: distance}
		if t != pdq.Original {
			m.Transform = t.String()
		}
		if d != nil {
			m.Quality = d.Quality
		}
		best[k] = m
	}
	for kind, hx := range map[string]string{docket.HashSHA256: sha256, docket.HashMD5: md5} {
		b, err := hex.DecodeString(hx)
		if err != nil || len(b) != docket.HashLen(kind)/2 {
			continue
		}
		k := exactKey{kind: kindCode(kind)}
		copy(k.raw[:], b)
		for _, id := range x.exact[k] {
			consider(id, 0, pdq.Original)
		}
	}
	if d != nil {
		var found []hashindex.Match
		for t, h := range d.Hashes {
			found = x.pdq.SearchAppend(found[:0], hashindex.Hash(h), x.radius)
			for _, m := range found {
				consider(m.ID, m.Distance, pdq.Transform(t))
			}
		}
	}
	out := make([]docket.MediaMatch, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b docket.MediaMatch) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.Bank, b.Bank), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}
