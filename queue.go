package docket

import (
	"cmp"
	"time"
)

// QueueKey is what places a case in the staff's queue: emergencies first, then the
// soonest deadline (cases without one last), then the higher priority. The console's
// queue (CaseFilter.Sort "queue", written in SQL by sqlstore) and `docket sim` order by
// it; ties go to the older case (the smaller id: ids are UUIDv7, ordered by time).
type QueueKey struct {
	Emergency bool
	// Deadline is the deadline in Unix microseconds, 0 when the case has none.
	Deadline int64
	Priority int
}

// QueueKey returns the case's place in the queue.
func (c *Case) QueueKey() QueueKey {
	k := QueueKey{Emergency: c.Emergency, Priority: c.Priority}
	if !c.DeadlineAt.IsZero() {
		k.Deadline = Micros(c.DeadlineAt)
	}
	return k
}

// KeyAt returns the queue key of a case with these fields (deadline zero: none).
func KeyAt(emergency bool, deadline time.Time, priority int) QueueKey {
	k := QueueKey{Emergency: emergency, Priority: priority}
	if !deadline.IsZero() {
		k.Deadline = Micros(deadline)
	}
	return k
}

// Compare returns -1 when k comes before o in the queue, +1 after, 0 for a tie.
func (k QueueKey) Compare(o QueueKey) int {
	if k.Emergency != o.Emergency {
		if k.Emergency {
			return -1
		}
		return 1
	}
	if (k.Deadline == 0) != (o.Deadline == 0) {
		if k.Deadline == 0 {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(k.Deadline, o.Deadline); c != 0 {
		return c
	}
	return cmp.Compare(o.Priority, k.Priority)
}
