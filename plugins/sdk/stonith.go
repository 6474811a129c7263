package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	stonithv1 "github.com/vigil-ha/vigil/proto/vigil/plugin/stonith/v1"
)

// Stonith is a fencing driver served as a plugin to vigil-fenced. Its
// methods get the device's parameters (pcmk_* parameters removed) and the
// target as the device names it (after pcmk_host_map). An error is a
// failure of the action: vigil-fenced never takes it for a success.
// Implementations must be safe for concurrent use.
type Stonith interface {
	// StonithInfo describes the driver.
	StonithInfo() StonithInfo
	// List returns the nodes the device can fence. A driver that cannot
	// tell returns ErrUnsupported.
	List(ctx context.Context, params map[string]string) ([]string, error)
	// Status reports whether target is powered on (true) or off (false).
	Status(ctx context.Context, params map[string]string, target string) (on bool, err error)
	// Fence carries out action (FenceOff, FenceOn, FenceReboot) on target
	// and returns a message for the fence history. It must return only
	// once the action is done: vigil-fenced reports success on nil.
	Fence(ctx context.Context, params map[string]string, target, action string) (string, error)
}

// The actions a Stonith driver's Fence is asked to carry out.
const (
	FenceOff    = "off"
	FenceOn     = "on"
	FenceReboot = "reboot"
)

// ErrUnsupported is returned by a driver for an action it does not
// implement.
var ErrUnsupported = errors.New("not supported by this driver")

// StonithInfo describes a STONITH driver.
type StonithInfo struct {
	Name        string
	Version     string
	Description string
	Parameters  []Parameter
}

// StonithProtocolVersion is the version of the STONITH plugin protocol:
// the StonithService of vigil.plugin.stonith.v1.
const StonithProtocolVersion = 1

// StonithPluginName is the name under which the driver is dispensed.
const StonithPluginName = "stonith"

// StonithHandshake is the go-plugin handshake between vigil-fenced and a
// STONITH driver; it differs from Handshake so that a resource agent
// plugin is never taken for a fencing driver, or the other way round.
var StonithHandshake = plugin.HandshakeConfig{
	ProtocolVersion:  StonithProtocolVersion,
	MagicCookieKey:   "VIGIL_STONITH_PLUGIN",
	MagicCookieValue: "2b7d4f0e9a1c4e35b8d6c0f3a5e7b9d1-vigil-stonith-driver",
}

// ServeStonith serves s as a STONITH plugin and returns when vigil-fenced
// is done with the process; it is the whole main function of a driver.
func ServeStonith(s Stonith) {
	if os.Getenv(StonithHandshake.MagicCookieKey) != StonithHandshake.MagicCookieValue {
		fmt.Fprintf(os.Stderr, "%s is a Vigil STONITH plugin (protocol %d); vigil-fenced runs it, put it in the plugin directory.\n",
			s.StonithInfo().Name, StonithProtocolVersion)
		os.Exit(1)
	}
	slog.SetDefault(slog.New(hclogJSONHandler()))
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  StonithHandshake,
		VersionedPlugins: StonithServerPlugins(s),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       s.StonithInfo().Name,
			Level:      hclog.Info,
			Output:     os.Stderr,
			JSONFormat: true,
		}),
	})
}

// StonithGRPCPlugin is the go-plugin glue of the STONITH protocol.
type StonithGRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the driver served; nil on the host side.
	Impl Stonith
}

// GRPCServer registers the driver's StonithService on s.
func (p *StonithGRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("sdk: StonithGRPCPlugin has no driver to serve")
	}
	stonithv1.RegisterStonithServiceServer(s, &stonithServer{s: p.Impl})
	return nil
}

// GRPCClient returns a *StonithClient talking to the driver over conn.
func (p *StonithGRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewStonithClient(conn), nil
}

// StonithServerPlugins are the plugin sets a driver serves.
func StonithServerPlugins(s Stonith) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{StonithProtocolVersion: {StonithPluginName: &StonithGRPCPlugin{Impl: s}}}
}

// StonithClientPlugins are the plugin sets vigil-fenced offers; Dispense
// (StonithPluginName) returns a *StonithClient.
func StonithClientPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{StonithProtocolVersion: {StonithPluginName: &StonithGRPCPlugin{}}}
}

// StonithClient is vigil-fenced's side of a driver: the Stonith methods
// over gRPC. Every error, the driver's own or the transport's, is a
// failure.
type StonithClient struct {
	c stonithv1.StonithServiceClient
}

// NewStonithClient returns a client using conn.
func NewStonithClient(conn grpc.ClientConnInterface) *StonithClient {
	return &StonithClient{c: stonithv1.NewStonithServiceClient(conn)}
}

// Info asks the driver for its StonithInfo.
func (c *StonithClient) Info(ctx context.Context) (StonithInfo, error) {
	r, err := c.c.GetInfo(ctx, &stonithv1.GetInfoRequest{})
	if err != nil {
		return StonithInfo{}, fmt.Errorf("sdk: stonith info: %w", err)
	}
	out := StonithInfo{Name: r.GetName(), Version: r.GetVersion(), Description: r.GetDescription()}
	for _, p := range r.GetParameters() {
		out.Parameters = append(out.Parameters, Parameter{Name: p.GetName(), Description: p.GetDescription(),
			Type: p.GetType(), Default: p.GetDefaultValue(), Required: p.GetRequired()})
	}
	return out, nil
}

