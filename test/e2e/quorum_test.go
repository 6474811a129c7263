package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/internal/localcluster"
	"github.com/vigil-ha/vigil/internal/pki"
)

// quorumStatus runs `vigil quorum status` against a node and returns its
// output and exit status.
func quorumStatus(t *testing.T, c *localcluster.Cluster, node string) (string, int) {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "vigil"), "quorum", "status", "--dir", c.Dir, "--node", node).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("vigil quorum status: %v\n%s", err, out)
	return "", -1
}

// waitQuorate waits until `vigil quorum status` on each node exits with
// want (0 quorate, 2 not) and shows the wanted total votes.
func waitQuorate(t *testing.T, c *localcluster.Cluster, nodes []string, wantExit int, totalVotes string, deadline time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for {
		ok := true
		var last string
		for _, n := range nodes {
			out, code := quorumStatus(t, c, n)
			if code != wantExit || !strings.Contains(out, "Total votes:      "+totalVotes+"\n") {
				ok, last = false, fmt.Sprintf("%s: exit %d\n%s", n, code, out)
				break
			}
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("quorum not as wanted (exit %d, total votes %s) after %v; last:\n%s", wantExit, totalVotes, deadline, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestQuorumThreeNodes: all quorate; a node cut off alone is not quorate
// while the other two stay quorate.
func TestQuorumThreeNodes(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitQuorate(t, c, all, 0, "3", 60*time.Second)
	out, _ := quorumStatus(t, c, "n1")
	for _, want := range []string{"Quorate:          Yes", "Expected votes:   3", "Quorum:           2  \n", "Flags:            Quorate \n", "(local)"} {
		if !strings.Contains(out, want) {
			t.Errorf("vigil quorum status lacks %q:\n%s", want, out)
		}
	}
	// A runtime change of expected votes on n2 reaches every node.
	if out, err := exec.Command(filepath.Join(binDir, "vigil"), "quorum", "expected", "5", "--dir", c.Dir, "--node", "n2").CombinedOutput(); err != nil {
		t.Fatalf("vigil quorum expected 5: %v\n%s", err, out)
	}
	for _, n := range all {
		if out, code := quorumStatus(t, c, n); code != 0 || !strings.Contains(out, "Expected votes:   5\n") || !strings.Contains(out, "Quorum:           3  \n") {
			t.Errorf("%s after expected 5: exit %d\n%s", n, code, out)
		}
	}
	if out, err := exec.Command(filepath.Join(binDir, "vigil"), "quorum", "expected", "3", "--dir", c.Dir).CombinedOutput(); err != nil {
		t.Fatalf("vigil quorum expected 3: %v\n%s", err, out)
	}
	// The messaging daemon of n3 dies: n1 and n2 keep quorum.
	if err := c.Signal("n3", "vigil-messagingd", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitQuorate(t, c, []string{"n1", "n2"}, 0, "2", 30*time.Second)
	// n3's quorumd sees only itself: not quorate, activity blocked.
	waitQuorate(t, c, []string{"n3"}, 2, "1", 30*time.Second)
	out, _ = quorumStatus(t, c, "n3")
	if !strings.Contains(out, "Activity blocked") {
		t.Errorf("lone node's status does not say Activity blocked:\n%s", out)
	}
	if err := c.Restart("n3", "vigil-messagingd"); err != nil {
		t.Fatal(err)
	}
	waitQuorate(t, c, all, 0, "3", 60*time.Second)
}

// TestQuorumPartition: in a 1+2 partition the lone node is not quorate.
func TestQuorumPartition(t *testing.T) {
	requireRoot(t)
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitQuorate(t, c, all, 0, "3", 60*time.Second)
	if err := c.Partition([]string{"n1", "n2"}, []string{"n3"}); err != nil {
		t.Fatal(err)
	}
	waitQuorate(t, c, []string{"n1", "n2"}, 0, "2", 30*time.Second)
	waitQuorate(t, c, []string{"n3"}, 2, "1", 30*time.Second)
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	waitQuorate(t, c, all, 0, "3", 60*time.Second)
}

// TestQuorumTwoNode: with two_node, either side of a split keeps quorum.
func TestQuorumTwoNode(t *testing.T) {
	requireRoot(t)
	c := startCluster(t, 2)
	both := []string{"n1", "n2"}
	waitQuorate(t, c, both, 0, "2", 60*time.Second)
	out, _ := quorumStatus(t, c, "n1")
	if !strings.Contains(out, "Flags:            2Node Quorate WaitForAll \n") {
		t.Errorf("two_node flags wrong:\n%s", out)
	}
	if err := c.Partition([]string{"n1"}, []string{"n2"}); err != nil {
		t.Fatal(err)
	}
	waitQuorate(t, c, []string{"n1"}, 0, "1", 30*time.Second)
	waitQuorate(t, c, []string{"n2"}, 0, "1", 30*time.Second)
}

// TestQuorumWaitForAll: a node started alone with wait_for_all is not
// quorate until it has seen all nodes together once.
func TestQuorumWaitForAll(t *testing.T) {
	c := startClusterWith(t, localcluster.Options{Nodes: 3, Quorum: []string{"wait_for_all: 1"}})
	all := []string{"n1", "n2", "n3"}
	waitQuorate(t, c, all, 0, "3", 60*time.Second)
	// Cold start of n1 alone: every daemon of the cluster is killed, then
	// only n1's messaging and quorum daemons start again.
	for _, n := range all {
		for _, d := range []string{"vigil-quorumd", "vigil-messagingd"} {
			if err := c.Signal(n, d, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitDead(t, c, all, []string{"vigil-quorumd", "vigil-messagingd"})
	for _, d := range []string{"vigil-messagingd", "vigil-quorumd"} {
		if err := c.Restart("n1", d); err != nil {
			t.Fatal(err)
		}
	}
	waitQuorate(t, c, []string{"n1"}, 2, "1", 30*time.Second)
	out, _ := quorumStatus(t, c, "n1")
	if !strings.Contains(out, "WaitForAll") {
		t.Errorf("status lacks the WaitForAll flag:\n%s", out)
	}
	// n2 joins: 2 of 3 votes would be a majority, but not all were seen.
	for _, d := range []string{"vigil-messagingd", "vigil-quorumd"} {
		if err := c.Restart("n2", d); err != nil {
			t.Fatal(err)
		}
	}
	waitQuorate(t, c, []string{"n1", "n2"}, 2, "2", 30*time.Second)
	for _, d := range []string{"vigil-messagingd", "vigil-quorumd"} {
		if err := c.Restart("n3", d); err != nil {
			t.Fatal(err)
		}
	}
	waitQuorate(t, c, all, 0, "3", 60*time.Second)
}

func waitDead(t *testing.T, c *localcluster.Cluster, nodes, daemons []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range nodes {
		for _, d := range daemons {
			for c.Alive(n, d) {
				if time.Now().After(deadline) {
					t.Fatalf("%s on %s still runs after SIGKILL", d, n)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}

// TestQuorumdRefusesContradictions: two_node with three nodes would let
// both sides of a split be quorate; vigil-quorumd does not start, and says
// which keys are wrong.
func TestQuorumdRefusesContradictions(t *testing.T) {
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	if err := pki.InitCA(pkiDir, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pki.Issue(pkiDir, pki.RoleNode, "a", pki.Options{}); err != nil {
		t.Fatal(err)
	}
	f := pki.FilesFor(pkiDir, pki.RoleNode, "a")
	conf := filepath.Join(dir, "vigil.conf")
	text := fmt.Sprintf(`nodelist {
	node {
		name: a
		nodeid: 1
		ring0_addr: 192.0.2.1
	}
	node {
		name: b
		nodeid: 2
		ring0_addr: 192.0.2.2
	}
	node {
		name: c
		nodeid: 3
		ring0_addr: 192.0.2.3
	}
}
quorum {
	provider: corosync_votequorum
	two_node: 1
}
tls {
	ca: %s
	cert: %s
	key: %s
}
vigil {
	local_node: a
	quorum_listen: %s
}
`, f.CA, f.Cert, f.Key, freeLoopbackAddr(t))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(binDir, "vigil-quorumd"), "--config", conf).CombinedOutput()
	if err == nil {
		t.Fatalf("vigil-quorumd started with two_node and three nodes:\n%s", out)
	}
	for _, want := range []string{"quorum.two_node", "nodelist", "vigil.conf"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("refusal does not name %q:\n%s", want, out)
		}
	}
}
