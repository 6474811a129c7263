// Package crmd is vigil-crmd, the cluster resource manager: the replicated
// CIB, the DC, the scheduler and the transition engine (Pacemaker's
// controld, based, schedulerd and attrd).
//
// What runs today is the replicated CIB and the DC: every crmd joins the
// process group "vigil-crm" of its messaging daemon, changes travel through
// it and are applied in its agreed order (crmd/cibsvc), every applied
// version is saved (crmd/cibstore), and the DC is derived from the group's
// membership. docs/crm-cib.md describes the protocol.
package crmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibstore"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
	"github.com/vigil-ha/vigil/internal/auth"
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/cpgclient"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/rpcclient"
	"github.com/vigil-ha/vigil/internal/rpcserver"
	crmv1 "github.com/vigil-ha/vigil/proto/vigil/crm/v1"
	fencev1 "github.com/vigil-ha/vigil/proto/vigil/fence/v1"
	lrmv1 "github.com/vigil-ha/vigil/proto/vigil/lrm/v1"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
	quorumv1 "github.com/vigil-ha/vigil/proto/vigil/quorum/v1"
)

// Server is the gRPC surface of vigil-crmd and the loop that follows the
// crm group. Methods that are not built yet answer codes.Unimplemented
// through the embedded Unimplemented servers; they never return a made-up
// answer.
type Server struct {
	crmv1.UnimplementedCibServiceServer
	crmv1.UnimplementedClusterServiceServer
	log    *slog.Logger
	cfg    *config.Config
	node   config.Node
	store  *cibstore.Store
	group  *cpgclient.Member
	quorum quorumv1.QuorumServiceClient
	fail   func(error)
	// lrm and fence are the local executor and fencer; nil in tests that
	// run no transitions.
	lrm   lrmv1.ExecutorServiceClient
	fence fencev1.FenceServiceClient
	// ctx is the daemon's; nil until Start (the DC loop needs it).
	ctx context.Context

	mu      sync.Mutex
	rep     *cibsvc.Replica
	out     *outbox // this session's messages to multicast
	nextReq uint64
	waiters map[uint64]chan cibsvc.Result
	// dcWrites are the requests of the DC's own status writes (dcWriteKey).
	dcWrites map[uint64]bool
	changed  chan struct{} // closed at every change of the replica's state
	watchers map[*watcher]struct{}
	// stonithStarted are the stonith primitives the scheduler started on
	// this node (stonith.go).
	stonithStarted map[string]bool
	// heard are the results of actions this crmd heard while another
	// node was the DC (exec.go, heardResult).
	heard []heardResult
	// dc runs while this node is the DC.
	dc       *dcLoop
	dcCancel context.CancelFunc
	// recurring are the recurring operations this node armed for the DC.
	recurring map[recurringKey]*recurringOp
	// ownReset is set once resetOwnStatus erased this node's saved status
	// (or found none); a DC on this node waits for it.
	ownReset bool
}

// MaxRequest is the largest request the API accepts: a whole CIB.
const MaxRequest = 256 << 20

// StateSubdir is where, under vigil.state_dir, a node keeps its CIB.
const StateSubdir = "cib"

