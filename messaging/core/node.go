package core

import (
	"fmt"
	"log/slog"
	"slices"

	pb "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Config tunes a node. Durations are in ticks; the runtime decides how long
// a tick is (docs/messaging-protocol.md gives the defaults and the mapping
// from corosync's token, consensus and join).
type Config struct {
	// Self is this run of this node.
	Self NodeRef
	// Nodes are the ids of every configured node, Self included: the nodes
	// heartbeats go to, so that partitions can merge.
	Nodes []uint32
	// HeartbeatTicks is the interval of heartbeats.
	HeartbeatTicks int
	// SuspectTicks: a peer not heard for this long is suspected (corosync's
	// token timeout).
	SuspectTicks int
	// StableTicks: a node that is not a member joins only after it has
	// been heard without a gap for this long, so that a flapping link does
	// not make views oscillate.
	StableTicks int
	// ConsensusTicks: how long a coordinator waits for reports, and a
	// member for an install, before giving up on them (corosync's
	// consensus timeout).
	ConsensusTicks int
	// RetransmitTicks: interval of retransmissions of unordered own
	// messages, of messages members lack, and of negative acks.
	RetransmitTicks int
	// MaxPending bounds this node's messages waiting to be ordered.
	MaxPending int
	// MaxUnstable bounds the messages the sequencer keeps until every
	// member has them; when reached, it orders nothing new.
	MaxUnstable int
	// LagTicks: a member that keeps the sequencer at MaxUnstable this long
	// is removed from the view.
	LagTicks int
	// MaxPayload bounds one message.
	MaxPayload int
	// MaxUnstableBytes bounds the payload bytes the sequencer keeps until
	// stable, so that a view change's reports stay far below the
	// transport's frame limit.
	MaxUnstableBytes int
	// MaxBatch and MaxBatchBytes bound one Submit or Sequenced.
	MaxBatch      int
	MaxBatchBytes int
	Logger        *slog.Logger
}

// DefaultConfig returns the defaults for a tick of 10 ms.
func DefaultConfig(self NodeRef, nodes []uint32) Config {
	return Config{
		Self:            self,
		Nodes:           nodes,
		HeartbeatTicks:  10,
		SuspectTicks:    100,
		StableTicks:     200,
		ConsensusTicks:  120,
		RetransmitTicks: 5,
		MaxPending:      4096,
		MaxUnstable:     16384,
		LagTicks:        500,
		MaxPayload:      1 << 20,
		MaxBatch:        512,
		MaxBatchBytes:   1 << 20,
		// 16 MiB: a merge of two views' flushes stays below the
		// transport's 64 MiB frames.
		MaxUnstableBytes: 16 << 20,
	}
}

// Validate reports what is wrong with a configuration.
func (c Config) Validate() error {
	switch {
	case c.Self.ID == 0:
		return fmt.Errorf("core: node id 0 is reserved")
	case !slices.Contains(c.Nodes, c.Self.ID):
		return fmt.Errorf("core: node %d is not among the configured nodes", c.Self.ID)
	case c.HeartbeatTicks < 1 || c.RetransmitTicks < 1:
		return fmt.Errorf("core: heartbeat and retransmit intervals must be at least one tick")
	case c.SuspectTicks <= 2*c.HeartbeatTicks:
		return fmt.Errorf("core: the suspect timeout (%d ticks) must exceed two heartbeat intervals (%d ticks)", c.SuspectTicks, 2*c.HeartbeatTicks)
	case c.ConsensusTicks < 2*c.RetransmitTicks:
		return fmt.Errorf("core: the consensus timeout must be at least two retransmit intervals")
	case c.MaxPending < 1 || c.MaxUnstable < 1 || c.MaxBatch < 1 || c.MaxPayload < 1 || c.MaxBatchBytes < c.MaxPayload || c.MaxUnstableBytes < c.MaxBatchBytes:
		return fmt.Errorf("core: queue bounds must be positive")
	}
	return nil
}

type phase int

const (
	operational phase = iota
	gathering
)

// peer is what a node knows of another node.
type peer struct {
	ref        NodeRef
	lastHeard  uint64 // tick of the last message; 0 = never
	heardSince uint64 // start of the current gap-free hearing
	hears      map[NodeRef]bool
	// view is the view the peer last reported, and viewOff since when it
	// has differed from ours (0: it does not).
	view    ViewID
	viewOff uint64
	blocked uint64 // not admitted to a view before this tick
	// proposed is the tick of the last proposal received from the peer.
	proposed uint64
}

// participation is the proposal a node has reported to.
type participation struct {
	id      ViewID
	members []NodeRef
	since   uint64
}

// coordination is a view change this node runs.
type coordination struct {
	id      ViewID
	members []NodeRef
	reports map[NodeRef]*pb.Report
	since   uint64
}

// Node is one node's protocol state. It is not safe for concurrent use.
type Node struct {
	cfg  Config
	log  *slog.Logger
	self NodeRef
	now  uint64

	maxEpoch uint64
	peers    map[uint32]*peer

	view  View
	phase phase
	part  *participation
	coord *coordination
	// waitSince is when this node first saw that the view should change
	// and another node should run the change.
	waitSince uint64
	// holdUntil delays this node's next proposal after one was refused
	// for leaving out members another node still hears.
	holdUntil uint64

	// Ordering state of the current view.
	buf       map[uint64]*pb.Ordered // received, kept until stable
	delivered uint64
	stable    uint64
	ackSent   uint64
	gapSince  uint64

	// Sequencer state (this node coordinates the current view).
	seqNext uint64
	// unstableBytes is the payload bytes ordered but not yet stable.
	unstableBytes int
	nextCounter   map[NodeRef]uint64
	held          map[NodeRef]map[uint64]*pb.Payload
	acks          map[NodeRef]uint64
	stableSent    uint64
	lagSince      uint64
	lastResend    uint64
	resendMark    uint64

	// highest is, per sender run, the highest counter delivered: senders
	// submit in counter order and every view delivers in it, so a lower
	// or equal counter is a message delivered before.
	highest map[NodeRef]uint64

	// This node's own messages not yet delivered.
	counter    uint64
	pending    []*pb.Payload
	lastSubmit uint64
	// submitted is the highest own counter sent to this view's sequencer.
	submitted uint64

	inbox []*pb.ProtocolMessage
	ready Ready
}

// New returns a node alone in a view of its own, which it reports as its
// first event.
func New(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, log: log, self: cfg.Self, now: 1, peers: map[uint32]*peer{}, highest: map[NodeRef]uint64{}}
	for _, id := range cfg.Nodes {
		if id != cfg.Self.ID {
			n.peers[id] = &peer{ref: NodeRef{ID: id}}
		}
	}
	n.install(View{ID: ViewID{Coordinator: n.self}, Members: []NodeRef{n.self}})
	return n, nil
}

