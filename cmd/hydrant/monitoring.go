package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/cloudwatch"
	"github.com/hydrant-io/hydrant/internal/cwmetrics"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/format"
	"github.com/hydrant-io/hydrant/internal/lambda"
	"github.com/hydrant-io/hydrant/internal/metrics"
	"github.com/hydrant-io/hydrant/internal/process"
	"github.com/hydrant-io/hydrant/internal/server"
	"github.com/hydrant-io/hydrant/internal/sns"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// monitoringFlags are serve's flags for CloudWatch metrics, alarms and
// SNS.
type monitoringFlags struct {
	retention   time.Duration
	maxSeries   int
	record      bool
	allowRemote bool
	// clockSpeed runs the metric and alarm clock this many times faster
	// than real time: a test-only knob (end-to-end tests see an alarm's
	// minutes pass in seconds).
	clockSpeed int
}

func (m *monitoringFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&m.retention, "metrics-retention", cwmetrics.DefaultRetention, "how long CloudWatch datapoints are kept (1-minute resolution)")
	fs.IntVar(&m.maxSeries, "metrics-max-series", cwmetrics.DefaultMaxSeries, "most CloudWatch metrics (namespace, name and dimensions) kept; PutMetricData of a new one past it is refused")
	fs.BoolVar(&m.record, "cloudwatch-metrics", true, "record hydrant's own metrics (AWS/Firehose, AWS/Lambda, AWS/SNS) in the CloudWatch metric store")
	fs.BoolVar(&m.allowRemote, "sns-allow-remote", false, "let SNS http/https subscriptions deliver to addresses outside loopback")
	fs.IntVar(&m.clockSpeed, "metrics-clock-speed", 1, "TESTS ONLY: run the metrics and alarm clock N times faster than real time (datapoints get future timestamps)")
}

func (m *monitoringFlags) check() error {
	if m.retention < time.Hour {
		return fmt.Errorf("serve: --metrics-retention must be at least 1h, got %s", m.retention)
	}
	if m.maxSeries < 1 {
		return fmt.Errorf("serve: --metrics-max-series must be at least 1, got %d", m.maxSeries)
	}
	if m.clockSpeed < 1 {
		return fmt.Errorf("serve: --metrics-clock-speed must be at least 1, got %d", m.clockSpeed)
	}
	return nil
}

// monitoring is the metric store, its recorder, CloudWatch and SNS.
type monitoring struct {
	store *cwmetrics.Store
	// recorder is nil with --cloudwatch-metrics=false.
	recorder *cwmetrics.Recorder
	cw       *cloudwatch.Service
	sns      *sns.Service
	interval time.Duration
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// openMonitoring opens the metric store (<data-dir>/cloudwatch/metrics),
// the alarms and SNS. Call start once the registry exists, close at the
// end.
func openMonitoring(f monitoringFlags, dataDir string, log *slog.Logger) (*monitoring, error) {
	now := time.Now
	if f.clockSpeed > 1 {
		origin, speed := time.Now(), time.Duration(f.clockSpeed)
		now = func() time.Time { return origin.Add(time.Since(origin) * speed) }
		log.Warn("the metrics and alarm clock runs fast (--metrics-clock-speed): for tests only", "speed", f.clockSpeed)
	}
	st, err := cwmetrics.Open(cwmetrics.Options{Dir: filepath.Join(dataDir, "cloudwatch", "metrics"), Retention: f.retention,
		MaxSeries: f.maxSeries, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	m := &monitoring{store: st, interval: time.Minute / time.Duration(f.clockSpeed)}
	if f.record {
		m.recorder = cwmetrics.NewRecorder(st)
	}
	return m, nil
}

// openServices opens SNS (delivering to functions through inv) and
// CloudWatch.
func (m *monitoring) openServices(f monitoringFlags, dataDir, region, accountID, endpoint string, inv sns.Invoker, log *slog.Logger) error {
	var obs sns.Observer
	if m.recorder != nil {
		obs = m.recorder
	}
	var err error
	m.sns, err = sns.New(sns.Options{Dir: filepath.Join(dataDir, "sns"), Region: region, AccountID: accountID, Endpoint: endpoint,
		AllowRemote: f.allowRemote, Invoker: inv, Observer: obs, Logger: log, Now: m.store.Now})
	if err != nil {
		return err
	}
	m.cw, err = cloudwatch.New(cloudwatch.Options{Store: m.store, Dir: filepath.Join(dataDir, "cloudwatch"), Region: region,
		AccountID: accountID, Notifier: m.sns, Logger: log})
	return err
}

// The observers hydrant's components report to: the Prometheus metrics
// and, unless --cloudwatch-metrics=false, the CloudWatch recorder.

func (m *monitoring) putObserver(prom firehose.PutObserver) firehose.PutObserver {
	if m.recorder == nil {
		return prom
	}
	return metrics.PutObservers{prom, m.recorder}
}

func (m *monitoring) deliveryObserver(prom deliver.Observer) deliver.Observer {
	if m.recorder == nil {
		return prom
	}
	return metrics.DeliveryObservers{prom, m.recorder}
}

func (m *monitoring) processObserver(prom process.Observer) process.Observer {
	if m.recorder == nil {
		return prom
	}
	return metrics.ProcessObservers{prom, m.recorder}
}

func (m *monitoring) lambdaObserver() lambda.Observer {
	if m.recorder == nil {
		return nil
	}
	return m.recorder
}

// forget drops what the recorder caches for a deleted stream.
func (m *monitoring) forget(stream string) {
	if m.recorder != nil {
		m.recorder.Forget(stream)
	}
}

// register adds the APIs and SNS's public endpoints to the server.
func (m *monitoring) register(srv *server.Server) {
	srv.AddService(m.cw.API())
	srv.AddService(m.sns.API())
	srv.HandlePublic("GET "+sns.Prefix+"{file}", m.sns.Handler())
}

// start runs the minute loop: gauges sampled from the registry and the
// format counters, the store flushed, the alarms evaluated.
func (m *monitoring) start(reg *stream.Registry, conv *format.Metrics) {
	ctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	sample := func(now time.Time) {
		if m.recorder == nil {
			return
		}
		g := cwmetrics.Gauges{Oldest: map[string]time.Time{}, Conversion: map[string][4]int64{}}
		for _, b := range bufferStats(reg) {
			g.Oldest[b.Stream] = b.Oldest
		}
		conv.Each(func(stream string, c *format.Counters) {
			g.Conversion[stream] = [4]int64{c.SucceedRecords.Load(), c.SucceedBytes.Load(), c.FailedRecords.Load(), c.FailedBytes.Load()}
		})
		m.recorder.Sample(now, g)
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.cw.Run(ctx, m.interval, sample)
	}()
}

// stopLoop stops the minute loop and waits for it; it may be called
// more than once.
func (m *monitoring) stopLoop() {
	if m.stop != nil {
		m.stop()
		m.wg.Wait()
	}
}

// close stops the loop, then writes the store and closes SNS.
func (m *monitoring) close(log *slog.Logger) {
	m.stopLoop()
	if m.sns != nil {
		_ = m.sns.Close()
	}
	if m.cw != nil {
		if err := m.cw.Close(); err != nil {
			log.Error("close cloudwatch", "err", err)
		}
		return
	}
	if err := m.store.Close(); err != nil {
		log.Error("close metric store", "err", err)
	}
}
