package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"google.golang.org/grpc/codes"
	grpcpeer "google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/internal/auth"
	"github.com/vigil-ha/vigil/internal/pki"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// pongQueueLen bounds the pongs waiting to be sent back on one stream;
// beyond it pongs are dropped, which the caller sees as a slow link.
const pongQueueLen = 16

var errSuperseded = errors.New("replaced by a newer stream from the same node on the same link")

// peerService is the PeerService of the transport's gRPC server.
type peerService struct {
	messagingv1.UnimplementedPeerServiceServer
	t *Transport
}

func (s peerService) Connect(st messagingv1.PeerService_ConnectServer) error {
	return s.t.serveInbound(st)
}

// inbound is one admitted stream from a peer.
type inbound struct {
	p      *peer
	l      *link
	gen    uint64
	ctx    context.Context // done when a newer stream replaces this one
	cancel context.CancelCauseFunc
	pongs  chan *messagingv1.LinkPing
	// malformedLogged is touched only by the stream's reader.
	malformedLogged bool
}

// serveInbound runs one stream from a peer: it admits or refuses the
// caller from its hello, answers with this node's hello, then sends pongs
// while a reader goroutine delivers the frames. It returns when the stream
// ends, a newer stream replaces it, or Run stops; returning is what ends
// the stream and so the reader.
func (t *Transport) serveInbound(st messagingv1.PeerService_ConnectServer) error {
	if !t.enterHandler() {
		return status.Error(codes.Unavailable, "transport: the messaging daemon is stopping")
	}
	defer t.handlers.Done()
	ctx := st.Context()

	first := make(chan *messagingv1.ConnectRequest, 1)
	done := make(chan error, 1)
	accepted := make(chan *inbound, 1)
	t.handlers.Add(1)
	go t.readInbound(ctx, st, first, accepted, done)

	timer := time.NewTimer(t.cfg.HandshakeTimeout)
	defer timer.Stop()
	var req *messagingv1.ConnectRequest
	select {
	case req = <-first:
	case err := <-done:
		return err
	case <-timer.C:
		accepted <- nil
		return t.refuse(ctx, nil, codes.DeadlineExceeded, fmt.Sprintf("no hello within %v", t.cfg.HandshakeTimeout))
	case <-t.runCtx.Done():
		accepted <- nil
		return nil
	}
	in, err := t.admit(ctx, req)
	if err != nil {
		accepted <- nil
		return err
	}
	defer t.inClosed(in)
	answer := &messagingv1.PeerHello{
		ClusterName: t.cfg.ClusterName,
		NodeId:      t.cfg.Local.ID,
		LinkNumber:  uint32(in.l.num),
		Incarnation: t.cfg.Incarnation,
	}
	if err := st.Send(&messagingv1.ConnectResponse{Frame: &messagingv1.ConnectResponse_Hello{Hello: answer}}); err != nil {
		accepted <- nil
		return err
	}
	accepted <- in
	for {
		select {
		case ping := <-in.pongs:
			if err := st.Send(&messagingv1.ConnectResponse{Frame: &messagingv1.ConnectResponse_Pong{Pong: ping}}); err != nil {
				return err
			}
			in.l.txPongs.Add(1)
		case err := <-done:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case <-in.ctx.Done():
			return status.Error(codes.Aborted, context.Cause(in.ctx).Error())
		case <-t.runCtx.Done():
			return nil
		}
	}
}

// readInbound receives the stream's frames: the first goes to the handler
// for admission; after the handler accepted the stream, the rest are
// delivered here. It ends when the stream does.
func (t *Transport) readInbound(ctx context.Context, st messagingv1.PeerService_ConnectServer,
	first chan<- *messagingv1.ConnectRequest, accepted <-chan *inbound, done chan<- error) {
	defer t.handlers.Done()
	req, err := st.Recv()
	if err != nil {
		done <- err
		return
	}
	first <- req
	var in *inbound
	select {
	case in = <-accepted:
	case <-ctx.Done():
		return
	}
	if in == nil {
		return
	}
	for {
		req, err := st.Recv()
		if err != nil {
			done <- err
			return
		}
		t.handleInbound(in, req, time.Now())
	}
}

