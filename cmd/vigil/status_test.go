package main

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/transition"
)

func TestWriteStatus(t *testing.T) {
	c, err := cib.Unmarshal([]byte(`<cib validate-with="pacemaker-3.7" epoch="2" num_updates="3" admin_epoch="0">
  <configuration><crm_config/><nodes/><resources>
    <primitive id="d1" class="plugin" type="dummy"/>
  </resources><constraints/></configuration><status/></cib>`))
	if err != nil {
		t.Fatal(err)
	}
	c.HaveQuorum = "1"
	transition.UpdateNode(c, transition.Membership{ID: "1", Uname: "n1", Member: true})
	transition.UpdateNode(c, transition.Membership{ID: "2", Uname: "n2"})
	now := time.Unix(1700000000, 0).UTC()
	transition.Record(c, transition.OpResult{Node: "n1", NodeID: "1", Rsc: "d1", Class: "plugin", Type: "dummy", Task: "start", When: now})
	transition.Record(c, transition.OpResult{Node: "n1", NodeID: "1", Rsc: "d1", Class: "plugin", Type: "dummy", Task: "monitor",
		IntervalMS: 2000, RC: 7, When: now})
	var b strings.Builder
	writeStatus(&b, c, cibclient.Status{DC: "n1", Quorate: true}, "n1", now)
	for _, want := range []string{
		"Cluster Summary:\n  * Stack: vigil\n  * Current DC: n1 (version vigil) - partition with quorum\n",
		"  * 2 nodes configured\n  * 1 resource instance configured\n",
		"Node List:\n  * Online: [ n1 ]\n  * OFFLINE: [ n2 ]\n",
		"Full List of Resources:\n  * d1\t(plugin:dummy):\t FAILED n1\n",
		"Failed Resource Actions:\n  * d1_monitor_2000 on n1 'not running' (7): call=2, status='complete'",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
}
