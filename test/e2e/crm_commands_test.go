package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/internal/localcluster"
)

// vigilCmd runs `vigil ARGS... --dir DIR --node NODE` once.
func vigilCmd(c *localcluster.Cluster, node string, args ...string) (string, error) {
	args = append(args, "--dir", c.Dir, "--node", node)
	out, err := exec.Command(filepath.Join(binDir, "vigil"), args...).CombinedOutput()
	return string(out), err
}

// vigilMust runs a vigil command, retrying for a while until it succeeds,
// and returns its output.
func vigilMust(t *testing.T, c *localcluster.Cluster, node string, args ...string) string {
	t.Helper()
	var out string
	waitFor(t, "vigil "+strings.Join(args, " "), 30*time.Second, func() (bool, string) {
		var err error
		out, err = vigilCmd(c, node, args...)
		return err == nil, out
	})
	return out
}

// waitStartedOn waits until vigil status (asked on node ask) shows d1
// Started on a node for which ok holds, and the agents' state files agree.
func waitStartedOn(t *testing.T, c *localcluster.Cluster, ask, what string, all []string, ok func(string) bool) string {
	t.Helper()
	var on string
	waitFor(t, what, 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, ask)
		m := startedOn.FindStringSubmatch(out)
		if err != nil || m == nil || !ok(m[1]) {
			return false, out
		}
		if st := dummyStates(c, all); len(st) != 1 || st[0] != m[1] {
			return false, out
		}
		on = m[1]
		return true, out
	})
	return on
}

// TestResourceCommands: the node and resource commands drive a live
// cluster: standby moves d1 away, online brings the node back, move puts
// d1 where asked and clear removes the constraint, a monitor failure is
// recovered in place and counted, cleanup forgets it, stop and start
// follow target-role.
func TestResourceCommands(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitFor(t, "three nodes online in vigil status", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n1")
		return err == nil && strings.Contains(out, "Online: [ n1 n2 n3 ]") && strings.Contains(out, "partition with quorum"), out
	})
	vigilConfigure(t, c, "n1", "", "property", "stonith-enabled=false")
	vigilConfigure(t, c, "n1", "", "primitive", "d1", "plugin:dummy", "params", "state=d1.state", "op", "monitor", "interval=1s",
		"meta", "resource-stickiness=100")
	any := func(string) bool { return true }
	first := waitStartedOn(t, c, "n1", "d1 started", all, any)

	// Standby moves it away; online leaves it where it went (stickiness).
	t0 := time.Now()
	out := vigilMust(t, c, "n1", "node", "standby", first)
	t.Logf("%s", strings.TrimSpace(out))
	second := waitStartedOn(t, c, "n1", "d1 away from the standby node", all, func(n string) bool { return n != first })
	t.Logf("standby %s: d1 Started on %s after %v", first, second, time.Since(t0).Round(time.Millisecond))
	st, _ := vigilStatus(c, "n1")
	if !strings.Contains(st, "Node "+first+": standby") {
		t.Errorf("vigil status does not show %s in standby:\n%s", first, st)
	}
	vigilMust(t, c, "n1", "node", "online", first)
	waitFor(t, first+" online again", 30*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n1")
		return err == nil && strings.Contains(out, "Online: [ n1 n2 n3 ]"), out
	})

	// Move to the third node; locate says so; clear removes the constraint.
	var third string
	for _, n := range all {
		if n != first && n != second {
			third = n
		}
	}
	t0 = time.Now()
	vigilMust(t, c, "n2", "resource", "move", "d1", third)
	waitStartedOn(t, c, "n2", "d1 moved to "+third, all, func(n string) bool { return n == third })
	t.Logf("move d1 %s: Started there after %v", third, time.Since(t0).Round(time.Millisecond))
	if out := vigilMust(t, c, "n3", "resource", "locate", "d1"); out != "resource d1 is running on: "+third+"\n" {
		t.Errorf("locate: %q", out)
	}
	xml := vigilMust(t, c, "n1", "cib", "export")
	if !strings.Contains(xml, `id="cli-prefer-d1"`) {
		t.Errorf("no cli-prefer-d1 in the CIB after move")
	}
	vigilMust(t, c, "n1", "resource", "clear", "d1")
	xml = vigilMust(t, c, "n1", "cib", "export")
	if strings.Contains(xml, `cli-prefer-d1`) {
		t.Errorf("cli-prefer-d1 still in the CIB after clear")
	}

	// A monitor failure: the state file goes behind the agent's back.
	if err := os.Remove(filepath.Join(c.Dir, "nodes", third, "d1.state")); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	waitFor(t, "d1's monitor failure recovered and counted", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n1")
		fc, _ := vigilCmd(c, "n1", "resource", "failcount", "d1", third)
		return err == nil && startedOn.MatchString(out) && strings.Contains(out, "Failed Resource Actions:") &&
			strings.Contains(out, "d1_monitor_1000 on "+third+" 'not running' (7)") &&
			strings.Contains(fc, "node="+third+"  name=fail-count-d1 value=1") && len(dummyStates(c, all)) == 1, out + fc
	})
	t.Logf("monitor failure on %s: recovered (Started, fail-count 1) after %v", third, time.Since(t0).Round(time.Millisecond))
	out = vigilMust(t, c, "n1", "resource", "cleanup", "d1")
	t.Logf("%s", strings.TrimSpace(out))
	waitFor(t, "d1's failure cleaned up", 30*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n1")
		fc, _ := vigilCmd(c, "n1", "resource", "failcount", "d1")
		return err == nil && startedOn.MatchString(out) && !strings.Contains(out, "Failed Resource Actions:") &&
			!strings.Contains(fc, "value=1"), out + fc
	})

	// stop and start are target-role.
	vigilMust(t, c, "n2", "resource", "stop", "d1")
	waitFor(t, "d1 stopped", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n1")
		return err == nil && strings.Contains(out, "d1\t(plugin:dummy):\t Stopped (disabled)") && len(dummyStates(c, all)) == 0, out
	})
	if out := vigilMust(t, c, "n3", "resource", "locate", "d1"); out != "resource d1 is NOT running\n" {
		t.Errorf("locate of a stopped resource: %q", out)
	}
	vigilMust(t, c, "n2", "resource", "start", "d1")
	waitStartedOn(t, c, "n1", "d1 started again", all, any)
}
