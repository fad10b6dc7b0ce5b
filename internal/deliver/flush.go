package deliver

// Flush asks the loop to cut what the stream holds now instead of waiting
// for the buffering hints, as an operator or a test would to see its records
// delivered without waiting out IntervalInSeconds. Every record appended
// before the call is cut into objects at the loop's next turn, whatever the
// hints say (in batches of at most SizeInMBs, as always); records appended
// later wait for the hints as usual, so a flush is one early cut, not a
// change of configuration. With dynamic partitioning those records are
// moved into the partition buffers and then every partition is written,
// up to what it held once they were moved.
//
// The returned channel is closed once those records are delivered: stored
// and committed, with their processing and error output. It is closed at
// once when nothing is buffered, and never if the loop stops first (a
// delivery that keeps failing is retried as always, so the caller should
// bound its wait).
func (d *Deliverer) Flush() <-chan struct{} {
	ch := make(chan struct{})
	d.mu.Lock()
	d.flushReqs = append(d.flushReqs, ch)
	d.mu.Unlock()
	d.poke()
	return ch
}

// flushState is the loop's side of Flush: the records before upto are to be
// cut now, and waiters are told when the cursor has passed them.
type flushState struct {
	upto    uint64 // 0: no flush pending
	waiters []chan struct{}
}

// take moves the requests Flush queued into the loop's state. end is the
// end of the log's backlog at the loop's cursor (the cursor itself when
// nothing is buffered).
func (f *flushState) take(d *Deliverer, end uint64) {
	d.mu.Lock()
	reqs := d.flushReqs
	d.flushReqs = nil
	d.mu.Unlock()
	if len(reqs) == 0 {
		return
	}
	f.upto = max(f.upto, end)
	f.waiters = append(f.waiters, reqs...)
}

// due reports whether the batch at cursor must be cut now.
func (f *flushState) due(cursor uint64) bool { return cursor < f.upto }

// advance tells the waiters once the cursor has passed every record the
// pending flushes covered.
func (f *flushState) advance(cursor uint64) {
	if len(f.waiters) == 0 || cursor < f.upto {
		return
	}
	for _, ch := range f.waiters {
		close(ch)
	}
	f.waiters, f.upto = nil, 0
}
