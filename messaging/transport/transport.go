// Package transport is the peer transport of vigil-messagingd, Vigil's
// counterpart of knet: it moves opaque protocol frames between the
// messaging daemons of the nodes of the nodelist, over mutually
// authenticated gRPC streams, on up to MaxLinks redundant links per node.
//
// It is a best-effort datagram service. A frame given to Send is delivered
// at most once by the transport, possibly not at all, and frames sent on
// different links may overtake one another; the messaging core above
// tolerates loss, duplication and reordering and retransmits itself.
//
// Each node opens one stream to each peer on each link, from its own
// address of that link, and sends its frames and pings on it; the callee
// only answers with its hello and pongs (see proto/vigil/messaging/v1/peer.proto).
// Send uses the lowest-numbered link that is up, so when a link stops
// answering pings the next one carries the traffic within LinkTimeout,
// without a membership change. docs/messaging-transport.md says what is
// checked on a connection and what is counted.
package transport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ha/vigil/internal/auth"
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/pki"
	"github.com/vigil-ha/vigil/internal/rpcclient"
	"github.com/vigil-ha/vigil/internal/rpcserver"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// stopGrace bounds how long Run waits for the peer server to stop
// gracefully; streams still open after it are cut.
const stopGrace = 2 * time.Second

// Errors Send returns; every refused frame is also counted in Links.
var (
	// ErrUnknownNode: the destination is not a peer of the nodelist (or is
	// this node).
	ErrUnknownNode = errors.New("transport: not a peer of the nodelist")
	// ErrTooLarge: the frame exceeds Config.MaxFrameSize; the core must
	// fragment it.
	ErrTooLarge = errors.New("transport: frame larger than MaxFrameSize")
	// ErrNoLink: no link to the peer is up; the frame was dropped.
	ErrNoLink = errors.New("transport: no link to the node is up")
	// ErrQueueFull: the peer's send queue is full; the frame was dropped.
	ErrQueueFull = errors.New("transport: send queue to the node is full")
	// ErrRunning is returned by a second call of Run.
	ErrRunning = errors.New("transport: Run was already called")
)

// Frame is one protocol frame received from a peer.
type Frame struct {
	// From is the node id of the sender, authenticated by its certificate
	// and address.
	From uint32
	// Link is the link it arrived on.
	Link int
	// Data is the frame as the sender passed it to Send; the receiver owns it.
	Data []byte
}

// Transport connects this node to every other node of the nodelist. Build
// it with New, start it with Run; Send, Recv and Links may be used from any
// goroutine, before, during and after Run.
type Transport struct {
	cfg    Config
	log    *slog.Logger
	peers  map[uint32]*peer
	order  []*peer // by node id
	byName map[string]config.Node
	recv   chan Frame

	// epoch anchors the timestamps of pings to the monotonic clock, so that
	// an RTT is never distorted by a step of the wall clock.
	epoch     time.Time
	epochUnix int64

	started atomic.Bool
	runCtx  context.Context // set by Run before any handler can start

	// handlers counts inbound handlers and their reader goroutines, which
	// grpc's Stop does not wait for; Run waits for them before closing recv.
	hmu      sync.Mutex
	stopping bool
	handlers sync.WaitGroup

	// wrapConn, set by tests before Run, wraps every dialed connection.
	wrapConn func(peer uint32, link int, c net.Conn) net.Conn
}

// New checks cfg (zero tunables take their defaults, see Default) and
// returns a Transport that is not yet connected.
func New(cfg Config) (*Transport, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	now := time.Now()
	if cfg.Incarnation == 0 {
		cfg.Incarnation = uint64(now.UnixNano())
	}
	cfg.Local.Addrs = slices.Clone(cfg.Local.Addrs)
	t := &Transport{
		cfg:       cfg,
		log:       cfg.Logger,
		peers:     map[uint32]*peer{},
		byName:    map[string]config.Node{},
		recv:      make(chan Frame, cfg.RecvQueueLen),
		epoch:     now,
		epochUnix: now.UnixNano(),
	}
	for _, n := range cfg.Nodes {
		t.byName[n.Name] = n
		if n.ID == cfg.Local.ID {
			continue
		}
		p := newPeer(cfg.Local, n, cfg.QueueLen)
		t.peers[n.ID] = p
		t.order = append(t.order, p)
	}
	slices.SortFunc(t.order, func(a, b *peer) int { return cmp.Compare(a.node.ID, b.node.ID) })
	return t, nil
}

// Incarnation returns the incarnation this node announces in its hellos.
func (t *Transport) Incarnation() uint64 { return t.cfg.Incarnation }

// Recv returns the channel of received frames. It is closed when Run
// returns. Frames that arrive while it is full are dropped and counted
// (PeerLinks.RecvDropped): a slow reader loses frames, it never stalls a
// link.
func (t *Transport) Recv() <-chan Frame { return t.recv }

// Send queues frame for node to and never blocks. The frame is not copied:
// the caller must not modify it afterwards (the same slice may be passed to
// several Sends). A nil error means the frame was queued, not that it will
// arrive; every error means it was dropped, and the drop is counted: frames
// larger than MaxFrameSize (ErrTooLarge), to a node with no link up
// (ErrNoLink), or beyond the peer's queue (ErrQueueFull).
func (t *Transport) Send(to uint32, frame []byte) error {
	p, ok := t.peers[to]
	if !ok {
		return fmt.Errorf("%w: node id %d", ErrUnknownNode, to)
	}
	if len(frame) > t.cfg.MaxFrameSize {
		p.droppedTooLarge.Add(1)
		return fmt.Errorf("%w: %d bytes to node %d, the limit is %d", ErrTooLarge, len(frame), to, t.cfg.MaxFrameSize)
	}
	p.mu.Lock()
	best := p.best(time.Now(), t.cfg.LinkTimeout)
	p.mu.Unlock()
	if best < 0 {
		p.droppedNoLink.Add(1)
		return ErrNoLink
	}
	if !p.enqueue(frame, t.cfg.QueueBytes) {
		p.droppedQueueFull.Add(1)
		return ErrQueueFull
	}
	return nil
}

