package sdk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	agentv1 "github.com/vigil-ha/vigil/proto/vigil/plugin/agent/v1"
)

// ProtocolVersion is the version of the plugin protocol this SDK speaks:
// the AgentService of vigil.plugin.agent.v1. vigil-lrmd and the plugin
// agree on the highest version both support during the go-plugin
// handshake, so a future version 2 can be added next to 1 without breaking
// agents built against this SDK.
const ProtocolVersion = 1

// PluginName is the name under which the agent is dispensed in the
// go-plugin plugin set.
const PluginName = "agent"

// Handshake is the go-plugin handshake shared by vigil-lrmd and every
// agent. The magic cookie is not a security measure: it stops a plugin
// binary started by hand from waiting for a host that never comes, and
// lets the host recognize binaries that are not Vigil agents.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "VIGIL_AGENT_PLUGIN",
	MagicCookieValue: "6f1c0e0b6b0f4c4b9d7e5a3a8c2e1d4f-vigil-resource-agent",
}

// GRPCPlugin is the go-plugin glue of the agent protocol. Plugin authors
// never use it (Serve does); hosts such as vigil-lrmd use ClientPlugins and
// get a *Client from Dispense.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the agent served; nil on the host side.
	Impl Agent
}

// GRPCServer registers the agent's AgentService on s.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("sdk: GRPCPlugin has no agent to serve")
	}
	agentv1.RegisterAgentServiceServer(s, &server{agent: p.Impl})
	return nil
}

// GRPCClient returns a *Client talking to the agent over conn.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewClient(conn), nil
}

// ServerPlugins are the versioned plugin sets a plugin serves.
func ServerPlugins(a Agent) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &GRPCPlugin{Impl: a}},
	}
}

// ClientPlugins are the versioned plugin sets a host offers; Dispense
// (PluginName) returns a *Client.
func ClientPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &GRPCPlugin{}},
	}
}

// Client is the host's side of an agent: the Agent's methods over gRPC,
// with transport failures (the plugin died, the deadline passed) returned
// as errors rather than folded into exit codes.
type Client struct {
	c agentv1.AgentServiceClient
}

// NewClient returns a Client using conn, a connection to a plugin serving
// the agent protocol.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{c: agentv1.NewAgentServiceClient(conn)}
}

// Info asks the agent for its Info.
func (c *Client) Info(ctx context.Context) (Info, error) {
	resp, err := c.c.GetInfo(ctx, &agentv1.GetInfoRequest{})
	if err != nil {
		return Info{}, fmt.Errorf("sdk: get info: %w", err)
	}
	return infoFromProto(resp), nil
}

// Execute runs req on the agent. The error is non-nil only when the agent
// could not answer; the agent's own failures are in Response.Code.
func (c *Client) Execute(ctx context.Context, req Request) (Response, error) {
	resp, err := c.c.Execute(ctx, requestToProto(req))
	if err != nil {
		return Response{}, fmt.Errorf("sdk: execute %s: %w", req.Action, err)
	}
	return Response{
		Code:   ExitCode(resp.GetExitCode()),
		Reason: resp.GetExitReason(),
		Output: resp.GetOutput(),
	}, nil
}

// server adapts an Agent to the generated AgentServiceServer.
type server struct {
	agentv1.UnimplementedAgentServiceServer
	agent Agent
}

func (s *server) GetInfo(context.Context, *agentv1.GetInfoRequest) (*agentv1.GetInfoResponse, error) {
	return infoToProto(s.agent.Info()), nil
}

func (s *server) Execute(ctx context.Context, preq *agentv1.ExecuteRequest) (*agentv1.ExecuteResponse, error) {
	req := requestFromProto(preq)
	resp := s.execute(ctx, req)
	return &agentv1.ExecuteResponse{
		ExitCode:   agentv1.ExitCode(resp.Code),
		ExitReason: resp.Reason,
		Output:     resp.Output,
	}, nil
}

// execute fills defaults in, answers actions the agent does not list, and
// turns a panic of the agent into ErrGeneric so one bad operation does not
// take the plugin process down.
func (s *server) execute(ctx context.Context, req Request) (resp Response) {
	info := s.agent.Info()
	actions := info.Actions
	if len(actions) == 0 {
		actions = DefaultActions()
	}
	if req.Params == nil {
		req.Params = map[string]string{}
	}
	for _, p := range info.Parameters {
		if _, ok := req.Params[p.Name]; !ok && p.Default != "" {
			req.Params[p.Name] = p.Default
		}
	}
	if req.Meta == nil {
		req.Meta = map[string]string{}
	}
	listed := slices.ContainsFunc(actions, func(a Action) bool { return a.Name == req.Action })
	if !listed {
		if req.Action == ActionValidateAll {
			return Validate(info, req.Params)
		}
		return Fail(ErrUnimplemented, "%s does not implement %s", info.Name, req.Action)
	}
	defer func() {
		if r := recover(); r != nil {
			resp = Fail(ErrGeneric, "%s: %s panicked: %v", info.Name, req.Action, r)
		}
	}()
	resp = s.agent.Execute(ctx, req)
	if !resp.Code.Valid() {
		resp.Output = fmt.Sprintf("agent returned exit code %d, not an OCF code\n%s", int(resp.Code), resp.Output)
		resp.Code = ErrGeneric
	}
	return resp
}

