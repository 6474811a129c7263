package classes

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lrmd/agent"
)

// TestServiceAlias checks that service:NAME runs the LSB script when one
// exists, the systemd unit otherwise, and says where it looked when
// neither can.
func TestServiceAlias(t *testing.T) {
	initd := t.TempDir()
	state := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(filepath.Join(initd, "vigiltest"), []byte(lsbScript), 0o755); err != nil {
		t.Fatal(err)
	}
	lsb := NewLSB(LSBConfig{Dir: initd, RunConfig: RunConfig{Env: []string{"PATH=" + DefaultPath, "STATE_FILE=" + state}}})

	// systemctl stand-in: every unit is nginx, kept in a state file.
	sysdir := t.TempDir()
	unitState := filepath.Join(sysdir, "unit")
	fake := filepath.Join(sysdir, "systemctl")
	script := `#!/bin/sh
case "$1" in
start) echo active > ` + unitState + `;;
stop) echo inactive > ` + unitState + `;;
is-active) s=$(cat ` + unitState + ` 2>/dev/null || echo inactive); echo "$s"; [ "$s" = active ];;
list-unit-files) echo "nginx.service enabled enabled";;
*) exit 1;;
esac
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	run := func(c *Service, typ, action string) agent.Result {
		return c.Exec(ctx, agent.Operation{ResourceID: "r", Class: "service", Type: typ, Action: action, Timeout: 5 * time.Second})
	}

	withSystemd := NewService(lsb, NewSystemd(SystemdConfig{Systemctl: fake, RuntimeDir: sysdir}))
	if err := withSystemd.Available(); err != nil {
		t.Fatal(err)
	}
	agents, err := withSystemd.Agents("")
	if err != nil || !slices.Equal(agents, []string{"nginx", "vigiltest"}) {
		t.Fatalf("Agents = %v, %v", agents, err)
	}
	if r := run(withSystemd, "vigiltest", "start"); r.Status != agent.StatusDone || r.ExitCode != 0 {
		t.Fatalf("start of the LSB script: %+v", r)
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("the LSB script did not run: %v", err)
	}
	if r := run(withSystemd, "nginx", "start"); r.Status != agent.StatusDone || r.ExitCode != 0 {
		t.Fatalf("start of the unit: %+v", r)
	}
	if r := run(withSystemd, "nginx", "monitor"); r.Status != agent.StatusDone || r.ExitCode != 0 {
		t.Fatalf("monitor of the unit: %+v", r)
	}
	md, err := withSystemd.Metadata(ctx, "", "vigiltest")
	if err != nil || !strings.Contains(string(md), "a test service") {
		t.Fatalf("meta-data of the LSB script: %v\n%s", err, md)
	}

	// Without systemd as init, only LSB scripts resolve.
	noSystemd := NewService(lsb, NewSystemd(SystemdConfig{Systemctl: fake, RuntimeDir: filepath.Join(sysdir, "absent")}))
	if err := noSystemd.Available(); err != nil {
		t.Fatal(err)
	}
	r := run(noSystemd, "nginx", "start")
	if r.Status != agent.StatusNotInstalled || !strings.Contains(r.Output, "no executable LSB script at "+filepath.Join(initd, "nginx")) || !strings.Contains(r.Output, "systemd is not running as init") {
		t.Fatalf("unit without systemd: %+v", r)
	}
	if r := run(noSystemd, "../etc", "start"); r.Status != agent.StatusNotInstalled {
		t.Fatalf("bad name: %+v", r)
	}
}