// Run listens on every local link address, connects to every peer on
// every link and keeps reconnecting until ctx ends; then it stops its
// server, streams and goroutines, closes the Recv channel and returns. It
// returns an error at once if a listener cannot be opened or the
// certificates cannot be loaded, and later only if a listener fails.
func (t *Transport) Run(ctx context.Context) error {
	if !t.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer close(t.recv)
	serverTLS, err := pki.ServerTLS(t.cfg.TLS)
	if err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	if _, err := pki.ClientTLS(t.cfg.TLS, t.cfg.Local.Name); err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	authz := auth.NewAuthorizer(func(name string) bool {
		_, ok := t.byName[name]
		return ok
	})
	srv, err := rpcserver.New(rpcserver.Options{TLS: serverTLS, Authorizer: authz, Logger: t.log, MaxRecvMsgSize: t.cfg.MaxFrameSize + frameOverhead, FlowWindow: rpcclient.PeerFlowWindow})
	if err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	messagingv1.RegisterPeerServiceServer(srv, peerService{t: t})

	var lns []net.Listener
	for i, a := range t.cfg.Local.Addrs {
		ln, err := net.Listen("tcp", t.cfg.linkAddr(a))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("transport: listen on link %d: %w", i, err)
		}
		lns = append(lns, ln)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	t.runCtx = runCtx

	var wg sync.WaitGroup
	serveErr := make(chan error, len(lns))
	for i, ln := range lns {
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil {
				serveErr <- fmt.Errorf("transport: serve link %d on %s: %w", i, ln.Addr(), err)
			}
		})
	}
	srv.Serving()
	wg.Go(func() { t.monitor(runCtx) })
	for _, p := range t.order {
		for _, l := range p.links {
			wg.Go(func() { t.runOutbound(runCtx, p, l) })
		}
	}
	t.log.Info("peer transport running", "node", t.cfg.Local.Name, "node_id", t.cfg.Local.ID,
		"links", len(lns), "port", t.cfg.Port, "peers", len(t.order), "incarnation", t.cfg.Incarnation)

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		t.log.Error("peer transport stopping", "err", err)
	}
	stop()
	srv.Stop(stopGrace)
	t.hmu.Lock()
	t.stopping = true
	t.hmu.Unlock()
	t.handlers.Wait()
	wg.Wait()
	for _, p := range t.order {
		p.flush()
	}
	t.log.Info("peer transport stopped", "node", t.cfg.Local.Name)
	return err
}

// enterHandler registers an inbound handler unless Run is stopping.
func (t *Transport) enterHandler() bool {
	t.hmu.Lock()
	defer t.hmu.Unlock()
	if t.stopping {
		return false
	}
	t.handlers.Add(1)
	return true
}

// monitor finds links whose pongs stopped, logs and counts transitions and
// wakes the senders, every half ping interval.
func (t *Transport) monitor(ctx context.Context) {
	tick := time.NewTicker(max(t.cfg.PingInterval/2, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			now := time.Now()
			for _, p := range t.order {
				t.evaluate(p, now)
			}
		}
	}
}

// evaluate applies p.evaluate and logs what changed.
func (t *Transport) evaluate(p *peer, now time.Time) {
	for _, c := range p.evaluate(now, t.epoch, t.cfg.LinkTimeout) {
		t.logChange(p, c)
	}
}

func (t *Transport) logChange(p *peer, c change) {
	who := []any{"node", p.node.Name, "node_id", p.node.ID}
	if c.link >= 0 {
		l := p.links[c.link]
		who = append(who, "link", c.link, "peer_addr", l.peerAddr)
	}
	switch c.kind {
	case changeLinkUp:
		t.log.Info("link up", who...)
	case changeLinkDown:
		t.log.Warn("link down", append(who, "reason", c.reason)...)
	case changeInUp:
		t.log.Debug("inbound stream up", who...)
	case changeInDown:
		t.log.Info("inbound stream silent or closed", append(who, "silent_for", c.elapsed.Round(time.Millisecond))...)
	case changeActive:
		switch {
		case c.to < 0:
			t.log.Warn("node unreachable: no link up", append(who, "was_link", c.from, "queued_frames_dropped", c.queued)...)
		case c.from < 0:
			t.log.Info("node reachable", append(who, "link", c.to)...)
		default:
			t.log.Info("node switched link", append(who, "from_link", c.from, "to_link", c.to)...)
		}
	}
}

// learnIncarnation records the incarnation a peer announced and logs when
// it changed: the peer's messaging daemon restarted.
func (t *Transport) learnIncarnation(p *peer, inc uint64, link int) {
	p.mu.Lock()
	old := p.incarnation
	p.incarnation = inc
	p.mu.Unlock()
	if old != 0 && old != inc {
		t.log.Info("node restarted: new incarnation", "node", p.node.Name, "node_id", p.node.ID,
			"old_incarnation", old, "incarnation", inc, "link", link)
	}
}

// unixNanos is now in Unix nanoseconds, derived from the monotonic clock.
func (t *Transport) unixNanos(now time.Time) int64 {
	return t.epochUnix + int64(now.Sub(t.epoch))
}

// jitter spreads d by ±20% so that reconnecting nodes do not stay in step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// sleep waits d or until ctx ends, and reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}
