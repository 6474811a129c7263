package crmd

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/crmd/cibstore"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
	"github.com/vigil-ha/vigil/internal/config"
	crmv1 "github.com/vigil-ha/vigil/proto/vigil/crm/v1"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeGroup is one process group in one view: every multicast is delivered
// to every joined stream in one order, configuration changes too.
type fakeGroup struct {
	mu      sync.Mutex
	streams map[*fakeStream]struct{}
	members []*messagingv1.GroupMember
	next    uint64
}

type fakeStream struct {
	grpc.ClientStream
	ctx    context.Context
	node   uint32
	handle uint64
	events chan *messagingv1.JoinResponse
}

func (s *fakeStream) Recv() (*messagingv1.JoinResponse, error) {
	select {
	case ev := <-s.events:
		return ev, nil
	case <-s.ctx.Done():
		return nil, io.EOF
	}
}

func (s *fakeStream) Header() (metadata.MD, error) { return nil, nil }
func (s *fakeStream) Trailer() metadata.MD         { return nil }
func (s *fakeStream) CloseSend() error             { return nil }
func (s *fakeStream) Context() context.Context     { return s.ctx }

// groupClient is one node's view of the fake group.
type groupClient struct {
	messagingv1.GroupServiceClient
	g    *fakeGroup
	node uint32
}

func (c *groupClient) Join(ctx context.Context, _ *messagingv1.JoinRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[messagingv1.JoinResponse], error) {
	g := c.g
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next++
	s := &fakeStream{ctx: ctx, node: c.node, handle: g.next, events: make(chan *messagingv1.JoinResponse, 10000)}
	s.events <- &messagingv1.JoinResponse{Event: &messagingv1.JoinResponse_Joined{Joined: &messagingv1.GroupMember{NodeId: c.node, Handle: s.handle}}}
	g.streams[s] = struct{}{}
	g.members = append(g.members, &messagingv1.GroupMember{NodeId: c.node, Handle: s.handle})
	g.broadcastLocked(&messagingv1.JoinResponse{Event: &messagingv1.JoinResponse_ConfigurationChange{ConfigurationChange: &messagingv1.ConfigurationChange{
		Members: g.members, ViewId: &messagingv1.ViewId{Epoch: 1, Coordinator: 1}}}})
	return s, nil
}

func (g *fakeGroup) broadcastLocked(ev *messagingv1.JoinResponse) {
	for s := range g.streams {
		s.events <- ev
	}
}

func (c *groupClient) Multicast(_ context.Context, req *messagingv1.MulticastRequest, _ ...grpc.CallOption) (*messagingv1.MulticastResponse, error) {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	c.g.broadcastLocked(&messagingv1.JoinResponse{Event: &messagingv1.JoinResponse_Delivery{Delivery: &messagingv1.Delivery{
		Sender: &messagingv1.GroupMember{NodeId: c.node, Handle: req.GetHandle()}, Payload: req.GetPayload()}}})
	return &messagingv1.MulticastResponse{}, nil
}

// watchStream collects what Watch sends.
type watchStream struct {
	grpc.ServerStream
	ctx context.Context
	ch  chan *crmv1.WatchResponse
}

func (w *watchStream) Send(r *crmv1.WatchResponse) error { w.ch <- r; return nil }
func (w *watchStream) Context() context.Context          { return w.ctx }

