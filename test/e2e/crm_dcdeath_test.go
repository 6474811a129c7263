package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDCDeathDuringTransition: the DC dies while its transition's starts
// are still running on other nodes; the new DC finishes the job. Every
// resource ends up running exactly once (the agents' own state files), and
// at no moment does one run on two nodes.
func TestDCDeathDuringTransition(t *testing.T) {
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitFor(t, "three nodes online in vigil status", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n1")
		return err == nil && strings.Contains(out, "Online: [ n1 n2 n3 ]") && strings.Contains(out, "partition with quorum"), out
	})
	dcLine := regexp.MustCompile(`Current DC: (\S+)`)
	out, _ := vigilStatus(c, "n1")
	m := dcLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no DC in vigil status:\n%s", out)
	}
	dc := m[1]
	// Six starts of half a second, kept off the DC so that they run
	// elsewhere while it dies (its own resources would die with it): they
	// complete before the survivors notice the DC is gone (about a
	// second), so their results reach no DC. The new DC must record them
	// from what the survivors heard, not start them again.
	var conf strings.Builder
	conf.WriteString("property stonith-enabled=false\n")
	var rscs []string
	for i := 1; i <= 6; i++ {
		r := fmt.Sprintf("s%d", i)
		rscs = append(rscs, r)
		fmt.Fprintf(&conf, "primitive %s plugin:dummy params state=%s.state start_delay=500ms op start timeout=30s op monitor interval=2s\n", r, r)
		fmt.Fprintf(&conf, "location %s-not-on-dc %s -inf: %s\n", r, r, dc)
	}
	// Watch for two copies from the moment anything can start.
	var files []string
	for _, r := range rscs {
		files = append(files, r+".state")
	}
	stop := watchOneCopy(t, c, all, files, false)
	defer stop()
	vigilConfigure(t, c, dc, conf.String(), "load", "-")

	// The starts are sent: the DC's log says so.
	logFile := filepath.Join(c.Dir, "nodes", dc, "logs", "vigil-crmd.log")
	waitFor(t, "the DC sent the starts", 30*time.Second, func() (bool, string) {
		b, _ := os.ReadFile(logFile)
		return strings.Count(string(b), "_start_0 node=") >= len(rscs), ""
	})
	if err := c.KillNode(dc); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var rest []string
	for _, n := range all {
		if n != dc {
			rest = append(rest, n)
		}
	}
	waitFor(t, "every resource running once on a survivor", 90*time.Second, func() (bool, string) {
		var last []string
		ok := true
		for _, r := range rscs {
			on := stateFiles(c, rest, r+".state")
			last = append(last, fmt.Sprintf("%s on %v", r, on))
			if len(on) != 1 {
				ok = false
			}
		}
		out, err := vigilStatus(c, rest[0])
		for _, r := range rscs {
			if err != nil || !regexp.MustCompile(`(?m)^  \* `+r+`\s+\(plugin:dummy\):\s+Started (n\d)$`).MatchString(out) {
				ok = false
			}
		}
		return ok, strings.Join(last, "\n") + "\n" + out
	})
	t.Logf("DC %s killed during its transition: every resource runs once %v later", dc, time.Since(killed).Round(time.Millisecond))
	// The new DC never starts a resource elsewhere than where its start
	// completed under the old DC (the results the survivors heard). It may
	// issue the start again on that node when it cannot tell whether it
	// completed, as Pacemaker does with a pending start: OCF starts are
	// idempotent.
	oldLog, _ := os.ReadFile(logFile)
	um := regexp.MustCompile(`this node is the DC.* uuid=(\S+)`).FindAllSubmatch(oldLog, -1)
	if len(um) == 0 {
		t.Fatalf("no uuid in the old DC's log")
	}
	oldUUID := string(um[len(um)-1][1])
	done := map[string]string{}
	var logs []string
	for _, n := range rest {
		b, _ := os.ReadFile(filepath.Join(c.Dir, "nodes", n, "logs", "vigil-crmd.log"))
		logs = append(logs, string(b))
		for _, m := range regexp.MustCompile(`operation done.* node=(\S+) rsc=(\S+) task=start .* rc=0 .*key=\S+:`+regexp.QuoteMeta(oldUUID)).FindAllStringSubmatch(string(b), -1) {
			done[m[2]] = m[1]
		}
	}
	for _, l := range logs {
		for _, m := range regexp.MustCompile(`action sent.* action=(\S+)_start_0 node=(\S+) `).FindAllStringSubmatch(l, -1) {
			if on, ok := done[m[1]]; ok && on != m[2] {
				t.Errorf("the new DC started %s on %s, whose start had completed on %s under the old DC", m[1], m[2], on)
			}
		}
	}
	t.Logf("starts completed under the old DC and recorded by the new one: %d of %d", len(done), len(rscs))
}