// handleInbound processes one frame of an admitted stream received at now.
// Anything but a ping or a protocol frame is dropped with a log line.
func (t *Transport) handleInbound(in *inbound, req *messagingv1.ConnectRequest, now time.Time) {
	l := in.l
	switch f := req.GetFrame().(type) {
	case *messagingv1.ConnectRequest_Protocol:
		l.inHeard.Store(int64(now.Sub(t.epoch)))
		l.rxFrames.Add(1)
		l.rxBytes.Add(uint64(len(f.Protocol)))
		select {
		case t.recv <- Frame{From: in.p.node.ID, Link: l.num, Data: f.Protocol}:
		default:
			in.p.recvDropped.Add(1)
		}
	case *messagingv1.ConnectRequest_Ping:
		l.inHeard.Store(int64(now.Sub(t.epoch)))
		l.rxPings.Add(1)
		if f.Ping == nil {
			t.malformed(in, "empty ping")
			return
		}
		select {
		case in.pongs <- f.Ping:
		default:
		}
	case *messagingv1.ConnectRequest_Hello:
		t.malformed(in, "a second hello")
	default:
		t.malformed(in, fmt.Sprintf("unknown frame %T", f))
	}
}

func (t *Transport) malformed(in *inbound, reason string) {
	in.l.malformed.Add(1)
	t.log.Log(context.Background(), slogWarnOnce(&in.malformedLogged), "malformed frame from peer dropped",
		"node", in.p.node.Name, "node_id", in.p.node.ID, "link", in.l.num, "direction", "inbound", "reason", reason)
}

// slogWarnOnce returns Warn the first time for *logged, Debug after: a
// peer that keeps sending bad frames is reported once per stream, and
// counted always.
func slogWarnOnce(logged *bool) slog.Level {
	if *logged {
		return slog.LevelDebug
	}
	*logged = true
	return slog.LevelWarn
}

// admit checks a new stream against the nodelist and registers it as the
// peer's inbound stream on its link. The caller's certificate must be a
// node certificate naming a node of the nodelist (other than this one);
// the hello must name this cluster, that node's id and one of its links;
// the connection must come from that node's address on that link and
// arrive at this node's address on it.
func (t *Transport) admit(ctx context.Context, req *messagingv1.ConnectRequest) (*inbound, error) {
	h := req.GetHello()
	if h == nil {
		return nil, t.refuse(ctx, nil, codes.InvalidArgument, fmt.Sprintf("the first frame is %T, not a hello", req.GetFrame()))
	}
	caller, ok := auth.CallerFrom(ctx)
	if !ok || caller.Role != pki.RoleNode {
		return nil, t.refuse(ctx, h, codes.PermissionDenied, fmt.Sprintf("certificate %q has role %q; peer links need a node certificate", caller.Name, caller.Role))
	}
	n, ok := t.byName[caller.Name]
	if !ok {
		return nil, t.refuse(ctx, h, codes.PermissionDenied, fmt.Sprintf("node certificate %q names no node of the nodelist", caller.Name))
	}
	if n.ID == t.cfg.Local.ID {
		return nil, t.refuse(ctx, h, codes.PermissionDenied, fmt.Sprintf("certificate %q is this node's own", caller.Name))
	}
	if h.GetClusterName() != t.cfg.ClusterName {
		return nil, t.refuse(ctx, h, codes.PermissionDenied, fmt.Sprintf("hello names cluster %q, this is cluster %q", h.GetClusterName(), t.cfg.ClusterName))
	}
	if h.GetNodeId() != n.ID {
		return nil, t.refuse(ctx, h, codes.PermissionDenied, fmt.Sprintf("certificate of node %q (node id %d) but the hello claims node id %d", n.Name, n.ID, h.GetNodeId()))
	}
	p := t.peers[n.ID]
	if h.GetLinkNumber() >= uint32(len(p.links)) {
		return nil, t.refuse(ctx, h, codes.PermissionDenied, fmt.Sprintf("link %d does not exist: node %q and this node share %d links", h.GetLinkNumber(), n.Name, len(p.links)))
	}
	l := p.links[h.GetLinkNumber()]
	var remote, local net.Addr
	if pr, ok := grpcpeer.FromContext(ctx); ok {
		remote, local = pr.Addr, pr.LocalAddr
	}
	if !addrIs(ctx, l.peerAddr, remote) {
		return nil, t.refuse(ctx, h, codes.PermissionDenied, fmt.Sprintf("connection from %s but node %q's link %d address is %s", hostOf(remote), n.Name, l.num, l.peerAddr))
	}
	if !addrIs(ctx, l.localAddr, local) {
		return nil, t.refuse(ctx, h, codes.PermissionDenied, fmt.Sprintf("connection arrived at %s, not at this node's link %d address %s", hostOf(local), l.num, l.localAddr))
	}

	inCtx, cancel := context.WithCancelCause(context.Background())
	in := &inbound{p: p, l: l, ctx: inCtx, cancel: cancel, pongs: make(chan *messagingv1.LinkPing, pongQueueLen)}
	now := time.Now()
	p.mu.Lock()
	if l.in.cancel != nil {
		l.in.cancel(errSuperseded)
	}
	l.in.gen++
	in.gen = l.in.gen
	l.in.established = true
	l.in.cancel = cancel
	p.mu.Unlock()
	l.inHeard.Store(int64(now.Sub(t.epoch)))
	t.learnIncarnation(p, h.GetIncarnation(), l.num)
	t.log.Debug("inbound stream open", "node", n.Name, "node_id", n.ID, "link", l.num, "remote", remote)
	t.evaluate(p, now)
	return in, nil
}

