// Package quorumd is vigil-quorumd: Corosync votequorum computed from the
// agreed membership. Every quorumd of the cluster joins the process group
// "vigil-quorum" of its messaging daemon; the group's configuration changes
// (ordered with its messages) are the views quorum is computed from, and
// each node's votes and settings are exchanged as messages of that group,
// so every member of a partition applies the same sequence and reaches the
// same result (docs/quorum.md). The rules are in quorumd/votequorum.
package quorumd

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/cpgclient"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/rpcclient"
	"github.com/vigil-ha/vigil/internal/rpcserver"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
	quorumv1 "github.com/vigil-ha/vigil/proto/vigil/quorum/v1"
	"github.com/vigil-ha/vigil/quorumd/votequorum"
)

// Group is the process group the quorumds of a cluster share.
const Group = "vigil-quorum"

// tickInterval drives last_man_standing_window.
const tickInterval = 100 * time.Millisecond

// Start builds vigil-quorumd: it refuses contradictory quorum settings, as
// corosync does, then follows the quorum group of the local messaging
// daemon and serves QuorumService.
func Start(ctx context.Context, env daemon.Env, srv *rpcserver.Server) error {
	qcfg, err := votequorum.FromConfig(env.Config)
	if err != nil {
		return fmt.Errorf("%s: %w", env.Config.File, err)
	}
	s := &Server{
		log: env.Logger, cfg: env.Config, node: env.Node,
		vq:       votequorum.New(qcfg, env.Node.ID),
		watchers: map[chan *quorumv1.Status]struct{}{},
		applied:  map[uint64]chan error{},
	}
	s.status = s.snapshot()
	conn, err := rpcclient.Dial(env.Config.Vigil.MessagingListen, env.Node.Name, env.TLS)
	if err != nil {
		return err
	}
	s.group = cpgclient.New(messagingv1.NewGroupServiceClient(conn), Group, cpgclient.Options{Tick: tickInterval, Logger: env.Logger})
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	go s.group.Follow(ctx, groupFollower{s})
	quorumv1.RegisterQuorumServiceServer(srv, s)
	return nil
}

// Server is the gRPC surface of vigil-quorumd and the loop that feeds
// votequorum.
type Server struct {
	quorumv1.UnimplementedQuorumServiceServer
	log   *slog.Logger
	cfg   *config.Config
	node  config.Node
	group *cpgclient.Member

	mu       sync.Mutex
	vq       *votequorum.State
	view     *messagingv1.ViewId
	members  []uint32
	handle   uint64 // our member handle in the group while joined
	status   *quorumv1.Status
	watchers map[chan *quorumv1.Status]struct{}
	nextReq  uint64
	applied  map[uint64]chan error // runtime changes waiting for their delivery
}

// message is what quorumds multicast to each other. JSON: it is internal
// to one version of Vigil and small.
type message struct {
	// Info announces the sender's votequorum node information.
	Info *votequorum.NodeInfo `json:"info,omitempty"`
	// ExpectedVotes and Votes are runtime changes (corosync-quorumtool
	// -e and -v); Node is the node whose votes change.
	ExpectedVotes uint32 `json:"expected_votes,omitempty"`
	Votes         uint32 `json:"votes,omitempty"`
	Node          uint32 `json:"node,omitempty"`
	TwoNode       *bool  `json:"two_node,omitempty"`
	// Request names the change for the node that asked for it.
	Request uint64 `json:"request,omitempty"`
}

// groupFollower feeds the quorum group's events to votequorum. While this
// quorumd is not a member, the node sees only itself, as votequorum does
// without membership.
type groupFollower struct{ s *Server }

func (f groupFollower) Joined(_ context.Context, handle uint64) {
	f.s.mu.Lock()
	f.s.handle = handle
	f.s.mu.Unlock()
}

func (f groupFollower) Lost(error) {
	s := f.s
	s.mu.Lock()
	s.handle = 0
	s.viewChanged(nil, []uint32{s.node.ID})
	s.mu.Unlock()
}

// Tick drives last_man_standing_window.
func (f groupFollower) Tick(now time.Time) {
	f.s.mu.Lock()
	f.s.vq.Tick(now)
	f.s.publish()
	f.s.mu.Unlock()
}

