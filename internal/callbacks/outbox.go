package callbacks

import "context"

// Outbox is where accepted events wait for delivery, and the dead-letter
// list: an SQLite file on one node (Store), the cluster's Redis in cluster
// mode (RedisStore). docs/callbacks.md.
type Outbox interface {
	// DeadLetters lists the dead letters f selects, oldest first.
	DeadLetters(f DeadFilter) ([]DeadLetter, error)
	// Replay moves the dead letters f selects back into the outbox, after
	// whatever is pending for their rooms, with a fresh retry horizon.
	Replay(ctx context.Context, f DeadFilter) (int64, error)
	// Depth is the number of undelivered events, the event time (Unix ms)
	// of the oldest of them (0 when none), and the number of dead letters.
	Depth() (pending int64, oldestMs int64, dead int64, err error)
	// Recent lists app's newest rows (recent.go), AppDepth its undelivered
	// events and dead letters: read-only views for the console.
	Recent(app uint64, limit int) ([]Delivery, error)
	AppDepth(app uint64) (pending, dead int64, err error)
	Close() error

	// insert adds rows (setting their ids), skipping events already held
	// or dead; added[i] tells whether rows[i] was added.
	insert(ctx context.Context, rows []*row) (added []bool, err error)
	// pending reads up to limit pending rows of room after id afterID, in order.
	pending(room string, afterID int64, limit int) ([]*row, error)
	// pendingRooms lists the rooms with pending events that this node delivers.
	pendingRooms() ([]roomRef, error)
	// owns tells whether this node delivers room's events now.
	owns(room string) bool
	markDelivered(r *row, nowMs int64, attempts int, after func())
	markFailed(r *row, attempts int, lastErr string)
	moveDead(r *row, attempts int, lastErr string, nowMs int64, after func())
	prune(nowMs int64) (int64, error)
}

var _ Outbox = (*Store)(nil)
