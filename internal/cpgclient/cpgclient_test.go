package cpgclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// fakeGroups is a messaging daemon that answers each Join with a scripted
// list of events, then ends the stream; Multicast is refused with
// RESOURCE_EXHAUSTED a set number of times first.
type fakeGroups struct {
	messagingv1.GroupServiceClient
	mu        sync.Mutex
	joins     int
	scripts   [][]*messagingv1.JoinResponse
	full      int
	multicast [][]byte
}

type fakeStream struct {
	grpc.ClientStream
	ctx    context.Context
	events []*messagingv1.JoinResponse
}

func (f *fakeStream) Recv() (*messagingv1.JoinResponse, error) {
	if len(f.events) == 0 {
		<-f.ctx.Done() // the last script stays joined until the end
		return nil, f.ctx.Err()
	}
	ev := f.events[0]
	f.events = f.events[1:]
	if ev == nil {
		return nil, status.Error(codes.Unavailable, "messaging daemon restarted")
	}
	return ev, nil
}

func (f *fakeGroups) Join(ctx context.Context, _ *messagingv1.JoinRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[messagingv1.JoinResponse], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joins++
	var evs []*messagingv1.JoinResponse
	if len(f.scripts) > 0 {
		evs, f.scripts = f.scripts[0], f.scripts[1:]
	}
	return &fakeStream{ctx: ctx, events: evs}, nil
}

func (f *fakeGroups) Multicast(_ context.Context, r *messagingv1.MulticastRequest, _ ...grpc.CallOption) (*messagingv1.MulticastResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full > 0 {
		f.full--
		return nil, status.Error(codes.ResourceExhausted, "send queue full")
	}
	f.multicast = append(f.multicast, r.GetPayload())
	return &messagingv1.MulticastResponse{}, nil
}

// recorder writes down what the handler is told.
type recorder struct {
	mu  sync.Mutex
	log []string
	all chan struct{}
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, s)
	if s == "joined 8" {
		close(r.all)
	}
}

func (r *recorder) Joined(_ context.Context, h uint64) { r.add(fmt.Sprint("joined ", h)) }
func (r *recorder) Lost(err error)                     { r.add("lost") }
func (r *recorder) Change(_ context.Context, cc *messagingv1.ConfigurationChange) error {
	r.add(fmt.Sprint("change ", len(cc.GetMembers())))
	return nil
}
func (r *recorder) Deliver(_ context.Context, d *messagingv1.Delivery) error {
	r.add("deliver " + string(d.GetPayload()))
	return nil
}

func joined(h uint64) *messagingv1.JoinResponse {
	return &messagingv1.JoinResponse{Event: &messagingv1.JoinResponse_Joined{Joined: &messagingv1.GroupMember{Handle: h}}}
}

func TestFollowRejoinsAndFlattensDeliveries(t *testing.T) {
	groups := &fakeGroups{scripts: [][]*messagingv1.JoinResponse{
		{
			joined(7),
			{Event: &messagingv1.JoinResponse_ConfigurationChange{ConfigurationChange: &messagingv1.ConfigurationChange{Members: []*messagingv1.GroupMember{{NodeId: 1}, {NodeId: 2}}}}},
			{Event: &messagingv1.JoinResponse_Delivery{Delivery: &messagingv1.Delivery{Payload: []byte("a")}}},
			{Event: &messagingv1.JoinResponse_Deliveries{Deliveries: &messagingv1.Deliveries{Deliveries: []*messagingv1.Delivery{{Payload: []byte("b")}, {Payload: []byte("c")}}}}},
			nil, // the stream breaks
		},
		{joined(8)},
	}}
	m := New(groups, "g", Options{Retry: time.Millisecond})
	rec := &recorder{all: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Follow(ctx, rec); close(done) }()
	select {
	case <-rec.all:
	case <-time.After(10 * time.Second):
		t.Fatal("never joined again")
	}
	if h := m.Handle(); h != 8 {
		t.Errorf("Handle = %d, want 8", h)
	}
	cancel()
	<-done
	want := "joined 7,change 2,deliver a,deliver b,deliver c,lost,joined 8"
	if got := strings.Join(rec.log, ","); got != want {
		t.Errorf("events %s\nwant   %s", got, want)
	}
	if m.Handle() != 0 {
		t.Error("Handle after Follow ended is not 0")
	}
}

func TestMulticastWaitsForRoom(t *testing.T) {
	groups := &fakeGroups{full: 3}
	m := New(groups, "g", Options{})
	if err := m.Multicast(context.Background(), []byte("x")); !errors.Is(err, ErrNotMember) {
		t.Fatalf("Multicast before joining: %v", err)
	}
	if err := m.MulticastAs(context.Background(), 5, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if len(groups.multicast) != 1 || groups.full != 0 {
		t.Fatalf("sent %d after %d refusals left", len(groups.multicast), groups.full)
	}
	groups.full = 1 << 30
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := m.MulticastAs(ctx, 5, []byte("y")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Multicast with the queue full until the deadline: %v", err)
	}
}
