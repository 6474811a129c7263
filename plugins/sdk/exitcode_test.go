package sdk

import (
	"testing"

	"github.com/vigil-ha/vigil/lrmd/ocf"
	agentv1 "github.com/vigil-ha/vigil/proto/vigil/plugin/agent/v1"
)

// TestExitCodesAgreeEverywhere checks the wire enum against the one table
// of OCF codes (lrmd/ocf): a plugin written in another language only sees
// the proto.
func TestExitCodesAgreeEverywhere(t *testing.T) {
	for _, c := range ocf.Codes() {
		if !ExitCode(c).Valid() {
			t.Errorf("the SDK does not know OCF code %d (%s)", int(c), c)
		}
		if _, ok := agentv1.ExitCode_name[int32(c)]; !ok {
			t.Errorf("proto/vigil/plugin/agent/v1 has no ExitCode %d (%s)", int(c), c)
		}
	}
	if got, want := len(agentv1.ExitCode_name), len(ocf.Codes()); got != want {
		t.Errorf("the proto has %d exit codes, lrmd/ocf %d", got, want)
	}
}
