package classes

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lrmd/agent"
)

func TestSystemdUnavailableWithoutSystemd(t *testing.T) {
	c := NewSystemd(SystemdConfig{RuntimeDir: filepath.Join(t.TempDir(), "none")})
	err := c.Available()
	if err == nil || !strings.Contains(err.Error(), "not running as init") {
		t.Fatalf("Available() = %v, want a clear message", err)
	}
	r := c.Exec(context.Background(), agent.Operation{ResourceID: "web", Class: "systemd", Type: "nginx", Action: "start", Timeout: time.Second})
	if r.Status != agent.StatusNotInstalled || !strings.Contains(r.Output, "not running as init") {
		t.Fatalf("Exec without systemd: %+v", r)
	}
}

// TestSystemdWithAFakeSystemctl runs the class against a systemctl
// stand-in that keeps the unit's state in a file, since systemd is not
// PID 1 where the tests run.
func TestSystemdWithAFakeSystemctl(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	fake := filepath.Join(dir, "systemctl")
	script := `#!/bin/sh
case "$1" in
start) [ "$2" = "nginx.service" ] || exit 5; echo active > ` + state + `;;
stop) echo inactive > ` + state + `;;
is-active) s=$(cat ` + state + ` 2>/dev/null || echo inactive); echo "$s"; [ "$s" = active ];;
*) exit 1;;
esac
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := NewSystemd(SystemdConfig{Systemctl: fake, RuntimeDir: dir})
	if err := c.Available(); err != nil {
		t.Fatal(err)
	}
	op := agent.Operation{ResourceID: "web", Class: "systemd", Type: "nginx", Timeout: 5 * time.Second}
	for _, step := range []struct {
		action string
		code   int
	}{{"monitor", 7}, {"start", 0}, {"monitor", 0}, {"stop", 0}, {"monitor", 7}} {
		op.Action = step.action
		r := c.Exec(context.Background(), op)
		if r.Status != agent.StatusDone || r.ExitCode != step.code {
			t.Errorf("%s: %+v, want exit code %d", step.action, r, step.code)
		}
	}
	op.Action = "promote"
	if r := c.Exec(context.Background(), op); r.Status != agent.StatusNotSupported {
		t.Errorf("promote: %+v", r)
	}
}
