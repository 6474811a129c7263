package transport

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// FuzzInboundFrame feeds arbitrary ConnectRequests to an admitted inbound
// stream: whatever the peer sends, nothing panics, protocol frames are
// delivered or counted as dropped, pings are answered, and everything else
// is dropped as malformed.
func FuzzInboundFrame(f *testing.F) {
	for _, m := range []*messagingv1.ConnectRequest{
		{Frame: &messagingv1.ConnectRequest_Protocol{Protocol: []byte("frame")}},
		{Frame: &messagingv1.ConnectRequest_Protocol{}},
		{Frame: &messagingv1.ConnectRequest_Ping{Ping: &messagingv1.LinkPing{Sequence: 3, SentUnixNanos: 42}}},
		{Frame: &messagingv1.ConnectRequest_Hello{Hello: &messagingv1.PeerHello{ClusterName: "c", NodeId: 2}}},
		{},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xff, 0x01})
	tr := unitTransport(f, func(c *Config) { c.RecvQueueLen = 1 })
	tr.runCtx = context.Background()
	p := tr.peers[2]
	l := p.links[1]
	in := &inbound{p: p, l: l, ctx: context.Background(), pongs: make(chan *messagingv1.LinkPing, 1)}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req messagingv1.ConnectRequest
		if proto.Unmarshal(data, &req) != nil {
			return
		}
		before := [...]uint64{l.rxFrames.Load(), p.recvDropped.Load(), l.rxPings.Load(), l.malformed.Load()}
		tr.handleInbound(in, &req, time.Now())
		select {
		case fr := <-tr.recv:
			if fr.From != 2 || fr.Link != 1 || string(fr.Data) != string(req.GetProtocol()) {
				t.Errorf("delivered %+v for %v", fr, &req)
			}
		default:
		}
		select {
		case <-in.pongs:
		default:
		}
		after := [...]uint64{l.rxFrames.Load(), p.recvDropped.Load(), l.rxPings.Load(), l.malformed.Load()}
		switch req.GetFrame().(type) {
		case *messagingv1.ConnectRequest_Protocol:
			if after[0] != before[0]+1 {
				t.Errorf("protocol frame not counted")
			}
		case *messagingv1.ConnectRequest_Ping:
			if after[2] != before[2]+1 {
				t.Errorf("ping not counted")
			}
		default:
			if after[3] != before[3]+1 {
				t.Errorf("%v not counted as malformed", &req)
			}
		}
	})
}

// FuzzOutboundAnswer feeds arbitrary ConnectResponses to an outbound
// stream that has sent pings 1 to 5: only pongs of those pings count and
// give an RTT; anything else is reported malformed.
func FuzzOutboundAnswer(f *testing.F) {
	tr := unitTransport(f, nil)
	for _, m := range []*messagingv1.ConnectResponse{
		{Frame: &messagingv1.ConnectResponse_Pong{Pong: &messagingv1.LinkPing{Sequence: 3, SentUnixNanos: tr.epochUnix}}},
		{Frame: &messagingv1.ConnectResponse_Pong{Pong: &messagingv1.LinkPing{Sequence: 9, SentUnixNanos: tr.epochUnix}}},
		{Frame: &messagingv1.ConnectResponse_Pong{Pong: &messagingv1.LinkPing{Sequence: 1, SentUnixNanos: -5}}},
		{Frame: &messagingv1.ConnectResponse_Pong{}},
		{Frame: &messagingv1.ConnectResponse_Hello{Hello: &messagingv1.PeerHello{}}},
		{},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	p := tr.peers[2]
	l := p.links[0]
	out := &outStream{}
	out.seq.Store(5)
	f.Fuzz(func(t *testing.T, data []byte) {
		var resp messagingv1.ConnectResponse
		if proto.Unmarshal(data, &resp) != nil {
			return
		}
		now := time.Now()
		before := l.rxPongs.Load()
		reason := tr.handleAnswer(out, p, l, &resp, now)
		pong := resp.GetPong()
		valid := pong != nil && pong.GetSequence() >= 1 && pong.GetSequence() <= 5 &&
			pong.GetSentUnixNanos() >= tr.epochUnix && pong.GetSentUnixNanos() <= tr.unixNanos(now)
		if valid != (reason == "") {
			t.Errorf("%v: valid %v but reason %q", &resp, valid, reason)
		}
		if counted := l.rxPongs.Load() == before+1; counted != valid {
			t.Errorf("%v: valid %v, counted %v", &resp, valid, counted)
		}
	})
}
