package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/internal/rpcclient"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// maxAnswerSize bounds what a callee may send back: hellos and pongs only.
const maxAnswerSize = 64 << 10

// frameOverhead is room for the ConnectRequest around a frame.
const frameOverhead = 1 << 10

var (
	errHandshakeTimeout = errors.New("no answer to the hello within HandshakeTimeout")
	errClosedByPeer     = errors.New("stream closed by the peer")
)

// runOutbound keeps this node's stream to one peer on one link open until
// ctx ends, reconnecting with a delay that starts at PingInterval and
// doubles up to ReconnectBackoff after each failed attempt.
func (t *Transport) runOutbound(ctx context.Context, p *peer, l *link) {
	var conn *grpc.ClientConn
	defer func() {
		if conn != nil {
			conn.Close()
		}
		p.mu.Lock()
		l.out.established = false
		p.mu.Unlock()
	}()
	delay := t.cfg.PingInterval
	for ctx.Err() == nil {
		var err error
		established := false
		if conn == nil {
			conn, err = t.dial(p, l)
		}
		if conn != nil {
			established, err = t.stream(ctx, messagingv1.NewPeerServiceClient(conn), p, l)
		}
		if ctx.Err() != nil {
			return
		}
		t.outClosed(p, l, err, established)
		if established {
			delay = t.cfg.PingInterval
		}
		if !sleep(ctx, jitter(delay)) {
			return
		}
		delay = min(2*delay, t.cfg.ReconnectBackoff)
	}
}

// dial returns a connection to the peer's address of link l, made from
// this node's address of the same link so that the callee sees the
// configured source address, and verifying the callee by its node name.
func (t *Transport) dial(p *peer, l *link) (*grpc.ClientConn, error) {
	local, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(l.localAddr, "0"))
	if err != nil {
		return nil, fmt.Errorf("resolve local address of link %d: %w", l.num, err)
	}
	d := net.Dialer{LocalAddr: local}
	dialer := func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil && t.wrapConn != nil {
			c = t.wrapConn(p.node.ID, l.num, c)
		}
		return c, err
	}
	return rpcclient.Dial(t.cfg.linkAddr(l.peerAddr), p.node.Name, t.cfg.TLS,
		grpc.WithContextDialer(dialer),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  t.cfg.PingInterval,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   t.cfg.ReconnectBackoff,
			},
			MinConnectTimeout: t.cfg.HandshakeTimeout,
		}),
		grpc.WithInitialWindowSize(rpcclient.PeerFlowWindow),
		grpc.WithInitialConnWindowSize(rpcclient.PeerFlowWindow),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallSendMsgSize(t.cfg.MaxFrameSize+frameOverhead),
			grpc.MaxCallRecvMsgSize(maxAnswerSize),
		),
	)
}

// outStream is what the sender and the reader of one outbound stream share.
type outStream struct {
	st  grpc.BidiStreamingClient[messagingv1.ConnectRequest, messagingv1.ConnectResponse]
	seq atomic.Uint64 // of the last ping sent
}

// stream opens one outbound stream, exchanges hellos, then sends pings and
// frames until the stream fails or ctx ends. It reports whether the hellos
// were exchanged, and why the stream ended.
func (t *Transport) stream(ctx context.Context, client messagingv1.PeerServiceClient, p *peer, l *link) (bool, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	handshake := time.AfterFunc(t.cfg.HandshakeTimeout, func() { cancel(errHandshakeTimeout) })
	defer handshake.Stop()

	st, err := client.Connect(sctx)
	if err != nil {
		return false, causeOf(sctx, err)
	}
	hello := &messagingv1.PeerHello{
		ClusterName: t.cfg.ClusterName,
		NodeId:      t.cfg.Local.ID,
		LinkNumber:  uint32(l.num),
		Incarnation: t.cfg.Incarnation,
	}
	if err := st.Send(&messagingv1.ConnectRequest{Frame: &messagingv1.ConnectRequest_Hello{Hello: hello}}); err != nil {
		if errors.Is(err, io.EOF) {
			// The stream ended; its status comes with Recv.
			_, err = st.Recv()
		}
		return false, causeOf(sctx, err)
	}
	resp, err := st.Recv()
	if err != nil {
		return false, causeOf(sctx, err)
	}
	answer := resp.GetHello()
	if err := t.checkAnswer(p, l, answer); err != nil {
		return false, err
	}
	if !handshake.Stop() {
		return false, errHandshakeTimeout
	}
	t.outEstablished(p, l, answer)

	out := &outStream{st: st}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		cancel(t.readPongs(out, p, l))
	}()
	if err := t.sendLoop(sctx, out, p, l); err != nil && !errors.Is(err, io.EOF) {
		cancel(err)
	}
	// A Send that failed with io.EOF means the stream ended; the reader
	// gets its status and ends too.
	<-readerDone
	return true, context.Cause(sctx)
}

// causeOf returns why ctx was cancelled if it was, else err.
func causeOf(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return c
	}
	return err
}

// checkAnswer verifies the callee's hello: TLS has verified that the
// callee holds the certificate of the node we dialed; its hello must agree.
func (t *Transport) checkAnswer(p *peer, l *link, h *messagingv1.PeerHello) error {
	switch {
	case h == nil:
		return errors.New("the peer answered without a hello")
	case h.GetClusterName() != t.cfg.ClusterName:
		return fmt.Errorf("the peer's hello names cluster %q, this is cluster %q", h.GetClusterName(), t.cfg.ClusterName)
	case h.GetNodeId() != p.node.ID:
		return fmt.Errorf("node %q answered with node id %d, the nodelist says %d", p.node.Name, h.GetNodeId(), p.node.ID)
	case h.GetLinkNumber() != uint32(l.num):
		return fmt.Errorf("the peer answered for link %d on link %d", h.GetLinkNumber(), l.num)
	}
	return nil
}

