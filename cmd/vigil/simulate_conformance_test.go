package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/internal/pcmkcases"
)

var scoreLineRE = regexp.MustCompile(`^(\S+): transition=(ok|FAIL) actions=(ok|FAIL) full=(ok|FAIL)`)

// TestSimulateConformance runs `vigil simulate -x xml/T.xml -S` on every
// case of Pacemaker's scheduler regression subset and scores the
// summaries with the suite's own score.py. Every case of the ratchet
// crmd/scheduler/testdata/passing-actions.txt must pass at the actions
// level; the totals (the full count among them) are logged.
func TestSimulateConformance(t *testing.T) {
	dir, err := pcmkcases.Dir()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "xml", "*.xml"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("scheduler cases missing at %s", dir)
		}
		t.Skipf("scheduler cases not found at %s", dir)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 not found: score.py cannot run (scripts/test.sh installs it)")
		}
		t.Skip("python3 not found: cannot run score.py")
	}
	out := t.TempDir()
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		stdout, stderr, code := runVigil(t, "simulate", "-x", f, "-S")
		if code != 0 {
			t.Errorf("vigil simulate -x %s -S: exit %d\n%s", f, code, stderr)
			continue
		}
		if err := os.WriteFile(filepath.Join(out, name+".summary"), []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(python, filepath.Join(dir, "score.py"), filepath.Join(dir, "summary"), out)
	report, err := cmd.Output()
	if err != nil {
		t.Fatalf("score.py: %v\n%s", err, report)
	}
	ratchet := map[string]bool{}
	list, err := os.ReadFile(filepath.Join("..", "..", "crmd", "scheduler", "testdata", "passing-actions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(list), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ratchet[l] = true
		}
	}
	lines := strings.Split(strings.TrimSpace(string(report)), "\n")
	scored := 0
	for _, l := range lines {
		m := scoreLineRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		scored++
		if m[3] != "ok" && ratchet[m[1]] {
			t.Errorf("%s no longer passes at the actions level (score.py: %s)", m[1], l)
		}
	}
	if scored != len(files) {
		t.Errorf("score.py scored %d cases, want %d:\n%s", scored, len(files), report)
	}
	t.Logf("score.py: %s", lines[len(lines)-1])
}
