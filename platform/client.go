package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/docket-dev/docket"
)

// Paths of the connector contract, under the platform's base URL.
const (
	PathLookup   = "/connector/v1/lookup"
	PathAct      = "/connector/v1/actions"
	PathPreserve = "/connector/v1/preserve"
	PathExport   = "/connector/v1/export"
	PathNotify   = "/connector/v1/notify"
	PathAppeals  = "/connector/v1/appeals"
)

// Client calls a platform over HTTP; it implements docket.Platform.
type Client struct {
	// BaseURL is the platform's connector root, such as https://platform.internal.
	BaseURL string
	Secret  []byte
	// HTTP is the client; its timeout bounds each call (default 10 s).
	HTTP *http.Client
	Now  func() time.Time
	// MaxResponse bounds what the client reads of an answer (default 256 MiB: exports).
	MaxResponse int64
}

var (
	_ docket.Platform    = (*Client)(nil)
	_ docket.AppealInbox = (*Client)(nil)
)

// Appeals acknowledges appeals and collects those filed in the app since.
func (c *Client) Appeals(ctx context.Context, acks []docket.AppealAck) ([]docket.PlatformAppeal, error) {
	if acks == nil {
		acks = []docket.AppealAck{}
	}
	var out struct {
		Appeals []docket.PlatformAppeal `json:"appeals"`
	}
	if err := c.call(ctx, PathAppeals, "", map[string]any{"acks": acks}, &out); err != nil {
		return nil, err
	}
	return out.Appeals, nil
}

// Lookup asks what the platform knows of a target.
func (c *Client) Lookup(ctx context.Context, t docket.Target) (*docket.TargetInfo, error) {
	var out docket.TargetInfo
	return &out, c.call(ctx, PathLookup, "", map[string]any{"target": t}, &out)
}

// Act removes, restricts, suspends or terminates.
func (c *Client) Act(ctx context.Context, key string, a docket.PlatformAction) (*docket.ActionResult, error) {
	var out docket.ActionResult
	if err := c.call(ctx, PathAct, key, a, &out); err != nil {
		return nil, err
	}
	if out.Status != "done" {
		return nil, fmt.Errorf("platform answered status %q, not done", out.Status)
	}
	return &out, nil
}

// Preserve asks for a sealed snapshot.
func (c *Client) Preserve(ctx context.Context, key string, t docket.Target) (*docket.Snapshot, error) {
	var out docket.Snapshot
	if err := c.call(ctx, PathPreserve, key, map[string]any{"target": t}, &out); err != nil {
		return nil, err
	}
	if len(out.Data) == 0 {
		return nil, fmt.Errorf("platform returned an empty snapshot")
	}
	return &out, nil
}

// Export asks for data for a disclosure.
func (c *Client) Export(ctx context.Context, key string, x docket.ExportRequest) (*docket.Export, error) {
	var out docket.Export
	return &out, c.call(ctx, PathExport, key, x, &out)
}

// Notify tells the user of an action.
func (c *Client) Notify(ctx context.Context, key string, n docket.UserNotice) (*docket.ActionResult, error) {
	var out docket.ActionResult
	return &out, c.call(ctx, PathNotify, key, n, &out)
}

func (c *Client) call(ctx context.Context, path, key string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("platform %s: encode: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("platform %s: %w", path, err)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ts := now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if key != "" {
		req.Header.Set(HeaderIdempotency, key)
	}
	nonce := NewNonce()
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, Sign(c.Secret, http.MethodPost, req.URL.RequestURI(), ts, nonce, key, body))
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("platform %s: %w", path, err)
	}
	defer resp.Body.Close()
	limit := c.MaxResponse
	if limit <= 0 {
		limit = 256 << 20
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("platform %s: read answer: %w", path, err)
	}
	if int64(len(b)) > limit {
		return fmt.Errorf("platform %s: answer larger than %d bytes", path, limit)
	}
	if resp.StatusCode >= 300 {
		msg := strings.TrimSpace(string(b))
		var p struct {
			Detail string `json:"detail"`
			Title  string `json:"title"`
		}
		if json.Unmarshal(b, &p) == nil && (p.Detail != "" || p.Title != "") {
			msg = strings.TrimSpace(p.Title + ": " + p.Detail)
		}
		if len(msg) > 500 {
			msg = msg[:500]
		}
		// A refusal of the request itself will not change by retrying; overload and
		// server errors may.
		permanent := resp.StatusCode >= 400 && resp.StatusCode < 500 &&
			resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusConflict
		return &docket.PlatformError{Status: resp.StatusCode, Message: msg, Permanent: permanent}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("platform %s: decode answer: %w", path, err)
	}
	return nil
}
