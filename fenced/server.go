// Package fenced is vigil-fenced, which fences nodes through STONITH
// devices and keeps the cluster's fencing history (Pacemaker's
// pacemaker-fenced).
//
// Every fenced joins the process group "vigil-fence" of its messaging
// daemon. Device registrations, fencing levels, fence requests and device
// results travel as messages of that group, so every member applies them
// in the same order to its fenced/fencing.State and reaches the same
// decisions: which device runs next and on which node, and what ends up
// in the history. The node hosting the device of the current step runs it
// (fenced/driver) and multicasts the result. See docs/fencing.md.
package fenced

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-ha/vigil/fenced/driver"
	"github.com/vigil-ha/vigil/fenced/fenceagent"
	"github.com/vigil-ha/vigil/fenced/fencing"
	"github.com/vigil-ha/vigil/internal/auth"
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/cpgclient"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/rpcclient"
	"github.com/vigil-ha/vigil/internal/rpcserver"
	fencev1 "github.com/vigil-ha/vigil/proto/vigil/fence/v1"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Group is the process group the fenceds of a cluster share.
const Group = "vigil-fence"

// listTimeout bounds a device's list action at registration.
const listTimeout = 30 * time.Second

// Server is the gRPC surface of vigil-fenced and the loop that feeds its
// fencing state from the fence group.
type Server struct {
	fencev1.UnimplementedFenceServiceServer
	log     *slog.Logger
	cfg     *config.Config
	node    config.Node
	group   *cpgclient.Member
	drivers *driver.Drivers
	ctx     context.Context // the daemon's lifetime, for device runs

	mu      sync.Mutex
	st      *fencing.State
	handle  uint64
	nextReq uint64
	applied map[uint64]chan struct{}
	waiters map[string][]chan fencing.Entry
}

// Start builds vigil-fenced: it follows the fence group of the local
// messaging daemon and serves FenceService.
func Start(ctx context.Context, env daemon.Env, srv *rpcserver.Server) error {
	var nodes []string
	for _, n := range env.Config.Nodes {
		nodes = append(nodes, n.Name)
	}
	pluginDir := env.Config.Vigil.PluginDir
	s := &Server{
		log: env.Logger, cfg: env.Config, node: env.Node, ctx: ctx,
		drivers: driver.New(driver.Config{AgentDir: fenceagent.DefaultDir, PluginDir: pluginDir, ChecksumFile: env.Config.Vigil.PluginChecksums, Logger: env.Logger}),
		st:      fencing.New(env.Node.Name, nodes),
		applied: map[uint64]chan struct{}{},
		waiters: map[string][]chan fencing.Entry{},
	}
	conn, err := rpcclient.Dial(env.Config.Vigil.MessagingListen, env.Node.Name, env.TLS)
	if err != nil {
		return err
	}
	s.group = cpgclient.New(messagingv1.NewGroupServiceClient(conn), Group, cpgclient.Options{Logger: env.Logger})
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	go s.group.Follow(ctx, groupFollower{s})
	s.Register(srv)
	return nil
}

// Register registers every service of the daemon on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	fencev1.RegisterFenceServiceServer(g, s)
}

// groupFollower feeds the fence group's events to the fencing state.
// While this fenced is not a member it sees only itself: no request can run
// on another node.
type groupFollower struct{ s *Server }

func (f groupFollower) Joined(_ context.Context, handle uint64) {
	f.s.mu.Lock()
	f.s.handle = handle
	f.s.mu.Unlock()
}

func (f groupFollower) Lost(error) {
	s := f.s
	s.mu.Lock()
	s.handle = 0
	effs := s.st.ViewChanged([]string{s.node.Name})
	s.mu.Unlock()
	s.do(effs)
}

func (f groupFollower) Change(ctx context.Context, cc *messagingv1.ConfigurationChange) error {
	s := f.s
	var names []string
	for _, m := range cc.GetMembers() {
		if n, ok := s.cfg.NodeByID(m.GetNodeId()); ok && !slices.Contains(names, n.Name) {
			names = append(names, n.Name)
		}
	}
	s.mu.Lock()
	effs := s.st.ViewChanged(names)
	sync := s.st.SyncMessage()
	s.mu.Unlock()
	s.log.Info("fence group changed", "members", names)
	s.do(effs)
	// Every member tells the others what it knows after each change, so
	// that a node that joined learns devices, levels and history.
	return s.send(ctx, sync)
}

