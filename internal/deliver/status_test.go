package deliver

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// TestStatus follows a loop through failed attempts, a delivery and record
// failures: Status reports each once, and a failed attempt's record
// failures (written again by the retry) are not counted twice.
func TestStatus(t *testing.T) {
	f := newFixture(t, testStream(t, "data/", "errors/!{firehose:error-output-type}/"))
	f.put(t, "a1,", "bad2,", "bad3,", "x4,")
	calls := 0
	// The second attempt fails after writing its conversion failures: the
	// third writes them again.
	store := &failOnce{Store: f.store, prefix: "errors/processing-failed/"}
	d := Start(Config{Stream: f.info, Log: f.log, Store: store,
		Stages: func(ctx context.Context, st *streamspec.Stream) (Pipeline, Format, error) {
			calls++
			if calls == 1 {
				return nil, nil, errors.New("table not found")
			}
			return &upper{}, upperXFormat{}, nil
		}})
	select {
	case <-d.Idle():
	case <-time.After(10 * time.Second):
		t.Fatal("delivery did not finish")
	}
	d.Stop()
	st := d.Status()
	if st.Objects != 1 || st.FailedAttempts != 2 || st.Failing || st.LastDelivery == nil {
		t.Fatalf("status %+v", st)
	}
	if e := st.LastError; e == nil || e.Code != InternalError || !strings.Contains(e.Message, "injected") || !strings.HasPrefix(e.Key, "data/") {
		t.Fatalf("last error %+v", st.LastError)
	}
	if st.ErrorRecords != 3 {
		t.Fatalf("error records %d, want 3", st.ErrorRecords)
	}
	if e := st.LastRecordError; e == nil || e.Type != "processing-failed" || e.Code != "Lambda.ProcessingFailedStatus" || !strings.HasPrefix(e.Key, "errors/processing-failed/") {
		t.Fatalf("last record error %+v", st.LastRecordError)
	}
}

// failOnce fails the first Put of a key under prefix.
type failOnce struct {
	objstore.Store
	prefix string
	failed bool
}

func (s *failOnce) Put(ctx context.Context, bucket, key string, meta objstore.Meta, write func(io.Writer) error) error {
	if strings.HasPrefix(key, s.prefix) && !s.failed {
		s.failed = true
		return errors.New("injected")
	}
	return s.Store.Put(ctx, bucket, key, meta, write)
}

// upperXFormat is csvFormat for upper-cased records: it refuses those with
// an "X".
type upperXFormat struct{ csvFormat }

func (upperXFormat) NewEncoder(w io.Writer) (Encoder, error) {
	return encFunc(func(r Rec) error {
		if strings.Contains(string(r.Data), "X") {
			return &ConversionError{Code: "DataFormatConversion.MalformedData", Message: "no X"}
		}
		_, err := w.Write(r.Data)
		return err
	}), nil
}
