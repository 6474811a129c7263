package cpg

import (
	"bytes"
	"slices"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/vigil-ha/vigil/messaging/core"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ref(id uint32) core.NodeRef { return core.NodeRef{ID: id, Incarnation: 1} }

func view(epoch uint64, members, joined, left []uint32) core.Event {
	v := &core.View{ID: core.ViewID{Epoch: epoch, Coordinator: ref(members[0])}}
	for _, m := range members {
		v.Members = append(v.Members, ref(m))
	}
	for _, m := range joined {
		v.Joined = append(v.Joined, ref(m))
	}
	for _, m := range left {
		v.Left = append(v.Left, ref(m))
	}
	return core.Event{View: v}
}

var counter uint64

func msg(from uint32, payload []byte) core.Event {
	counter++
	return core.Event{Delivery: &core.Delivery{Sender: ref(from), Counter: counter, Seq: counter, Data: payload}}
}

// apply feeds events and returns the group events, failing on errors.
func apply(t *testing.T, s *State, evs ...core.Event) []Event {
	t.Helper()
	var out []Event
	for _, ev := range evs {
		got, err := s.Apply(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got...)
	}
	return out
}

func TestJoinDataLeave(t *testing.T) {
	s := New(1)
	evs := apply(t, s,
		view(1, []uint32{1, 2}, []uint32{2}, nil),
		msg(1, EncodeJoin("crmd", 10)),
		msg(2, EncodeJoin("crmd", 20)),
		msg(2, EncodeData("crmd", 20, []byte("hello"), 1024)[0]),
		msg(2, EncodeLeave("crmd", 20, false)),
		msg(1, EncodeLeave("crmd", 10, true)),
	)
	want := []string{"join 1/10", "join 2/20", "msg 2/20 hello", "leave 2/20", "process down 1/10"}
	if got := describe(evs); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if len(s.Groups()) != 0 {
		t.Errorf("groups left: %v", s.Groups())
	}
}

func TestNodeDownAndNodeUp(t *testing.T) {
	s := New(1)
	apply(t, s,
		view(1, []uint32{1, 2, 3}, []uint32{2, 3}, nil),
		msg(2, EncodeJoin("g", 20)),
		msg(3, EncodeJoin("g", 30)),
	)
	evs := apply(t, s, view(2, []uint32{1, 2}, nil, []uint32{3}))
	if got, want := describe(evs), []string{"node down 3/30"}; !slices.Equal(got, want) {
		t.Fatalf("after node 3 left: %q, want %q", got, want)
	}
	// Node 3 comes back with its member: it is announced by its sync;
	// a second sync of a known node changes nothing.
	evs = apply(t, s,
		view(3, []uint32{1, 2, 3}, []uint32{3}, nil),
		msg(2, EncodeSync(map[string][]uint64{"g": {20}})),
		msg(3, EncodeSync(map[string][]uint64{"g": {30}})),
		msg(3, EncodeSync(map[string][]uint64{"g": {31}})),
	)
	if got, want := describe(evs), []string{"node up 3/30"}; !slices.Equal(got, want) {
		t.Fatalf("after node 3 came back: %q, want %q", got, want)
	}
	if got, want := s.Members("g"), []Member{{2, 20}, {3, 30}}; !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
}

func TestFragmentsReassemble(t *testing.T) {
	s := New(1)
	big := bytes.Repeat([]byte("0123456789"), 100)
	parts := EncodeData("g", 5, big, 64)
	if len(parts) != 16 {
		t.Fatalf("%d fragments, want 16", len(parts))
	}
	var evs []Event
	for _, p := range parts {
		evs = append(evs, apply(t, s, msg(2, p))...)
	}
	if len(evs) != 1 || !bytes.Equal(evs[0].Message.Data, big) {
		t.Fatalf("reassembled %d events", len(evs))
	}
}

func TestDuplicatesAndGarbageAreNotDelivered(t *testing.T) {
	s := New(1)
	dup := msg(2, EncodeData("g", 5, []byte("x"), 64)[0])
	dup.Delivery.Duplicate = true
	if evs := apply(t, s, dup); len(evs) != 0 {
		t.Errorf("duplicate delivered: %v", describe(evs))
	}
	if _, err := s.Apply(msg(2, []byte{0xff, 0xff})); err == nil {
		t.Error("garbage payload accepted")
	}
}

func describe(evs []Event) []string {
	var out []string
	for _, ev := range evs {
		if c := ev.Change; c != nil {
			for _, j := range c.Joined {
				out = append(out, j.Reason.String()+" "+memberString(j.Member))
			}
			for _, l := range c.Left {
				out = append(out, l.Reason.String()+" "+memberString(l.Member))
			}
		} else {
			out = append(out, "msg "+memberString(ev.Message.Sender)+" "+string(ev.Message.Data))
		}
	}
	return out
}

func memberString(m Member) string {
	return strconv.Itoa(int(m.Node)) + "/" + strconv.FormatUint(m.Handle, 10)
}
