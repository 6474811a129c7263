package cpg

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

func (g groupData) toProto() *pb.GroupData {
	return &pb.GroupData{Group: string(g.group), Handle: g.handle, Data: g.data, Fragment: g.fragment, Fragments: g.fragments}
}

var wireCases = []*pb.GroupData{
	{},
	{Group: "g"},
	{Group: "vigil-quorum", Handle: 1 << 40, Data: []byte("hello")},
	{Handle: 7, Data: bytes.Repeat([]byte{0xff}, 300), Fragment: 2, Fragments: 3},
	{Group: string(bytes.Repeat([]byte("x"), 200)), Data: make([]byte, 70000), Fragments: 1},
}

// TestWireMatchesProto checks the hand-written data envelope against the
// generated code both ways.
func TestWireMatchesProto(t *testing.T) {
	for _, want := range wireCases {
		ours := encodeData(want.GetGroup(), want.GetHandle(), want.GetData(), want.GetFragment(), want.GetFragments())
		theirs, err := proto.Marshal(&pb.GroupEnvelope{Kind: &pb.GroupEnvelope_Data{Data: want}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, theirs) {
			t.Errorf("%v: encoded\n%x\nproto.Marshal\n%x", want, ours, theirs)
		}
		var env pb.GroupEnvelope
		if err := proto.Unmarshal(ours, &env); err != nil || !proto.Equal(env.GetData(), want) {
			t.Errorf("%v: proto.Unmarshal of ours = %v, %v", want, env.GetData(), err)
		}
		g, err := decodeData(theirs)
		if err != nil || !proto.Equal(g.toProto(), want) {
			t.Errorf("%v: decodeData = %v, %v", want, g.toProto(), err)
		}
	}
	join, _ := proto.Marshal(&pb.GroupEnvelope{Kind: &pb.GroupEnvelope_Join{Join: &pb.GroupJoin{Group: "g", Handle: 1}}})
	if _, err := decodeData(join); !errors.Is(err, errNotData) {
		t.Errorf("a join decoded as data: %v", err)
	}
}

// FuzzDecodeData checks that the hand-written decoder never panics, and
// that whatever it accepts the generated code reads the same way.
func FuzzDecodeData(f *testing.F) {
	for _, c := range wireCases {
		b, _ := proto.Marshal(&pb.GroupEnvelope{Kind: &pb.GroupEnvelope_Data{Data: c}})
		f.Add(b)
	}
	f.Add([]byte{0x1a, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeData(b)
		if err != nil {
			return
		}
		// Unknown fields inside GroupData are skipped by both, kept only
		// by proto.
		var env pb.GroupEnvelope
		if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &env); err != nil {
			t.Fatalf("decodeData accepted what proto rejects (%v): %x", err, b)
		}
		if !proto.Equal(env.GetData(), g.toProto()) {
			t.Fatalf("decodeData = %v, proto = %v", g.toProto(), env.GetData())
		}
	})
}
