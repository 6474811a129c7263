// Package core is the protocol of vigil-messagingd as a deterministic state
// machine: agreed membership views, a total order of multicast messages
// within each view, and virtual synchrony across view changes. It has no
// goroutines, clocks or sockets: the runtime feeds it received messages
// (Step), the passing of time (Tick) and local multicasts (Multicast), and
// takes from Ready the messages to send and the events to hand to clients.
// docs/messaging-protocol.md describes the protocol and why it is correct.
package core

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	pb "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// NodeRef names one run of a node: its id and the incarnation of its
// messaging daemon. A restarted node is a different NodeRef.
type NodeRef struct {
	ID          uint32
	Incarnation uint64
}

func (r NodeRef) String() string { return fmt.Sprintf("%d.%d", r.ID, r.Incarnation) }

// ViewID identifies a view. Views and proposals are ordered by Compare.
type ViewID struct {
	Epoch       uint64
	Coordinator NodeRef
}

func (v ViewID) String() string { return fmt.Sprintf("%d/%s", v.Epoch, v.Coordinator) }

// Compare orders view ids: the higher epoch wins; at the same epoch the
// lower coordinator id wins, because the lowest id coordinates the largest
// set its members agree on; then the higher incarnation.
func (v ViewID) Compare(o ViewID) int {
	if c := cmp.Compare(v.Epoch, o.Epoch); c != 0 {
		return c
	}
	if c := cmp.Compare(o.Coordinator.ID, v.Coordinator.ID); c != 0 {
		return c
	}
	return cmp.Compare(v.Coordinator.Incarnation, o.Coordinator.Incarnation)
}

// View is an installed membership: every member installs the same one.
type View struct {
	ID      ViewID
	Members []NodeRef // sorted by id
	// Joined and Left are relative to the previous view of this node.
	Joined, Left []NodeRef
}

func (v View) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "view %s [", v.ID)
	for i, m := range v.Members {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(m.String())
	}
	b.WriteByte(']')
	return b.String()
}

// Has reports whether r is a member.
func (v View) Has(r NodeRef) bool { return slices.Contains(v.Members, r) }

// Delivery is one multicast message, delivered in the agreed order of its
// view.
type Delivery struct {
	View    ViewID
	Seq     uint64
	Sender  NodeRef
	Counter uint64
	Data    []byte
	// Duplicate marks a message this node delivered before, in an earlier
	// view: its sender submitted it again because it could not know that
	// part of the cluster had it (docs/messaging-protocol.md, "Exactly
	// once"). It keeps its place in the order, so that members agree on
	// the order of the view, but the runtime must not hand it to clients.
	Duplicate bool
}

// Event is a delivery or a view change, in the order the node must hand
// them to clients: deliveries of a view always precede the change to the
// next view.
type Event struct {
	Delivery *Delivery
	View     *View
}

// Ready is what the node produced since the last call to Ready. The runtime
// must send Messages (best effort: loss is tolerated) and hand Events to
// clients in order.
type Ready struct {
	Messages []*pb.ProtocolMessage
	Events   []Event
}

// Errors of Multicast.
var (
	// ErrQueueFull means the bounded queue of messages waiting to be
	// ordered is full; the caller retries later (RESOURCE_EXHAUSTED).
	ErrQueueFull = errors.New("core: send queue full")
	// ErrTooLarge means a payload exceeds Config.MaxPayload.
	ErrTooLarge = errors.New("core: payload too large")
)

func toPB(r NodeRef) *pb.NodeRef { return &pb.NodeRef{Id: r.ID, Incarnation: r.Incarnation} }

func fromPB(r *pb.NodeRef) NodeRef {
	return NodeRef{ID: r.GetId(), Incarnation: r.GetIncarnation()}
}

func viewToPB(v ViewID) *pb.ViewRef {
	return &pb.ViewRef{Epoch: v.Epoch, Coordinator: toPB(v.Coordinator)}
}

func viewFromPB(v *pb.ViewRef) ViewID {
	return ViewID{Epoch: v.GetEpoch(), Coordinator: fromPB(v.GetCoordinator())}
}

func refsToPB(rs []NodeRef) []*pb.NodeRef {
	out := make([]*pb.NodeRef, len(rs))
	for i, r := range rs {
		out[i] = toPB(r)
	}
	return out
}

func refsFromPB(rs []*pb.NodeRef) []NodeRef {
	out := make([]NodeRef, len(rs))
	for i, r := range rs {
		out[i] = fromPB(r)
	}
	return out
}

func sortRefs(rs []NodeRef) {
	slices.SortFunc(rs, func(a, b NodeRef) int {
		if c := cmp.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return cmp.Compare(a.Incarnation, b.Incarnation)
	})
}

// msgKey names a payload across views: sender run and counter.
type msgKey struct {
	sender  NodeRef
	counter uint64
}

func keyOf(p *pb.Payload) msgKey { return msgKey{fromPB(p.GetSender()), p.GetCounter()} }