func (f groupFollower) Change(ctx context.Context, cc *messagingv1.ConfigurationChange) error {
	s := f.s
	var ids []uint32
	for _, m := range cc.GetMembers() {
		if !slices.Contains(ids, m.GetNodeId()) {
			ids = append(ids, m.GetNodeId())
		}
	}
	slices.Sort(ids)
	s.mu.Lock()
	s.viewChanged(cc.GetViewId(), ids)
	info := s.vq.Local()
	s.mu.Unlock()
	// Every member announces itself after each change, so that nodes that
	// just joined learn its votes and settings.
	return s.send(ctx, message{Info: &info})
}

func (f groupFollower) Deliver(ctx context.Context, d *messagingv1.Delivery) error {
	s := f.s
	now := time.Now()
	var m message
	if err := json.Unmarshal(d.GetPayload(), &m); err != nil {
		s.log.Warn("dropped a malformed quorum message", "from", d.GetSender().GetNodeId(), "err", err)
		return nil
	}
	from := d.GetSender().GetNodeId()
	s.mu.Lock()
	var err error
	changed := false
	switch {
	case m.Info != nil:
		s.vq.NodeInfoReceived(from, *m.Info, now)
	case m.ExpectedVotes != 0:
		err, changed = s.vq.SetExpectedVotes(m.ExpectedVotes, now), true
	case m.Node != 0:
		err, changed = s.vq.SetVotes(m.Node, m.Votes, now), true
	case m.TwoNode != nil:
		err, changed = s.vq.SetTwoNode(*m.TwoNode, now), true
	}
	if err != nil {
		s.log.Warn("quorum change refused", "from", from, "err", err)
	}
	if from == s.node.ID && d.GetSender().GetHandle() == s.handle && m.Request != 0 {
		if ch, ok := s.applied[m.Request]; ok {
			ch <- err
			delete(s.applied, m.Request)
		}
	}
	s.publish()
	info := s.vq.Local()
	s.mu.Unlock()
	if changed {
		// A runtime change may change this node's own settings: the
		// others learn them from its announcement.
		return s.send(ctx, message{Info: &info})
	}
	return nil
}

// viewChanged installs the members of a new group view; s.mu is held.
func (s *Server) viewChanged(view *messagingv1.ViewId, ids []uint32) {
	if view != nil {
		s.view = view
	}
	s.members = ids
	s.vq.ViewChanged(ids, time.Now())
	s.publish()
}

// send multicasts m to the quorum group.
func (s *Server) send(ctx context.Context, m message) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.group.Multicast(ctx, payload)
}

