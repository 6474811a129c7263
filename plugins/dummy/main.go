// Command dummy is the plugin version of ocf:pacemaker:Dummy: a resource
// that is "running" while its state file exists. Delays, failures and
// crashes can be configured per action, for testing the cluster and the
// executor.
//
// Build it with `go build ./plugins/dummy` and put the binary in
// vigil-lrmd's plugin directory; the resource is then plugin::dummy.
package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/plugins/sdk"
)

func main() { sdk.Serve(dummy{}) }

type dummy struct{}

func (dummy) Info() sdk.Info {
	return sdk.Info{
		Name:             "dummy",
		Version:          "1.0.0",
		ShortDescription: "Example stateless resource agent (plugin)",
		Description: "A resource that does nothing but exist: running while its state file exists, " +
			"like ocf:pacemaker:Dummy. Delays, failures and crashes can be configured per action for tests.",
		Parameters: []sdk.Parameter{
			{Name: "state", Description: "Location of the state file; default: vigil-dummy-RESOURCE.state in the temporary directory.", Unique: true},
			{Name: "delay", Description: "Duration (Go syntax, e.g. 500ms) every action sleeps before doing anything."},
			{Name: "start_delay", Description: "Duration start sleeps (instead of delay)."},
			{Name: "stop_delay", Description: "Duration stop sleeps (instead of delay)."},
			{Name: "monitor_delay", Description: "Duration monitor sleeps (instead of delay)."},
			{Name: "fail_action", Description: "Comma-separated actions that fail with fail_code (after their delay)."},
			{Name: "fail_code", Description: "OCF exit code of a forced failure.", Type: sdk.TypeInteger, Default: "1"},
			{Name: "crash_action", Description: "Comma-separated actions during which the plugin process exits abruptly (testing only)."},
		},
		Actions: []sdk.Action{
			{Name: sdk.ActionStart, Timeout: 20 * time.Second},
			{Name: sdk.ActionStop, Timeout: 20 * time.Second},
			{Name: sdk.ActionMonitor, Timeout: 20 * time.Second, Interval: 10 * time.Second},
			{Name: sdk.ActionReload, Timeout: 20 * time.Second},
			{Name: sdk.ActionMigrateTo, Timeout: 20 * time.Second},
			{Name: sdk.ActionMigrateFrom, Timeout: 20 * time.Second},
			{Name: sdk.ActionValidateAll, Timeout: 20 * time.Second},
		},
	}
}

func (d dummy) Execute(ctx context.Context, req sdk.Request) sdk.Response {
	p := req.Params
	if v := sdk.Validate(d.Info(), p); v.Code != sdk.Success {
		return v
	}
	delay := p["delay"]
	if v := p[req.Action+"_delay"]; v != "" {
		delay = v
	}
	if delay != "" {
		dur, err := time.ParseDuration(delay)
		if err != nil {
			return sdk.Fail(sdk.ErrConfigured, "delay %q: %v", delay, err)
		}
		select {
		case <-time.After(dur):
		case <-ctx.Done():
			return sdk.Fail(sdk.ErrGeneric, "%s cancelled during its delay: %v", req.Action, ctx.Err())
		}
	}
	if listed(p["crash_action"], req.Action) {
		// slog writes straight to the process's stderr; os.Stderr is
		// go-plugin's stream by now and would lose the line on exit.
		slog.Error("dummy: crashing during " + req.Action + " as configured (crash_action)")
		os.Exit(3)
	}
	if listed(p["fail_action"], req.Action) {
		code, _ := strconv.Atoi(p["fail_code"])
		return sdk.Fail(sdk.ExitCode(code), "%s fails as configured (fail_action)", req.Action)
	}
	state := p["state"]
	if state == "" {
		state = filepath.Join(os.TempDir(), "vigil-dummy-"+safe(req.ResourceID)+".state")
	}
	switch req.Action {
	case sdk.ActionStart, sdk.ActionMigrateFrom, sdk.ActionReload:
		if err := os.WriteFile(state, []byte(req.ResourceID+"\n"), 0o644); err != nil {
			return sdk.Fail(sdk.ErrPerm, "write state file: %v", err)
		}
		return sdk.OK()
	case sdk.ActionStop, sdk.ActionMigrateTo:
		if err := os.Remove(state); err != nil && !os.IsNotExist(err) {
			return sdk.Fail(sdk.ErrGeneric, "remove state file: %v", err)
		}
		return sdk.OK()
	case sdk.ActionMonitor:
		if _, err := os.Stat(state); os.IsNotExist(err) {
			return sdk.Response{Code: sdk.NotRunning}
		} else if err != nil {
			return sdk.Fail(sdk.ErrGeneric, "state file: %v", err)
		}
		return sdk.OK()
	case sdk.ActionValidateAll:
		return sdk.OK()
	}
	return sdk.Fail(sdk.ErrUnimplemented, "dummy does not implement %s", req.Action)
}

func listed(list, action string) bool {
	for a := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(a) == action {
			return true
		}
	}
	return false
}

// safe keeps a resource id usable as part of a file name.
func safe(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == 0 {
			return '_'
		}
		return r
	}, id)
}