// View returns the installed view.
func (n *Node) View() View { return n.view }

// Ready returns and forgets what the node produced since the last call.
func (n *Node) Ready() Ready {
	r := n.ready
	n.ready = Ready{}
	return r
}

// Multicast accepts data for delivery to every member of the view, in the
// agreed order, and returns its counter. Accepted messages are delivered at
// every member that stays with this node, this node included, exactly once.
func (n *Node) Multicast(data []byte) (uint64, error) {
	return n.MulticastBatch([][]byte{data})
}

// MulticastBatch accepts several messages at once, all or none, and
// returns the counter of the first; they go to the sequencer together.
func (n *Node) MulticastBatch(datas [][]byte) (uint64, error) {
	for _, data := range datas {
		if len(data) > n.cfg.MaxPayload {
			return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), n.cfg.MaxPayload)
		}
	}
	if len(n.pending)+len(datas) > n.cfg.MaxPending {
		return 0, ErrQueueFull
	}
	first := n.counter + 1
	for _, data := range datas {
		n.counter++
		n.pending = append(n.pending, &pb.Payload{Sender: toPB(n.self), Counter: n.counter, Data: data})
	}
	n.maybeSubmit()
	n.drain()
	return first, nil
}

// maybeSubmit sends pending messages to the sequencer unless some sent
// earlier are not delivered yet: one batch in flight per sender, so that
// under load batches grow by themselves while an idle sender's message
// goes at once (docs/messaging-protocol.md, "Batching").
func (n *Node) maybeSubmit() {
	if n.phase == operational && len(n.pending) > 0 && n.submitted < n.pending[0].GetCounter() {
		n.submitPending()
	}
}

// Pending returns the number of own messages not yet delivered.
func (n *Node) Pending() int { return len(n.pending) }

