// Package lrmd is vigil-lrmd, the executor that runs resource agent
// operations on its node (Pacemaker's pacemaker-execd). The classes are in
// lrmd/classes (ocf, lsb) and lrmd/plugin; the executor (queues per
// resource, timeouts, recurring monitors, history) in lrmd/executor; this
// file is the gRPC surface.
package lrmd

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/rpcserver"
	"github.com/vigil-ha/vigil/lrmd/agent"
	"github.com/vigil-ha/vigil/lrmd/classes"
	"github.com/vigil-ha/vigil/lrmd/executor"
	"github.com/vigil-ha/vigil/lrmd/plugin"
	lrmv1 "github.com/vigil-ha/vigil/proto/vigil/lrm/v1"
)

// Start builds the executor with the ocf, lsb, systemd, service and plugin classes and serves
// ExecutorService. Its work stops when ctx ends.
func Start(ctx context.Context, env daemon.Env, srv *rpcserver.Server) error {
	ocf := classes.NewOCF(classes.OCFConfig{})
	lsb := classes.NewLSB(classes.LSBConfig{})
	systemd := classes.NewSystemd(classes.SystemdConfig{})
	if err := systemd.Available(); err != nil {
		env.Logger.Info("systemd class unavailable", "why", err)
	}
	pcfg := plugin.DefaultConfig()
	if env.Config.Vigil.PluginDir != "" {
		pcfg.Dir = env.Config.Vigil.PluginDir
	}
	pcfg.ChecksumFile = env.Config.Vigil.PluginChecksums
	plugins, err := plugin.New(pcfg, env.Logger.With("component", "plugin"))
	if err != nil {
		return err
	}
	exec := executor.NewWithOptions(executor.Options{Logger: env.Logger, Context: ctx}, ocf, lsb, systemd, classes.NewService(lsb, systemd), plugins)
	go func() {
		<-ctx.Done()
		exec.Close()
	}()
	s := &Server{log: env.Logger, exec: exec}
	lrmv1.RegisterExecutorServiceServer(srv, s)
	return nil
}

// Server is the gRPC surface of vigil-lrmd.
type Server struct {
	lrmv1.UnimplementedExecutorServiceServer
	log  *slog.Logger
	exec *executor.Executor
}

