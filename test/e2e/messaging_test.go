package e2e

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/internal/localcluster"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// viewOf returns the node ids of the view node's messaging daemon has.
func viewOf(ctx context.Context, t *testing.T, c *localcluster.Cluster, node string) ([]uint32, error) {
	t.Helper()
	n, _ := c.Node(node)
	conn := dial(t, n, "vigil-messagingd", c.AdminFiles())
	resp, err := messagingv1.NewMembershipServiceClient(conn).GetView(ctx, &messagingv1.GetViewRequest{})
	if err != nil {
		return nil, err
	}
	var ids []uint32
	for _, m := range resp.GetView().GetMembers() {
		ids = append(ids, m.GetNodeId())
	}
	return ids, nil
}

// waitViews waits until every named node's view is exactly want, and
// returns how long that took.
func waitViews(t *testing.T, c *localcluster.Cluster, nodes []string, want []uint32, deadline time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for {
		var last string
		ok := true
		for _, n := range nodes {
			got, err := viewOf(ctx, t, c, n)
			if err != nil || !slices.Equal(got, want) {
				ok = false
				last = fmt.Sprintf("%s has %v (%v)", n, got, err)
				break
			}
		}
		if ok {
			return time.Since(start)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("views not %v after %v: %s", want, deadline, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestMessagingMembership forms a 3-node view, kills one node's messaging
// daemon, sees the survivors install a view without it, restarts it and
// sees it rejoin.
func TestMessagingMembership(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitViews(t, c, all, []uint32{1, 2, 3}, 60*time.Second)

	if err := c.Signal("n3", "vigil-messagingd", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	took := waitViews(t, c, []string{"n1", "n2"}, []uint32{1, 2}, 30*time.Second)
	t.Logf("survivors installed a view without the killed node %v after the kill", took)

	if err := c.Restart("n3", "vigil-messagingd"); err != nil {
		t.Fatal(err)
	}
	waitViews(t, c, all, []uint32{1, 2, 3}, 60*time.Second)
}

// TestProcessGroups joins a group on every node, multicasts from two nodes
// and checks that every member delivers the same messages in the same
// order, then that a member whose client goes away is reported as process
// down.
func TestProcessGroups(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitViews(t, c, all, []uint32{1, 2, 3}, 60*time.Second)

	type member struct {
		client messagingv1.GroupServiceClient
		stream messagingv1.GroupService_JoinClient
		cancel context.CancelFunc
		handle uint64
	}
	var members []*member
	for _, name := range all {
		n, _ := c.Node(name)
		client := messagingv1.NewGroupServiceClient(dial(t, n, "vigil-messagingd", c.AdminFiles()))
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		stream, err := client.Join(ctx, &messagingv1.JoinRequest{Group: "e2e"})
		if err != nil {
			t.Fatal(err)
		}
		first, err := stream.Recv()
		if err != nil || first.GetJoined() == nil {
			t.Fatalf("%s: first event %v, %v; want joined", name, first, err)
		}
		members = append(members, &member{client: client, stream: stream, cancel: cancel, handle: first.GetJoined().GetHandle()})
	}
	// recvUntil reads a member's events until want returns true.
	recvUntil := func(m *member, want func(*messagingv1.JoinResponse) bool) []*messagingv1.JoinResponse {
		t.Helper()
		var got []*messagingv1.JoinResponse
		for {
			ev, err := m.stream.Recv()
			if err != nil {
				t.Fatalf("stream: %v (events so far: %v)", err, got)
			}
			got = append(got, ev)
			if want(ev) {
				return got
			}
		}
	}
	// Every member sees all three in its configuration.
	for _, m := range members {
		recvUntil(m, func(ev *messagingv1.JoinResponse) bool {
			return len(ev.GetConfigurationChange().GetMembers()) == 3
		})
	}
	const perSender = 200
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range perSender {
		for _, s := range members[:2] {
			payload := []byte(fmt.Sprintf("%d-%d", s.handle, i))
			for {
				_, err := s.client.Multicast(ctx, &messagingv1.MulticastRequest{Group: "e2e", Handle: s.handle, Payload: payload})
				if err == nil {
					break
				}
				// Only a full send queue is worth a retry.
				if status.Code(err) != codes.ResourceExhausted || ctx.Err() != nil {
					t.Fatalf("multicast: %v", err)
				}
			}
		}
	}
	var orders [][]string
	for _, m := range members {
		var order []string
		recvUntil(m, func(ev *messagingv1.JoinResponse) bool {
			if d := ev.GetDelivery(); d != nil {
				order = append(order, string(d.GetPayload()))
			}
			for _, d := range ev.GetDeliveries().GetDeliveries() {
				order = append(order, string(d.GetPayload()))
			}
			return len(order) == 2*perSender
		})
		orders = append(orders, order)
	}
	for i := 1; i < len(orders); i++ {
		if !slices.Equal(orders[0], orders[i]) {
			t.Fatalf("member %d delivered another order than member 0", i)
		}
	}
	// A batch in one MulticastStream request is delivered like single
	// messages, in order; a request with both forms is refused.
	batcher := members[2]
	send, err := batcher.client.MulticastStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []*messagingv1.MulticastStreamRequest{
		{Group: "e2e", Handle: batcher.handle, Payloads: [][]byte{[]byte("b0"), []byte("b1"), []byte("b2")}},
		{Group: "e2e", Handle: batcher.handle, Payload: []byte("b3")},
	} {
		if err := send.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	if resp, err := send.CloseAndRecv(); err != nil || resp.GetAccepted() != 4 {
		t.Fatalf("MulticastStream: %v, %v; want 4 accepted", resp, err)
	}
	for _, m := range members {
		var got []string
		recvUntil(m, func(ev *messagingv1.JoinResponse) bool {
			ds := ev.GetDeliveries().GetDeliveries()
			if d := ev.GetDelivery(); d != nil {
				ds = append(ds, d)
			}
			for _, d := range ds {
				got = append(got, string(d.GetPayload()))
			}
			return len(got) == 4
		})
		if !slices.Equal(got, []string{"b0", "b1", "b2", "b3"}) {
			t.Errorf("batched deliveries %v", got)
		}
	}
	bad, err := batcher.client.MulticastStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Send(&messagingv1.MulticastStreamRequest{Group: "e2e", Handle: batcher.handle, Payload: []byte("x"), Payloads: [][]byte{[]byte("y")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.CloseAndRecv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("payload and payloads together: %v, want InvalidArgument", err)
	}

	// The client of the member on n3 goes away: the others see it leave
	// with reason process down.
	members[2].cancel()
	for _, m := range members[:2] {
		evs := recvUntil(m, func(ev *messagingv1.JoinResponse) bool { return len(ev.GetConfigurationChange().GetLeft()) > 0 })
		left := evs[len(evs)-1].GetConfigurationChange().GetLeft()[0]
		if left.GetReason() != messagingv1.ChangeReason_CHANGE_REASON_PROCESS_DOWN || left.GetMember().GetNodeId() != 3 {
			t.Errorf("left %v, want node 3 with reason process down", left)
		}
	}
}
