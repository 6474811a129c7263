package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/internal/localcluster"
)

// TestCIBDurability: a CIB change acknowledged to a client survives the
// crash of any one node, the one that acknowledged it included (killed the
// moment the answer arrives), and after every node is killed at once right
// after an acknowledgement and all are started again, every node holds the
// last acknowledged configuration.
func TestCIBDurability(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitCrmds(t, c, all, "three synced members", 60*time.Second, atVersion(cib.Version{}, 3))
	has := func(names ...string) func(cibOf) bool {
		return func(o cibOf) bool {
			for _, n := range names {
				if !strings.Contains(string(o.xml), `name="`+n+`"`) {
					return false
				}
			}
			return o.status.Synced
		}
	}
	var written []string
	for _, victim := range all {
		name := "durable-" + victim
		vigilConfigure(t, c, victim, "", "property", name+"=yes")
		if err := c.KillNode(victim); err != nil {
			t.Fatal(err)
		}
		written = append(written, name)
		var rest []string
		for _, n := range all {
			if n != victim {
				rest = append(rest, n)
			}
		}
		waitCrmds(t, c, rest, "the survivors of "+victim+" with "+name, 30*time.Second, has(written...))
		restartNode(t, c, victim)
		waitCrmds(t, c, all, victim+" back with "+name, 60*time.Second, func(o cibOf) bool {
			return has(written...)(o) && len(o.status.Members) == 3
		})
	}

	// Every node dies right after an acknowledged change.
	vigilConfigure(t, c, "n2", "", "property", "last-acknowledged=yes")
	acked := askCrmd(c, "n2").status.Version
	for _, n := range all {
		if err := c.KillNode(n); err != nil {
			t.Fatal(err)
		}
	}
	waitDead(t, c, all, localcluster.Daemons)
	for _, n := range all {
		for _, d := range localcluster.Daemons {
			if d != "vigil-crmd" {
				if err := c.Restart(n, d); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.WaitForView(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range all {
		if err := c.Restart(n, "vigil-crmd"); err != nil {
			t.Fatal(err)
		}
	}
	got := waitCrmds(t, c, all, "every node back with the last acknowledged change", 60*time.Second, func(o cibOf) bool {
		return has(append(written, "last-acknowledged")...)(o) && len(o.status.Members) == 3
	})
	if v := got[0].status.Version; !sameConfig(v, acked) {
		t.Errorf("after a restart of every node the configuration is at %s, the last acknowledged change made %s", v, acked)
	}
}

// restartNode starts a killed node's daemons again, the crmd last.
func restartNode(t *testing.T, c *localcluster.Cluster, node string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.RestartNode(ctx, node); err != nil {
		t.Fatal(err)
	}
}
