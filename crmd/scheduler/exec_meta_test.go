package scheduler

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

var (
	expNotifyOp = regexp.MustCompile(`<rsc_op id="\d+" operation="notify" operation_key="([^"]+)" (?:internal_operation_key="([^"]+)" )?on_node="([^"]+)"[^>]*>\s*<primitive [^>]*/>\s*<attributes ([^>]*)/>`)
	expAttr     = regexp.MustCompile(`CRM_meta_([a-z_]+)="([^"]*)"`)
)

// TestNotifyMetaMatchesPacemaker compares the meta attributes of every
// notify operation with the transition graph Pacemaker's scheduler wrote
// for the same input (../shared/pcmk-scheduler/exp): the notification's
// type and operation, the instance lists, and the clone's settings.
func TestNotifyMetaMatchesPacemaker(t *testing.T) {
	dir := caseDir(t)
	// promoted-13 joins once the scheduler passes it at the actions level
	// (today it stops an instance where Pacemaker demotes and promotes).
	for _, name := range []string{"promoted-2"} {
		xml, err := os.ReadFile(filepath.Join(dir, "xml", name+".xml"))
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal(err)
			}
			t.Skip(err)
		}
		exp, err := os.ReadFile(filepath.Join(dir, "exp", name+".exp"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := cib.Unmarshal(xml)
		if err != nil {
			t.Fatal(err)
		}
		in := Input{CIB: c, Now: time.Now()}
		if when, ok := ExecutionDate(c); ok {
			in.Now, in.FromExecutionDate = when, true
		}
		ours := map[string]map[string]string{}
		for _, a := range Schedule(in).Graph.Executed() {
			if a.Task == "notify" && a.Notify != nil {
				key := a.Rsc.ID + "_" + a.Notify.Type + "_notify_" + a.Notify.Operation + "_0@" + a.Node.Name
				ours[key] = a.ExecMeta()
			}
		}
		matches := expNotifyOp.FindAllStringSubmatch(string(exp), -1)
		if len(matches) == 0 {
			t.Fatalf("%s: no notify operation in the expected graph", name)
		}
		for _, m := range matches {
			// Instances by their own ids (internal_operation_key where
			// the history knows the instance by another number).
			op := m[1]
			if m[2] != "" {
				op = m[2]
			}
			key := op + "@" + m[3]
			got, ok := ours[key]
			if !ok {
				t.Errorf("%s: no notify %s", name, key)
				continue
			}
			for _, kv := range expAttr.FindAllStringSubmatch(m[4], -1) {
				k, want := kv[1], kv[2]
				if !strings.HasPrefix(k, "notify_") && k != "clone" && k != "clone_max" && k != "clone_node_max" &&
					k != "globally_unique" && k != "master_max" && k != "master_node_max" {
					continue
				}
				if got[k] != want {
					t.Errorf("%s: %s: %s = %q, Pacemaker %q", name, key, k, got[k], want)
				}
			}
			delete(ours, key)
		}
		for key := range ours {
			t.Errorf("%s: notify %s not in Pacemaker's graph", name, key)
		}
	}
}
