// Package messaging is vigil-messagingd: cluster membership, totally ordered
// process-group messaging with virtual synchrony, and cmap (the Corosync
// layer of Vigil). The protocol is in messaging/core, process groups in
// messaging/cpg, the links between nodes in messaging/transport and cmap in
// messaging/cmap; this file is the gRPC surface and the engine.go runtime
// ties them together.
package messaging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/rpcserver"
	"github.com/vigil-ha/vigil/messaging/cmap"
	"github.com/vigil-ha/vigil/messaging/core"
	"github.com/vigil-ha/vigil/messaging/cpg"
	"github.com/vigil-ha/vigil/messaging/transport"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Start builds the messaging daemon of env's node: cmap from the
// configuration, the peer transport, the engine, and the gRPC services on
// srv. Its work stops when ctx ends.
func Start(ctx context.Context, env daemon.Env, srv *rpcserver.Server) error {
	if os.Getenv("GOGC") == "" {
		// Messages are short-lived garbage by the hundred thousand a
		// second; collecting less often is worth 20-30 % of throughput
		// (docs/messaging-protocol.md, "Measurements"). Memory stays
		// bounded by the protocol's own limits.
		debug.SetGCPercent(400)
	}
	store := cmap.New(cmap.Options{Log: env.Logger})
	if err := store.LoadConfig(env.Config, env.Node.ID); err != nil {
		return err
	}
	tr, err := transport.New(transport.Config{
		ClusterName: env.Config.Totem.ClusterName,
		Local:       env.Node,
		Nodes:       env.Config.Nodes,
		Port:        env.Config.Vigil.PeerPort,
		TLS:         env.TLS,
		Logger:      env.Logger.With("component", "transport"),
	})
	if err != nil {
		return err
	}
	engine, err := NewEngine(env.Config, env.Node, tr, store, env.Logger.With("component", "core"))
	if err != nil {
		return err
	}
	go func() {
		if err := tr.Run(ctx); err != nil && ctx.Err() == nil {
			env.Fail(fmt.Errorf("peer transport: %w", err))
		}
	}()
	go engine.Run(ctx)
	s := &Server{log: env.Logger, cfg: env.Config, engine: engine, tr: tr}
	s.Register(srv)
	cmap.NewService(store).Register(srv)
	return nil
}

// Server is the gRPC surface of vigil-messagingd (cmap is served by
// cmap.Service).
type Server struct {
	messagingv1.UnimplementedMembershipServiceServer
	messagingv1.UnimplementedGroupServiceServer
	log    *slog.Logger
	cfg    *config.Config
	engine *Engine
	tr     *transport.Transport
}

// Register registers the membership and group services on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	messagingv1.RegisterMembershipServiceServer(g, s)
	messagingv1.RegisterGroupServiceServer(g, s)
}

// toStatus is the one table from the engine's errors to gRPC codes.
func toStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, core.ErrQueueFull):
		return status.Error(codes.ResourceExhausted, "the send queue is full: retry after a short wait (flow control)")
	case errors.Is(err, core.ErrTooLarge):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrNotMember):
		return status.Errorf(codes.FailedPrecondition, "%v: join the group first and use the handle Join returned", err)
	case errors.Is(err, ErrSlowClient):
		return status.Error(codes.ResourceExhausted, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

func viewIDToPB(id core.ViewID) *messagingv1.ViewId {
	return &messagingv1.ViewId{Epoch: id.Epoch, Coordinator: id.Coordinator.ID}
}

func (s *Server) viewToPB(v core.View) *messagingv1.View {
	out := &messagingv1.View{Id: viewIDToPB(v.ID), InstalledAt: timestamppb.Now()}
	for _, m := range v.Members {
		pm := &messagingv1.Member{NodeId: m.ID, Incarnation: m.Incarnation}
		if n, ok := s.cfg.NodeByID(m.ID); ok {
			pm.Name, pm.Addresses = n.Name, n.Addrs
		}
		out.Members = append(out.Members, pm)
	}
	for _, m := range v.Joined {
		out.Joined = append(out.Joined, m.ID)
	}
	for _, m := range v.Left {
		out.Left = append(out.Left, m.ID)
	}
	return out
}

// GetView returns the installed view.
func (s *Server) GetView(context.Context, *messagingv1.GetViewRequest) (*messagingv1.GetViewResponse, error) {
	return &messagingv1.GetViewResponse{View: s.viewToPB(s.engine.View()), LocalNodeId: s.engine.self.ID}, nil
}

// WatchViews streams the current view and every later one.
func (s *Server) WatchViews(_ *messagingv1.WatchViewsRequest, stream grpc.ServerStreamingServer[messagingv1.WatchViewsResponse]) error {
	views, stop := s.engine.WatchViews()
	defer stop()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case v := <-views:
			if err := stream.Send(&messagingv1.WatchViewsResponse{View: s.viewToPB(v)}); err != nil {
				return err
			}
		}
	}
}

