package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
		"meta", "resource-stickiness=100", "migration-threshold=2")
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
	// The live CIB through the scheduler: nothing left to do, and the
	// move's constraint is what keeps d1 there.
	if out := vigilMust(t, c, "n1", "simulate", "-L", "-S"); !strings.Contains(out, "Transition Summary:\n\nExecuting") ||
		!strings.Contains(out, "Started "+third) {
		t.Errorf("vigil simulate -L -S after the move:\n%s", out)
	}
	if out := vigilMust(t, c, "n2", "explain", "d1"); !strings.Contains(out, "d1 stays on "+third) || !strings.Contains(out, "cli-prefer-d1") {
		t.Errorf("vigil explain d1 after the move:\n%s", out)
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

	// With migration-threshold=2 a first failure restarts d1 in place, a
	// second moves it away.
	failOn := func(n string, count int) {
		t.Helper()
		waitFor(t, "d1's state file on "+n, 30*time.Second, func() (bool, string) {
			st := dummyStates(c, all)
			return len(st) == 1 && st[0] == n, strings.Join(st, " ")
		})
		if err := os.Remove(filepath.Join(c.Dir, "nodes", n, "d1.state")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "d1's failure counted on "+n, 30*time.Second, func() (bool, string) {
			fc, _ := vigilCmd(c, "n1", "resource", "failcount", "d1", n)
			return strings.Contains(fc, "value="+strconv.Itoa(count)), fc
		})
	}
	failOn(third, 1)
	if on := waitStartedOn(t, c, "n1", "d1 restarted in place", all, func(string) bool { return true }); on != third {
		t.Fatalf("after one failure (migration-threshold=2) d1 moved from %s to %s", third, on)
	}
	t0 = time.Now()
	failOn(third, 2)
	moved := waitStartedOn(t, c, "n1", "d1 moved away after migration-threshold failures", all, func(n string) bool { return n != third })
	t.Logf("second monitor failure on %s (migration-threshold=2): d1 Started on %s after %v", third, moved, time.Since(t0).Round(time.Millisecond))
	vigilMust(t, c, "n1", "resource", "cleanup", "d1")
	waitFor(t, "d1's failures cleaned up again", 30*time.Second, func() (bool, string) {
		fc, _ := vigilCmd(c, "n1", "resource", "failcount", "d1")
		return !strings.Contains(fc, "value=1") && !strings.Contains(fc, "value=2"), fc
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
	on := waitStartedOn(t, c, "n1", "d1 started again", all, any)

	// vigil status -o json says the same.
	var sj struct {
		DC        string `json:"dc"`
		Quorate   bool   `json:"quorate"`
		Resources []struct {
			ID    string   `json:"id"`
			Role  string   `json:"role"`
			Nodes []string `json:"nodes"`
		} `json:"resources"`
	}
	js := vigilMust(t, c, "n2", "status", "-o", "json")
	if err := json.Unmarshal([]byte(js), &sj); err != nil {
		t.Fatalf("vigil status -o json: %v\n%s", err, js)
	}
	if !sj.Quorate || sj.DC == "" || len(sj.Resources) != 1 || sj.Resources[0].ID != "d1" || sj.Resources[0].Role != "Started" ||
		len(sj.Resources[0].Nodes) != 1 || sj.Resources[0].Nodes[0] != on {
		t.Errorf("vigil status -o json does not show d1 Started on %s:\n%s", on, js)
	}

	// vigil status --watch redraws in place until interrupted; a stop
	// of d1 shows up without running it again.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watch := exec.CommandContext(ctx, filepath.Join(binDir, "vigil"), "status", "--watch", "--dir", c.Dir, "--node", "n3")
	var screen syncBuffer
	watch.Stdout, watch.Stderr = &screen, &screen
	watch.Cancel = func() error { return watch.Process.Signal(os.Interrupt) }
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "vigil status --watch draws d1 Started", 20*time.Second, func() (bool, string) {
		return strings.Contains(screen.String(), "Started "+on), screen.String()
	})
	vigilMust(t, c, "n2", "resource", "stop", "d1")
	waitFor(t, "vigil status --watch redraws d1 stopped", 20*time.Second, func() (bool, string) {
		s := screen.String()
		i := strings.LastIndex(s, "\x1b[H\x1b[2J")
		return i > 0 && strings.Contains(s[i:], "Stopped (disabled)"), s
	})
	watch.Process.Signal(os.Interrupt)
	if err := watch.Wait(); err != nil {
		t.Errorf("vigil status --watch after Ctrl-C: %v", err)
	}
	t.Logf("vigil status --watch drew %d screens", strings.Count(screen.String(), "\x1b[H\x1b[2J"))
}

// syncBuffer is a bytes.Buffer a process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
