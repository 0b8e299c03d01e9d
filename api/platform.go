package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/docket-dev/docket"
)

// linkTTL is how long a package download link works.
const linkTTL = 15 * time.Minute

type packageView struct {
	SHA256    string    `json:"sha256"` // of the zip inside the encryption
	Blob      string    `json:"blob"`   // of the encrypted file served
	Size      int       `json:"size"`
	Items     int       `json:"items"`
	ReadyAt   time.Time `json:"ready_at"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// listPackages gives the requesting authority the disclosure packages of its request's
// case, each with a download link that expires. Packages exist only once a second person
// approved the disclosure and the platform's export was encrypted to the authority's key.
func (s *Server) listPackages(w http.ResponseWriter, r *http.Request) error {
	req, _, err := s.visibleRequest(r)
	if err != nil {
		return err
	}
	c, err := s.store.Case(r.Context(), req.CaseID)
	if err != nil {
		return err
	}
	out := []packageView{}
	if s.keeper != nil {
		expires := s.svc.Now().Add(linkTTL).Truncate(time.Second)
		for _, p := range c.Packages {
			sig := s.keeper.LinkSignature(c.ID, p.Blob, expires.Unix())
			out = append(out, packageView{SHA256: p.SHA256, Blob: p.Blob, Size: p.Size, Items: p.Items, ReadyAt: p.ReadyAt, ExpiresAt: expires,
				URL: "/api/v1/packages/" + c.ID + "/" + p.Blob + "?expires=" + strconv.FormatInt(expires.Unix(), 10) + "&sig=" + sig})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"packages": out})
	return nil
}

// downloadPackage serves an encrypted package to the authority it was made for, through a
// link that has not expired; the download is recorded on the case before a byte is sent.
func (s *Server) downloadPackage(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	caseID, blob := r.PathValue("case"), r.PathValue("blob")
	expires, _ := strconv.ParseInt(r.URL.Query().Get("expires"), 10, 64)
	if s.keeper == nil {
		return docket.Errorf(docket.ENOTFOUND, "No such package.")
	}
	if err := s.keeper.CheckLink(caseID, blob, expires, r.URL.Query().Get("sig"), s.svc.Now()); err != nil {
		s.log.WarnContext(r.Context(), "package link refused", slog.String("case", caseID), slog.String("authority", p.authority.ID), slog.Any("err", err))
		return docket.Errorf(docket.EFORBIDDEN, "This download link is not valid: %s. Ask for a new one (GET /api/v1/requests/{id}/packages).", err)
	}
	// The signed link names the case and the package; whose they are, whether the package
	// is the case's and whether the approval still covers it are checked by Download, in
	// the transaction that records the download, after the bytes were found and before a
	// byte is sent.
	b, err := s.store.Blob(r.Context(), blob)
	if err != nil {
		if docket.ErrorCode(err) == docket.ENOTFOUND {
			return docket.Errorf(docket.ENOTFOUND, "No such package.")
		}
		return err
	}
	if err := s.svc.Download(r.Context(), p.authority.ID, caseID, blob); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+caseID+`-`+blob[:12]+`.zip.age"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(b.Data)))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Data)
	return nil
}
