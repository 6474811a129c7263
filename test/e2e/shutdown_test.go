package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestShutdownMovesResources: SIGTERM to the crmd of the node running d1
// (what systemctl stop does) moves d1 away before that crmd exits: the
// node sets its shutdown attribute, the DC stops d1 there and starts it
// elsewhere, and only then does the crmd leave.
func TestShutdownMovesResources(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitFor(t, "three nodes online in vigil status", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n1")
		return err == nil && strings.Contains(out, "Online: [ n1 n2 n3 ]") && strings.Contains(out, "partition with quorum"), out
	})
	vigilConfigure(t, c, "n1", "", "property", "stonith-enabled=false")
	vigilConfigure(t, c, "n1", "", "primitive", "d1", "plugin:dummy", "params", "state=d1.state", "op", "monitor", "interval=2s")
	first := waitStartedOn(t, c, "n1", "d1 started", all, func(string) bool { return true })
	var rest []string
	for _, n := range all {
		if n != first {
			rest = append(rest, n)
		}
	}

	sent := time.Now()
	if err := c.Signal(first, "vigil-crmd", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var movedAt, exitedAt time.Duration
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		// The agents' own state, read before the process check: a crmd
		// seen gone was gone after the state was read.
		elsewhere := len(dummyStates(c, rest)) == 1 && len(dummyStates(c, []string{first})) == 0
		alive := c.Alive(first, "vigil-crmd")
		if elsewhere && movedAt == 0 {
			movedAt = time.Since(sent)
		}
		if !alive {
			exitedAt = time.Since(sent)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if exitedAt == 0 {
		t.Fatalf("the crmd of %s did not exit within 60 s of SIGTERM\n%s", first, c.Logs(40))
	}
	if movedAt == 0 {
		t.Fatalf("the crmd of %s exited %v after SIGTERM with d1 not started elsewhere (state files: %v)\n%s",
			first, exitedAt.Round(time.Millisecond), dummyStates(c, all), c.Logs(40))
	}
	t.Logf("SIGTERM to %s's crmd: d1 started elsewhere after %v, the crmd exited after %v",
		first, movedAt.Round(time.Millisecond), exitedAt.Round(time.Millisecond))
	second := waitStartedOn(t, c, rest[0], "d1 Started on a survivor in vigil status", all, func(n string) bool { return n != first })
	if second == first {
		t.Fatalf("d1 still on %s", first)
	}
}
