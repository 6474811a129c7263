package sdk_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-ha/vigil/plugins/sdk"
	"github.com/vigil-ha/vigil/plugins/sdk/sdktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder answers every action with code and remembers the last request.
type recorder struct {
	info sdk.Info
	code sdk.ExitCode
	last chan sdk.Request
}

func (r *recorder) Info() sdk.Info { return r.info }

func (r *recorder) Execute(_ context.Context, req sdk.Request) sdk.Response {
	if req.Action == "panic" {
		panic("boom")
	}
	select {
	case r.last <- req:
	default:
	}
	return sdk.Response{Code: r.code, Reason: "because", Output: "out"}
}

func newRecorder(code sdk.ExitCode) *recorder {
	return &recorder{
		code: code,
		last: make(chan sdk.Request, 1),
		info: sdk.Info{
			Name: "rec", Version: "1.2.3", ShortDescription: "short", Description: "long",
			Parameters: []sdk.Parameter{
				{Name: "port", Type: sdk.TypeInteger, Required: true, Unique: true, Description: "the port"},
				{Name: "verbose", Type: sdk.TypeBoolean, Default: "no"},
			},
			Actions: []sdk.Action{
				{Name: "start", Timeout: 30 * time.Second},
				{Name: "monitor", Timeout: 5 * time.Second, Interval: 7 * time.Second},
				{Name: "panic"},
				{Name: "bad-code"},
			},
		},
	}
}

func TestInfoRoundTrip(t *testing.T) {
	r := newRecorder(sdk.Success)
	got := sdktest.New(t, r).Info()
	if got.Name != "rec" || got.Version != "1.2.3" || got.ShortDescription != "short" || got.Description != "long" {
		t.Errorf("info = %+v", got)
	}
	if len(got.Parameters) != 2 || got.Parameters[0] != r.info.Parameters[0] || got.Parameters[1] != r.info.Parameters[1] {
		t.Errorf("parameters = %+v", got.Parameters)
	}
	if len(got.Actions) != 4 || got.Actions[1] != r.info.Actions[1] {
		t.Errorf("actions = %+v", got.Actions)
	}
}

func TestDefaultActions(t *testing.T) {
	r := newRecorder(sdk.Success)
	r.info.Actions = nil
	got := sdktest.New(t, r).Info()
	if len(got.Actions) != len(sdk.DefaultActions()) {
		t.Errorf("actions = %+v, want the defaults", got.Actions)
	}
}

func TestExecuteRoundTrip(t *testing.T) {
	r := newRecorder(sdk.NotRunning)
	h := sdktest.New(t, r)
	resp := h.Do(sdk.Request{
		Action: "monitor", ResourceID: "web", Params: map[string]string{"port": "80"},
		Meta: map[string]string{"on_fail": "restart"}, Timeout: 3 * time.Second, Interval: 10 * time.Second,
	})
	if resp != (sdk.Response{Code: sdk.NotRunning, Reason: "because", Output: "out"}) {
		t.Errorf("response = %+v", resp)
	}
	req := <-r.last
	if req.Action != "monitor" || req.ResourceID != "web" || req.Timeout != 3*time.Second || req.Interval != 10*time.Second {
		t.Errorf("request = %+v", req)
	}
	if req.Params["port"] != "80" || req.Params["verbose"] != "no" || req.Meta["on_fail"] != "restart" {
		t.Errorf("params = %v meta = %v (defaults must be filled in)", req.Params, req.Meta)
	}
}

func TestExitCodes(t *testing.T) {
	for _, code := range []sdk.ExitCode{sdk.Success, sdk.ErrGeneric, sdk.ErrArgs, sdk.ErrUnimplemented, sdk.ErrPerm,
		sdk.ErrInstalled, sdk.ErrConfigured, sdk.NotRunning, sdk.RunningPromoted, sdk.FailedPromoted, sdk.Degraded, sdk.DegradedPromoted} {
		r := newRecorder(code)
		if got := sdktest.New(t, r).Exec("start", map[string]string{"port": "1"}); got.Code != code {
			t.Errorf("code %d came back as %d", code, got.Code)
		}
	}
	r := newRecorder(42)
	got := sdktest.New(t, r).Exec("start", nil)
	if got.Code != sdk.ErrGeneric {
		t.Errorf("a non-OCF code must become ErrGeneric, got %d", got.Code)
	}
}

func TestSDKAnswers(t *testing.T) {
	h := sdktest.New(t, newRecorder(sdk.Success))
	tests := []struct {
		action string
		params map[string]string
		want   sdk.ExitCode
	}{
		{"promote", nil, sdk.ErrUnimplemented},
		{"panic", nil, sdk.ErrGeneric},
		{"validate-all", map[string]string{"port": "80"}, sdk.Success},
		{"validate-all", nil, sdk.ErrConfigured},
		{"validate-all", map[string]string{"port": "eighty"}, sdk.ErrConfigured},
		{"validate-all", map[string]string{"port": "80", "verbose": "maybe"}, sdk.ErrConfigured},
	}
	for _, tt := range tests {
		got := h.Exec(tt.action, tt.params)
		if got.Code != tt.want {
			t.Errorf("%s %v: got %d %q, want %d", tt.action, tt.params, got.Code, got.Reason, tt.want)
		}
		if got.Code != sdk.Success && got.Reason == "" {
			t.Errorf("%s %v: failure without a reason", tt.action, tt.params)
		}
	}
}

func TestDeadlineReachesAgent(t *testing.T) {
	h := sdktest.New(t, sleeper{})
	h.Timeout = 100 * time.Millisecond
	_, err := h.Client.Execute(ctxWithTimeout(t, 100*time.Millisecond), sdk.Request{Action: "start"})
	if err == nil {
		t.Fatal("no error past the deadline")
	}
}

type sleeper struct{}

func (sleeper) Info() sdk.Info { return sdk.Info{Name: "sleeper"} }
func (sleeper) Execute(ctx context.Context, _ sdk.Request) sdk.Response {
	<-ctx.Done()
	return sdk.Fail(sdk.ErrGeneric, "%v", ctx.Err())
}

func ctxWithTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestExitCodeString(t *testing.T) {
	if sdk.NotRunning.String() != "not running" || sdk.ExitCode(42).String() != "exit code 42" || sdk.ExitCode(42).Valid() {
		t.Error("ExitCode String/Valid")
	}
}
