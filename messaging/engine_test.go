package messaging

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// FuzzDecodeFrame feeds arbitrary bytes as a frame from a peer: decoding
// must never panic, and whatever decodes must name that peer as sender and
// carry a body, so the core only ever sees well-formed messages.
func FuzzDecodeFrame(f *testing.F) {
	for _, m := range []*pb.ProtocolMessage{
		{From: &pb.NodeRef{Id: 2, Incarnation: 7}, To: &pb.NodeRef{Id: 1}, Body: &pb.ProtocolMessage_Heartbeat{Heartbeat: &pb.Heartbeat{MaxEpoch: 3}}},
		{From: &pb.NodeRef{Id: 2, Incarnation: 7}, Body: &pb.ProtocolMessage_Sequenced{Sequenced: &pb.Sequenced{
			Messages: []*pb.Ordered{{Seq: 1, Payload: &pb.Payload{Counter: 1, Data: []byte("x")}}},
		}}},
		{From: &pb.NodeRef{Id: 3}, Body: &pb.ProtocolMessage_Ack{Ack: &pb.Ack{Received: 9}}},
	} {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Add([]byte{0xff, 0x00, 0x13})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeFrame(2, data)
		if err != nil {
			return
		}
		if m.GetFrom().GetId() != 2 || m.GetBody() == nil {
			t.Fatalf("accepted %v", m)
		}
	})
}