// Start builds vigil-crmd: it loads this node's newest intact CIB (or
// starts from an empty one), follows the crm group of the local messaging
// daemon and serves CibService and ClusterService.
func Start(ctx context.Context, env daemon.Env, srv *rpcserver.Server) error {
	store, err := cibstore.Open(filepath.Join(env.Config.Vigil.StateDir, StateSubdir), 0)
	if err != nil {
		return err
	}
	c, skipped, err := store.Load()
	for _, sk := range skipped {
		env.Logger.Warn("skipped a damaged saved CIB", "file", sk.Path, "err", sk.Err)
	}
	switch {
	case errors.Is(err, cibstore.ErrEmpty):
		env.Logger.Info("no saved CIB; starting from an empty one, the crm group's newest replaces it", "dir", store.Dir())
		c = cibsvc.Empty()
	case err != nil:
		// The damaged files stay for an administrator to look at; the
		// group's CIB (any is newer than an empty one) replaces this one.
		env.Logger.Error("no saved CIB is intact; starting from an empty one", "dir", store.Dir(), "err", err)
		c = cibsvc.Empty()
	default:
		env.Logger.Info("loaded the saved CIB", "version", c.Version.String(), "dir", store.Dir())
	}
	conn, err := rpcclient.Dial(env.Config.Vigil.MessagingListen, env.Node.Name, env.TLS)
	if err != nil {
		return err
	}
	qconn, err := rpcclient.Dial(env.Config.Vigil.QuorumListen, env.Node.Name, env.TLS)
	if err != nil {
		conn.Close()
		return err
	}
	// Calls to the local executor and fencer wait for the connection (each
	// has its own deadline): a crmd that started before its lrmd was
	// listening must not fail a probe with "connection refused" while
	// gRPC backs off from that first dial.
	waitReady := grpc.WithDefaultCallOptions(grpc.WaitForReady(true))
	lconn, err := rpcclient.Dial(env.Config.Vigil.LRMListen, env.Node.Name, env.TLS, waitReady)
	if err != nil {
		conn.Close()
		qconn.Close()
		return err
	}
	fconn, err := rpcclient.Dial(env.Config.Vigil.FenceListen, env.Node.Name, env.TLS, waitReady)
	if err != nil {
		conn.Close()
		qconn.Close()
		lconn.Close()
		return err
	}
	s := newServer(env.Logger, env.Config, env.Node, store, c, messagingv1.NewGroupServiceClient(conn), quorumv1.NewQuorumServiceClient(qconn), env.Fail)
	s.lrm = lrmv1.NewExecutorServiceClient(lconn)
	s.fence = fencev1.NewFenceServiceClient(fconn)
	s.ctx = ctx
	go func() {
		<-ctx.Done()
		conn.Close()
		qconn.Close()
		lconn.Close()
		fconn.Close()
	}()
	go s.watchRecurring(ctx)
	go s.follow(ctx)
	go s.resetOwnStatus(ctx)
	go s.syncStonithDevices(ctx)
	if env.OnStop != nil {
		env.OnStop(s.drain)
	}
	s.Register(srv)
	return nil
}

// newServer returns a crmd holding c that follows the crm group through
// groups once follow runs; quorum may be nil (quorate is then reported
// false).
func newServer(log *slog.Logger, cfg *config.Config, node config.Node, store *cibstore.Store, c *cib.CIB,
	groups messagingv1.GroupServiceClient, quorum quorumv1.QuorumServiceClient, fail func(error)) *Server {
	rep := cibsvc.NewReplica(node.ID, c)
	rep.SetNodeName(node.Name)
	return &Server{
		log: log, cfg: cfg, node: node, store: store, fail: fail,
		group:          cpgclient.New(groups, cibsvc.Group, cpgclient.Options{Logger: log}),
		quorum:         quorum,
		rep:            rep,
		waiters:        map[uint64]chan cibsvc.Result{},
		dcWrites:       map[uint64]bool{},
		changed:        make(chan struct{}),
		watchers:       map[*watcher]struct{}{},
		recurring:      map[recurringKey]*recurringOp{},
		stonithStarted: map[string]bool{},
	}
}

// Register registers every service of the daemon on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	crmv1.RegisterCibServiceServer(g, s)
	crmv1.RegisterClusterServiceServer(g, s)
}