// List runs the driver's list.
func (c *StonithClient) List(ctx context.Context, params map[string]string, timeout time.Duration) ([]string, error) {
	r, err := c.c.List(ctx, &stonithv1.ListRequest{Parameters: params, Timeout: durationToProto(timeout)})
	if err != nil {
		return nil, fmt.Errorf("list: %s", errorMessage(err))
	}
	return r.GetTargets(), nil
}

// Status runs the driver's status of target.
func (c *StonithClient) Status(ctx context.Context, params map[string]string, target string, timeout time.Duration) (bool, error) {
	r, err := c.c.Status(ctx, &stonithv1.StatusRequest{Parameters: params, Target: target, Timeout: durationToProto(timeout)})
	if err != nil {
		return false, fmt.Errorf("status: %s", errorMessage(err))
	}
	switch r.GetState() {
	case stonithv1.PowerState_POWER_STATE_ON:
		return true, nil
	case stonithv1.PowerState_POWER_STATE_OFF:
		return false, nil
	}
	return false, errors.New("status: the driver answered no power state")
}

// Fence runs action (FenceOff, FenceOn, FenceReboot) on target.
func (c *StonithClient) Fence(ctx context.Context, params map[string]string, target, action string, timeout time.Duration) (string, error) {
	a, ok := map[string]stonithv1.Action{FenceOff: stonithv1.Action_ACTION_OFF, FenceOn: stonithv1.Action_ACTION_ON,
		FenceReboot: stonithv1.Action_ACTION_REBOOT}[action]
	if !ok {
		return "", fmt.Errorf("fence: %q is not off, on or reboot", action)
	}
	r, err := c.c.Fence(ctx, &stonithv1.FenceRequest{Parameters: params, Target: target, Action: a, Timeout: durationToProto(timeout)})
	if err != nil {
		return "", fmt.Errorf("%s: %s", action, errorMessage(err))
	}
	return r.GetMessage(), nil
}

// errorMessage is a gRPC error's message without the status prefix.
func errorMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

// stonithServer adapts a Stonith to the generated server, turning a
// driver's panic into an error so one bad call does not end the plugin.
type stonithServer struct {
	stonithv1.UnimplementedStonithServiceServer
	s Stonith
}

func driverError(err error) error {
	if errors.Is(err, ErrUnsupported) {
		return status.Error(codes.Unimplemented, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

func recovered(name string, err *error) {
	if r := recover(); r != nil {
		*err = status.Errorf(codes.Internal, "%s panicked: %v", name, r)
	}
}

func (s *stonithServer) GetInfo(context.Context, *stonithv1.GetInfoRequest) (*stonithv1.GetInfoResponse, error) {
	i := s.s.StonithInfo()
	out := &stonithv1.GetInfoResponse{Name: i.Name, Version: i.Version, Description: i.Description}
	for _, p := range i.Parameters {
		out.Parameters = append(out.Parameters, &stonithv1.Parameter{Name: p.Name, Description: p.Description,
			Type: p.Type, DefaultValue: p.Default, Required: p.Required})
	}
	return out, nil
}

func (s *stonithServer) List(ctx context.Context, r *stonithv1.ListRequest) (_ *stonithv1.ListResponse, err error) {
	defer recovered(s.s.StonithInfo().Name+" list", &err)
	targets, err := s.s.List(ctx, r.GetParameters())
	if err != nil {
		return nil, driverError(err)
	}
	return &stonithv1.ListResponse{Targets: targets}, nil
}

func (s *stonithServer) Status(ctx context.Context, r *stonithv1.StatusRequest) (_ *stonithv1.StatusResponse, err error) {
	defer recovered(s.s.StonithInfo().Name+" status", &err)
	on, err := s.s.Status(ctx, r.GetParameters(), r.GetTarget())
	if err != nil {
		return nil, driverError(err)
	}
	st := stonithv1.PowerState_POWER_STATE_OFF
	if on {
		st = stonithv1.PowerState_POWER_STATE_ON
	}
	return &stonithv1.StatusResponse{State: st}, nil
}

func (s *stonithServer) Fence(ctx context.Context, r *stonithv1.FenceRequest) (_ *stonithv1.FenceResponse, err error) {
	defer recovered(s.s.StonithInfo().Name+" fence", &err)
	action, ok := map[stonithv1.Action]string{stonithv1.Action_ACTION_OFF: FenceOff, stonithv1.Action_ACTION_ON: FenceOn,
		stonithv1.Action_ACTION_REBOOT: FenceReboot}[r.GetAction()]
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "action %v is not off, on or reboot", r.GetAction())
	}
	msg, err := s.s.Fence(ctx, r.GetParameters(), r.GetTarget(), action)
	if err != nil {
		return nil, driverError(err)
	}
	return &stonithv1.FenceResponse{Message: msg}, nil
}
