package cmap

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// serve runs the CmapService of s on an in-process listener and returns a
// client. TLS and the auth interceptor are tested with the daemon kit; this
// tests the service itself.
func serve(t *testing.T, s *Store, dialOpts ...grpc.DialOption) messagingv1.CmapServiceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	NewService(s).Register(srv)
	go func() { _ = srv.Serve(lis) }()
	opts := append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, dialOpts...)
	conn, err := grpc.NewClient("passthrough:///bufconn", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
	})
	return messagingv1.NewCmapServiceClient(conn)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func uintValue(v uint64) *messagingv1.Value {
	return &messagingv1.Value{Kind: &messagingv1.Value_UintValue{UintValue: v}}
}

func stringValue(v string) *messagingv1.Value {
	return &messagingv1.Value{Kind: &messagingv1.Value_StringValue{StringValue: v}}
}

func TestServiceGetAndList(t *testing.T) {
	c := serve(t, loaded(t, Options{}))

	res, err := c.Get(ctx(t), &messagingv1.GetRequest{Key: "runtime.config.totem.token"})
	if err != nil {
		t.Fatal(err)
	}
	// Three nodes with Vigil's defaults: token 1000, token_coefficient 0.
	want := &messagingv1.Entry{Key: "runtime.config.totem.token", Value: uintValue(1000)}
	if !proto.Equal(res.GetEntry(), want) {
		t.Errorf("Get = %v, want %v", res.GetEntry(), want)
	}

	list, err := c.List(ctx(t), &messagingv1.ListRequest{Prefix: "nodelist.node.0."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range list.GetEntries() {
		v, err := FromProtoAs(e.GetKey(), e.GetValue())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.GetKey()+" ("+v.Type().String()+") = "+v.String())
	}
	wantList := []string{
		"nodelist.node.0.name (str) = node1",
		"nodelist.node.0.nodeid (u32) = 1",
		"nodelist.node.0.quorum_votes (u32) = 1",
		"nodelist.node.0.ring0_addr (str) = 10.99.0.1",
		"nodelist.node.0.ring1_addr (str) = fd00::1",
	}
	if strings.Join(got, "\n") != strings.Join(wantList, "\n") {
		t.Errorf("List:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantList, "\n"))
	}
}

func TestServiceErrors(t *testing.T) {
	c := serve(t, loaded(t, Options{}))
	tests := []struct {
		name string
		call func() error
		code codes.Code
		msg  string
	}{
		{"get missing", func() error {
			_, err := c.Get(ctx(t), &messagingv1.GetRequest{Key: "totem.crypto_cipher"})
			return err
		}, codes.NotFound, "no such key: totem.crypto_cipher; list the keys with List, e.g. `vigil cmap list totem.`"},
		{"get empty", func() error {
			_, err := c.Get(ctx(t), &messagingv1.GetRequest{})
			return err
		}, codes.InvalidArgument, "the key is empty"},
		{"set configuration", func() error {
			_, err := c.Set(ctx(t), &messagingv1.SetRequest{Entry: &messagingv1.Entry{Key: "totem.cluster_name", Value: stringValue("x")}})
			return err
		}, codes.FailedPrecondition, "totem.cluster_name is read from vigil.conf"},
		{"set runtime", func() error {
			_, err := c.Set(ctx(t), &messagingv1.SetRequest{Entry: &messagingv1.Entry{Key: "runtime.members.1.status", Value: stringValue("left")}})
			return err
		}, codes.FailedPrecondition, "only vigil-messagingd writes"},
		{"set wrong type", func() error {
			_, err := c.Set(ctx(t), &messagingv1.SetRequest{Entry: &messagingv1.Entry{Key: "totem.token", Value: stringValue("5000")}})
			return err
		}, codes.InvalidArgument, "totem.token is u32"},
		{"set bool", func() error {
			_, err := c.Set(ctx(t), &messagingv1.SetRequest{Entry: &messagingv1.Entry{Key: "totem.token", Value: &messagingv1.Value{Kind: &messagingv1.Value_BoolValue{BoolValue: true}}}})
			return err
		}, codes.InvalidArgument, "no boolean type"},
		{"set no value", func() error {
			_, err := c.Set(ctx(t), &messagingv1.SetRequest{Entry: &messagingv1.Entry{Key: "totem.token"}})
			return err
		}, codes.InvalidArgument, "the value is missing"},
		{"set below minimum", func() error {
			_, err := c.Set(ctx(t), &messagingv1.SetRequest{Entry: &messagingv1.Entry{Key: "totem.token", Value: uintValue(10)}})
			return err
		}, codes.InvalidArgument, "minimum is 30 ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := status.Convert(tt.call())
			if st.Code() != tt.code || !strings.Contains(st.Message(), tt.msg) {
				t.Errorf("got %v %q, want %v containing %q", st.Code(), st.Message(), tt.code, tt.msg)
			}
		})
	}
}

func TestServiceSetAndWatch(t *testing.T) {
	s := loaded(t, Options{})
	c := serve(t, s)
	wctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	stream, err := c.Watch(wctx, &messagingv1.WatchRequest{Prefix: "totem.token"})
	if err != nil {
		t.Fatal(err)
	}
	// The headers say the watch is in place: changes from now on arrive.
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}

	if _, err := c.Set(ctx(t), &messagingv1.SetRequest{Entry: &messagingv1.Entry{Key: "totem.token", Value: uintValue(5000)}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get("totem.token"); v != U32(5000) {
		t.Errorf("after Set, totem.token = %v", v)
	}
	// The default token_coefficient is 0: set it to corosync's 650.
	if _, err := c.Set(ctx(t), &messagingv1.SetRequest{Entry: &messagingv1.Entry{Key: "totem.token_coefficient", Value: uintValue(650)}}); err != nil {
		t.Fatal(err)
	}
	must(t, s.SetRuntime("totem.token_coefficient", U32(650))) // unchanged: no event
	s.Delete("totem.token_coefficient")

	want := []*messagingv1.WatchResponse{
		{Event: messagingv1.WatchEvent_WATCH_EVENT_CHANGED, Entry: &messagingv1.Entry{Key: "totem.token", Value: uintValue(5000)}},
		{Event: messagingv1.WatchEvent_WATCH_EVENT_CHANGED, Entry: &messagingv1.Entry{Key: "totem.token_coefficient", Value: uintValue(650)}},
		{Event: messagingv1.WatchEvent_WATCH_EVENT_DELETED, Entry: &messagingv1.Entry{Key: "totem.token_coefficient", Value: uintValue(650)}},
	}
	for i, w := range want {
		got, err := stream.Recv()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if !proto.Equal(got, w) {
			// The events after a wrong one are out of step, and one
			// expected may never come: stop rather than wait for it.
			t.Fatalf("event %d = %v, want %v", i, got, w)
		}
	}
	must(t, s.SetRuntime("totem.token_coefficient", U32(0)))
	got, err := stream.Recv()
	if err != nil || got.GetEvent() != messagingv1.WatchEvent_WATCH_EVENT_ADDED {
		t.Errorf("after re-adding: %v, %v", got, err)
	}

	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Errorf("after cancel: %v", err)
	}
	waitNoWatchers(t, s)
}

// TestServiceWatchOverflow: a client that does not read stops the server's
// sends once the HTTP/2 window is full; the watcher then falls behind and
// the client, when it reads again, gets every change up to that point and
// then RESOURCE_EXHAUSTED, never a gap.
func TestServiceWatchOverflow(t *testing.T) {
	s := New(Options{WatchBuffer: 8})
	const window = 64 << 10 // the smallest; also turns off window growth
	c := serve(t, s, grpc.WithInitialWindowSize(window), grpc.WithInitialConnWindowSize(window))
	stream, err := c.Watch(ctx(t), &messagingv1.WatchRequest{Prefix: "runtime."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}

	written := 0
	for ; written < 1_000_000 && watchers(s) > 0; written++ {
		must(t, s.SetRuntime("runtime.members.1.config_version", U64(uint64(written+1))))
	}
	if watchers(s) > 0 {
		t.Fatalf("the watcher kept up with %d changes nobody read", written)
	}

	var next uint64 = 1
	for {
		res, err := stream.Recv()
		if err != nil {
			st := status.Convert(err)
			if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "fell behind") || !strings.Contains(st.Message(), "watch again") {
				t.Fatalf("end of stream: %v %q", st.Code(), st.Message())
			}
			break
		}
		if got := res.GetEntry().GetValue().GetUintValue(); got != next {
			t.Fatalf("change %d arrived as %d: a gap", next, got)
		}
		next++
	}
	if next < 2 || next > uint64(written)+1 {
		t.Errorf("received %d of %d changes", next-1, written)
	}
}

func watchers(s *Store) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.watchers)
}

func waitNoWatchers(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for watchers(s) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the server did not close its watcher")
		}
		time.Sleep(time.Millisecond)
	}
}
