package main

import (
	"path/filepath"
	"testing"

	"github.com/vigil-ha/vigil/plugins/sdk"
	"github.com/vigil-ha/vigil/plugins/sdk/sdktest"
)

func TestLifecycle(t *testing.T) {
	h := sdktest.New(t, dummy{})
	h.Lifecycle(map[string]string{"state": filepath.Join(t.TempDir(), "state")})
}

func TestForcedFailure(t *testing.T) {
	h := sdktest.New(t, dummy{})
	params := map[string]string{"state": filepath.Join(t.TempDir(), "state"), "fail_action": "start,monitor", "fail_code": "5"}
	resp := h.Expect(sdk.ActionMonitor, params, sdk.ErrInstalled)
	if resp.Reason == "" {
		t.Error("forced failure has no reason")
	}
	h.Expect(sdk.ActionStop, params, sdk.Success)
	h.Expect(sdk.ActionPromote, params, sdk.ErrUnimplemented)
	h.Expect(sdk.ActionValidateAll, map[string]string{"fail_code": "x"}, sdk.ErrConfigured)
}
