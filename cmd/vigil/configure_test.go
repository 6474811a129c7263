package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// configureSession is a crmsh session from the Pacemaker and crmsh
// tutorials, in the order show prints it.
const configureSession = `node node1 attributes standby=off
node node2
primitive ClusterIP ocf:heartbeat:IPaddr2 params ip=192.168.122.120 cidr_netmask=32 op monitor interval=30s
primitive WebSite ocf:heartbeat:apache params configfile=/etc/apache2/apache2.conf op monitor interval=1min timeout=20s
primitive WebData ocf:linbit:drbd params drbd_resource=wwwdata op monitor interval=60s role=Promoted op monitor interval=59s role=Unpromoted
primitive WebFS ocf:heartbeat:Filesystem params device=/dev/drbd1 directory=/var/www/html fstype=ext4
primitive webip ocf:heartbeat:IPaddr params ip=192.168.1.100
primitive webserver lsb:httpd
primitive ping ocf:pacemaker:ping params host_list=192.168.122.1 op monitor interval=10s
group web webip webserver
ms WebDataClone WebData meta master-max=1 master-node-max=1 clone-max=2 clone-node-max=1 notify=true
clone ping-clone ping meta interleave=true
location prefer-pcmk-1 WebSite 50: node1
location l1 web rule -inf: #uname eq node2 or not_defined pingd
location l2 WebSite rule pingd: defined pingd
colocation website-with-ip inf: WebSite ClusterIP
colocation fs-on-drbd inf: WebFS WebDataClone:Promoted
colocation web-set inf: ( web WebFS ) ClusterIP
order apache-after-ip Mandatory: ClusterIP WebSite
order fs-after-drbd Mandatory: WebDataClone:promote WebFS:start
order web-order Optional: ClusterIP ( WebFS web ) symmetrical=false
property stonith-enabled=false
property no-quorum-policy=ignore
rsc_defaults resource-stickiness=100
op_defaults timeout=240s
`

// runVigil runs the vigil command line in process.
func runConfigure(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.Execute()
	return out.String(), err
}

// TestConfigureSessionCrmVerify plays a tutorial session statement by
// statement against an empty CIB file, has the real crm_verify check the
// result, and checks that show prints the session back.
func TestConfigureSessionCrmVerify(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cib.xml")
	// The tutorial's delete: a resource made by mistake and removed.
	lines := append([]string{"primitive vip ocf:heartbeat:IPaddr params ip=10.0.0.1", "delete vip"}, strings.Split(strings.TrimSpace(configureSession), "\n")...)
	for _, line := range lines {
		args := append([]string{"configure", "--cib-file", file}, strings.Fields(line)...)
		if out, err := runConfigure(t, "", args...); err != nil {
			t.Fatalf("vigil configure %s: %v\n%s", line, err, out)
		}
	}
	out, err := runConfigure(t, "", "configure", "show", "--cib-file", file)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(configureSession, "property stonith-enabled=false\nproperty no-quorum-policy=ignore", "property stonith-enabled=false no-quorum-policy=ignore", 1)
	if out != want {
		t.Fatalf("show:\n%s\nwant:\n%s", out, want)
	}
	c, err := readCIBFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version.Epoch != int64(len(lines)) {
		t.Errorf("epoch %d after %d commits", c.Version.Epoch, len(lines))
	}

	// Loading show's output into another empty CIB gives the same
	// configuration.
	file2 := filepath.Join(t.TempDir(), "cib.xml")
	if out, err := runConfigure(t, out, "configure", "load", "--cib-file", file2, "-"); err != nil {
		t.Fatalf("configure load: %v\n%s", err, out)
	}
	c2, err := readCIBFile(file2)
	if err != nil {
		t.Fatal(err)
	}
	c2.Version = c.Version
	if a, b := cib.Marshal(c), cib.Marshal(c2); !bytes.Equal(a, b) {
		t.Fatalf("show → load differs:\n%s\n---\n%s", a, b)
	}

	crmVerify, err := exec.LookPath("crm_verify")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("crm_verify not found: CI must install Debian pacemaker-cli-utils")
		}
		t.Skip("crm_verify not found (install Debian pacemaker-cli-utils to run this check)")
	}
	vout, err := exec.Command(crmVerify, "-V", "-x", file).CombinedOutput()
	if err != nil {
		x, _ := os.ReadFile(file)
		t.Fatalf("crm_verify -x: %v\n%s\n%s", err, vout, x)
	}
	if len(bytes.TrimSpace(vout)) > 0 {
		t.Logf("crm_verify:\n%s", vout)
	}
}

func TestConfigureErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cib.xml")
	// Without --cib-file the live CIB is asked for; here no cluster runs.
	if _, err := runConfigure(t, "", "configure", "--config", filepath.Join(t.TempDir(), "none.conf"), "primitive", "a", "lsb:a"); err == nil || !strings.Contains(err.Error(), "read the cluster's CIB") {
		t.Fatalf("without --cib-file: %v", err)
	}
	_, err := runConfigure(t, "", "configure", "--cib-file", file, "primitive", "webip", "ocf:heartbeat:IPaddr", "params", "ip")
	if err == nil || err.Error() != `line 1, column 47: expected "=" after parameter name "ip", got end of line` {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("a failed statement wrote the CIB file: %v", err)
	}
	// A load with one bad statement changes nothing.
	load := "primitive a lsb:a\nprimitive b lsb:b\ngroup g a zz\n"
	if _, err := runConfigure(t, load, "configure", "load", "--cib-file", file, "-"); err == nil || !strings.Contains(err.Error(), `nothing changed: line 3, column 1: crmsh: no such object: group g: resource "zz" does not exist`) {
		t.Fatalf("load: %v", err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("a failed load wrote the CIB file: %v", err)
	}
}

func TestConfigureShell(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cib.xml")
	in := "primitive a lsb:a\nprimitive b \\\n  lsb:b\nshow\nbogus\ncommit\ngroup g a b\nquit\nquit\n"
	out, err := runConfigure(t, in, "configure", "--cib-file", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"primitive a lsb:a\nprimitive b lsb:b\n", `error: line 1, column 1: expected a statement`, "there are changes not committed"} {
		if !strings.Contains(out, want) {
			t.Errorf("shell output lacks %q:\n%s", want, out)
		}
	}
	show, err := runConfigure(t, "", "configure", "show", "--cib-file", file)
	if err != nil {
		t.Fatal(err)
	}
	if show != "primitive a lsb:a\nprimitive b lsb:b\n" {
		t.Fatalf("after commit and quit without the group: %q", show)
	}
}
