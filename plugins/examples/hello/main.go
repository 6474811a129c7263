// Command hello is a minimal third-party resource agent written only
// against plugins/sdk: "running" means a greeting file exists. It is the
// example walked through in docs/writing-agents.md.
package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vigil-ha/vigil/plugins/sdk"
)

func main() { sdk.Serve(hello{}) }

type hello struct{}

// Info describes the agent; vigil-lrmd turns it into OCF meta-data.
func (hello) Info() sdk.Info {
	return sdk.Info{
		Name:             "hello",
		Version:          "0.1.0",
		ShortDescription: "Writes a greeting file while running",
		Description:      "An example agent: start writes \"Hello, NAME\" to a file, monitor checks it, stop removes it.",
		Parameters: []sdk.Parameter{
			{Name: "name", Description: "Who to greet.", Required: true},
			{Name: "file", Description: "The greeting file; default: hello-RESOURCE in the temporary directory.", Unique: true},
		},
		// No Actions: start, stop, monitor and validate-all (sdk.DefaultActions).
	}
}

// Execute runs one action. Parameter defaults are already filled in.
func (a hello) Execute(_ context.Context, req sdk.Request) sdk.Response {
	if v := sdk.Validate(a.Info(), req.Params); v.Code != sdk.Success {
		return v
	}
	file := req.Params["file"]
	if file == "" {
		file = filepath.Join(os.TempDir(), "hello-"+filepath.Base(req.ResourceID))
	}
	switch req.Action {
	case sdk.ActionStart:
		if err := os.WriteFile(file, []byte("Hello, "+req.Params["name"]+"\n"), 0o644); err != nil {
			return sdk.Fail(sdk.ErrGeneric, "write %s: %v", file, err)
		}
		return sdk.OK()
	case sdk.ActionStop:
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return sdk.Fail(sdk.ErrGeneric, "remove %s: %v", file, err)
		}
		return sdk.OK() // stopping a stopped resource succeeds
	case sdk.ActionMonitor:
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return sdk.Response{Code: sdk.NotRunning}
		} else if err != nil {
			return sdk.Fail(sdk.ErrGeneric, "%v", err)
		}
		return sdk.OK()
	case sdk.ActionValidateAll:
		return sdk.OK()
	}
	return sdk.Fail(sdk.ErrUnimplemented, "hello does not implement %s", req.Action)
}