// outEstablished marks the outbound stream of l open: the hello answer
// counts as its first pong.
func (t *Transport) outEstablished(p *peer, l *link, answer *messagingv1.PeerHello) {
	now := time.Now()
	p.mu.Lock()
	l.out = outState{established: true}
	l.out.pong(now, t.cfg.LinkTimeout)
	l.failing = false
	l.failCode = codes.OK
	p.mu.Unlock()
	t.learnIncarnation(p, answer.GetIncarnation(), l.num)
	t.log.Debug("outbound stream open", "node", p.node.Name, "node_id", p.node.ID, "link", l.num, "peer_addr", l.peerAddr)
	t.evaluate(p, now)
}

// outClosed records why the outbound stream of l ended or could not be
// opened. A failed attempt is logged when an outage starts and when the
// kind of failure changes, not at every retry.
func (t *Transport) outClosed(p *peer, l *link, err error, wasEstablished bool) {
	now := time.Now()
	if err == nil {
		err = errClosedByPeer
	}
	msg := err.Error()
	code := status.Code(err)
	p.mu.Lock()
	l.out.established = false
	l.setErr(now, msg)
	wasUp := l.reportedUp
	logFailure := !wasEstablished && (!l.failing || l.failCode != code)
	if !wasEstablished {
		l.failing = true
		l.failCode = code
	}
	p.mu.Unlock()
	who := []any{"node", p.node.Name, "node_id", p.node.ID, "link", l.num, "peer_addr", l.peerAddr, "err", msg}
	switch {
	case logFailure:
		t.log.Warn("cannot open link", who...)
	case wasEstablished && !wasUp:
		t.log.Info("outbound stream closed before the link came up", who...)
	}
	// The link-down line, if it was up, comes from evaluate with err as reason.
	t.evaluate(p, now)
}

// sendLoop pings every PingInterval and, while l is the link to send on,
// sends the peer's queued frames.
func (t *Transport) sendLoop(ctx context.Context, out *outStream, p *peer, l *link) error {
	tick := time.NewTicker(t.cfg.PingInterval)
	defer tick.Stop()
	ping := func() error {
		seq := out.seq.Add(1)
		l.txPings.Add(1)
		return out.st.Send(&messagingv1.ConnectRequest{Frame: &messagingv1.ConnectRequest_Ping{Ping: &messagingv1.LinkPing{
			Sequence:      seq,
			SentUnixNanos: t.unixNanos(time.Now()),
		}}})
	}
	if err := ping(); err != nil {
		return err
	}
	for {
		queue, changed := p.pull(l.num, time.Now(), t.cfg.LinkTimeout)
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-tick.C:
			if err := ping(); err != nil {
				return err
			}
		case f := <-queue:
			p.dequeued(f)
			if err := out.st.Send(&messagingv1.ConnectRequest{Frame: &messagingv1.ConnectRequest_Protocol{Protocol: f}}); err != nil {
				l.txErrors.Add(1)
				return err
			}
			l.txFrames.Add(1)
			l.txBytes.Add(uint64(len(f)))
		}
	}
}

// readPongs reads the callee's pongs until the stream ends, and returns
// why it ended.
func (t *Transport) readPongs(out *outStream, p *peer, l *link) error {
	malformedLogged := false
	for {
		resp, err := out.st.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errClosedByPeer
			}
			return err
		}
		if reason := t.handleAnswer(out, p, l, resp, time.Now()); reason != "" {
			l.malformed.Add(1)
			t.log.Log(context.Background(), slogWarnOnce(&malformedLogged), "malformed frame from peer dropped",
				"node", p.node.Name, "node_id", p.node.ID, "link", l.num, "direction", "outbound", "reason", reason)
		}
	}
}

// handleAnswer processes one frame the callee sent after its hello,
// received at now; it returns why the frame is malformed, or "".
func (t *Transport) handleAnswer(out *outStream, p *peer, l *link, resp *messagingv1.ConnectResponse, now time.Time) string {
	pong := resp.GetPong()
	if pong == nil {
		return fmt.Sprintf("unexpected frame %T after the hello", resp.GetFrame())
	}
	return t.pong(p, l, out, pong, now)
}

// pong records a pong received at now; it returns why the pong is
// malformed, or "".
func (t *Transport) pong(p *peer, l *link, out *outStream, pong *messagingv1.LinkPing, now time.Time) string {
	seq := pong.GetSequence()
	if seq == 0 || seq > out.seq.Load() {
		return fmt.Sprintf("pong for ping %d, which was not sent (last sent %d)", seq, out.seq.Load())
	}
	rtt := time.Duration(t.unixNanos(now) - pong.GetSentUnixNanos())
	if rtt < 0 || pong.GetSentUnixNanos() < t.epochUnix {
		return fmt.Sprintf("pong for ping %d carries a time this node did not send", seq)
	}
	l.rxPongs.Add(1)
	p.mu.Lock()
	l.out.pong(now, t.cfg.LinkTimeout)
	l.rtt.add(rtt)
	p.mu.Unlock()
	t.evaluate(p, now)
	return ""
}
