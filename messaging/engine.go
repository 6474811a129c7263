package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/messaging/cmap"
	"github.com/vigil-ha/vigil/messaging/core"
	"github.com/vigil-ha/vigil/messaging/cpg"
	"github.com/vigil-ha/vigil/messaging/transport"
	pb "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Tick is the length of one tick of the protocol core.
const Tick = 10 * time.Millisecond

// fragmentSize bounds one multicast payload: larger client messages are
// split (messaging/cpg) so that no protocol frame nears the transport's
// limit.
const fragmentSize = 256 << 10

// subscriberBuffer bounds the events waiting for one slow client.
const subscriberBuffer = 65536

// Errors the API maps to status codes (server.go).
var (
	ErrNotMember  = errors.New("not a member of the group")
	ErrSlowClient = errors.New("client too slow: more than 65536 events waiting")
)

// Engine runs the protocol core of this node: it feeds it frames from the
// transport and ticks, sends what it produces, and hands deliveries and
// view changes to process groups, cmap and watchers. All protocol state is
// guarded by mu; inputs are handled one at a time, so the core sees the
// same sequence as in the simulation.
type Engine struct {
	log   *slog.Logger
	cfg   *config.Config
	self  config.Node
	tr    *transport.Transport
	store *cmap.Store

	mu         sync.Mutex
	node       *core.Node
	maxPending int
	groups     *cpg.State
	nextHandle uint64
	members    map[cpg.Member]*subscriber // this node's group members
	watchers   map[chan core.View]struct{}
	view       core.View
	lastTick   time.Time
	// room is closed and replaced whenever own messages were delivered,
	// waking senders waiting for the send queue to drain.
	room chan struct{}
}

// subscriber is one local client joined to a group.
type subscriber struct {
	group  string
	handle uint64
	// events carries the group's events once the member's own join is
	// delivered; it is closed after its own leave.
	events chan cpg.Event
	active bool
	err    error
}

// NewEngine builds the engine of node self; Run starts it.
func NewEngine(cfg *config.Config, self config.Node, tr *transport.Transport, store *cmap.Store, log *slog.Logger) (*Engine, error) {
	var ids []uint32
	for _, n := range cfg.Nodes {
		ids = append(ids, n.ID)
	}
	cc := CoreConfig(cfg, core.NodeRef{ID: self.ID, Incarnation: tr.Incarnation()}, ids)
	cc.Logger = log
	node, err := core.New(cc)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		log: log, cfg: cfg, self: self, tr: tr, store: store,
		node: node, maxPending: cc.MaxPending, groups: cpg.New(self.ID),
		members: map[cpg.Member]*subscriber{}, watchers: map[chan core.View]struct{}{},
		room: make(chan struct{}),
	}
	e.mu.Lock()
	e.process()
	e.mu.Unlock()
	return e, nil
}

// CoreConfig maps corosync's timing knobs onto the core's ticks: token is
// the time a silent peer is suspected after, heartbeats go ten times per
// token, consensus bounds a view change, and a node that joins must be
// heard for a whole token first (docs/messaging-protocol.md).
func CoreConfig(cfg *config.Config, self core.NodeRef, ids []uint32) core.Config {
	c := core.DefaultConfig(self, ids)
	ticks := func(d time.Duration) int { return max(1, int(d/Tick)) }
	c.SuspectTicks = ticks(cfg.TokenTimeout())
	c.HeartbeatTicks = max(1, c.SuspectTicks/10)
	c.ConsensusTicks = max(ticks(cfg.Totem.Consensus), 2*c.RetransmitTicks)
	c.StableTicks = c.SuspectTicks
	c.LagTicks = 5 * c.SuspectTicks
	return c
}

// Run drives the engine until ctx ends.
func (e *Engine) Run(ctx context.Context) {
	ticker := time.NewTicker(Tick)
	defer ticker.Stop()
	statsTicker := time.NewTicker(time.Second)
	defer statsTicker.Stop()
	recv := e.tr.Recv()
	e.lastTick = time.Now()
	for {
		select {
		case <-ctx.Done():
			e.closeAll()
			return
		case f, ok := <-recv:
			if !ok {
				recv = nil
				continue
			}
			e.mu.Lock()
			e.step(f)
			e.process()
			e.mu.Unlock()
		case now := <-ticker.C:
			e.tick(now, recv)
		case <-statsTicker.C:
			e.publishLinkStats()
		}
	}
}

// tick gives the core one tick. After a stall of this process (it was
// paused, swapped or starved), frames that waited in the meantime are
// handled first and the stall counts as one tick, so a node that did not
// run does not suspect peers that did (docs/messaging-protocol.md).
func (e *Engine) tick(now time.Time, recv <-chan transport.Frame) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if stall := now.Sub(e.lastTick); stall > 5*Tick {
		e.log.Warn("this process was stalled; not counting the stall against peers", "stall", stall.Round(time.Millisecond))
	drain:
		for {
			select {
			case f, ok := <-recv:
				if !ok {
					break drain
				}
				e.step(f)
			default:
				break drain
			}
		}
	}
	e.lastTick = now
	e.node.Tick()
	e.process()
}

