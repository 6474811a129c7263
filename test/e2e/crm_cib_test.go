package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
	"github.com/vigil-ha/vigil/internal/localcluster"
)

const e2eCIB = `<cib validate-with="pacemaker-3.7" epoch="5" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <primitive id="d1" class="ocf" provider="pacemaker" type="Dummy">
        <meta_attributes id="d1-meta_attributes">
          <nvpair id="d1-meta_attributes-target-role" name="target-role" value="Stopped"/>
        </meta_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
`

// cibOf is what one node's crmd says.
type cibOf struct {
	node   string
	status cibclient.Status
	xml    []byte
	err    error
}

func (o cibOf) String() string {
	if o.err != nil {
		return fmt.Sprintf("%s: %v", o.node, o.err)
	}
	return fmt.Sprintf("%s: version %s synced %v dc %q members %v", o.node, o.status.Version, o.status.Synced, o.status.DC, o.status.Members)
}

// askCrmd asks a node's crmd for its status and CIB.
func askCrmd(c *localcluster.Cluster, node string) cibOf {
	o := cibOf{node: node}
	n, _ := c.Node(node)
	conn, err := n.Dial("vigil-crmd", c.AdminFiles())
	if err != nil {
		o.err = err
		return o
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl := cibclient.New(conn)
	if o.status, o.err = cl.Status(ctx); o.err != nil {
		return o
	}
	o.xml, _, o.err = cl.QueryXML(ctx)
	return o
}

// waitCrmds waits until every node's answer satisfies ok, and all hold the
// same CIB; it returns the answers.
func waitCrmds(t *testing.T, c *localcluster.Cluster, nodes []string, what string, deadline time.Duration, ok func(cibOf) bool) []cibOf {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		var got []cibOf
		good := true
		for _, n := range nodes {
			o := askCrmd(c, n)
			got = append(got, o)
			if o.err != nil || !ok(o) || string(o.xml) != string(got[0].xml) {
				good = false
			}
		}
		if good {
			return got
		}
		if time.Now().After(end) {
			var lines []string
			for _, o := range got {
				lines = append(lines, o.String())
			}
			t.Fatalf("after %v, not %s:\n%s", deadline, what, strings.Join(lines, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func crmdClient(t *testing.T, c *localcluster.Cluster, node string) *cibclient.Client {
	t.Helper()
	n, _ := c.Node(node)
	conn, err := n.Dial("vigil-crmd", c.AdminFiles())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return cibclient.New(conn)
}

// atVersion says a crmd is synced in a view of members holding the
// configuration of version v: admin_epoch and epoch, since the DC moves
// num_updates whenever it writes the status.
func atVersion(v cib.Version, members int) func(cibOf) bool {
	return func(o cibOf) bool {
		return o.status.Synced && sameConfig(o.status.Version, v) && len(o.status.Members) == members
	}
}

func sameConfig(a, b cib.Version) bool { return a.AdminEpoch == b.AdminEpoch && a.Epoch == b.Epoch }

// patchAt applies p conditionally on the configuration being at version
// read: the condition is the full version, which the DC's status writes
// move on, so the patch is retried at the current version while the
// configuration is still the one read. A patch made when the
// configuration moved on carries read and fails.
func patchAt(ctx context.Context, cl *cibclient.Client, p cibsvc.Patch, read cib.Version) (cib.Version, error) {
	for {
		expected := read
		if st, err := cl.Status(ctx); err == nil && sameConfig(st.Version, read) {
			expected = st.Version
		}
		v, err := cl.Patch(ctx, p, &expected)
		// A status write between the read and the patch (a probe result)
		// is a mismatch too: retry while the configuration is the one read.
		if cibclient.IsVersionMismatch(err) && ctx.Err() == nil {
			if st, serr := cl.Status(ctx); serr == nil && sameConfig(st.Version, read) {
				continue
			}
		}
		return v, err
	}
}

// TestCIBReplication: a CIB imported on n1 is on every node; a stale
// conditional change fails; a crmd killed while the CIB changes catches up
// when it restarts; the CIB survives a restart of every crmd (from disk);
// every node names the same DC, which moves only when the DC leaves.
func TestCIBReplication(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitCrmds(t, c, all, "three synced members", 60*time.Second, atVersion(cib.Version{}, 3))

	src := filepath.Join(t.TempDir(), "in.xml")
	if err := os.WriteFile(src, []byte(e2eCIB), 0o600); err != nil {
		t.Fatal(err)
	}
	vigil := filepath.Join(binDir, "vigil")
	if out, err := exec.Command(vigil, "cib", "import", src, "--dir", c.Dir, "--node", "n1").CombinedOutput(); err != nil || !strings.Contains(string(out), "version 0:5:0") {
		t.Fatalf("vigil cib import: %v\n%s", err, out)
	}
	v5 := cib.Version{Epoch: 5}
	got := waitCrmds(t, c, all, "at 0:5:0", 30*time.Second, atVersion(v5, 3))
	if !strings.Contains(string(got[2].xml), `<primitive id="d1"`) {
		t.Fatalf("n3's CIB lacks d1:\n%s", got[2].xml)
	}
	for _, n := range all {
		out, err := exec.Command(vigil, "cib", "export", "--dir", c.Dir, "--node", n).Output()
		// The status moves on (the DC probes d1); the configuration is
		// the one imported.
		if err != nil || !strings.Contains(string(out), `epoch="5"`) || !strings.Contains(string(out), `<primitive id="d1"`) {
			t.Errorf("vigil cib export on %s: %v\n%s", n, err, out)
		}
	}

	// Conditional changes: the first with the version read wins, a second
	// with the same (now stale) version fails and says why.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n2 := crmdClient(t, c, "n2")
	addD2 := cibsvc.Patch{Ops: []cibsvc.Op{{Kind: cibsvc.OpCreate, Target: "/cib/configuration/resources",
		XML: []byte(`<primitive id="d2" class="ocf" provider="pacemaker" type="Dummy"/>`)}}}
	v, err := patchAt(ctx, n2, addD2, v5)
	if err != nil || !sameConfig(v, cib.Version{Epoch: 6}) {
		t.Fatalf("conditional patch: %s %v", v, err)
	}
	_, err = crmdClient(t, c, "n3").Patch(ctx, cibsvc.Patch{Ops: []cibsvc.Op{{Kind: cibsvc.OpDelete, Target: "d1"}}}, &v5)
	if !cibclient.IsVersionMismatch(err) || !strings.Contains(err.Error(), "at version 0:6:") {
		t.Fatalf("stale conditional patch: %v", err)
	}
	out, err := exec.Command(vigil, "cib", "import", src, "--force", "--if-version", "0:5:0", "--dir", c.Dir, "--node", "n3").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "changed since 0:5:0") {
		t.Fatalf("stale conditional import: %v\n%s", err, out)
	}
	// An import of an older CIB is refused unless forced.
	out, err = exec.Command(vigil, "cib", "import", src, "--dir", c.Dir, "--node", "n2").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "the replacement is at version 0:5:0, the cluster's CIB at 0:6:") {
		t.Fatalf("import of an older CIB: %v\n%s", err, out)
	}
	// A change that adds a Verify error is refused before it is sent.
	_, err = n2.Patch(ctx, cibsvc.Patch{Ops: []cibsvc.Op{{Kind: cibsvc.OpCreate, Target: "/cib/configuration/constraints",
		XML: []byte(`<rsc_order id="o1" first="ghost" then="d1"/>`)}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("invalid patch: %v", err)
	}
	v6 := cib.Version{Epoch: 6}
	got = waitCrmds(t, c, all, "at 0:6:0", 30*time.Second, atVersion(v6, 3))
	dc := got[0].status.DC
	if dc == "" {
		t.Fatalf("no DC: %v", got)
	}
	for _, o := range got {
		if o.status.DC != dc {
			t.Fatalf("nodes disagree on the DC: %v", got)
		}
	}

	// n3's crmd dies; the CIB changes; it comes back and catches up.
	if err := c.Signal("n3", "vigil-crmd", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDead(t, c, []string{"n3"}, []string{"vigil-crmd"})
	waitCrmds(t, c, []string{"n1", "n2"}, "two members", 30*time.Second, atVersion(v6, 2))
	n1 := crmdClient(t, c, "n1")
	v7 := cib.Version{Epoch: 7}
	if v, err := n1.Patch(ctx, cibsvc.Patch{Ops: []cibsvc.Op{{Kind: cibsvc.OpSetNVPair, Target: "cib-bootstrap-options", Name: "cluster-recheck-interval", Value: "5min"}}}, nil); err != nil || !sameConfig(v, v7) {
		t.Fatalf("patch with n3 down: %s %v", v, err)
	}
	if err := c.Restart("n3", "vigil-crmd"); err != nil {
		t.Fatal(err)
	}
	got = waitCrmds(t, c, all, "n3 caught up at 0:7:0", 30*time.Second, atVersion(v7, 3))
	if !strings.Contains(string(got[2].xml), `name="cluster-recheck-interval" value="5min"`) {
		t.Fatalf("n3's CIB lacks the change made while it was down:\n%s", got[2].xml)
	}
	if got[2].status.DC != dc {
		t.Fatalf("the DC moved when n3 returned: %v", got)
	}
	if out, err := exec.Command(vigil, "cib", "export", "--id", "d2", "--dir", c.Dir, "--node", "n3").Output(); err != nil || !strings.HasPrefix(string(out), `<primitive id="d2"`) {
		t.Errorf("vigil cib export --id d2 on n3: %v\n%s", err, out)
	}

	// The DC's crmd dies: the others agree on a new DC (the lowest node id
	// left); when the old DC returns, the DC stays where it went.
	if err := c.Signal(dc, "vigil-crmd", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDead(t, c, []string{dc}, []string{"vigil-crmd"})
	rest := slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == dc })
	got = waitCrmds(t, c, rest, "agreed on a new DC", 30*time.Second, func(o cibOf) bool {
		return atVersion(v7, 2)(o) && o.status.DC == rest[0]
	})
	if err := c.Restart(dc, "vigil-crmd"); err != nil {
		t.Fatal(err)
	}
	waitCrmds(t, c, all, "three members with DC "+rest[0], 30*time.Second, func(o cibOf) bool {
		return atVersion(v7, 3)(o) && o.status.DC == rest[0]
	})

	// Every crmd dies at once: the CIB comes back from their disks.
	for _, n := range all {
		if err := c.Signal(n, "vigil-crmd", syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	waitDead(t, c, all, []string{"vigil-crmd"})
	// n1's newest saved version is damaged: it loads the one before, and
	// the others' newer CIB replaces it.
	saved, err := filepath.Glob(filepath.Join(c.Dir, "nodes", "n1", "state", "cib", "cib-*.xml"))
	if err != nil || len(saved) < 2 {
		t.Fatalf("n1's saved CIBs: %v %v", saved, err)
	}
	slices.Sort(saved)
	if err := os.WriteFile(saved[len(saved)-1], []byte("<cib epoch=\"7\""), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, n := range all {
		if err := c.Restart(n, "vigil-crmd"); err != nil {
			t.Fatal(err)
		}
	}
	got = waitCrmds(t, c, all, "back at 0:7:0 after all restarted", 60*time.Second, atVersion(v7, 3))
	if !strings.Contains(string(got[0].xml), `<primitive id="d2"`) {
		t.Fatalf("the CIB after a restart of every crmd lacks d2:\n%s", got[0].xml)
	}
	log, err := os.ReadFile(filepath.Join(c.Dir, "nodes", "n1", "logs", "vigil-crmd.log"))
	if err != nil || !strings.Contains(string(log), "skipped a damaged saved CIB") || !regexp.MustCompile(`msg="loaded the saved CIB" daemon=vigil-crmd node=n1 version=0:[67]:`).Match(log) {
		t.Errorf("n1's log does not tell of the damaged file and the older version loaded: %v\n%s", err, log)
	}

	// n3's messaging daemon dies: its crmd is in no group and refuses
	// changes, while n1 and n2 go on; when it returns, n3 catches up.
	if err := c.Signal("n3", "vigil-messagingd", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitCrmds(t, c, []string{"n3"}, "n3 out of the group", 30*time.Second, func(o cibOf) bool {
		return !o.status.Synced && len(o.status.Members) == 0 && o.status.DC == ""
	})
	_, err = crmdClient(t, c, "n3").Patch(ctx, cibsvc.Patch{Ops: []cibsvc.Op{{Kind: cibsvc.OpDelete, Target: "d1"}}}, nil)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "not a member of the crm group") {
		t.Fatalf("change on n3 without its messaging daemon: %v", err)
	}
	waitCrmds(t, c, []string{"n1", "n2"}, "two members", 30*time.Second, atVersion(v7, 2))
	v8 := cib.Version{Epoch: 8}
	if v, err := patchAt(ctx, crmdClient(t, c, "n2"), cibsvc.Patch{Ops: []cibsvc.Op{{Kind: cibsvc.OpDelete, Target: "d1"}}}, v7); err != nil || !sameConfig(v, v8) {
		t.Fatalf("patch without n3: %s %v", v, err)
	}
	if err := c.Restart("n3", "vigil-messagingd"); err != nil {
		t.Fatal(err)
	}
	waitCrmds(t, c, all, "n3 back at 0:8:0", 60*time.Second, atVersion(v8, 3))
}

// TestCIBPartitionMerge: in a 2+1 partition both sides change the CIB; the
// bigger side twice. When they merge everyone holds the newest.
func TestCIBPartitionMerge(t *testing.T) {
	requireRoot(t)
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitCrmds(t, c, all, "three synced members", 60*time.Second, atVersion(cib.Version{}, 3))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n1, n3 := crmdClient(t, c, "n1"), crmdClient(t, c, "n3")
	if _, err := n1.Replace(ctx, []byte(e2eCIB), nil, false); err != nil {
		t.Fatal(err)
	}
	waitCrmds(t, c, all, "at 0:5:0", 30*time.Second, atVersion(cib.Version{Epoch: 5}, 3))
	if err := c.Partition([]string{"n1", "n2"}, []string{"n3"}); err != nil {
		t.Fatal(err)
	}
	waitCrmds(t, c, []string{"n1", "n2"}, "a view of two", 30*time.Second, atVersion(cib.Version{Epoch: 5}, 2))
	waitCrmds(t, c, []string{"n3"}, "alone", 30*time.Second, atVersion(cib.Version{Epoch: 5}, 1))
	set := func(cl *cibclient.Client, v string) {
		t.Helper()
		if _, err := cl.Patch(ctx, cibsvc.Patch{Ops: []cibsvc.Op{{Kind: cibsvc.OpSetNVPair, Target: "d1-meta", Parent: "d1", SetElement: "meta_attributes", Name: "note", Value: v}}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	set(n3, "minority")
	set(n1, "majority-1")
	set(n1, "majority-2")
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	got := waitCrmds(t, c, all, "merged at 0:7:0", 60*time.Second, atVersion(cib.Version{Epoch: 7}, 3))
	if !strings.Contains(string(got[2].xml), `value="majority-2"`) {
		t.Fatalf("n3 after the merge:\n%s", got[2].xml)
	}
}

// TestCIBLarge: a CIB of several MB (above gRPC's 4 MiB default and the
// messaging layer's 1 MiB payload bound) is replaced through the API,
// reaches every node, and reaches a crmd that restarts (the sync sends it
// whole).
func TestCIBLarge(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitCrmds(t, c, all, "three synced members", 60*time.Second, atVersion(cib.Version{}, 3))
	var sb strings.Builder
	sb.WriteString(`<cib validate-with="pacemaker-3.7" epoch="3" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources>`)
	for i := range 30000 {
		fmt.Fprintf(&sb, `<primitive id="r%d" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="r%d-meta"><nvpair id="r%d-meta-t" name="target-role" value="Stopped"/></meta_attributes></primitive>`, i, i, i)
	}
	sb.WriteString(`</resources><constraints/></configuration><status/></cib>`)
	if sb.Len() < 5<<20 { // above gRPC's 4 MiB default
		t.Fatalf("test CIB is only %d bytes", sb.Len())
	}
	if err := c.Signal("n3", "vigil-crmd", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDead(t, c, []string{"n3"}, []string{"vigil-crmd"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := crmdClient(t, c, "n2").Replace(ctx, []byte(sb.String()), nil, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart("n3", "vigil-crmd"); err != nil {
		t.Fatal(err)
	}
	got := waitCrmds(t, c, all, "all at 0:3:0", 60*time.Second, atVersion(cib.Version{Epoch: 3}, 3))
	if !strings.Contains(string(got[2].xml), `<primitive id="r29999"`) {
		t.Fatalf("n3 lacks the last resource")
	}
}
