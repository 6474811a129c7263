package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodCIB = `<cib admin_epoch="0" epoch="%EPOCH%" num_updates="0" validate-with="pacemaker-3.7">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/></nodes>
    <resources><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/></resources>
    <constraints><rsc_location id="l1" rsc="a" node="n9" score="10"/></constraints>
  </configuration>
  <status/>
</cib>
`

const badCIB = `<cib admin_epoch="0" epoch="9" num_updates="0">
  <configuration>
    <crm_config/>
    <nodes/>
    <resources><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/></resources>
    <constraints><rsc_order id="o1" first="ghost" then="a"/></constraints>
  </configuration>
</cib>
`

// runVigil runs the command line and returns stdout, stderr and the exit
// code main would use.
func runVigil(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	code := 0
	if err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func cibText(epoch string) string { return strings.ReplaceAll(goodCIB, "%EPOCH%", epoch) }

func TestVerifyCommand(t *testing.T) {
	good := writeTemp(t, "good.xml", cibText("3"))
	out, _, code := runVigil(t, "verify", "--cib-file", good)
	if code != 0 || !strings.Contains(out, `warning: l1: node "n9"`) || !strings.Contains(out, "Warnings found during check") {
		t.Errorf("good CIB: exit %d, output:\n%s", code, out)
	}
	bad := writeTemp(t, "bad.xml", badCIB)
	out, _, code = runVigil(t, "verify", "-x", bad)
	if code != exitConfigInvalid || !strings.Contains(out, `error: o1: first "ghost" is not a resource`) || !strings.Contains(out, "no STONITH resources") {
		t.Errorf("bad CIB: exit %d, output:\n%s", code, out)
	}
	out, _, code = runVigil(t, "verify", "-x", bad, "-o", "json")
	var j struct {
		Valid    bool
		Problems []map[string]string
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.Valid || len(j.Problems) != 2 || code != exitConfigInvalid {
		t.Errorf("json: exit %d, %v, %s", code, err, out)
	}
	broken := writeTemp(t, "broken.xml", "<cib>\n<configuration>\n</cib>")
	_, errOut, code := runVigil(t, "verify", "-x", broken)
	if code != exitConfigInvalid || !strings.Contains(errOut, "broken.xml: cib: line 3") {
		t.Errorf("malformed CIB: exit %d, %s", code, errOut)
	}
	// Without --cib-file it asks vigil-crmd, here of a machine that is no
	// cluster node.
	_, errOut, code = runVigil(t, "verify", "--config", filepath.Join(t.TempDir(), "none.conf"))
	if code == 0 || !strings.Contains(errOut, "ask vigil-crmd for the CIB") {
		t.Errorf("live mode: exit %d, %s", code, errOut)
	}
}

func TestCIBExportImport(t *testing.T) {
	src := writeTemp(t, "in.xml", cibText("3"))
	out, _, code := runVigil(t, "cib", "export", "--cib-file", src)
	if code != 0 || !strings.Contains(out, `<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>`) {
		t.Fatalf("export: exit %d\n%s", code, out)
	}
	out, _, code = runVigil(t, "cib", "export", "--cib-file", src, "-o", "json")
	if code != 0 || !strings.Contains(out, `"Kind": "primitive"`) || strings.Contains(out, `""`) {
		t.Fatalf("export json: exit %d\n%s", code, out)
	}

	dst := filepath.Join(t.TempDir(), "cib.xml")
	out, _, code = runVigil(t, "cib", "import", "--cib-file", dst, src)
	if code != 0 || !strings.Contains(out, "version 0:3:0") {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	if st, err := os.Stat(dst); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("imported file: %v %v", st, err)
	}
	exported, _, _ := runVigil(t, "cib", "export", "-x", dst)
	again, _, _ := runVigil(t, "cib", "export", "-x", src)
	if exported != again {
		t.Errorf("imported CIB differs from the input")
	}

	bad := writeTemp(t, "bad.xml", badCIB)
	before, _ := os.ReadFile(dst)
	_, errOut, code := runVigil(t, "cib", "import", "-x", dst, bad)
	after, _ := os.ReadFile(dst)
	if code != exitConfigInvalid || !strings.Contains(errOut, "not imported") || !bytes.Equal(before, after) {
		t.Errorf("import of a bad CIB: exit %d\n%s", code, errOut)
	}

	older := writeTemp(t, "older.xml", cibText("2"))
	_, errOut, code = runVigil(t, "cib", "import", "-x", dst, older)
	if code == 0 || !strings.Contains(errOut, "older than") {
		t.Errorf("import of an older CIB: exit %d\n%s", code, errOut)
	}
	if _, _, code = runVigil(t, "cib", "import", "-x", dst, "--force", older); code != 0 {
		t.Errorf("import --force of an older CIB: exit %d", code)
	}
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestCIBExportElements(t *testing.T) {
	src := writeTemp(t, "in.xml", cibText("3"))
	out, errOut, code := runVigil(t, "cib", "export", "-x", src, "--id", "a")
	if code != 0 || out != `<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>`+"\n" {
		t.Errorf("--id a: exit %d, %q %s", code, out, errOut)
	}
	out, _, code = runVigil(t, "cib", "export", "-x", src, "--path", "/cib/configuration/resources/primitive[@type='Dummy']")
	if code != 0 || !strings.Contains(out, `<primitive id="a"`) {
		t.Errorf("--path: exit %d, %q", code, out)
	}
	if _, errOut, code = runVigil(t, "cib", "export", "-x", src, "--id", "nope"); code == 0 || !strings.Contains(errOut, "nothing at nope") {
		t.Errorf("--id nope: exit %d, %s", code, errOut)
	}
	if _, errOut, code = runVigil(t, "cib", "export", "-x", src, "--path", "resources"); code == 0 || !strings.Contains(errOut, "must start with /") {
		t.Errorf("bad path: exit %d, %s", code, errOut)
	}
}
