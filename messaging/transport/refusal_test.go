package transport

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/internal/pki"
	"github.com/vigil-ha/vigil/internal/rpcclient"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// rogueConnect opens a PeerService stream to address as the holder of
// files, from the local address from, sends first and returns the error
// the callee answers with (nil if it answered a hello).
func rogueConnect(t *testing.T, files pki.Files, forceCert bool, serverName, from, address string, first *messagingv1.ConnectRequest) error {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	dialer := grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", addr)
	})
	var conn *grpc.ClientConn
	var err error
	if forceCert {
		// Present the certificate even though the server asks for one of
		// another CA, as a client bent on getting in would.
		cfg, cerr := pki.ClientTLS(files, serverName)
		if cerr != nil {
			t.Fatal(cerr)
		}
		pair := cfg.Certificates[0]
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
		conn, err = grpc.NewClient("passthrough:///"+address, dialer, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	} else {
		conn, err = rpcclient.Dial(address, serverName, files, dialer)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := messagingv1.NewPeerServiceClient(conn).Connect(ctx)
	if err != nil {
		return err
	}
	st.Send(first)
	resp, err := st.Recv()
	if err == nil && resp.GetHello() == nil {
		t.Fatalf("callee answered %v", resp)
	}
	return err
}

func hello(cluster string, id, link uint32) *messagingv1.ConnectRequest {
	return &messagingv1.ConnectRequest{Frame: &messagingv1.ConnectRequest_Hello{Hello: &messagingv1.PeerHello{
		ClusterName: cluster, NodeId: id, LinkNumber: link, Incarnation: 7,
	}}}
}

// TestRefusals runs node 1 alone and connects to it with wrong
// credentials, addresses or hellos: each is refused, and node 1's log says
// who, from where and why.
func TestRefusals(t *testing.T) {
	c := newTestCluster(t, 3, 2)
	log := &logBuffer{}
	tr, err := New(c.config(1, log.logger()))
	if err != nil {
		t.Fatal(err)
	}
	start(t, tr, log)

	// Identities the nodelist does not know: a node certificate of another
	// CA with a name of the nodelist, and one of our CA with another name.
	otherCA := t.TempDir()
	if err := pki.InitCA(otherCA, pki.Options{ClusterName: "other"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pki.Issue(otherCA, pki.RoleNode, "n2", pki.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pki.Issue(c.pkiDir, pki.RoleNode, "intruder", pki.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pki.Issue(c.pkiDir, pki.RoleAdmin, "alice", pki.Options{}); err != nil {
		t.Fatal(err)
	}
	n2Files := pki.FilesFor(c.pkiDir, pki.RoleNode, "n2")
	foreign := pki.FilesFor(otherCA, pki.RoleNode, "n2")
	foreign.CA = n2Files.CA // it trusts our CA; we must not trust its
	addr1 := func(k int) string { return c.addr(1, k) }
	ip := func(id, k int) string { return c.nodes[id-1].Addrs[k] }

	for _, tc := range []struct {
		name      string
		files     pki.Files
		forceCert bool
		from      string
		to        string
		first     *messagingv1.ConnectRequest
		code      codes.Code
		logParts  []string
	}{{
		name:     "certificate of another CA",
		files:    foreign,
		from:     ip(2, 0),
		to:       addr1(0),
		first:    hello(clusterName, 2, 0),
		code:     codes.Unavailable,
		logParts: []string{"TLS handshake failed", ip(2, 0), "didn't provide a certificate"},
	}, {
		name:      "certificate of another CA, forced on the server",
		files:     foreign,
		forceCert: true,
		from:      ip(2, 0),
		to:        addr1(0),
		first:     hello(clusterName, 2, 0),
		code:      codes.Unavailable,
		logParts:  []string{"TLS handshake failed", ip(2, 0), "certificate signed by unknown authority"},
	}, {
		name:     "node certificate not in the nodelist",
		files:    pki.FilesFor(c.pkiDir, pki.RoleNode, "intruder"),
		from:     ip(2, 0),
		to:       addr1(0),
		first:    hello(clusterName, 2, 0),
		code:     codes.PermissionDenied,
		logParts: []string{`names no node of the nodelist`, `intruder`, ip(2, 0)},
	}, {
		name:     "admin certificate",
		files:    pki.FilesFor(c.pkiDir, pki.RoleAdmin, "alice"),
		from:     ip(2, 0),
		to:       addr1(0),
		first:    hello(clusterName, 2, 0),
		code:     codes.PermissionDenied,
		logParts: []string{`admin certificate`, `alice`, `may not call`, ip(2, 0)},
	}, {
		name:     "node 2's certificate from node 3's address",
		files:    n2Files,
		from:     ip(3, 0),
		to:       addr1(0),
		first:    hello(clusterName, 2, 0),
		code:     codes.PermissionDenied,
		logParts: []string{"peer link refused", "cert=n2", "remote=" + ip(3, 0), `but node \"n2\"'s link 0 address is ` + ip(2, 0)},
	}, {
		name:     "wrong cluster name",
		files:    n2Files,
		from:     ip(2, 0),
		to:       addr1(0),
		first:    hello("another-cluster", 2, 0),
		code:     codes.PermissionDenied,
		logParts: []string{"peer link refused", "cert=n2", "remote=" + ip(2, 0), `hello names cluster \"another-cluster\"`},
	}, {
		name:     "hello claims another node id",
		files:    n2Files,
		from:     ip(2, 0),
		to:       addr1(0),
		first:    hello(clusterName, 3, 0),
		code:     codes.PermissionDenied,
		logParts: []string{"peer link refused", "cert=n2", `hello claims node id 3`},
	}, {
		name:     "hello names link 0 on link 1's addresses",
		files:    n2Files,
		from:     ip(2, 1),
		to:       addr1(1),
		first:    hello(clusterName, 2, 0),
		code:     codes.PermissionDenied,
		logParts: []string{"peer link refused", "remote=" + ip(2, 1), `link 0 address is ` + ip(2, 0)},
	}, {
		name:     "right addresses, arriving at the wrong link",
		files:    n2Files,
		from:     ip(2, 1),
		to:       addr1(0),
		first:    hello(clusterName, 2, 1),
		code:     codes.PermissionDenied,
		logParts: []string{"peer link refused", "arrived at " + ip(1, 0) + `, not at this node's link 1 address ` + ip(1, 1)},
	}, {
		name:     "link that does not exist",
		files:    n2Files,
		from:     ip(2, 0),
		to:       addr1(0),
		first:    hello(clusterName, 2, 5),
		code:     codes.PermissionDenied,
		logParts: []string{"peer link refused", "link 5 does not exist"},
	}, {
		name:     "no hello first",
		files:    n2Files,
		from:     ip(2, 0),
		to:       addr1(0),
		first:    &messagingv1.ConnectRequest{Frame: &messagingv1.ConnectRequest_Ping{Ping: &messagingv1.LinkPing{Sequence: 1}}},
		code:     codes.InvalidArgument,
		logParts: []string{"peer link refused", "not a hello", "cert=n2"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			err := rogueConnect(t, tc.files, tc.forceCert, "n1", tc.from, tc.to, tc.first)
			if status.Code(err) != tc.code {
				t.Fatalf("got %v, want code %v", err, tc.code)
			}
			waitFor(t, 5*time.Second, "the refusal in node 1's log", func() bool {
				_, ok := log.line(tc.logParts...)
				return ok
			})
			line, _ := log.line(tc.logParts...)
			t.Logf("callee: %s", line)
			t.Logf("caller: %v", err)
		})
	}

	// The right identity, address and hello is admitted.
	if err := rogueConnect(t, n2Files, false, "n1", ip(2, 0), addr1(0), hello(clusterName, 2, 0)); err != nil {
		t.Fatalf("node 2 as itself: %v", err)
	}
	if strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("errors in the log:\n%s", log)
	}
}

// TestMisconfiguredPeer shows a refusal from the caller's side: a node
// configured with another cluster name keeps retrying, and its link status
// says why it is refused.
func TestMisconfiguredPeer(t *testing.T) {
	c := newTestCluster(t, 2, 1)
	log1, log2 := &logBuffer{}, &logBuffer{}
	tr1, err := New(c.config(1, log1.logger()))
	if err != nil {
		t.Fatal(err)
	}
	cfg2 := c.config(2, log2.logger())
	cfg2.ClusterName = "typo"
	tr2, err := New(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	start(t, tr1, log1)
	n2 := start(t, tr2, log2)
	waitFor(t, 10*time.Second, "node 2's link error", func() bool {
		_, l := n2.link(1, 0)
		return strings.Contains(l.LastError, "PermissionDenied") && strings.Contains(l.LastError, `hello names cluster "typo"`)
	})
	if _, ok := log2.line("cannot open link", "PermissionDenied"); !ok {
		t.Errorf("node 2 did not log the refusal:\n%s", log2)
	}
	if _, ok := log1.line("peer link refused", "cert=n2", `hello names cluster \"typo\"`); !ok {
		t.Errorf("node 1 did not log the refusal:\n%s", log1)
	}
}
