package logs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/logs"
	"github.com/hydrant-io/hydrant/internal/server"
)

// benchEvents are n application-log-like events of 78 bytes: 10,000 of
// them fill a PutLogEvents batch (1 MiB with 26 bytes per event).
func benchEvents(start int64, n int) []logs.Event {
	evs := make([]logs.Event, n)
	for i := range evs {
		evs[i] = logs.Event{Timestamp: start + int64(i/10),
			Message: fmt.Sprintf(`{"level":"INFO","msg":"served","path":"/api/item/%06d","status":200,"ms":%02d}`, i, i%97)}
	}
	return evs
}

// BenchmarkPutLogEvents measures events per second into one stream, in
// PutLogEvents batches of 10,000 events (the most AWS allows), next to
// its parts in the same run: the store's append alone (encode a block,
// write, fsync) and decoding the request's JSON alone.
//
//	go test ./internal/logs -run XXX -bench PutLogEvents -benchtime 20x
func BenchmarkPutLogEvents(b *testing.B) {
	const batch = 10000
	start := time.Now().UnixMilli()
	evs := benchEvents(start, batch)
	type in struct {
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	req := struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
		LogEvents     []in   `json:"logEvents"`
	}{LogGroupName: "/bench/app", LogStreamName: "one"}
	for _, e := range evs {
		req.LogEvents = append(req.LogEvents, in{e.Timestamp, e.Message})
	}
	body, _ := json.Marshal(req)

	b.Run("api", func(b *testing.B) {
		st, err := logs.Open(logs.Options{Dir: b.TempDir(), MaxBytes: 0})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		svc, _ := logs.NewService(st, logs.ServiceOptions{})
		srv := server.New(nil)
		srv.AddService(svc.API())
		hs := httptest.NewServer(srv.Handler())
		defer hs.Close()
		_ = st.CreateGroup(logs.GroupConfig{Name: "/bench/app"})
		_ = st.CreateStream("/bench/app", "one")
		b.SetBytes(int64(len(body)))
		b.ResetTimer()
		for b.Loop() {
			r, _ := http.NewRequest(http.MethodPost, hs.URL+"/", bytes.NewReader(body))
			r.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			if resp.StatusCode != 200 {
				var e map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&e)
				b.Fatalf("status %d: %v", resp.StatusCode, e)
			}
			_ = resp.Body.Close()
		}
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("store-append", func(b *testing.B) {
		st, err := logs.Open(logs.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		_ = st.CreateGroup(logs.GroupConfig{Name: "/bench/app"})
		_ = st.CreateStream("/bench/app", "one")
		b.ResetTimer()
		for b.Loop() {
			if err := st.Append("/bench/app", "one", evs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("json-decode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var v struct {
				LogEvents []in `json:"logEvents"`
			}
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkFunctionLogs measures a hosted function's log line through
// FunctionLogs: queued by the instance's log reader, then written (one
// block and fsync per stream per flush). ns/op is per line, including its
// share of the writes.
//
//	go test ./internal/logs -run XXX -bench FunctionLogs -benchtime 200000x
func BenchmarkFunctionLogs(b *testing.B) {
	st, err := logs.Open(logs.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fl := logs.NewFunctionLogs(st, nil)
	line := "REPORT RequestId: 8f5c2a0e-1b2c-4d5e-9f00-112233445566\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 38 MB"
	ts := time.Now().UnixMilli()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		fl.FunctionLog("/aws/lambda/bench", fmt.Sprintf("2026/05/01/[$LATEST]%032d", i%4), ts, line)
	}
	fl.Close()
	b.StopTimer()
	sts, _ := st.Streams("/aws/lambda/bench")
	n := 0
	for _, s := range sts {
		n += s.Events
	}
	if n != b.N {
		b.Fatalf("%d lines stored of %d", n, b.N)
	}
}