// GetLinks returns every link to every configured node.
func (s *Server) GetLinks(context.Context, *messagingv1.GetLinksRequest) (*messagingv1.GetLinksResponse, error) {
	resp := &messagingv1.GetLinksResponse{LocalNodeId: s.engine.self.ID}
	self := &messagingv1.PeerLinks{NodeId: s.engine.self.ID, Name: s.engine.self.Name}
	for i, a := range s.engine.self.Addrs {
		self.Links = append(self.Links, &messagingv1.Link{LinkNumber: uint32(i), LocalAddress: a, RemoteAddress: a, State: messagingv1.LinkState_LINK_STATE_LOCAL})
	}
	resp.Peers = append(resp.Peers, self)
	for _, p := range s.tr.Links() {
		pl := &messagingv1.PeerLinks{NodeId: p.NodeID, Name: p.Name}
		for _, l := range p.Links {
			state := messagingv1.LinkState_LINK_STATE_DISCONNECTED
			if l.Connected {
				state = messagingv1.LinkState_LINK_STATE_CONNECTED
			}
			pl.Links = append(pl.Links, &messagingv1.Link{
				LinkNumber: uint32(l.Link), LocalAddress: l.LocalAddr, RemoteAddress: l.PeerAddr,
				State: state, Active: p.Reachable && p.ActiveLink == l.Link,
			})
		}
		resp.Peers = append(resp.Peers, pl)
	}
	return resp, nil
}

// Join makes the caller a member of a group for as long as the stream is
// open.
func (s *Server) Join(req *messagingv1.JoinRequest, stream grpc.ServerStreamingServer[messagingv1.JoinResponse]) error {
	if req.GetGroup() == "" {
		return status.Error(codes.InvalidArgument, "group name is empty")
	}
	m, sub, err := s.engine.Join(req.GetGroup())
	if err != nil {
		return toStatus(err)
	}
	if err := stream.Send(&messagingv1.JoinResponse{Event: &messagingv1.JoinResponse_Joined{Joined: memberToPB(m)}}); err != nil {
		s.engine.Gone(m)
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			s.engine.Gone(m)
			return nil
		case ev, ok := <-sub.events:
			if !ok {
				return toStatus(sub.err)
			}
			if err := s.sendEvents(stream, ev, sub.events); err != nil {
				s.engine.Gone(m)
				return err
			}
		}
	}
}

// maxDeliveriesPerResponse bounds one Deliveries response.
const maxDeliveriesPerResponse = 256

// sendEvents sends ev and whatever else is already waiting: consecutive
// deliveries go in one response, so a busy group costs one stream message
// per batch rather than per message.
func (s *Server) sendEvents(stream grpc.ServerStreamingServer[messagingv1.JoinResponse], ev cpg.Event, more <-chan cpg.Event) error {
	var batch []*messagingv1.Delivery
	flush := func() error {
		switch len(batch) {
		case 0:
			return nil
		case 1:
			err := stream.Send(&messagingv1.JoinResponse{Event: &messagingv1.JoinResponse_Delivery{Delivery: batch[0]}})
			batch = batch[:0]
			return err
		}
		err := stream.Send(&messagingv1.JoinResponse{Event: &messagingv1.JoinResponse_Deliveries{Deliveries: &messagingv1.Deliveries{Deliveries: batch}}})
		batch = nil
		return err
	}
	for {
		if ev.Message != nil {
			batch = append(batch, deliveryToPB(ev.Message))
		} else {
			if err := flush(); err != nil {
				return err
			}
			if err := stream.Send(eventToPB(ev)); err != nil {
				return err
			}
		}
		if len(batch) >= maxDeliveriesPerResponse {
			if err := flush(); err != nil {
				return err
			}
		}
		select {
		case next, ok := <-more:
			if !ok {
				return flush()
			}
			ev = next
		default:
			return flush()
		}
	}
}

// Multicast sends a message to a group the caller has joined.
func (s *Server) Multicast(_ context.Context, req *messagingv1.MulticastRequest) (*messagingv1.MulticastResponse, error) {
	if err := s.engine.Multicast(req.GetGroup(), req.GetHandle(), req.GetPayload()); err != nil {
		return nil, toStatus(err)
	}
	return &messagingv1.MulticastResponse{}, nil
}