func (f groupFollower) Deliver(_ context.Context, d *messagingv1.Delivery) error {
	s := f.s
	var m fencing.Message
	if err := json.Unmarshal(d.GetPayload(), &m); err != nil {
		s.log.Warn("dropped a malformed fence message", "from", d.GetSender().GetNodeId(), "err", err)
		return nil
	}
	from, ok := s.cfg.NodeByID(d.GetSender().GetNodeId())
	if !ok {
		return nil
	}
	s.mu.Lock()
	if from.Name == s.node.Name && d.GetSender().GetHandle() != s.handle {
		m.Request = 0 // an earlier membership's: nobody waits for it
	}
	effs := s.st.Apply(m, from.Name, fencing.Version(d.GetViewId().GetEpoch(), d.GetSequence()), time.Now())
	s.mu.Unlock()
	s.do(effs)
	return nil
}

// do carries out what the state asked for.
func (s *Server) do(effs []fencing.Effect) {
	for _, e := range effs {
		switch {
		case e.Run != nil:
			go s.run(*e.Run)
		case e.ArmTimer != "":
			id := e.ArmTimer
			time.AfterFunc(e.Delay, func() {
				s.mu.Lock()
				entry, _ := s.st.Entry(id)
				s.mu.Unlock()
				if entry.State == fencing.Pending && s.ctx.Err() == nil {
					s.log.Warn("fence request timed out", "id", id, "target", entry.Target)
					s.multicast(fencing.Message{Expire: id, At: time.Now()})
				}
			})
		case e.List != "":
			go s.list(e.List)
		case e.Result != nil:
			go s.multicast(fencing.Message{Result: e.Result, At: time.Now()})
		case e.Left != nil:
			// Not from the follower's goroutine: multicast waits for it
			// while this node is between memberships.
			go s.multicast(fencing.Message{Left: e.Left, At: time.Now()})
		case e.Finished != nil:
			s.log.Info("fencing finished", "id", e.Finished.ID, "target", e.Finished.Target, "action", e.Finished.Action,
				"state", e.Finished.State, "executioner", e.Finished.Executioner, "reason", e.Finished.Reason)
			s.mu.Lock()
			for _, w := range s.waiters[e.Finished.ID] {
				w <- *e.Finished
			}
			delete(s.waiters, e.Finished.ID)
			s.mu.Unlock()
		case e.Request != 0:
			s.mu.Lock()
			if ch, ok := s.applied[e.Request]; ok {
				close(ch)
				delete(s.applied, e.Request)
			}
			s.mu.Unlock()
		}
	}
}

// run runs one step of a request on a device this node hosts and
// multicasts the result. The step ends by the request's deadline, or
// earlier by the device's pcmk_ACTION_timeout.
func (s *Server) run(r fencing.Run) {
	ctx, cancel := context.WithDeadline(s.ctx, r.Deadline)
	defer cancel()
	if t, ok := fencing.ParseTimeout(cmp.Or(r.Device.Params["pcmk_"+r.Action+"_timeout"], r.Device.Params["pcmk_timeout"])); ok {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, t)
		defer c2()
	}
	s.log.Info("fencing", "id", r.ID, "target", r.Target, "action", r.Action, "device", r.Device.ID, "agent", r.Device.Agent)
	res := fencing.Result{ID: r.ID, Step: r.Step}
	var err error
	if r.Device.HostCheck() == fencing.StatusCheck {
		// pcmk_host_check=status: the device must reach the target first.
		if _, serr := s.drivers.Status(ctx, r.Device.Agent, r.Device.Params, r.Port); serr != nil {
			err = fmt.Errorf("cannot reach %s (status failed): %w", r.Target, serr)
		}
	}
	if err == nil {
		res.Message, err = s.drivers.Fence(ctx, r.Device.Agent, r.Device.Params, r.Port, r.Action)
	}
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("answered after its deadline: %w", ctx.Err())
	}
	if err != nil {
		res.Message = err.Error()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && !strings.Contains(res.Message, "timed out") {
			res.Message = "timed out: " + res.Message
		}
	} else {
		res.OK = true
		res.Message = cmp.Or(res.Message, "done")
	}
	s.multicast(fencing.Message{Result: &res, At: time.Now()})
}