// TestServersReplicate runs three crmds on a fake group: a replace on one
// is acknowledged with its version and every crmd then serves it; a stale
// conditional patch is ABORTED; Watch sees the versions; the CIB is saved.
func TestServersReplicate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	g := &fakeGroup{streams: map[*fakeStream]struct{}{}}
	cfg := &config.Config{}
	var servers []*Server
	var dirs []string
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for n := uint32(1); n <= 3; n++ {
		cfg.Nodes = append(cfg.Nodes, config.Node{ID: n, Name: "n" + string(rune('0'+n))})
	}
	for _, node := range cfg.Nodes {
		dir := filepath.Join(t.TempDir(), "cib")
		store, err := cibstore.Open(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		s := newServer(slog.New(slog.DiscardHandler), cfg, node, store, cibsvc.Empty(), &groupClient{g: g, node: node.ID}, nil, func(err error) { t.Error(err) })
		servers, dirs = append(servers, s), append(dirs, dir)
		wg.Add(1)
		go func() { defer wg.Done(); s.follow(ctx) }()
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		end := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(end) {
				t.Fatalf("not %s after 10s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	status3 := func() bool {
		for _, s := range servers {
			st, _ := s.GetStatus(ctx, &crmv1.GetStatusRequest{})
			if !st.GetCibSynced() || len(st.GetCrmMembers()) != 3 || st.GetDc() != "n1" {
				return false
			}
		}
		return true
	}
	waitFor("three synced members with DC n1", status3)

	wctx, wcancel := context.WithCancel(ctx)
	ws := &watchStream{ctx: wctx, ch: make(chan *crmv1.WatchResponse, 16)}
	wdone := make(chan error, 1)
	go func() { wdone <- servers[2].Watch(&crmv1.WatchRequest{IncludeXml: true}, ws) }()
	if first := <-ws.ch; first.GetWhat() != "current" {
		t.Fatalf("first watch response %v", first)
	}

	in := `<cib validate-with="pacemaker-3.7" epoch="5" num_updates="0" admin_epoch="0"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/><resources><primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/></resources><constraints/></configuration><status/></cib>`
	resp, err := servers[1].Replace(ctx, &crmv1.ReplaceRequest{Xml: []byte(in)})
	if err != nil || resp.GetVersion().GetEpoch() != 5 {
		t.Fatalf("replace: %v %v", resp, err)
	}
	waitFor("everyone at 0:5:0", func() bool {
		for _, s := range servers {
			q, _ := s.Query(ctx, &crmv1.QueryRequest{Id: "d"})
			if q.GetVersion().GetEpoch() != 5 {
				return false
			}
		}
		return true
	})
	if ev := <-ws.ch; ev.GetVersion().GetEpoch() != 5 || ev.GetOriginNode() != 2 || !strings.Contains(string(ev.GetXml()), `id="d"`) {
		t.Errorf("watch: %v", ev)
	}
	_, err = servers[0].Patch(ctx, &crmv1.PatchRequest{ExpectedVersion: &crmv1.Version{Epoch: 4},
		Ops: []*crmv1.PatchOp{{Kind: crmv1.PatchOpKind_PATCH_OP_KIND_DELETE, Target: "d"}}})
	if status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), "0:5:0") {
		t.Fatalf("stale patch: %v", err)
	}
	pr, err := servers[0].Patch(ctx, &crmv1.PatchRequest{ExpectedVersion: &crmv1.Version{Epoch: 5},
		Ops: []*crmv1.PatchOp{{Kind: crmv1.PatchOpKind_PATCH_OP_KIND_SET_NVPAIR, Target: "d-meta", Parent: "d", SetElement: "meta_attributes", Name: "target-role", Value: "Stopped"}}})
	if err != nil || pr.GetVersion().GetEpoch() != 6 {
		t.Fatalf("patch: %v %v", pr, err)
	}
	if q, err := servers[0].Query(ctx, &crmv1.QueryRequest{Path: "//nvpair[@name='target-role']"}); err != nil || len(q.GetMatches()) != 1 {
		t.Fatalf("query by path: %v %v", q, err)
	}
	if _, err := servers[0].Query(ctx, &crmv1.QueryRequest{Id: "nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("query of a missing id: %v", err)
	}
	if ev := <-ws.ch; ev.GetVersion().GetEpoch() != 6 {
		t.Errorf("watch: %v", ev)
	}
	wcancel()
	if err := <-wdone; err != nil {
		t.Errorf("watch ended with %v", err)
	}
	waitFor("everyone at 0:6:0", func() bool {
		for _, s := range servers {
			q, _ := s.Query(ctx, &crmv1.QueryRequest{})
			if q.GetVersion().GetEpoch() != 6 {
				return false
			}
		}
		return true
	})
	for _, dir := range dirs {
		store, _ := cibstore.Open(dir, 0)
		c, _, err := store.Load()
		if err != nil || c.Version.Epoch != 6 {
			t.Errorf("%s: saved %v, %v", dir, c, err)
		}
	}
}
