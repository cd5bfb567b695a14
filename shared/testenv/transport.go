package testenv

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
)

// CancelAfterResponse is an http.RoundTripper (over
// http.DefaultTransport) that, once a request whose URL starts with Prefix
// ("": any request) has been answered, reads the answer and calls Cancel,
// once, before handing the answer back: the caller's context ends just
// after the remote side acted (a function timing out, an instance shutting
// down, a lease lost), the moment a write recording that action must
// survive.
type CancelAfterResponse struct {
	Prefix string
	Cancel context.CancelFunc

	mu sync.Mutex
}

// RoundTrip implements http.RoundTripper.
func (rt *CancelAfterResponse) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.String(), rt.Prefix) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rt.mu.Lock()
	if rt.Cancel != nil {
		rt.Cancel()
		rt.Cancel = nil
	}
	rt.mu.Unlock()
	return resp, nil
}