// inClosed unregisters an inbound stream that ended, unless a newer one
// replaced it already.
func (t *Transport) inClosed(in *inbound) {
	p, l := in.p, in.l
	p.mu.Lock()
	if l.in.gen == in.gen {
		l.in.established = false
		l.in.cancel = nil
	}
	p.mu.Unlock()
	in.cancel(nil)
	t.evaluate(p, time.Now())
}

// refuse logs why a stream is refused, with who and from where, and
// returns the status the caller receives.
func (t *Transport) refuse(ctx context.Context, h *messagingv1.PeerHello, code codes.Code, reason string) error {
	caller, _ := auth.CallerFrom(ctx)
	var remote net.Addr
	if pr, ok := grpcpeer.FromContext(ctx); ok {
		remote = pr.Addr
	}
	t.log.Warn("peer link refused",
		"reason", reason,
		"cert", caller.Name,
		"role", string(caller.Role),
		"remote", addrString(remote),
		"hello_node_id", h.GetNodeId(),
		"hello_link", h.GetLinkNumber(),
		"hello_cluster", h.GetClusterName())
	return status.Errorf(code, "transport: refused: %s", reason)
}

// addrIs reports whether a is an address of the configured host: an IP
// literal, or a name that resolves to it.
func addrIs(ctx context.Context, host string, a net.Addr) bool {
	ip, ok := ipOf(a)
	if !ok {
		return false
	}
	if want, err := netip.ParseAddr(host); err == nil {
		return want.Unmap().WithZone("") == ip
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
	if err != nil {
		return false
	}
	for _, x := range ips {
		if x.Unmap().WithZone("") == ip {
			return true
		}
	}
	return false
}

func ipOf(a net.Addr) (netip.Addr, bool) {
	if a == nil {
		return netip.Addr{}, false
	}
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, ok := netip.AddrFromSlice(ta.IP)
		return ip.Unmap(), ok
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap().WithZone(""), true
}

func hostOf(a net.Addr) string {
	if ip, ok := ipOf(a); ok {
		return ip.String()
	}
	return addrString(a)
}

func addrString(a net.Addr) string {
	if a == nil {
		return "unknown"
	}
	return a.String()
}
