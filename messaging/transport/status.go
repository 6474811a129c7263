package transport

import "time"

// PeerLinks is the state of the links to one peer, for `vigil cfg status`
// (corosync-cfgtool -s / -n) and the cmap stats.knet.* keys. Counters
// count since New.
type PeerLinks struct {
	NodeID uint32
	Name   string
	// Incarnation is the one the peer announced last; 0 before any hello.
	Incarnation uint64
	// Reachable is true when some link is up: Send accepts frames for the
	// peer. ActiveLink is the link Send uses, -1 when none is up.
	Reachable  bool
	ActiveLink int
	// Queued frames and bytes wait in the peer's send queue.
	Queued      int
	QueuedBytes int64
	// Frames Send refused: no link up, queue full, too large; and frames
	// from the peer dropped because the Recv channel was full.
	DroppedNoLink    uint64
	DroppedQueueFull uint64
	DroppedTooLarge  uint64
	RecvDropped      uint64
	Links            []LinkStatus
}

// LinkStatus is the state of one link to a peer. Tx counters are of this
// node's stream to the peer (frames, pings); Rx counters are of the peer's
// stream to this node (frames, pings) except RxPongs.
type LinkStatus struct {
	Link      int
	LocalAddr string
	PeerAddr  string
	// Connected is true when Send may use the link: this node's stream to
	// the peer is established and answered pings within LinkTimeout
	// (corosync-cfgtool's "connected").
	Connected bool
	// Outbound is true while this node's stream to the peer is established
	// (hellos exchanged), whether or not pongs come back in time.
	Outbound bool
	// Inbound is true while the peer's stream to this node is established
	// and was heard from within LinkTimeout.
	Inbound bool
	// RTT is the smoothed round-trip time of pings (weight 1/8 per
	// sample), with the extremes seen; zero before the first pong.
	RTT, RTTMin, RTTMax time.Duration
	RTTSamples          uint64

	TxFrames, TxBytes uint64
	// TxErrors counts frames taken from the queue whose stream failed
	// while sending them.
	TxErrors          uint64
	RxFrames, RxBytes uint64
	TxPings, RxPongs  uint64
	RxPings, TxPongs  uint64
	// Malformed counts frames dropped because they made no sense (a pong
	// for a ping never sent, a second hello, an empty frame).
	Malformed uint64
	// UpCount and DownCount count transitions of Connected; LastChange is
	// when the last one happened.
	UpCount, DownCount uint64
	LastChange         time.Time
	// LastError is why the outbound stream last failed or ended, empty if
	// it never did.
	LastError     string
	LastErrorTime time.Time
}

// Links returns the state of the links to every peer, ordered by node id.
// The local node is not listed.
func (t *Transport) Links() []PeerLinks {
	now := time.Now()
	out := make([]PeerLinks, 0, len(t.order))
	for _, p := range t.order {
		p.mu.Lock()
		pl := PeerLinks{
			NodeID:      p.node.ID,
			Name:        p.node.Name,
			Incarnation: p.incarnation,
			ActiveLink:  p.best(now, t.cfg.LinkTimeout),
		}
		pl.Reachable = pl.ActiveLink >= 0
		for _, l := range p.links {
			pl.Links = append(pl.Links, LinkStatus{
				Link:          l.num,
				LocalAddr:     l.localAddr,
				PeerAddr:      l.peerAddr,
				Connected:     l.out.up(now, t.cfg.LinkTimeout),
				Outbound:      l.out.established,
				Inbound:       l.inUp(now, t.epoch, t.cfg.LinkTimeout),
				RTT:           l.rtt.smoothed,
				RTTMin:        l.rtt.min,
				RTTMax:        l.rtt.max,
				RTTSamples:    l.rtt.samples,
				UpCount:       l.upCount,
				DownCount:     l.downCount,
				LastChange:    l.lastChange,
				LastError:     l.lastErr,
				LastErrorTime: l.lastErrAt,
			})
		}
		p.mu.Unlock()
		for i, l := range p.links {
			s := &pl.Links[i]
			s.TxFrames, s.TxBytes, s.TxErrors = l.txFrames.Load(), l.txBytes.Load(), l.txErrors.Load()
			s.RxFrames, s.RxBytes = l.rxFrames.Load(), l.rxBytes.Load()
			s.TxPings, s.RxPongs = l.txPings.Load(), l.rxPongs.Load()
			s.RxPings, s.TxPongs = l.rxPings.Load(), l.txPongs.Load()
			s.Malformed = l.malformed.Load()
		}
		pl.Queued = len(p.queue)
		pl.QueuedBytes = p.queuedBytes.Load()
		pl.DroppedNoLink = p.droppedNoLink.Load()
		pl.DroppedQueueFull = p.droppedQueueFull.Load()
		pl.DroppedTooLarge = p.droppedTooLarge.Load()
		pl.RecvDropped = p.recvDropped.Load()
		out = append(out, pl)
	}
	return out
}
