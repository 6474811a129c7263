// Package sdktest runs a plugins/sdk Agent in-process for tests: requests
// go through the same gRPC service and converters as in production, over
// an in-memory connection, without building or starting a plugin binary.
//
//	func TestHello(t *testing.T) {
//		h := sdktest.New(t, hello.Agent{})
//		h.Lifecycle(map[string]string{"name": "world"})
//	}
package sdktest

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/vigil-ha/vigil/plugins/sdk"
)

// Harness is an agent served over an in-memory gRPC connection. It is
// closed when the test ends.
type Harness struct {
	t testing.TB
	// Client is the host's side, as vigil-lrmd sees the agent.
	Client *sdk.Client
	// ResourceID is sent with every request; it defaults to the test's
	// name.
	ResourceID string
	// Timeout is each request's deadline; it defaults to 20 s.
	Timeout time.Duration
}

// New serves a and returns a Harness connected to it.
func New(t testing.TB, a sdk.Agent) *Harness {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	if err := (&sdk.GRPCPlugin{Impl: a}).GRPCServer(nil, srv); err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("sdktest: dial: %v", err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-done
	})
	return &Harness{t: t, Client: sdk.NewClient(conn), ResourceID: t.Name(), Timeout: 20 * time.Second}
}

// Info returns the agent's Info as the host receives it.
func (h *Harness) Info() sdk.Info {
	h.t.Helper()
	info, err := h.Client.Info(context.Background())
	if err != nil {
		h.t.Fatalf("sdktest: %v", err)
	}
	return info
}

// Exec runs action with params and returns the agent's Response; a
// transport error fails the test.
func (h *Harness) Exec(action string, params map[string]string) sdk.Response {
	h.t.Helper()
	return h.Do(sdk.Request{Action: action, Params: params})
}

// Do runs req, filling in ResourceID and Timeout when they are unset.
func (h *Harness) Do(req sdk.Request) sdk.Response {
	h.t.Helper()
	if req.ResourceID == "" {
		req.ResourceID = h.ResourceID
	}
	if req.Timeout == 0 {
		req.Timeout = h.Timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), req.Timeout)
	defer cancel()
	resp, err := h.Client.Execute(ctx, req)
	if err != nil {
		h.t.Fatalf("sdktest: %v", err)
	}
	return resp
}

// Expect runs action and fails the test unless the agent answers want.
func (h *Harness) Expect(action string, params map[string]string, want sdk.ExitCode) sdk.Response {
	h.t.Helper()
	resp := h.Exec(action, params)
	if resp.Code != want {
		h.t.Fatalf("%s: got %d (%s) %q, want %d (%s)\n%s", action, resp.Code, resp.Code, resp.Reason, want, want, resp.Output)
	}
	return resp
}

// Lifecycle checks the behaviour the cluster relies on for any agent:
// validate-all succeeds; monitor says not running before start; start
// succeeds and is idempotent; monitor then succeeds; stop succeeds and is
// idempotent; monitor says not running again.
func (h *Harness) Lifecycle(params map[string]string) {
	h.t.Helper()
	h.Expect(sdk.ActionValidateAll, params, sdk.Success)
	h.Expect(sdk.ActionMonitor, params, sdk.NotRunning)
	h.Expect(sdk.ActionStart, params, sdk.Success)
	h.Expect(sdk.ActionStart, params, sdk.Success)
	h.Expect(sdk.ActionMonitor, params, sdk.Success)
	h.Expect(sdk.ActionStop, params, sdk.Success)
	h.Expect(sdk.ActionStop, params, sdk.Success)
	h.Expect(sdk.ActionMonitor, params, sdk.NotRunning)
}
