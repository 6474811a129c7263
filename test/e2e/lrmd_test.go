package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExecutorThroughTheCLI runs the real OCF agents of Debian's
// resource-agents through a running vigil-lrmd, the way an administrator
// would: list the agents, show one's parameters, start, monitor and stop
// ocf:heartbeat:Dummy.
func TestExecutorThroughTheCLI(t *testing.T) {
	if _, err := exec.LookPath("/usr/lib/ocf/resource.d/heartbeat/Dummy"); err != nil {
		requireRealAgents(t)
	}
	c := startCluster(t, 1)
	vigil := func(args ...string) (string, int) {
		out, err := exec.Command(filepath.Join(binDir, "vigil"), append(args, "--dir", c.Dir)...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("vigil %v: %v", args, err)
		}
		return string(out), code
	}
	out, code := vigil("ra", "list", "ocf", "heartbeat")
	if code != 0 || !strings.Contains(out, "IPaddr2\n") || !strings.Contains(out, "Dummy\n") {
		t.Fatalf("vigil ra list ocf heartbeat: exit %d\n%s", code, out)
	}
	out, code = vigil("ra", "info", "ocf:heartbeat:IPaddr2")
	if code != 0 || !strings.Contains(out, "(ocf:heartbeat:IPaddr2)") || !strings.Contains(out, "ip* (string): ") {
		t.Fatalf("vigil ra info ocf:heartbeat:IPaddr2: exit %d\n%s", code, out)
	}
	state := "state=" + filepath.Join(t.TempDir(), "dummy.state")
	for _, step := range []struct {
		action string
		code   int
		want   string
	}{
		{"start", 0, "done, exit code 0"},
		{"monitor", 0, "done, exit code 0"},
		{"stop", 0, "done, exit code 0"},
		{"monitor", 1, "done, exit code 7"},
	} {
		out, code := vigil("lrm", "exec", "ocf:heartbeat:Dummy", "--resource", "d1", "--action", step.action, "--param", state)
		if code != step.code || !strings.Contains(out, step.want) {
			t.Errorf("%s: exit %d, want %d with %q:\n%s", step.action, code, step.code, step.want, out)
		}
	}
	// A recurring monitor, armed twice: the second is merged with the
	// first and answers with its last result instead of waiting.
	for range 2 {
		out, code := vigil("lrm", "exec", "ocf:heartbeat:Dummy", "--resource", "d2", "--action", "monitor", "--interval", "1s", "--param", state)
		if code != 1 || !strings.Contains(out, "done, exit code 7") {
			t.Errorf("recurring monitor of a stopped resource: exit %d\n%s", code, out)
		}
	}
	// A missing required parameter: the agent's own validate-all says
	// which, and the result carries its exit reason.
	out, code = vigil("lrm", "exec", "ocf:heartbeat:IPaddr2", "--action", "validate-all")
	if code == 0 || !strings.Contains(out, "exit code 6") || !strings.Contains(out, "ip parameter") {
		t.Errorf("validate-all without ip: exit %d\n%s", code, out)
	}
	out, code = vigil("lrm", "exec", "ocf:heartbeat:NoSuchAgent", "--action", "start")
	if code == 0 || !strings.Contains(out, "not installed") {
		t.Errorf("unknown agent: exit %d\n%s", code, out)
	}
}

// requireRealAgents skips when Debian's resource-agents is not installed,
// except under CI=true, where scripts/test.sh installs it.
func requireRealAgents(t *testing.T) {
	t.Helper()
	if ciRun() {
		t.Fatal("/usr/lib/ocf/resource.d/heartbeat/Dummy is missing: scripts/test.sh installs resource-agents")
	}
	t.Skip("skipped: Debian's resource-agents is not installed (scripts/test.sh installs it)")
}
