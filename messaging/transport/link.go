package transport

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/vigil-ha/vigil/internal/config"
)

// upPongs is how many pongs, each within LinkTimeout of the one before, a
// link needs before it carries frames again; the hello answer counts as
// the first. Like knet's pong_count it keeps a flapping link from being
// taken back on one lucky pong.
const upPongs = 2

// rttShift is the weight of a new sample in the smoothed RTT: 1/8, as
// TCP's SRTT.
const rttShift = 3

// peer is one other node of the nodelist and its links.
type peer struct {
	node  config.Node
	links []*link // index = link number

	// queue holds frames Send accepted; the sender of the best link takes
	// them. queuedBytes counts the bytes in it.
	queue       chan []byte
	queuedBytes atomic.Int64

	droppedNoLink    atomic.Uint64
	droppedQueueFull atomic.Uint64
	droppedTooLarge  atomic.Uint64
	recvDropped      atomic.Uint64

	mu sync.Mutex
	// changed is closed and replaced whenever the links' usability may
	// have changed, to wake the senders.
	changed     chan struct{}
	incarnation uint64
	// The state last reported by evaluate (logged and counted).
	reportedBest int
}

// link is one address pair to a peer. Its state is guarded by peer.mu;
// counters are atomic.
type link struct {
	num                 int
	localAddr, peerAddr string // as configured

	// guarded by peer.mu
	out        outState
	in         inState
	rtt        rttStats
	lastErr    string
	lastErrAt  time.Time
	upCount    uint64
	downCount  uint64
	reportedUp bool
	reportedIn bool
	lastChange time.Time
	// failing is set while attempts to open the outbound stream fail, with
	// the gRPC code of the last failure, so each outage is logged once.
	failing  bool
	failCode codes.Code
	// inHeard is when the inbound stream last carried a frame or a ping,
	// in nanoseconds since Transport.epoch.
	inHeard atomic.Int64

	txFrames, txBytes atomic.Uint64
	txErrors          atomic.Uint64
	rxFrames, rxBytes atomic.Uint64
	txPings, rxPongs  atomic.Uint64
	rxPings, txPongs  atomic.Uint64
	malformed         atomic.Uint64
}

// outState is our stream to the peer on one link.
type outState struct {
	established bool
	lastPong    time.Time
	// pongs counts pongs received, each within LinkTimeout of the previous.
	pongs int
}

// up reports whether frames may be sent on the stream at now: it is
// established and answered recently enough, enough times in a row.
func (o *outState) up(now time.Time, timeout time.Duration) bool {
	return o.established && o.pongs >= upPongs && now.Sub(o.lastPong) <= timeout
}

// pong records a pong (or the hello answer) received at now.
func (o *outState) pong(now time.Time, timeout time.Duration) {
	if now.Sub(o.lastPong) > timeout {
		o.pongs = 0
	}
	o.pongs++
	o.lastPong = now
}

// inState is the peer's stream to us on one link.
type inState struct {
	established bool
	// gen identifies the current inbound stream; cancel ends it when a
	// newer stream of the same peer and link replaces it.
	gen    uint64
	cancel context.CancelCauseFunc
}

// inUp reports whether the peer's stream to us is established and was
// heard from within timeout of now. epoch is the origin of l.inHeard.
func (l *link) inUp(now, epoch time.Time, timeout time.Duration) bool {
	return l.in.established && now.Sub(l.heard(epoch)) <= timeout
}

func (l *link) heard(epoch time.Time) time.Time {
	return epoch.Add(time.Duration(l.inHeard.Load()))
}

type rttStats struct {
	smoothed, min, max time.Duration
	samples            uint64
}

func (r *rttStats) add(d time.Duration) {
	if r.samples == 0 {
		r.smoothed, r.min, r.max = d, d, d
	} else {
		r.smoothed += (d - r.smoothed) >> rttShift
		r.min = min(r.min, d)
		r.max = max(r.max, d)
	}
	r.samples++
}

func newPeer(local, n config.Node, queueLen int) *peer {
	p := &peer{
		node:         n,
		queue:        make(chan []byte, queueLen),
		changed:      make(chan struct{}),
		reportedBest: -1,
	}
	for i := range min(len(local.Addrs), len(n.Addrs)) {
		p.links = append(p.links, &link{num: i, localAddr: local.Addrs[i], peerAddr: n.Addrs[i]})
	}
	return p
}

