package main

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/crmd/crmsh"
)

// TestShellLevels drives the bare `vigil` shell: help, the configure level
// with staged changes, commit, back up, a one-shot configure statement,
// verify, an unknown command, and quit.
func TestShellLevels(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cib.xml")
	script := strings.Join([]string{
		"help",
		"configure",
		"primitive d1 ocf:pacemaker:Dummy \\",
		"  op monitor interval=10s",
		"property stonith-enabled=false",
		"commit",
		"up",
		"configure primitive d2 ocf:pacemaker:Dummy",
		"bogus",
		"configure",
		"delete d2",
		"up",
		"up", // the second up drops the staged delete
		"quit",
	}, "\n") + "\n"
	var out bytes.Buffer
	root := newRootCommand()
	root.SetArgs([]string{"-x", file})
	root.SetIn(strings.NewReader(script))
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatalf("shell: %v\n%s", err, out.String())
	}
	for _, want := range []string{"configure STATEMENT", `unknown command "bogus"`, "changes not committed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	c, err := loadCIBFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"d1", "d2"} {
		if c.Configuration.Resource(id) == nil {
			t.Errorf("%s was not committed (or the dropped delete was)", id)
		}
	}
}

func TestCompletions(t *testing.T) {
	c := crmsh.NewCIB()
	stmts, err := crmsh.Parse("primitive web ocf:heartbeat:apache\nprimitive webip ocf:heartbeat:IPaddr2 params ip=10.0.0.1\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := crmsh.Apply(c, stmts); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string
		top  bool
		want []string
	}{
		{"co", true, []string{"configure"}},
		{"configure pr", true, []string{"configure primitive", "configure property"}},
		{"gr", false, []string{"group"}},
		{"group g we", false, []string{"group g web", "group g webip"}},
		{"primitive x ocf:heartbeat:Dummy pa", false, []string{"primitive x ocf:heartbeat:Dummy params"}},
	} {
		if got := completions(tc.line, tc.top, c); !slices.Equal(got, tc.want) {
			t.Errorf("completions(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}
