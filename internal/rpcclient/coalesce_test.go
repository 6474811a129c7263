package rpcclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/credentials"

	"github.com/vigil-ha/vigil/internal/pki"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestCoalescingCredentials sends 4 MiB in 256 KiB writes over TLS: every
// byte arrives in order, and each write of the caller reaches the socket
// as one write instead of one per 16 KiB record.
func TestCoalescingCredentials(t *testing.T) {
	dir := t.TempDir()
	if err := pki.InitCA(dir, pki.Options{ClusterName: "t"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if _, _, err := pki.Issue(dir, pki.RoleNode, n, pki.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	serverCfg, err := pki.ServerTLS(pki.FilesFor(dir, pki.RoleNode, "a"))
	if err != nil {
		t.Fatal(err)
	}
	clientCfg, err := pki.ClientTLS(pki.FilesFor(dir, pki.RoleNode, "b"), "a")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	payload := make([]byte, 4<<20)
	rand.Read(payload)
	received := make(chan []byte, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			received <- nil
			return
		}
		conn, _, err := CoalescingCredentials(credentials.NewTLS(serverCfg)).ServerHandshake(raw)
		if err != nil {
			raw.Close()
			received <- nil
			return
		}
		defer conn.Close()
		got, _ := io.ReadAll(io.LimitReader(conn, int64(len(payload))))
		received <- got
	}()

	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingConn{Conn: raw}
	conn, info, err := CoalescingCredentials(credentials.NewTLS(clientCfg)).ClientHandshake(context.Background(), "a", counted)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, ok := info.(credentials.TLSInfo); !ok {
		t.Fatalf("auth info %T, want credentials.TLSInfo (the role check reads the peer certificate from it)", info)
	}
	before := counted.writes.Load()
	const chunk = 256 << 10
	for off := 0; off < len(payload); off += chunk {
		if _, err := conn.Write(payload[off : off+chunk]); err != nil {
			t.Fatal(err)
		}
	}
	if got := <-received; !bytes.Equal(got, payload) {
		t.Fatalf("received %d bytes, not what was sent", len(got))
	}
	if writes := counted.writes.Load() - before; writes != int64(len(payload)/chunk) {
		t.Errorf("%d socket writes for %d writes of 256 KiB; want one each", writes, len(payload)/chunk)
	}
}
