package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/internal/localcluster"
)

// vigilStatus runs `vigil status` against a node.
func vigilStatus(c *localcluster.Cluster, node string) (string, error) {
	out, err := exec.Command(filepath.Join(binDir, "vigil"), "status", "--dir", c.Dir, "--node", node).CombinedOutput()
	return string(out), err
}

// vigilConfigure runs `vigil configure ARGS...` (live) against a node,
// retrying while the cluster is not ready for changes.
func vigilConfigure(t *testing.T, c *localcluster.Cluster, node string, stdin string, args ...string) {
	t.Helper()
	args = append([]string{"configure", "--dir", c.Dir, "--node", node}, args...)
	waitFor(t, "vigil "+strings.Join(args, " "), 30*time.Second, func() (bool, string) {
		cmd := exec.Command(filepath.Join(binDir, "vigil"), args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return err == nil, string(out)
	})
}

var startedOn = regexp.MustCompile(`(?m)^  \* d1\s+\(plugin:dummy\):\s+Started (\S+)$`)

// dummyStates returns the nodes whose directory holds d1's state file: the
// dummy agent's own view of where d1 runs. The resource's state parameter
// is the relative path d1.state, and every node's daemons (and so the
// plugin processes of its lrmd) run in the node's own directory.
func dummyStates(c *localcluster.Cluster, nodes []string) []string {
	return stateFiles(c, nodes, "d1.state")
}

// TestFailover: a resource configured with `vigil configure` starts on one
// node; when every daemon of that node is killed, it is started on
// another, as `vigil status` and the agent's own state say; target-role
// Stopped stops it.
func TestFailover(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitFor(t, "three nodes online in vigil status", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n1")
		return err == nil && strings.Contains(out, "Online: [ n1 n2 n3 ]") && strings.Contains(out, "partition with quorum"), out
	})
	vigilConfigure(t, c, "n1", "", "property", "stonith-enabled=false")
	vigilConfigure(t, c, "n1", "", "primitive", "d1", "plugin:dummy", "params", "state=d1.state", "op", "monitor", "interval=2s")

	var first string
	waitFor(t, "d1 started", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n2")
		m := startedOn.FindStringSubmatch(out)
		if err != nil || m == nil {
			return false, out
		}
		first = m[1]
		return true, out
	})
	if got := dummyStates(c, all); len(got) != 1 || got[0] != first {
		t.Fatalf("d1 is Started on %s, its state file is on %v", first, got)
	}
	var rest []string
	for _, n := range all {
		if n != first {
			rest = append(rest, n)
		}
	}

	// Every daemon of d1's node dies at once.
	killed := time.Now()
	for _, d := range localcluster.Daemons {
		if err := c.Signal(first, d, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	var second string
	waitFor(t, "d1 started on a survivor", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, rest[0])
		m := startedOn.FindStringSubmatch(out)
		if err != nil || m == nil || m[1] == first {
			return false, out
		}
		second = m[1]
		return true, out
	})
	failover := time.Since(killed)
	t.Logf("failover: d1 moved from %s to %s in %v (from the kill to Started in vigil status)", first, second, failover.Round(time.Millisecond))
	if got := dummyStates(c, rest); len(got) != 1 || got[0] != second {
		t.Fatalf("d1 is Started on %s, the survivors' state files say %v", second, got)
	}
	out, _ := vigilStatus(c, second)
	if !strings.Contains(out, "OFFLINE: [ "+first+" ]") {
		t.Errorf("vigil status does not show %s offline:\n%s", first, out)
	}

	// target-role=Stopped stops it.
	vigilConfigure(t, c, second, "delete d1\nprimitive d1 plugin:dummy params state=d1.state op monitor interval=2s meta target-role=Stopped\n", "load", "-")
	waitFor(t, "d1 stopped", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, second)
		return err == nil && strings.Contains(out, "d1\t(plugin:dummy):\t Stopped (disabled)") && len(dummyStates(c, rest)) == 0, out
	})
}
