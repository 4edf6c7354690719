package cloudapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/metrics"
)

// BenchmarkTC3Verify: one TC3 signature verification (the HMAC chain).
func BenchmarkTC3Verify(b *testing.B) {
	auth := tc3Auth{Date: "2023-11-14", Service: "trtc", SignedHeaders: []string{"content-type", "host"}}
	req := tc3Request{Method: "POST", Timestamp: "1700000000", PayloadHash: sha256Hex([]byte(goodBody)),
		Headers: map[string]string{"content-type": "application/json", "host": "127.0.0.1:8080"}}
	auth.Signature = tc3Sign(testSecretKey, auth, req)
	for b.Loop() {
		if !tc3Verify(testSecretKey, auth, req) {
			b.Fatal("rejected")
		}
	}
}

// The two benchmarks below run the same loopback HTTP client against a bare
// net/http JSON handler (the baseline) and against a full signed request
// through the front door, so their ratio is what a signed call costs.

func BenchmarkBareJSONHandler(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &v)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"Response":{"RequestId":"eac6b301-a322-493a-8e36-83b295459397"}}`))
	}))
	defer srv.Close()
	benchLoop(b, func() *http.Request {
		r, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(goodBody))
		r.Header.Set("Content-Type", "application/json")
		return r
	})
}

func BenchmarkSignedRequest(b *testing.B) { benchSigned(b, false) }

// BenchmarkSignedRequestWithMetrics: the same, with the node's API metrics
// (a counter by action and code, a latency histogram) observing each call.
func BenchmarkSignedRequestWithMetrics(b *testing.B) { benchSigned(b, true) }

// BenchmarkSignedRequestWithHook: the same, with a Hook that asks for a
// fault and keeps every Record (what the developer tools do when on).
func BenchmarkSignedRequestWithHook(b *testing.B) {
	benchSigned(b, false, func(s *Server) { s.Hook = &ringHook{ring: make([]*Record, 1000)} })
}

type ringHook struct {
	mu   sync.Mutex
	ring []*Record
	n    int
}

func (h *ringHook) Fault(account, action string) *Fault { return nil }
func (h *ringHook) Record(r *Record) {
	h.mu.Lock()
	h.ring[h.n%len(h.ring)] = r
	h.n++
	h.mu.Unlock()
}

func benchSigned(b *testing.B, withMetrics bool, setup ...func(*Server)) {
	env := newTestEnv(b)
	env.api.Limiter = nil
	for _, f := range setup {
		f(env.api)
	}
	if withMetrics {
		m := metrics.New()
		m.SetActions(env.api.Catalog.Names())
		env.api.Observe = m.API.Observe
	}
	ts := time.Now()
	benchLoop(b, func() *http.Request {
		r, _ := http.NewRequest("POST", env.srv.URL+"/", strings.NewReader(goodBody))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-TC-Action", "RemoveUser")
		r.Header.Set("X-TC-Version", "2019-07-22")
		r.Header.Set("X-TC-Region", "ap-guangzhou")
		SignTC3(r, []byte(goodBody), testSecretID, testSecretKey, "trtc", ts)
		return r
	})
}

// benchLoop sends pre-built requests (building and signing is the client's
// cost, not the server's) and checks every answer.
func benchLoop(b *testing.B, mk func() *http.Request) {
	reqs := make([]*http.Request, 256)
	bodies := make([]string, len(reqs))
	for i := range reqs {
		reqs[i] = mk()
		bb, _ := io.ReadAll(reqs[i].Body)
		bodies[i] = string(bb)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := reqs[i%len(reqs)].Clone(reqs[0].Context())
		r.Body = io.NopCloser(strings.NewReader(bodies[i%len(reqs)]))
		resp, err := client.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode)
		}
	}
}