// toStatus is the one table from the executor's errors to gRPC codes.
func toStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, executor.ErrUnknownClass), errors.Is(err, agent.ErrNotInstalled):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, executor.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, executor.ErrNoInterval):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, executor.ErrClosed):
		return status.Error(codes.Unavailable, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

func operationFromPB(o *lrmv1.Operation) agent.Operation {
	return agent.Operation{
		ResourceID: o.GetResourceId(),
		Class:      o.GetAgent().GetClass(),
		Provider:   o.GetAgent().GetProvider(),
		Type:       o.GetAgent().GetType(),
		Action:     o.GetAction(),
		Interval:   o.GetInterval().AsDuration(),
		Timeout:    o.GetTimeout().AsDuration(),
		Params:     o.GetParameters(),
		Meta:       o.GetMeta(),
	}
}

var statusToPB = map[agent.Status]lrmv1.Status{
	agent.StatusDone:         lrmv1.Status_STATUS_DONE,
	agent.StatusCancelled:    lrmv1.Status_STATUS_CANCELLED,
	agent.StatusTimedOut:     lrmv1.Status_STATUS_TIMED_OUT,
	agent.StatusNotSupported: lrmv1.Status_STATUS_NOT_SUPPORTED,
	agent.StatusError:        lrmv1.Status_STATUS_ERROR,
	agent.StatusNotInstalled: lrmv1.Status_STATUS_NOT_INSTALLED,
	agent.StatusPending:      lrmv1.Status_STATUS_PENDING,
}

func resultToPB(callID int64, op agent.Operation, r agent.Result, queue time.Duration) *lrmv1.Result {
	out := &lrmv1.Result{
		ResourceId: op.ResourceID, Action: op.Action, Interval: durationpb.New(op.Interval),
		CallId: uint64(callID), Status: statusToPB[r.Status], ExitCode: int32(r.ExitCode),
		ExitReason: r.ExitReason, Output: r.Output,
		ExecTime: durationpb.New(r.ExecTime), QueueTime: durationpb.New(queue),
	}
	if !r.Started.IsZero() {
		out.StartedAt = timestamppb.New(r.Started)
	}
	return out
}

// Exec runs one operation; with an interval it arms a recurring one and
// returns the result of its first run.
func (s *Server) Exec(ctx context.Context, req *lrmv1.ExecRequest) (*lrmv1.ExecResponse, error) {
	op := operationFromPB(req.GetOperation())
	if op.ResourceID == "" || op.Class == "" || op.Type == "" || op.Action == "" {
		return nil, status.Error(codes.InvalidArgument, "an operation needs a resource id, an agent (class and type) and an action")
	}
	if _, err := s.exec.Class(op.Class); err != nil {
		return nil, toStatus(err)
	}
	if op.Interval > 0 {
		events, stop := s.exec.Subscribe()
		defer stop()
		callID, err := s.exec.StartRecurring(op)
		if err != nil {
			return nil, toStatus(err)
		}
		// The same recurring operation may be armed already (duplicates
		// are merged) and its first result published long ago: answer
		// with its last result instead of waiting for a change.
		for _, h := range s.exec.History(op.ResourceID) {
			if h.CallID == callID && h.Result.Status != agent.StatusPending {
				return &lrmv1.ExecResponse{Result: resultToPB(h.CallID, h.Op, h.Result, h.QueueTime)}, nil
			}
		}
		for {
			select {
			case <-ctx.Done():
				return nil, status.FromContextError(ctx.Err()).Err()
			case ev := <-events:
				if ev.CallID == callID {
					return &lrmv1.ExecResponse{Result: resultToPB(ev.CallID, ev.Op, ev.Result, ev.QueueTime)}, nil
				}
			}
		}
	}
	r := s.exec.Exec(ctx, op)
	return &lrmv1.ExecResponse{Result: resultToPB(0, op, r, 0)}, nil
}

// Cancel stops a recurring operation.
func (s *Server) Cancel(_ context.Context, req *lrmv1.CancelRequest) (*lrmv1.CancelResponse, error) {
	if err := s.exec.Cancel(req.GetResourceId(), req.GetAction(), req.GetInterval().AsDuration()); err != nil {
		return nil, toStatus(err)
	}
	return &lrmv1.CancelResponse{}, nil
}

// GetHistory returns the last result of each operation of each resource.
func (s *Server) GetHistory(_ context.Context, req *lrmv1.GetHistoryRequest) (*lrmv1.GetHistoryResponse, error) {
	ids := s.exec.Resources()
	if req.GetResourceId() != "" {
		ids = []string{req.GetResourceId()}
	}
	resp := &lrmv1.GetHistoryResponse{}
	for _, id := range ids {
		h := &lrmv1.ResourceHistory{ResourceId: id}
		for _, e := range s.exec.History(id) {
			h.Agent = &lrmv1.Agent{Class: e.Op.Class, Provider: e.Op.Provider, Type: e.Op.Type}
			h.Results = append(h.Results, resultToPB(e.CallID, e.Op, e.Result, e.QueueTime))
		}
		resp.Resources = append(resp.Resources, h)
	}
	return resp, nil
}

// WatchResults streams operation results as the executor publishes them.
func (s *Server) WatchResults(_ *lrmv1.WatchResultsRequest, stream grpc.ServerStreamingServer[lrmv1.WatchResultsResponse]) error {
	events, stop := s.exec.Subscribe()
	defer stop()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return status.Error(codes.Unavailable, "the executor stopped")
			}
			if err := stream.Send(&lrmv1.WatchResultsResponse{Result: resultToPB(ev.CallID, ev.Op, ev.Result, ev.QueueTime)}); err != nil {
				return err
			}
		}
	}
}

// ListClasses lists the classes that can run on this node.
func (s *Server) ListClasses(context.Context, *lrmv1.ListClassesRequest) (*lrmv1.ListClassesResponse, error) {
	resp := &lrmv1.ListClassesResponse{}
	for _, name := range s.exec.Classes() {
		if c, err := s.exec.Class(name); err == nil && c.Available() == nil {
			resp.Classes = append(resp.Classes, name)
		}
	}
	return resp, nil
}

// ListAgents lists the agents of a class (and provider).
func (s *Server) ListAgents(_ context.Context, req *lrmv1.ListAgentsRequest) (*lrmv1.ListAgentsResponse, error) {
	c, err := s.exec.Class(req.GetClass())
	if err != nil {
		return nil, toStatus(err)
	}
	providers := []string{req.GetProvider()}
	if req.GetProvider() == "" {
		if ps, err := c.Providers(); err == nil && ps != nil {
			providers = ps
		}
	}
	resp := &lrmv1.ListAgentsResponse{}
	for _, p := range providers {
		types, err := c.Agents(p)
		if err != nil {
			return nil, toStatus(err)
		}
		for _, t := range types {
			resp.Agents = append(resp.Agents, &lrmv1.Agent{Class: req.GetClass(), Provider: p, Type: t})
		}
	}
	return resp, nil
}

// GetAgentMetadata returns an agent's meta-data.
func (s *Server) GetAgentMetadata(ctx context.Context, req *lrmv1.GetAgentMetadataRequest) (*lrmv1.GetAgentMetadataResponse, error) {
	a := req.GetAgent()
	c, err := s.exec.Class(a.GetClass())
	if err != nil {
		return nil, toStatus(err)
	}
	md, err := c.Metadata(ctx, a.GetProvider(), a.GetType())
	if err != nil {
		return nil, toStatus(err)
	}
	return &lrmv1.GetAgentMetadataResponse{Xml: md}, nil
}