// list runs a hosted device's list action and tells the group.
func (s *Server) list(id string) {
	s.mu.Lock()
	var dev *fencing.Device
	for _, d := range s.st.Devices() {
		if d.ID == id {
			dev = &d
		}
	}
	s.mu.Unlock()
	if dev == nil {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, listTimeout)
	defer cancel()
	targets, err := s.drivers.List(ctx, dev.Agent, dev.Params)
	l := &fencing.Listed{Device: id, Targets: targets}
	if err != nil {
		l.Err = err.Error()
		s.log.Info("device list failed; its targets are checked with status", "device", id, "err", err)
	}
	s.multicast(fencing.Message{Listed: l})
}

// multicast sends m, retrying while this node is between memberships,
// until the daemon ends.
func (s *Server) multicast(m fencing.Message) {
	for s.ctx.Err() == nil {
		err := s.send(s.ctx, m)
		if err == nil {
			return
		}
		if !errors.Is(err, cpgclient.ErrNotMember) {
			s.log.Warn("multicast to the fence group failed; retrying", "err", err)
		}
		select {
		case <-s.ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// send multicasts m to the fence group.
func (s *Server) send(ctx context.Context, m fencing.Message) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.group.Multicast(ctx, payload)
}

// change multicasts m and waits until it is applied here, that is,
// delivered in agreed order to every member.
func (s *Server) change(ctx context.Context, m fencing.Message) error {
	if s.st == nil {
		return status.Error(codes.Unavailable, "vigil-fenced is not following a fence group")
	}
	s.mu.Lock()
	handle := s.handle
	s.nextReq++
	m.Request = s.nextReq
	done := make(chan struct{})
	s.applied[m.Request] = done
	s.mu.Unlock()
	forget := func() {
		s.mu.Lock()
		delete(s.applied, m.Request)
		s.mu.Unlock()
	}
	if handle == 0 {
		forget()
		return status.Error(codes.Unavailable, "not connected to the messaging daemon: not a member of the fence group")
	}
	if err := s.send(ctx, m); err != nil {
		forget()
		return status.Errorf(codes.Unavailable, "send to the fence group: %v", err)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		forget()
		return status.FromContextError(ctx.Err()).Err()
	}
}

var actions = map[fencev1.Action]string{
	fencev1.Action_ACTION_OFF:    fencing.Off,
	fencev1.Action_ACTION_ON:     fencing.On,
	fencev1.Action_ACTION_REBOOT: fencing.Reboot,
}

func actionToProto(a string) fencev1.Action {
	for k, v := range actions {
		if v == a {
			return k
		}
	}
	return fencev1.Action_ACTION_UNSPECIFIED
}

// client names the caller for the history: its certificate's name.
func client(ctx context.Context) string {
	if c, ok := auth.CallerFrom(ctx); ok {
		return fmt.Sprintf("%s %s", c.Role, c.Name)
	}
	return ""
}

// Fence fences a node and returns the final history entry: succeeded, or
// failed with the reason of every level and device tried. It never
// returns a pending entry unless the caller's own deadline passes first.
func (s *Server) Fence(ctx context.Context, req *fencev1.FenceRequest) (*fencev1.FenceResponse, error) {
	if req.GetTarget() == "" {
		return nil, status.Error(codes.InvalidArgument, "target: which node to fence is required")
	}
	action := fencing.Reboot
	if req.GetAction() != fencev1.Action_ACTION_UNSPECIFIED {
		var ok bool
		if action, ok = actions[req.GetAction()]; !ok {
			return nil, status.Errorf(codes.InvalidArgument, "action %v: want off, on or reboot", req.GetAction())
		}
	}
	now := time.Now()
	if tol := req.GetTolerance().AsDuration(); tol > 0 && s.st != nil {
		s.mu.Lock()
		hist := s.st.History(req.GetTarget())
		s.mu.Unlock()
		for _, e := range slices.Backward(hist) {
			if e.State == fencing.Succeeded && e.Action != fencing.On && now.Sub(e.Completed) <= tol {
				return &fencev1.FenceResponse{Entry: entryToProto(e)}, nil
			}
		}
	}
	e := &fencing.Entry{
		ID: fmt.Sprintf("%s-%d", s.node.Name, now.UnixNano()), Target: req.GetTarget(), Action: action,
		Client: client(ctx), Timeout: req.GetTimeout().AsDuration(), AllowSelf: req.GetAllowSelf(), Requested: now,
	}
	if e.Timeout < 0 {
		return nil, status.Error(codes.InvalidArgument, "timeout must be positive")
	}
	wait := make(chan fencing.Entry, 1)
	if s.st != nil {
		s.mu.Lock()
		s.waiters[e.ID] = append(s.waiters[e.ID], wait)
		s.mu.Unlock()
		// Gone already when the entry finished; otherwise (not sent, or
		// the caller gave up) nothing else would remove it.
		defer func() {
			s.mu.Lock()
			s.waiters[e.ID] = slices.DeleteFunc(s.waiters[e.ID], func(w chan fencing.Entry) bool { return w == wait })
			if len(s.waiters[e.ID]) == 0 {
				delete(s.waiters, e.ID)
			}
			s.mu.Unlock()
		}()
	}
	if err := s.change(ctx, fencing.Message{Fence: e}); err != nil {
		return nil, err
	}
	select {
	case done := <-wait:
		return &fencev1.FenceResponse{Entry: entryToProto(done)}, nil
	case <-ctx.Done():
		return nil, status.Errorf(status.FromContextError(ctx.Err()).Code(),
			"fence request %s is still pending: see `vigil stonith history %s`", e.ID, e.Target)
	}
}

// Confirm records a manual confirmation that a node is off.
func (s *Server) Confirm(ctx context.Context, req *fencev1.ConfirmRequest) (*fencev1.ConfirmResponse, error) {
	if req.GetTarget() == "" {
		return nil, status.Error(codes.InvalidArgument, "target: which node to confirm is required")
	}
	if _, ok := s.cfg.NodeByName(req.GetTarget()); !ok {
		return nil, status.Errorf(codes.InvalidArgument, "%q is not a node of the nodelist", req.GetTarget())
	}
	now := time.Now()
	e := &fencing.Entry{ID: fmt.Sprintf("%s-%d", s.node.Name, now.UnixNano()), Target: req.GetTarget(),
		Action: fencing.Off, Client: client(ctx), Requested: now}
	if err := s.change(ctx, fencing.Message{Confirm: e, At: now}); err != nil {
		return nil, err
	}
	s.mu.Lock()
	got, _ := s.st.Entry(e.ID)
	s.mu.Unlock()
	return &fencev1.ConfirmResponse{Entry: entryToProto(got)}, nil
}

// GetHistory returns this node's copy of the cluster-wide history.
func (s *Server) GetHistory(_ context.Context, req *fencev1.GetHistoryRequest) (*fencev1.GetHistoryResponse, error) {
	if s.st == nil {
		return nil, status.Error(codes.Unavailable, "vigil-fenced is not following a fence group")
	}
	s.mu.Lock()
	hist := s.st.History(req.GetTarget())
	s.mu.Unlock()
	resp := &fencev1.GetHistoryResponse{}
	for _, e := range hist {
		resp.Entries = append(resp.Entries, entryToProto(e))
	}
	return resp, nil
}

// ListDevices lists every device of the cluster with the node hosting it.
func (s *Server) ListDevices(context.Context, *fencev1.ListDevicesRequest) (*fencev1.ListDevicesResponse, error) {
	if s.st == nil {
		return nil, status.Error(codes.Unavailable, "vigil-fenced is not following a fence group")
	}
	s.mu.Lock()
	devs := s.st.Devices()
	s.mu.Unlock()
	resp := &fencev1.ListDevicesResponse{}
	for _, d := range devs {
		pd := &fencev1.Device{Id: d.ID, Driver: d.Agent, Parameters: d.Params, Node: d.Node, HostCheck: d.HostCheck(), TargetsError: d.TargetsErr}
		switch d.HostCheck() {
		case fencing.StaticList:
			pd.Targets = d.StaticTargets()
		case fencing.DynamicList:
			pd.Targets = d.Targets
		}
		resp.Devices = append(resp.Devices, pd)
	}
	return resp, nil
}

// RegisterDevice registers a device hosted by this node with every member
// of the fence group.
func (s *Server) RegisterDevice(ctx context.Context, req *fencev1.RegisterDeviceRequest) (*fencev1.RegisterDeviceResponse, error) {
	d := req.GetDevice()
	var problems []string
	if d.GetId() == "" || strings.ContainsAny(d.GetId(), " \t\n,") {
		problems = append(problems, fmt.Sprintf("id %q: want a name without spaces or commas", d.GetId()))
	}
	if d.GetDriver() == "" {
		problems = append(problems, "driver: want a fence agent (fence_ipmilan) or a plugin (plugin:NAME)")
	} else if s.drivers != nil {
		if err := s.drivers.Check(d.GetDriver()); err != nil {
			problems = append(problems, fmt.Sprintf("driver %s: %v", d.GetDriver(), err))
		}
	}
	if hc := d.GetParameters()["pcmk_host_check"]; !fencing.ValidHostCheck(hc) {
		problems = append(problems, fmt.Sprintf("pcmk_host_check %q: want static-list, dynamic-list, status or none", hc))
	}
	if len(problems) > 0 {
		return nil, status.Error(codes.InvalidArgument, strings.Join(problems, "; "))
	}
	m := fencing.Message{Register: &fencing.Device{ID: d.GetId(), Agent: d.GetDriver(), Params: d.GetParameters()}}
	if err := s.change(ctx, m); err != nil {
		return nil, err
	}
	return &fencev1.RegisterDeviceResponse{}, nil
}

// UnregisterDevice removes a device everywhere.
func (s *Server) UnregisterDevice(ctx context.Context, req *fencev1.UnregisterDeviceRequest) (*fencev1.UnregisterDeviceResponse, error) {
	if req.GetId() == "" {
		return nil, status.Error(codes.InvalidArgument, "id: which device is required")
	}
	if err := s.change(ctx, fencing.Message{Unregister: req.GetId()}); err != nil {
		return nil, err
	}
	return &fencev1.UnregisterDeviceResponse{}, nil
}

// AddLevel sets a fencing level of a target everywhere.
func (s *Server) AddLevel(ctx context.Context, req *fencev1.AddLevelRequest) (*fencev1.AddLevelResponse, error) {
	l := req.GetLevel()
	if l.GetTarget() == "" || l.GetIndex() < 1 || len(l.GetDevices()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "a level needs a target, an index of at least 1 and one or more devices")
	}
	if s.cfg != nil {
		if _, ok := s.cfg.NodeByName(l.GetTarget()); !ok {
			return nil, status.Errorf(codes.InvalidArgument, "target %q is not a node of the nodelist", l.GetTarget())
		}
	}
	m := fencing.Message{Level: &fencing.Level{Target: l.GetTarget(), Index: int(l.GetIndex()), Devices: l.GetDevices()}}
	if err := s.change(ctx, m); err != nil {
		return nil, err
	}
	return &fencev1.AddLevelResponse{}, nil
}

// RemoveLevel removes a fencing level everywhere.
func (s *Server) RemoveLevel(ctx context.Context, req *fencev1.RemoveLevelRequest) (*fencev1.RemoveLevelResponse, error) {
	if req.GetTarget() == "" || req.GetIndex() < 1 {
		return nil, status.Error(codes.InvalidArgument, "target and index (at least 1) are required")
	}
	m := fencing.Message{Level: &fencing.Level{Target: req.GetTarget(), Index: int(req.GetIndex()), Removed: true}}
	if err := s.change(ctx, m); err != nil {
		return nil, err
	}
	return &fencev1.RemoveLevelResponse{}, nil
}

// ListLevels lists the fencing topology.
func (s *Server) ListLevels(_ context.Context, req *fencev1.ListLevelsRequest) (*fencev1.ListLevelsResponse, error) {
	if s.st == nil {
		return nil, status.Error(codes.Unavailable, "vigil-fenced is not following a fence group")
	}
	s.mu.Lock()
	levels := s.st.Levels(req.GetTarget())
	s.mu.Unlock()
	resp := &fencev1.ListLevelsResponse{}
	for _, l := range levels {
		resp.Levels = append(resp.Levels, &fencev1.Level{Target: l.Target, Index: int32(l.Index), Devices: l.Devices})
	}
	return resp, nil
}

func entryToProto(e fencing.Entry) *fencev1.HistoryEntry {
	st := map[string]fencev1.State{fencing.Pending: fencev1.State_STATE_PENDING, fencing.Succeeded: fencev1.State_STATE_SUCCEEDED,
		fencing.Failed: fencev1.State_STATE_FAILED}[e.State]
	out := &fencev1.HistoryEntry{
		Id: e.ID, Target: e.Target, Action: actionToProto(e.Action), State: st, Origin: e.Origin,
		Executioner: e.Executioner, Device: e.Device, Client: e.Client, ExitReason: e.Reason, Level: int32(e.Level),
		RequestedAt: timestamppb.New(e.Requested), Timeout: durationpb.New(e.Timeout),
	}
	if !e.Completed.IsZero() {
		out.CompletedAt = timestamppb.New(e.Completed)
	}
	return out
}
