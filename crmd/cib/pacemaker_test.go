package cib

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPacemakerReadsExport runs the real crm_simulate (Debian's
// pacemaker-cli-utils) on each scheduler case and on Vigil's export of it:
// the summaries must be the same, so Pacemaker reads what Vigil writes as it
// reads its own file.
func TestPacemakerReadsExport(t *testing.T) {
	sim, err := exec.LookPath("crm_simulate")
	if err != nil {
		t.Skip("crm_simulate is not installed (apt-get install pacemaker-cli-utils)")
	}
	if testing.Short() {
		t.Skip("runs crm_simulate 132 times")
	}
	dir := t.TempDir()
	run := func(f string) []byte {
		cmd := exec.Command(sim, "-x", f, "-S")
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, _ := cmd.CombinedOutput()
		return out
	}
	for _, f := range schedulerCases(t) {
		c := decodeFile(t, f)
		exported := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(exported, Marshal(c), 0o644); err != nil {
			t.Fatal(err)
		}
		if want, got := run(f), run(exported); !bytes.Equal(want, got) {
			t.Errorf("%s: crm_simulate reads the export differently:\n--- original\n%s\n--- export\n%s", filepath.Base(f), want, got)
		}
	}
}
