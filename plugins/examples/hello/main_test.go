package main

import (
	"path/filepath"
	"testing"

	"github.com/vigil-ha/vigil/plugins/sdk"
	"github.com/vigil-ha/vigil/plugins/sdk/sdktest"
)

func TestHello(t *testing.T) {
	h := sdktest.New(t, hello{})
	h.Lifecycle(map[string]string{"name": "world", "file": filepath.Join(t.TempDir(), "greeting")})
}

func TestHelloNeedsName(t *testing.T) {
	h := sdktest.New(t, hello{})
	h.Expect(sdk.ActionStart, nil, sdk.ErrConfigured)
}