// step decodes a frame and gives it to the core; a frame whose sender is
// not the authenticated peer, or that does not decode, is dropped.
func (e *Engine) step(f transport.Frame) {
	m, err := DecodeFrame(f.From, f.Data)
	if err != nil {
		e.log.Warn("dropped a malformed protocol frame", "from", f.From, "link", f.Link, "err", err)
		return
	}
	e.node.Step(m)
}

// DecodeFrame decodes one protocol message received from node from.
func DecodeFrame(from uint32, data []byte) (*pb.ProtocolMessage, error) {
	var m pb.ProtocolMessage
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.GetFrom().GetId() != from {
		return nil, fmt.Errorf("claims to come from node %d", m.GetFrom().GetId())
	}
	if m.GetBody() == nil {
		return nil, errors.New("no body")
	}
	return &m, nil
}

// process sends what the core produced and dispatches its events; group
// syncs it must multicast after a view change loop back through the core.
func (e *Engine) process() {
	for {
		rd := e.node.Ready()
		if len(rd.Messages) == 0 && len(rd.Events) == 0 {
			return
		}
		// Local deliveries first: the local client need not wait for the
		// frames to the other nodes to be encoded.
		for _, ev := range rd.Events {
			e.dispatch(ev)
		}
		// A broadcast's copies share one body: encode it once. A protobuf
		// message may be encoded as the concatenation of its fields, so
		// a frame is the encoded addresses followed by the encoded body.
		bodies := map[any][]byte{}
		for _, m := range rd.Messages {
			body, ok := bodies[m.Body]
			if !ok {
				var err error
				if body, err = proto.Marshal(&pb.ProtocolMessage{Body: m.Body}); err != nil {
					e.log.Error("marshal protocol message", "err", err)
					continue
				}
				bodies[m.Body] = body
			}
			head, err := proto.Marshal(&pb.ProtocolMessage{From: m.From, To: m.To})
			if err != nil {
				continue
			}
			// Loss is the protocol's business: drops are counted by the
			// transport and repaired by retransmission.
			_ = e.tr.Send(m.GetTo().GetId(), append(head, body...))
		}
		if len(rd.Events) > 0 {
			close(e.room)
			e.room = make(chan struct{})
		}
	}
}

// WaitForRoom waits until messages were delivered (so the send queue may
// have room), or ctx ends.
func (e *Engine) WaitForRoom(ctx context.Context) error {
	e.mu.Lock()
	room := e.room
	e.mu.Unlock()
	select {
	case <-room:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Engine) dispatch(ev core.Event) {
	if v := ev.View; v != nil {
		e.view = *v
		e.publishMembers(v)
		for w := range e.watchers {
			// A watcher that lags loses its oldest view, never the newest.
			for {
				select {
				case w <- *v:
				default:
					select {
					case <-w:
					default:
					}
					continue
				}
				break
			}
		}
	}
	gevs, err := e.groups.Apply(ev)
	if err != nil {
		e.log.Warn("dropped a malformed group message", "err", err)
	}
	for _, g := range gevs {
		e.route(g)
	}
	if ev.View != nil {
		if _, err := e.node.Multicast(cpg.EncodeSync(e.groups.LocalMembers())); err != nil {
			e.log.Error("could not announce local group members after a view change", "err", err)
		}
	}
}

// route hands a group event to this node's members of the group.
func (e *Engine) route(g cpg.Event) {
	group := ""
	if g.Change != nil {
		group = g.Change.Group
		for _, j := range g.Change.Joined {
			if s := e.members[j.Member]; s != nil && j.Member.Node == e.self.ID {
				s.active = true
			}
		}
	} else {
		group = g.Message.Group
	}
	for m, s := range e.members {
		if s.group != group || !s.active {
			continue
		}
		select {
		case s.events <- g:
		default:
			s.err = ErrSlowClient
			e.dropLocked(m, s, true)
			continue
		}
		if g.Change != nil {
			for _, l := range g.Change.Left {
				if l.Member == m {
					delete(e.members, m)
					close(s.events)
				}
			}
		}
	}
}

// Join makes a new member of group on this node and returns it; its events
// start with the change that announces it.
func (e *Engine) Join(group string) (cpg.Member, *subscriber, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nextHandle++
	m := cpg.Member{Node: e.self.ID, Handle: e.nextHandle}
	s := &subscriber{group: group, handle: m.Handle, events: make(chan cpg.Event, subscriberBuffer)}
	if _, err := e.node.Multicast(cpg.EncodeJoin(group, m.Handle)); err != nil {
		return cpg.Member{}, nil, err
	}
	e.members[m] = s
	e.process()
	return m, s, nil
}

// Leave removes a local member from its group; with processDown, because
// its client went away.
func (e *Engine) Leave(group string, handle uint64, processDown bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := cpg.Member{Node: e.self.ID, Handle: handle}
	s, ok := e.members[m]
	if !ok || s.group != group {
		return fmt.Errorf("handle %d of group %q: %w", handle, group, ErrNotMember)
	}
	if _, err := e.node.Multicast(cpg.EncodeLeave(group, handle, processDown)); err != nil {
		return err
	}
	e.process()
	return nil
}

// dropLocked removes a member whose client is gone or too slow, telling the
// group.
func (e *Engine) dropLocked(m cpg.Member, s *subscriber, processDown bool) {
	delete(e.members, m)
	close(s.events)
	if _, err := e.node.Multicast(cpg.EncodeLeave(s.group, s.handle, processDown)); err != nil {
		e.log.Warn("could not announce that a group member went away", "group", s.group, "handle", s.handle, "err", err)
	}
}

// Gone is called when a member's client stream ended without Leave.
func (e *Engine) Gone(m cpg.Member) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.members[m]; ok {
		e.dropLocked(m, s, true)
		e.process()
	}
}