// Validate checks params against info's parameters: every required one is
// set, integers and booleans parse. It is what validate-all answers for an
// agent that does not implement validate-all; agents that do may call it
// first.
func Validate(info Info, params map[string]string) Response {
	for _, p := range info.Parameters {
		v, ok := params[p.Name]
		if !ok || v == "" {
			if p.Required {
				return Fail(ErrConfigured, "required parameter %s is not set", p.Name)
			}
			continue
		}
		switch p.Type {
		case TypeInteger:
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return Fail(ErrConfigured, "parameter %s=%q is not an integer", p.Name, v)
			}
		case TypeBoolean:
			if _, err := parseBool(v); err != nil {
				return Fail(ErrConfigured, "parameter %s=%q is not a boolean", p.Name, v)
			}
		}
	}
	return OK()
}

// parseBool accepts the spellings Pacemaker accepts (crm_is_true).
func parseBool(v string) (bool, error) {
	switch v {
	case "true", "yes", "on", "y", "1", "TRUE", "True", "YES", "Yes", "ON", "On":
		return true, nil
	case "false", "no", "off", "n", "0", "FALSE", "False", "NO", "No", "OFF", "Off":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", v)
}

// ParseBool reads a boolean parameter the way Pacemaker does (true, yes,
// on, y, 1 and their opposites); other values are an error.
func ParseBool(v string) (bool, error) { return parseBool(v) }

func durationToProto(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

func durationFromProto(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.AsDuration()
}

func requestToProto(r Request) *agentv1.ExecuteRequest {
	return &agentv1.ExecuteRequest{
		Action:     r.Action,
		ResourceId: r.ResourceID,
		Parameters: r.Params,
		Meta:       r.Meta,
		Timeout:    durationToProto(r.Timeout),
		Interval:   durationToProto(r.Interval),
	}
}

func requestFromProto(r *agentv1.ExecuteRequest) Request {
	return Request{
		Action:     r.GetAction(),
		ResourceID: r.GetResourceId(),
		Params:     r.GetParameters(),
		Meta:       r.GetMeta(),
		Timeout:    durationFromProto(r.GetTimeout()),
		Interval:   durationFromProto(r.GetInterval()),
	}
}

func infoToProto(i Info) *agentv1.GetInfoResponse {
	out := &agentv1.GetInfoResponse{
		Name:             i.Name,
		Version:          i.Version,
		ShortDescription: i.ShortDescription,
		Description:      i.Description,
	}
	for _, p := range i.Parameters {
		out.Parameters = append(out.Parameters, &agentv1.Parameter{
			Name:         p.Name,
			Description:  p.Description,
			Type:         p.Type,
			DefaultValue: p.Default,
			Required:     p.Required,
			Unique:       p.Unique,
		})
	}
	actions := i.Actions
	if len(actions) == 0 {
		actions = DefaultActions()
	}
	for _, a := range actions {
		out.Actions = append(out.Actions, &agentv1.Action{
			Name:     a.Name,
			Timeout:  durationToProto(a.Timeout),
			Interval: durationToProto(a.Interval),
		})
	}
	return out
}

func infoFromProto(r *agentv1.GetInfoResponse) Info {
	out := Info{
		Name:             r.GetName(),
		Version:          r.GetVersion(),
		ShortDescription: r.GetShortDescription(),
		Description:      r.GetDescription(),
	}
	for _, p := range r.GetParameters() {
		out.Parameters = append(out.Parameters, Parameter{
			Name:        p.GetName(),
			Description: p.GetDescription(),
			Type:        p.GetType(),
			Default:     p.GetDefaultValue(),
			Required:    p.GetRequired(),
			Unique:      p.GetUnique(),
		})
	}
	for _, a := range r.GetActions() {
		out.Actions = append(out.Actions, Action{
			Name:     a.GetName(),
			Timeout:  durationFromProto(a.GetTimeout()),
			Interval: durationFromProto(a.GetInterval()),
		})
	}
	return out
}