// MulticastStream sends a stream of messages; a full queue makes it wait
// for room rather than refuse. Messages that have arrived together go to
// the engine together, so the sequencer orders them in one batch.
func (s *Server) MulticastStream(stream grpc.ClientStreamingServer[messagingv1.MulticastStreamRequest, messagingv1.MulticastStreamResponse]) error {
	const maxBatch = 256
	reqs := make(chan *messagingv1.MulticastStreamRequest, maxBatch)
	recvErr := make(chan error, 1)
	go func() {
		defer close(reqs)
		for {
			req, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			reqs <- req
		}
	}()
	var resp messagingv1.MulticastStreamResponse
	var batch [][]byte
	var group string
	var handle uint64
	flush := func() error {
		// Chunks of maxBatch: a batch must fit in the send queue whole.
		for len(batch) > 0 {
			n := min(len(batch), maxBatch)
			if err := s.sendBatch(stream.Context(), group, handle, batch[:n], &resp); err != nil {
				return err
			}
			batch = batch[n:]
		}
		batch = nil
		return nil
	}
	// add appends a request's messages to the batch, sending the batch
	// first when the request is for another group or handle.
	add := func(req *messagingv1.MulticastStreamRequest) error {
		if len(batch) > 0 && (req.GetGroup() != group || req.GetHandle() != handle) {
			if err := flush(); err != nil {
				return err
			}
		}
		group, handle = req.GetGroup(), req.GetHandle()
		if ps := req.GetPayloads(); len(ps) > 0 {
			if len(req.GetPayload()) > 0 {
				return status.Error(codes.InvalidArgument, "a multicast request carries either payload or payloads, not both")
			}
			batch = append(batch, ps...)
			return nil
		}
		batch = append(batch, req.GetPayload())
		return nil
	}
	for req := range reqs {
		if err := add(req); err != nil {
			return err
		}
	more:
		for len(batch) < maxBatch {
			select {
			case next, ok := <-reqs:
				if !ok {
					break more
				}
				if err := add(next); err != nil {
					return err
				}
			default:
				break more
			}
		}
		if err := flush(); err != nil {
			return err
		}
	}
	if err := <-recvErr; !errors.Is(err, io.EOF) {
		return err
	}
	return stream.SendAndClose(&resp)
}

func (s *Server) sendBatch(ctx context.Context, group string, handle uint64, batch [][]byte, resp *messagingv1.MulticastStreamResponse) error {
	for {
		err := s.engine.MulticastBatch(group, handle, batch)
		if !errors.Is(err, core.ErrQueueFull) {
			if err != nil {
				return toStatus(err)
			}
			resp.Accepted += uint64(len(batch))
			return nil
		}
		resp.TryAgain++
		if err := s.engine.WaitForRoom(ctx); err != nil {
			return err
		}
	}
}

// Leave leaves a group; the Join stream ends after the leave is delivered.
func (s *Server) Leave(_ context.Context, req *messagingv1.LeaveRequest) (*messagingv1.LeaveResponse, error) {
	if err := s.engine.Leave(req.GetGroup(), req.GetHandle(), false); err != nil {
		return nil, toStatus(err)
	}
	return &messagingv1.LeaveResponse{}, nil
}

// ListGroups lists every group with members.
func (s *Server) ListGroups(context.Context, *messagingv1.ListGroupsRequest) (*messagingv1.ListGroupsResponse, error) {
	resp := &messagingv1.ListGroupsResponse{}
	for name, members := range s.engine.Groups() {
		g := &messagingv1.Group{Name: name}
		for _, m := range members {
			g.Members = append(g.Members, memberToPB(m))
		}
		resp.Groups = append(resp.Groups, g)
	}
	sortGroups(resp.Groups)
	return resp, nil
}

func memberToPB(m cpg.Member) *messagingv1.GroupMember {
	return &messagingv1.GroupMember{NodeId: m.Node, Handle: m.Handle}
}

var reasonToPB = map[cpg.Reason]messagingv1.ChangeReason{
	cpg.ReasonJoin:        messagingv1.ChangeReason_CHANGE_REASON_JOIN,
	cpg.ReasonLeave:       messagingv1.ChangeReason_CHANGE_REASON_LEAVE,
	cpg.ReasonNodeDown:    messagingv1.ChangeReason_CHANGE_REASON_NODE_DOWN,
	cpg.ReasonNodeUp:      messagingv1.ChangeReason_CHANGE_REASON_NODE_UP,
	cpg.ReasonProcessDown: messagingv1.ChangeReason_CHANGE_REASON_PROCESS_DOWN,
}

func eventToPB(ev cpg.Event) *messagingv1.JoinResponse {
	if c := ev.Change; c != nil {
		cc := &messagingv1.ConfigurationChange{ViewId: viewIDToPB(c.View)}
		for _, m := range c.Members {
			cc.Members = append(cc.Members, memberToPB(m))
		}
		for _, j := range c.Joined {
			cc.Joined = append(cc.Joined, &messagingv1.MemberChange{Member: memberToPB(j.Member), Reason: reasonToPB[j.Reason]})
		}
		for _, l := range c.Left {
			cc.Left = append(cc.Left, &messagingv1.MemberChange{Member: memberToPB(l.Member), Reason: reasonToPB[l.Reason]})
		}
		return &messagingv1.JoinResponse{Event: &messagingv1.JoinResponse_ConfigurationChange{ConfigurationChange: cc}}
	}
	return &messagingv1.JoinResponse{Event: &messagingv1.JoinResponse_Delivery{Delivery: deliveryToPB(ev.Message)}}
}

func deliveryToPB(m *cpg.Message) *messagingv1.Delivery {
	return &messagingv1.Delivery{Sender: memberToPB(m.Sender), Payload: m.Data, Sequence: m.Seq, ViewId: viewIDToPB(m.View)}
}

func sortGroups(gs []*messagingv1.Group) {
	slices.SortFunc(gs, func(a, b *messagingv1.Group) int { return strings.Compare(a.GetName(), b.GetName()) })
}
