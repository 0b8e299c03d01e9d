package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/translog"
)

// The event log's Merkle tree, for those who hold receipts: the public key, the latest
// signed head, consistency proofs between two sizes (all public: they show hashes and a
// count of events, nothing of any request), and a request's inclusion proof (its requester
// and staff only).

// logKeyLine serves the public key as one line of text, the one docket log key prints.
func (s *Server) logKeyLine(w http.ResponseWriter, r *http.Request) error {
	if s.logKey == nil {
		return docket.Errorf(docket.ENOTFOUND, "This server signs no tree heads.")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, translog.KeyLine(s.logKey))
	return nil
}

func (s *Server) logHead(w http.ResponseWriter, r *http.Request) error {
	h, err := s.store.LatestTreeHead(r.Context())
	if errors.Is(err, docket.ErrNotFound) {
		return docket.Errorf(docket.ENOTFOUND, "No tree head has been signed yet.")
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// treeSize reads a size parameter; absent, the size of the latest signed head.
func (s *Server) treeSize(r *http.Request, name string) (uint64, error) {
	if v := r.URL.Query().Get(name); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > 1<<62 {
			return 0, &docket.Error{Code: docket.EINVALID, Message: name + " must be a number of events.", Fields: map[string]string{name: "invalid"}}
		}
		return n, nil
	}
	h, err := s.store.LatestTreeHead(r.Context())
	if errors.Is(err, docket.ErrNotFound) {
		return 0, docket.Errorf(docket.ENOTFOUND, "No tree head has been signed yet.")
	}
	if err != nil {
		return 0, err
	}
	return h.TreeSize, nil
}

// headOf returns the signed head of size n, or nil when none was signed at that size.
func (s *Server) headOf(r *http.Request, n uint64) (*translog.SignedTreeHead, error) {
	h, err := s.store.TreeHead(r.Context(), n)
	if errors.Is(err, docket.ErrNotFound) {
		return nil, nil
	}
	return h, err
}

func (s *Server) logConsistency(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Get("from") == "" {
		return &docket.Error{Code: docket.EINVALID, Message: "from is required: the size of the tree head you hold.", Fields: map[string]string{"from": "required"}}
	}
	from, err := s.treeSize(r, "from")
	if err != nil {
		return err
	}
	to, err := s.treeSize(r, "to")
	if err != nil {
		return err
	}
	if from > to {
		return &docket.Error{Code: docket.EINVALID, Message: "from must not be larger than to.", Fields: map[string]string{"from": "larger than to"}}
	}
	proof, err := s.store.ConsistencyProof(r.Context(), from, to)
	if err != nil {
		return err
	}
	head, err := s.headOf(r, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, docket.ConsistencyProof{From: from, To: to, Consistency: proof, TreeHead: head})
	return nil
}

// requestProof serves the inclusion proof of a request's receipt event in a tree at least
// as large (tree_size; the latest signed head by default).
func (s *Server) requestProof(w http.ResponseWriter, r *http.Request) error {
	req, _, err := s.visibleRequest(r)
	if err != nil {
		return err
	}
	if req.Seq < 1 {
		return docket.Errorf(docket.ENOTFOUND, "This request has no receipt event in the log.")
	}
	size, err := s.treeSize(r, "tree_size")
	if err != nil {
		return err
	}
	if size < uint64(req.Seq) {
		return &docket.Error{Code: docket.EINVALID, Message: fmt.Sprintf("The request's receipt event is leaf %d: it is in no tree of fewer than %d events.", req.Seq-1, req.Seq), Fields: map[string]string{"tree_size": "too small"}}
	}
	proof, err := s.store.InclusionProof(r.Context(), uint64(req.Seq-1), size)
	if err != nil {
		return err
	}
	e, err := s.store.Event(r.Context(), req.Seq)
	if err != nil {
		return err
	}
	head, err := s.headOf(r, size)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, docket.InclusionProof{LeafIndex: uint64(req.Seq - 1), TreeSize: size, Inclusion: proof, Event: docket.LogEventOf(e), TreeHead: head})
	return nil
}