// publish recomputes the status and tells watchers when it changed; s.mu
// is held.
func (s *Server) publish() {
	st := s.snapshot()
	if sameStatus(st, s.status) {
		return
	}
	s.status = st
	s.log.Info("quorum changed", "quorate", st.GetQuorate(), "total_votes", st.GetTotalVotes(), "quorum", st.GetQuorum(),
		"expected_votes", st.GetExpectedVotes(), "members", s.members)
	for w := range s.watchers {
		for {
			select {
			case w <- st:
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

func sameStatus(a, b *quorumv1.Status) bool {
	if a == nil || b == nil {
		return a == b
	}
	ac := proto.Clone(a).(*quorumv1.Status)
	bc := proto.Clone(b).(*quorumv1.Status)
	ac.ChangedAt, bc.ChangedAt = nil, nil
	return proto.Equal(ac, bc)
}

// snapshot is the status in API form; s.mu is held.
func (s *Server) snapshot() *quorumv1.Status {
	vs := s.vq.Status()
	st := &quorumv1.Status{
		Quorate:         vs.Quorate,
		LocalNodeId:     s.node.ID,
		ViewEpoch:       s.view.GetEpoch(),
		ViewCoordinator: s.view.GetCoordinator(),
		ExpectedVotes:   vs.ExpectedVotes,
		HighestExpected: vs.HighestExpected,
		TotalVotes:      vs.TotalVotes,
		Quorum:          vs.Quorum,
		ChangedAt:       timestamppb.Now(),
	}
	for _, f := range []struct {
		on   bool
		flag quorumv1.Flag
	}{
		{vs.Flags.TwoNode, quorumv1.Flag_FLAG_TWO_NODE},
		{vs.Flags.Quorate, quorumv1.Flag_FLAG_QUORATE},
		{vs.Flags.WaitForAll, quorumv1.Flag_FLAG_WAIT_FOR_ALL},
		{vs.Flags.LastManStanding, quorumv1.Flag_FLAG_LAST_MAN_STANDING},
		{vs.Flags.AutoTieBreaker, quorumv1.Flag_FLAG_AUTO_TIE_BREAKER},
		{vs.Flags.AllowDownscale, quorumv1.Flag_FLAG_ALLOW_DOWNSCALE},
	} {
		if f.on {
			st.Flags = append(st.Flags, f.flag)
		}
	}
	for _, m := range vs.Members {
		nv := &quorumv1.NodeVotes{NodeId: m.ID, Votes: m.Votes, ExpectedVotes: m.ExpectedVotes, Local: m.ID == s.node.ID}
		if n, ok := s.cfg.NodeByID(m.ID); ok {
			nv.Name = n.Name
		}
		st.Members = append(st.Members, nv)
	}
	return st
}

// GetStatus returns the current quorum status.
func (s *Server) GetStatus(context.Context, *quorumv1.GetStatusRequest) (*quorumv1.GetStatusResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &quorumv1.GetStatusResponse{Status: s.status}, nil
}

// WatchStatus sends the current status and every change.
func (s *Server) WatchStatus(_ *quorumv1.WatchStatusRequest, stream grpc.ServerStreamingServer[quorumv1.WatchStatusResponse]) error {
	ch := make(chan *quorumv1.Status, 16)
	s.mu.Lock()
	ch <- s.status
	s.watchers[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.watchers, ch)
		s.mu.Unlock()
	}()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case st := <-ch:
			if err := stream.Send(&quorumv1.WatchStatusResponse{Status: st}); err != nil {
				return err
			}
		}
	}
}

// SetExpectedVotes changes expected votes on every node of the partition.
func (s *Server) SetExpectedVotes(ctx context.Context, req *quorumv1.SetExpectedVotesRequest) (*quorumv1.SetExpectedVotesResponse, error) {
	if req.GetExpectedVotes() == 0 {
		return nil, status.Error(codes.InvalidArgument, "expected votes must be at least 1")
	}
	st, err := s.change(ctx, message{ExpectedVotes: req.GetExpectedVotes()})
	if err != nil {
		return nil, err
	}
	return &quorumv1.SetExpectedVotesResponse{Status: st}, nil
}

// SetTwoNode switches two_node on every node of the partition.
func (s *Server) SetTwoNode(ctx context.Context, req *quorumv1.SetTwoNodeRequest) (*quorumv1.SetTwoNodeResponse, error) {
	on := req.GetTwoNode()
	if on && len(s.cfg.Nodes) > 2 {
		return nil, status.Errorf(codes.FailedPrecondition,
			"two_node is for clusters of exactly two nodes; the nodelist has %d, and both sides of a split could be quorate", len(s.cfg.Nodes))
	}
	st, err := s.change(ctx, message{TwoNode: &on})
	if err != nil {
		return nil, err
	}
	return &quorumv1.SetTwoNodeResponse{Status: st}, nil
}

// SetVotes changes the votes of one node on every node of the partition.
func (s *Server) SetVotes(ctx context.Context, req *quorumv1.SetVotesRequest) (*quorumv1.SetVotesResponse, error) {
	if _, ok := s.cfg.NodeByID(req.GetNodeId()); !ok {
		return nil, status.Errorf(codes.InvalidArgument, "node %d is not in the nodelist", req.GetNodeId())
	}
	st, err := s.change(ctx, message{Node: req.GetNodeId(), Votes: req.GetVotes()})
	if err != nil {
		return nil, err
	}
	return &quorumv1.SetVotesResponse{Status: st}, nil
}

// change multicasts a runtime change and waits until it is applied here,
// that is, delivered in agreed order to every member of the partition.
func (s *Server) change(ctx context.Context, m message) (*quorumv1.Status, error) {
	s.mu.Lock()
	handle := s.handle
	s.nextReq++
	m.Request = s.nextReq
	done := make(chan error, 1)
	s.applied[m.Request] = done
	s.mu.Unlock()
	if handle == 0 {
		return nil, status.Error(codes.Unavailable, "not connected to the messaging daemon: no membership to change quorum in")
	}
	if err := s.send(ctx, m); err != nil {
		return nil, status.Errorf(codes.Unavailable, "send the change to the cluster: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.applied, m.Request)
		s.mu.Unlock()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, nil
}