// grpcError maps the errors of the CIB service to gRPC codes, in one place.
func grpcError(err error) error {
	if err == nil {
		return nil
	}
	for _, m := range []struct {
		err  error
		code codes.Code
	}{
		{cibsvc.ErrVersionMismatch, codes.Aborted},
		{cibsvc.ErrOlder, codes.FailedPrecondition},
		{cibsvc.ErrInvalid, codes.InvalidArgument},
		{cibsvc.ErrBadPatch, codes.InvalidArgument},
		{cibsvc.ErrBadPath, codes.InvalidArgument},
		{cibsvc.ErrNotFound, codes.NotFound},
		{cibsvc.ErrExists, codes.AlreadyExists},
		{cibsvc.ErrSyncing, codes.Unavailable},
		{cibsvc.ErrNotMember, codes.Unavailable},
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{context.Canceled, codes.Canceled},
	} {
		if errors.Is(err, m.err) {
			return status.Error(m.code, err.Error())
		}
	}
	return status.Error(codes.Internal, err.Error())
}

func versionPB(v cib.Version) *crmv1.Version {
	return &crmv1.Version{AdminEpoch: uint64(v.AdminEpoch), Epoch: uint64(v.Epoch), NumUpdates: uint64(v.NumUpdates)}
}

func versionOf(v *crmv1.Version) *cib.Version {
	if v == nil {
		return nil
	}
	return &cib.Version{AdminEpoch: int64(v.GetAdminEpoch()), Epoch: int64(v.GetEpoch()), NumUpdates: int64(v.GetNumUpdates())}
}

// sectionNames are the element names of the API's sections.
var sectionNames = map[crmv1.Section]string{
	crmv1.Section_SECTION_CONFIGURATION:    "configuration",
	crmv1.Section_SECTION_CRM_CONFIG:       "crm_config",
	crmv1.Section_SECTION_NODES:            "nodes",
	crmv1.Section_SECTION_RESOURCES:        "resources",
	crmv1.Section_SECTION_CONSTRAINTS:      "constraints",
	crmv1.Section_SECTION_RSC_DEFAULTS:     "rsc_defaults",
	crmv1.Section_SECTION_OP_DEFAULTS:      "op_defaults",
	crmv1.Section_SECTION_FENCING_TOPOLOGY: "fencing-topology",
	crmv1.Section_SECTION_STATUS:           "status",
}

func sectionName(s crmv1.Section) (string, error) {
	if s == crmv1.Section_SECTION_UNSPECIFIED {
		return "", nil
	}
	if n, ok := sectionNames[s]; ok {
		return n, nil
	}
	return "", status.Errorf(codes.InvalidArgument, "unknown section %v", s)
}

// Query returns the whole CIB, a section, an element by id or the
// elements a path names.
func (s *Server) Query(_ context.Context, req *crmv1.QueryRequest) (*crmv1.QueryResponse, error) {
	s.mu.Lock()
	c := s.rep.CIB()
	s.mu.Unlock()
	resp := &crmv1.QueryResponse{Version: versionPB(c.Version)}
	set := 0
	for _, b := range []bool{req.GetSection() != crmv1.Section_SECTION_UNSPECIFIED, req.GetId() != "", req.GetPath() != ""} {
		if b {
			set++
		}
	}
	if set > 1 {
		return nil, status.Error(codes.InvalidArgument, "ask for one of section, id and path")
	}
	switch {
	case req.GetId() != "":
		e := cibsvc.FindByID(c.Tree(), req.GetId())
		if e == nil {
			return nil, status.Errorf(codes.NotFound, "the CIB (version %s) has no element with id %q", c.Version, req.GetId())
		}
		resp.Xml = cib.MarshalElement(e)
	case req.GetPath() != "" || req.GetSection() != crmv1.Section_SECTION_UNSPECIFIED:
		path := req.GetPath()
		if path == "" {
			name, err := sectionName(req.GetSection())
			if err != nil {
				return nil, err
			}
			path = "/cib/configuration/" + name
			if name == "configuration" || name == "status" {
				path = "/cib/" + name
			}
		}
		es, err := cibsvc.Select(c.Tree(), path)
		if err != nil {
			return nil, grpcError(err)
		}
		if len(es) == 0 {
			return nil, status.Errorf(codes.NotFound, "nothing in the CIB (version %s) at %s", c.Version, path)
		}
		for _, e := range es {
			resp.Matches = append(resp.Matches, cib.MarshalElement(e))
		}
		if len(es) == 1 {
			resp.Xml = resp.Matches[0]
		}
	default:
		resp.Xml = cib.Marshal(c)
	}
	return resp, nil
}