// MulticastBatch sends several messages of one local member at once, all
// or none.
func (e *Engine) MulticastBatch(group string, handle uint64, datas [][]byte) error {
	var parts [][]byte
	for _, d := range datas {
		parts = append(parts, cpg.EncodeData(group, handle, d, fragmentSize)...)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.members[cpg.Member{Node: e.self.ID, Handle: handle}]
	if !ok || s.group != group {
		return fmt.Errorf("handle %d of group %q: %w", handle, group, ErrNotMember)
	}
	if _, err := e.node.MulticastBatch(parts); err != nil {
		return err
	}
	e.process()
	return nil
}

// Multicast sends data to group from a local member. It fails with
// core.ErrQueueFull, without sending anything, when the message does not
// fit in the send queue.
func (e *Engine) Multicast(group string, handle uint64, data []byte) error {
	return e.MulticastBatch(group, handle, [][]byte{data})
}

// View returns the installed view.
func (e *Engine) View() core.View {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.view
}

// WatchViews returns a channel of views, starting with the current one,
// and the function that stops the watch.
func (e *Engine) WatchViews() (<-chan core.View, func()) {
	ch := make(chan core.View, 16)
	e.mu.Lock()
	ch <- e.view
	e.watchers[ch] = struct{}{}
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		delete(e.watchers, ch)
		e.mu.Unlock()
	}
}

// Groups returns every group with its members.
func (e *Engine) Groups() map[string][]cpg.Member {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string][]cpg.Member{}
	for _, g := range e.groups.Groups() {
		out[g] = e.groups.Members(g)
	}
	return out
}

func (e *Engine) closeAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for m, s := range e.members {
		delete(e.members, m)
		close(s.events)
	}
}

// publishMembers records the view in cmap's runtime.members.
func (e *Engine) publishMembers(v *core.View) {
	if e.store == nil {
		return
	}
	for _, m := range v.Members {
		if n, ok := e.cfg.NodeByID(m.ID); ok {
			_ = e.store.SetMember(m.ID, n.Addrs, cmap.MemberJoined)
		}
	}
	for _, m := range v.Left {
		if !slices.ContainsFunc(v.Members, func(r core.NodeRef) bool { return r.ID == m.ID }) {
			_ = e.store.SetMember(m.ID, nil, cmap.MemberLeft)
		}
	}
}

func (e *Engine) publishLinkStats() {
	if e.store == nil {
		return
	}
	for _, p := range e.tr.Links() {
		for _, l := range p.Links {
			_ = e.store.SetLinkStats(p.NodeID, l.Link, cmap.LinkStats{
				Enabled: true, Connected: l.Connected,
				TxDataPackets: l.TxFrames, RxDataPackets: l.RxFrames, TxDataBytes: l.TxBytes, RxDataBytes: l.RxBytes,
				TxPingPackets: l.TxPings, RxPingPackets: l.RxPings, TxPongPackets: l.TxPongs, RxPongPackets: l.RxPongs,
				TxTotalPackets: l.TxFrames + l.TxPings + l.TxPongs, RxTotalPackets: l.RxFrames + l.RxPings + l.RxPongs,
				LatencyMin: uint32(l.RTTMin.Microseconds()), LatencyMax: uint32(l.RTTMax.Microseconds()),
				LatencyAve: uint32(l.RTT.Microseconds()), LatencySamples: uint32(l.RTTSamples),
				UpCount: uint32(l.UpCount), DownCount: uint32(l.DownCount),
			})
		}
	}
}