// send queues m for to; messages to self are handled after the current
// input, without recursion.
func (n *Node) send(to NodeRef, m *pb.ProtocolMessage) {
	m.From = toPB(n.self)
	m.To = toPB(to)
	if to == n.self {
		n.inbox = append(n.inbox, m)
		return
	}
	n.ready.Messages = append(n.ready.Messages, m)
}

// broadcast sends one message to several nodes. The copies share their
// body, so the runtime can encode it once (Ready's obligation: bodies are
// never modified after they are produced).
func (n *Node) broadcast(to []NodeRef, build func() *pb.ProtocolMessage) {
	m := build()
	for _, r := range to {
		n.send(r, &pb.ProtocolMessage{Body: m.Body})
	}
}

func (n *Node) drain() {
	for len(n.inbox) > 0 {
		m := n.inbox[0]
		n.inbox = n.inbox[1:]
		n.step(m)
	}
}

// Step feeds a message received from another node. Malformed, stale and
// misaddressed messages are dropped.
func (n *Node) Step(m *pb.ProtocolMessage) {
	n.step(m)
	n.drain()
}

func (n *Node) step(m *pb.ProtocolMessage) {
	from := fromPB(m.GetFrom())
	to := fromPB(m.GetTo())
	if to.ID != n.self.ID || (to.Incarnation != 0 && to.Incarnation != n.self.Incarnation) {
		return
	}
	if from != n.self {
		p, ok := n.peers[from.ID]
		if !ok || from.Incarnation == 0 || from.Incarnation < p.ref.Incarnation {
			return // unknown node, or an earlier run of a restarted node
		}
		if from.Incarnation > p.ref.Incarnation {
			if p.ref.Incarnation != 0 {
				n.log.Info("node restarted", "node", from.ID, "incarnation", from.Incarnation)
			}
			p.ref = from
			p.hears = nil
			p.lastHeard = 0
		}
		if !n.alive(p) {
			p.heardSince = n.now
		}
		p.lastHeard = n.now
	}
	switch b := m.GetBody().(type) {
	case *pb.ProtocolMessage_Heartbeat:
		n.onHeartbeat(from, b.Heartbeat)
	case *pb.ProtocolMessage_Propose:
		n.onPropose(from, b.Propose)
	case *pb.ProtocolMessage_Report:
		n.onReport(from, b.Report)
	case *pb.ProtocolMessage_Install:
		n.onInstall(from, b.Install)
	case *pb.ProtocolMessage_Submit:
		n.onSubmit(from, b.Submit)
	case *pb.ProtocolMessage_Sequenced:
		n.onSequenced(from, b.Sequenced)
	case *pb.ProtocolMessage_Ack:
		n.onAck(from, b.Ack)
	case *pb.ProtocolMessage_Nack:
		n.onNack(from, b.Nack)
	}
}

// Tick advances the node's clock by one tick.
func (n *Node) Tick() {
	n.now++
	if n.now%uint64(n.cfg.HeartbeatTicks) == 0 {
		n.sendHeartbeats()
	}
	if n.phase == operational {
		n.tickOrdering()
	}
	n.tickMembership()
	n.drain()
}

func (n *Node) alive(p *peer) bool {
	return p.lastHeard != 0 && n.now-p.lastHeard <= uint64(n.cfg.SuspectTicks)
}

func (n *Node) sendHeartbeats() {
	var hears []*pb.NodeRef
	for _, id := range n.cfg.Nodes {
		if p := n.peers[id]; p != nil && n.alive(p) {
			hears = append(hears, toPB(p.ref))
		}
	}
	for _, id := range n.cfg.Nodes {
		if id == n.self.ID {
			continue
		}
		n.send(NodeRef{ID: id}, &pb.ProtocolMessage{Body: &pb.ProtocolMessage_Heartbeat{Heartbeat: &pb.Heartbeat{
			View: viewToPB(n.view.ID), Hears: hears, MaxEpoch: n.maxEpoch,
		}}})
	}
}

func (n *Node) onHeartbeat(from NodeRef, hb *pb.Heartbeat) {
	p := n.peers[from.ID]
	p.hears = map[NodeRef]bool{}
	for _, r := range hb.GetHears() {
		p.hears[fromPB(r)] = true
	}
	p.view = viewFromPB(hb.GetView())
	switch {
	case p.view == n.view.ID:
		p.viewOff = 0
	case p.viewOff == 0:
		p.viewOff = n.now
	}
	n.maxEpoch = max(n.maxEpoch, hb.GetMaxEpoch(), hb.GetView().GetEpoch())
}