// Replace replaces the whole CIB or a section, through the group.
func (s *Server) Replace(ctx context.Context, req *crmv1.ReplaceRequest) (*crmv1.ReplaceResponse, error) {
	section, err := sectionName(req.GetSection())
	if err != nil {
		return nil, err
	}
	if len(req.GetXml()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "no XML to replace with")
	}
	v, err := s.submit(ctx, cibsvc.Change{Expected: versionOf(req.GetExpectedVersion()), Stamp: s.stamp(ctx),
		Replace: &cibsvc.Replacement{Section: section, XML: req.GetXml(), Force: req.GetForce()}})
	if err != nil {
		return nil, grpcError(err)
	}
	return &crmv1.ReplaceResponse{Version: versionPB(v)}, nil
}

// stamp names the caller of a change, this node and the time, in
// Pacemaker's cib-last-written format (ctime's).
func (s *Server) stamp(ctx context.Context) *cibsvc.Stamp {
	st := &cibsvc.Stamp{When: time.Now().Format(time.ANSIC), Client: "vigil-crmd", Origin: s.node.Name}
	if c, ok := auth.CallerFrom(ctx); ok {
		st.User = c.Name
	}
	return st
}

// opKinds maps the API's operation kinds to the patch's.
var opKinds = map[crmv1.PatchOpKind]cibsvc.OpKind{
	crmv1.PatchOpKind_PATCH_OP_KIND_CREATE:         cibsvc.OpCreate,
	crmv1.PatchOpKind_PATCH_OP_KIND_REPLACE:        cibsvc.OpReplace,
	crmv1.PatchOpKind_PATCH_OP_KIND_SET_ATTRIBUTES: cibsvc.OpSetAttributes,
	crmv1.PatchOpKind_PATCH_OP_KIND_DELETE:         cibsvc.OpDelete,
	crmv1.PatchOpKind_PATCH_OP_KIND_SET_NVPAIR:     cibsvc.OpSetNVPair,
	crmv1.PatchOpKind_PATCH_OP_KIND_DELETE_NVPAIR:  cibsvc.OpDeleteNVPair,
}

// PatchFromPB converts the API's operations to a patch.
func PatchFromPB(ops []*crmv1.PatchOp) (cibsvc.Patch, error) {
	var p cibsvc.Patch
	for i, o := range ops {
		kind, ok := opKinds[o.GetKind()]
		if !ok {
			return p, fmt.Errorf("%w: operation %d has no kind", cibsvc.ErrBadPatch, i+1)
		}
		op := cibsvc.Op{Kind: kind, Target: o.GetTarget(), XML: o.GetXml(), Unset: o.GetUnset(),
			IfMissing: o.GetIfMissing(), IfExists: o.GetIfExists(), Parent: o.GetParent(),
			SetElement: o.GetSetElement(), Name: o.GetName(), Value: o.GetValue()}
		for _, a := range o.GetAttrs() {
			op.Attrs = append(op.Attrs, cib.Attr{Name: a.GetName(), Value: a.GetValue()})
		}
		p.Ops = append(p.Ops, op)
	}
	return p, nil
}

// Patch applies a set of operations through the group.
func (s *Server) Patch(ctx context.Context, req *crmv1.PatchRequest) (*crmv1.PatchResponse, error) {
	if len(req.GetPatchXml()) > 0 {
		return nil, status.Error(codes.Unimplemented, "Pacemaker XML patch sets (cibadmin --patch) are not supported yet; send ops")
	}
	if len(req.GetOps()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "a patch needs at least one operation")
	}
	p, err := PatchFromPB(req.GetOps())
	if err != nil {
		return nil, grpcError(err)
	}
	v, err := s.submit(ctx, cibsvc.Change{Expected: versionOf(req.GetExpectedVersion()), Patch: &p, Stamp: s.stamp(ctx)})
	if err != nil {
		return nil, grpcError(err)
	}
	return &crmv1.PatchResponse{Version: versionPB(v)}, nil
}

