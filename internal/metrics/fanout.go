package metrics

import (
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/process"
)

// The fan-outs below hand one event to several observers (the Prometheus
// metrics and the CloudWatch metric store), so that each event is
// instrumented once, where it happens.

// PutObservers is a firehose.PutObserver that tells each of its members.
type PutObservers []firehose.PutObserver

// ObservePut implements firehose.PutObserver.
func (os PutObservers) ObservePut(stream, op string, records int, bytes int64, throttled int, took time.Duration) {
	for _, o := range os {
		o.ObservePut(stream, op, records, bytes, throttled, took)
	}
}

// DeliveryObservers is a deliver.Observer, deliver.PartitionObserver and
// deliver.BackupObserver that tells each of its members (partition and
// backup events go to the members that implement those).
type DeliveryObservers []deliver.Observer

// Delivered implements deliver.Observer.
func (os DeliveryObservers) Delivered(stream string, d deliver.Delivery) {
	for _, o := range os {
		o.Delivered(stream, d)
	}
}

// Failed implements deliver.Observer.
func (os DeliveryObservers) Failed(stream string, p deliver.Plan, err error) {
	for _, o := range os {
		o.Failed(stream, p, err)
	}
}

// Partitions implements deliver.PartitionObserver.
func (os DeliveryObservers) Partitions(stream string, count int, exceeded bool) {
	for _, o := range os {
		if po, ok := o.(deliver.PartitionObserver); ok {
			po.Partitions(stream, count, exceeded)
		}
	}
}

// BackedUp implements deliver.BackupObserver.
func (os DeliveryObservers) BackedUp(stream string, records int, bytes int64, err error) {
	for _, o := range os {
		if bo, ok := o.(deliver.BackupObserver); ok {
			bo.BackedUp(stream, records, bytes, err)
		}
	}
}

// ProcessObservers is a process.Observer that tells each of its members.
type ProcessObservers []process.Observer

// LambdaInvoked implements process.Observer.
func (os ProcessObservers) LambdaInvoked(stream string, took time.Duration, ok bool) {
	for _, o := range os {
		o.LambdaInvoked(stream, took, ok)
	}
}

// Processed implements process.Observer.
func (os ProcessObservers) Processed(stream string, records int, bytes int64) {
	for _, o := range os {
		o.Processed(stream, records, bytes)
	}
}

// JQ implements process.Observer.
func (os ProcessObservers) JQ(stream string, took time.Duration) {
	for _, o := range os {
		o.JQ(stream, took)
	}
}

var (
	_ firehose.PutObserver      = PutObservers(nil)
	_ deliver.Observer          = DeliveryObservers(nil)
	_ deliver.PartitionObserver = DeliveryObservers(nil)
	_ deliver.BackupObserver    = DeliveryObservers(nil)
	_ process.Observer          = ProcessObservers(nil)
)
