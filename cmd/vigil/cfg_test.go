package main

import (
	"strings"
	"testing"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// TestCfgStatusLayout compares with what corosync-cfgtool -s prints
// (../shared/reference/corosync-tools.md), transport name aside.
func TestCfgStatusLayout(t *testing.T) {
	link := func(state messagingv1.LinkState, addr string) []*messagingv1.Link {
		return []*messagingv1.Link{{LinkNumber: 0, LocalAddress: addr, State: state}}
	}
	resp := &messagingv1.GetLinksResponse{LocalNodeId: 1, Peers: []*messagingv1.PeerLinks{
		{NodeId: 3, Links: link(messagingv1.LinkState_LINK_STATE_DISCONNECTED, "10.99.0.1")},
		{NodeId: 1, Links: link(messagingv1.LinkState_LINK_STATE_LOCAL, "10.99.0.1")},
		{NodeId: 2, Links: link(messagingv1.LinkState_LINK_STATE_CONNECTED, "10.99.0.1")},
	}}
	var b strings.Builder
	writeCfgStatus(&b, resp)
	want := "Local node ID 1, transport knet\n" +
		"LINK ID 0 tcp\n" +
		"\taddr\t= 10.99.0.1\n" +
		"\tstatus:\n" +
		"\t\tnodeid:          1:\tlocalhost\n" +
		"\t\tnodeid:          2:\tconnected\n" +
		"\t\tnodeid:          3:\tdisconnected\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}