// best returns the link Send uses at now: the lowest-numbered link that is
// up, or -1. Callers hold p.mu.
func (p *peer) best(now time.Time, timeout time.Duration) int {
	for _, l := range p.links {
		if l.out.up(now, timeout) {
			return l.num
		}
	}
	return -1
}

// broadcast wakes every sender of p. Callers hold p.mu.
func (p *peer) broadcast() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// pull returns the queue if link num is the one to send on at now (nil
// otherwise) and the channel that is closed when that may change.
func (p *peer) pull(num int, now time.Time, timeout time.Duration) (<-chan []byte, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.best(now, timeout) == num {
		return p.queue, p.changed
	}
	return nil, p.changed
}

// enqueue accepts frame for sending unless the queue is full, by frame
// count or by bytes.
func (p *peer) enqueue(frame []byte, maxBytes int) bool {
	n := int64(len(frame))
	if p.queuedBytes.Add(n) > int64(maxBytes) {
		p.queuedBytes.Add(-n)
		return false
	}
	select {
	case p.queue <- frame:
		return true
	default:
		p.queuedBytes.Add(-n)
		return false
	}
}

// dequeued accounts for a frame taken from the queue.
func (p *peer) dequeued(frame []byte) {
	p.queuedBytes.Add(-int64(len(frame)))
}

// flush drops every queued frame, counting them as dropped for want of a
// link: when no link is up, frames would otherwise leave in a burst, stale,
// once one comes back.
func (p *peer) flush() int {
	n := 0
	for {
		select {
		case f := <-p.queue:
			p.dequeued(f)
			p.droppedNoLink.Add(1)
			n++
		default:
			return n
		}
	}
}

// change is a state transition found by evaluate, to be logged.
type change struct {
	link    int // -1 for the peer as a whole
	kind    changeKind
	from    int // for changeActive: the previous link, -1 for none
	to      int
	reason  string
	queued  int
	elapsed time.Duration
}

type changeKind int

const (
	changeLinkUp changeKind = iota
	changeLinkDown
	changeInUp
	changeInDown
	changeActive
)

// evaluate compares the links' state at now with what was last reported,
// counts and returns the transitions, and wakes the senders if any link's
// usability changed. It flushes the queue when the last link goes down.
func (p *peer) evaluate(now, epoch time.Time, timeout time.Duration) []change {
	p.mu.Lock()
	var changes []change
	for _, l := range p.links {
		up := l.out.up(now, timeout)
		if up != l.reportedUp {
			l.reportedUp = up
			l.lastChange = now
			c := change{link: l.num, kind: changeLinkUp}
			if up {
				l.upCount++
			} else {
				l.downCount++
				c.kind = changeLinkDown
				c.reason = l.downReason(now)
			}
			changes = append(changes, c)
		}
		in := l.inUp(now, epoch, timeout)
		if in != l.reportedIn {
			l.reportedIn = in
			c := change{link: l.num, kind: changeInUp}
			if !in {
				c.kind = changeInDown
				c.elapsed = now.Sub(l.heard(epoch))
			}
			changes = append(changes, c)
		}
	}
	best := p.best(now, timeout)
	wake := false
	if best != p.reportedBest {
		changes = append(changes, change{link: -1, kind: changeActive, from: p.reportedBest, to: best})
		p.reportedBest = best
		wake = true
	}
	for _, c := range changes {
		if c.kind == changeLinkUp || c.kind == changeLinkDown {
			wake = true
		}
	}
	if wake {
		p.broadcast()
	}
	p.mu.Unlock()
	if best < 0 {
		if n := p.flush(); n > 0 {
			for i := range changes {
				if changes[i].kind == changeActive {
					changes[i].queued = n
				}
			}
		}
	}
	return changes
}

// downReason says why the outbound direction of l is not usable at now.
// Callers hold p.mu.
func (l *link) downReason(now time.Time) string {
	if !l.out.established {
		if l.lastErr != "" {
			return l.lastErr
		}
		return "not connected"
	}
	return "no pong for " + now.Sub(l.out.lastPong).Round(time.Millisecond).String()
}

// setErr records the last error of l. Callers hold p.mu.
func (l *link) setErr(now time.Time, err string) {
	l.lastErr = err
	l.lastErrAt = now
}
