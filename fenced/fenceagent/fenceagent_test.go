package fenceagent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// realAgent returns a fence agent of Debian's fence-agents, skipping when
// it is not installed except under CI=true (scripts/test.sh installs it).
func realAgent(t *testing.T, name string) Agent {
	t.Helper()
	a, err := Find("", name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (scripts/test.sh installs fence-agents)", err)
		}
		t.Skipf("skipped: %v", err)
	}
	return a
}

func run(t *testing.T, a Agent, action string, params map[string]string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := a.Run(ctx, action, params)
	if err != nil {
		t.Fatalf("%s %s: %v", a.Name, action, err)
	}
	return r
}

// TestFenceDummy drives the real fence_dummy through the bridge:
// metadata, then off, on, reboot and status, its state in a file.
func TestFenceDummy(t *testing.T) {
	a := realAgent(t, "fence_dummy")
	md, _, err := a.Metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if md.Name != "fence_dummy" || !md.Supports(ActionReboot) || !md.Supports(ActionStatus) {
		t.Fatalf("metadata %+v", md)
	}
	var names []string
	for _, p := range md.Parameters {
		names = append(names, p.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "status_file") {
		t.Errorf("parameters %v lack status_file", names)
	}
	params := map[string]string{"status_file": filepath.Join(t.TempDir(), "status")}
	for _, step := range []struct {
		action string
		power  Power
	}{
		{ActionStatus, PowerOff},
		{ActionOn, PowerUnknown},
		{ActionStatus, PowerOn},
		{ActionOff, PowerUnknown},
		{ActionStatus, PowerOff},
		{ActionReboot, PowerUnknown},
		{ActionStatus, PowerOn},
	} {
		r := run(t, a, step.action, params)
		if !r.OK || r.Power != step.power {
			t.Errorf("%s: %+v, want OK with power %v", step.action, r, step.power)
		}
	}
	// fence_dummy has no list action: a clear failure, not a success.
	if r := run(t, a, ActionList, params); r.OK || !strings.Contains(r.Output, "list") {
		t.Errorf("list: %+v", r)
	}
}

// TestBadParameters: a real agent without its address fails, saying why.
func TestBadParameters(t *testing.T) {
	a := realAgent(t, "fence_ipmilan")
	r := run(t, a, ActionOff, map[string]string{"login": "admin"})
	if r.OK || r.ExitCode == 0 || !strings.Contains(r.Output, "fence address") {
		t.Errorf("off without ip: %+v", r)
	}
}

// TestHangingAgentIsKilled: an agent that hangs past the deadline is
// reported timed out, never OK, and its process group is gone.
func TestHangingAgentIsKilled(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	script := "#!/bin/sh\nsleep 1000 &\necho $! > " + pidFile + "\nwait\n"
	if err := os.WriteFile(filepath.Join(dir, "fence_hang"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := Find(dir, "fence_hang")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r, err := a.Run(ctx, ActionOff, map[string]string{"plug": "n3"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.TimedOut || r.OK {
		t.Fatalf("hanging agent: %+v", r)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/proc/" + strings.TrimSpace(string(data))); err == nil {
		stat, _ := os.ReadFile("/proc/" + strings.TrimSpace(string(data)) + "/stat")
		if !strings.Contains(string(stat), ") Z ") {
			t.Errorf("the agent's child %s survived the timeout", strings.TrimSpace(string(data)))
		}
	}
}

func TestInputIsChecked(t *testing.T) {
	if _, err := Find(t.TempDir(), "fence_none"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("missing agent: %v", err)
	}
	if _, err := Find("", "../bin/sh"); !errors.Is(err, ErrBadName) {
		t.Errorf("bad name: %v", err)
	}
	if _, err := (Agent{Name: "fence_x", Path: "/bin/true"}).Run(context.Background(), "explode", nil); !errors.Is(err, ErrBadAction) {
		t.Errorf("bad action: %v", err)
	}
}

// TestParametersReachTheAgent checks the stdin protocol: key=value lines,
// the action last, and no parameter may smuggle in another line.
func TestParametersReachTheAgent(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "stdin")
	if err := os.WriteFile(filepath.Join(dir, "fence_echo"), []byte("#!/bin/sh\ncat > "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := Find(dir, "fence_echo")
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, a, ActionReboot, map[string]string{"ip": "10.0.0.9", "plug": "n3\naction=on", "action": "off"})
	if !r.OK {
		t.Fatalf("%+v", r)
	}
	got, _ := os.ReadFile(out)
	if want := "ip=10.0.0.9\naction=reboot\n"; string(got) != want {
		t.Errorf("stdin %q, want %q", got, want)
	}
}