// watcher is one Watch stream's queue.
type watcher struct {
	ch       chan *crmv1.WatchResponse
	overflow bool
}

// watchBuffer bounds the versions waiting for one slow watcher; past it
// the watch ends with RESOURCE_EXHAUSTED rather than skip a version.
const watchBuffer = 256

// publishLocked queues a new version for every watcher; s.mu is held.
func (s *Server) publishLocked(ev *crmv1.WatchResponse) {
	for w := range s.watchers {
		select {
		case w.ch <- ev:
		default:
			w.overflow = true
			delete(s.watchers, w)
			close(w.ch)
		}
	}
}

// Watch sends the current version, then every version this node applies.
func (s *Server) Watch(req *crmv1.WatchRequest, stream grpc.ServerStreamingServer[crmv1.WatchResponse]) error {
	w := &watcher{ch: make(chan *crmv1.WatchResponse, watchBuffer)}
	s.mu.Lock()
	w.ch <- &crmv1.WatchResponse{Version: versionPB(s.rep.CIB().Version), What: "current"}
	s.watchers[w] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if _, ok := s.watchers[w]; ok {
			delete(s.watchers, w)
		}
		s.mu.Unlock()
	}()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case ev, ok := <-w.ch:
			if !ok {
				return status.Errorf(codes.ResourceExhausted, "this watch fell more than %d versions behind; watch again", watchBuffer)
			}
			if req.GetIncludeXml() {
				ev = &crmv1.WatchResponse{Version: ev.GetVersion(), OriginNode: ev.GetOriginNode(), What: ev.GetWhat(), Xml: s.xmlAt(ev.GetVersion())}
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
	}
}

// xmlAt returns the current CIB's XML when it is still at v; a watcher
// that is behind gets the newer XML with the next response.
func (s *Server) xmlAt(v *crmv1.Version) []byte {
	s.mu.Lock()
	c := s.rep.CIB()
	s.mu.Unlock()
	if *versionOf(v) != c.Version {
		return nil
	}
	return cib.Marshal(c)
}

func (s *Server) nodeName(id uint32) string {
	if n, ok := s.cfg.NodeByID(id); ok {
		return n.Name
	}
	return ""
}

// GetStatus reports the DC, the crm group's members, quorum and the CIB
// version as this node sees them. Resources are not reported yet.
func (s *Server) GetStatus(ctx context.Context, _ *crmv1.GetStatusRequest) (*crmv1.GetStatusResponse, error) {
	s.mu.Lock()
	c := s.rep.CIB()
	dc := s.rep.DC()
	members := nodeIDs(s.rep.Members())
	synced := s.rep.Synced()
	s.mu.Unlock()
	resp := &crmv1.GetStatusResponse{
		ClusterName: s.cfg.Totem.ClusterName, Dc: s.nodeName(dc), DcNodeId: dc,
		CibVersion: versionPB(c.Version), CrmMembers: members, CibSynced: synced, LocalNodeId: s.node.ID,
	}
	if s.quorum != nil {
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if q, err := s.quorum.GetStatus(qctx, &quorumv1.GetStatusRequest{}); err == nil {
			resp.Quorate = q.GetStatus().GetQuorate()
		}
	}
	for _, n := range s.cfg.Nodes {
		st := crmv1.NodeState_NODE_STATE_OFFLINE
		if slices.Contains(members, n.ID) {
			st = crmv1.NodeState_NODE_STATE_ONLINE
		}
		resp.Nodes = append(resp.Nodes, &crmv1.Node{NodeId: n.ID, Name: n.Name, State: st, Dc: n.ID == dc})
	}
	return resp, nil
}
