package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
)

// TestCRMBadInput: a configuration that cannot be applied is refused with
// the reason and leaves the CIB as it was (version and content); a client
// with the reader certificate can read but not change anything.
func TestCRMBadInput(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitCrmds(t, c, all, "three synced members", 60*time.Second, atVersion(cib.Version{}, 3))
	vigilConfigure(t, c, "n1", "", "primitive", "d1", "plugin:dummy", "params", "state=d1.state")
	before := waitCrmds(t, c, all, "d1 configured everywhere", 30*time.Second, func(o cibOf) bool {
		return o.status.Synced && strings.Contains(string(o.xml), `<primitive id="d1"`)
	})[0]
	unchanged := func(what string) {
		t.Helper()
		now := askCrmd(c, "n2")
		if now.err != nil || !sameConfig(now.status.Version, before.status.Version) {
			t.Errorf("after %s the configuration moved from %s to %s (%v)", what, before.status.Version, now.status.Version, now.err)
		}
		cfg := func(xml []byte) string {
			s := string(xml)
			return s[strings.Index(s, "<configuration>"):strings.Index(s, "</configuration>")]
		}
		if now.err == nil && cfg(now.xml) != cfg(before.xml) {
			t.Errorf("after %s the configuration changed:\n%s", what, now.xml)
		}
	}

	// crmsh: a colocation with a resource that does not exist. The whole
	// load is refused, the valid statement before it too.
	cmd := exec.Command(filepath.Join(binDir, "vigil"), "configure", "load", "-", "--dir", c.Dir, "--node", "n3")
	cmd.Stdin = strings.NewReader("primitive d2 plugin:dummy params state=d2.state\ncolocation c1 inf: d2 nosuch\n")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "nosuch") || !strings.Contains(string(out), "line 2") {
		t.Errorf("a colocation with a missing resource: err %v, output:\n%s", err, out)
	}
	t.Logf("refused load: %s", strings.TrimSpace(string(out)))
	unchanged("a refused load")

	// The API: a replacement CIB that fails verification, and one that is
	// not XML.
	admin := crmdClient(t, c, "n1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The replacement is made from the CIB as it is now: the DC's status
	// writes (probe results) move its version on, and a replacement older
	// than the cluster's CIB is refused for that before it is verified.
	var replaceErr error
	for deadline := time.Now().Add(20 * time.Second); ; {
		cur := askCrmd(c, "n1")
		if cur.err != nil {
			t.Fatalf("reading the CIB: %v", cur.err)
		}
		bad := strings.Replace(string(cur.xml), "</constraints>", `<rsc_colocation id="c2" rsc="d1" with-rsc="ghost" score="INFINITY"/></constraints>`, 1)
		if !strings.Contains(bad, "ghost") {
			bad = strings.Replace(string(cur.xml), "<constraints/>", `<constraints><rsc_colocation id="c2" rsc="d1" with-rsc="ghost" score="INFINITY"/></constraints>`, 1)
		}
		_, replaceErr = admin.Replace(ctx, []byte(bad), nil, false)
		if replaceErr == nil || !strings.Contains(replaceErr.Error(), "older than the cluster's CIB") || time.Now().After(deadline) {
			break
		}
	}
	if replaceErr == nil || !strings.Contains(replaceErr.Error(), "ghost") {
		t.Errorf("replacing with a colocation on a missing resource: %v", replaceErr)
	} else {
		t.Logf("refused replace: %v", replaceErr)
	}
	if _, err := admin.Replace(ctx, []byte("<cib><configuration>"), nil, false); err == nil {
		t.Error("a replacement that is not XML was accepted")
	}
	unchanged("refused replacements")

	// The reader certificate reads and changes nothing.
	n, _ := c.Node("n2")
	conn, err := n.Dial("vigil-crmd", c.ReaderFiles())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reader := cibclient.New(conn)
	if _, err := reader.Query(ctx); err != nil {
		t.Errorf("the reader cannot query: %v", err)
	}
	denied := func(what string, err error) {
		t.Helper()
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s as reader: %v, want PermissionDenied", what, err)
		}
	}
	_, err = reader.Replace(ctx, before.xml, nil, false)
	denied("replace", err)
	_, err = reader.Patch(ctx, cibsvc.Patch{Ops: []cibsvc.Op{{Kind: cibsvc.OpDelete, Target: "d1"}}}, nil)
	denied("patch", err)
	_, err = reader.ReplaceConfiguration(ctx, []byte("<configuration/>"), nil)
	denied("replace configuration", err)
	unchanged("the reader's attempts")
}
