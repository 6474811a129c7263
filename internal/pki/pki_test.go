package pki

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"testing"
)

func TestInitRefusesToOverwriteCA(t *testing.T) {
	dir := t.TempDir()
	if err := InitCA(dir, Options{ClusterName: "c1"}); err != nil {
		t.Fatal(err)
	}
	err := InitCA(dir, Options{})
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second InitCA: got %v, want ErrExists", err)
	}
	if err := InitCA(dir, Options{Force: true}); err != nil {
		t.Fatalf("InitCA with Force: %v", err)
	}
}

func TestIssueRolesAndFileModes(t *testing.T) {
	for _, kt := range []KeyType{KeyECDSAP256, KeyEd25519} {
		t.Run(string(kt), func(t *testing.T) {
			dir := t.TempDir()
			if err := InitCA(dir, Options{KeyType: kt}); err != nil {
				t.Fatal(err)
			}
			_, caKey := CAPaths(dir)
			assertMode(t, caKey, 0o600)
			for _, role := range Roles {
				certPath, keyPath, err := Issue(dir, role, "n1", Options{KeyType: kt, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
				if err != nil {
					t.Fatal(err)
				}
				assertMode(t, keyPath, 0o600)
				cert, err := ReadCertificate(certPath)
				if err != nil {
					t.Fatal(err)
				}
				gotRole, gotName, err := Identity(cert)
				if err != nil || gotRole != role || gotName != "n1" {
					t.Fatalf("Identity = %q %q %v, want %q n1", gotRole, gotName, err, role)
				}
				if err := cert.VerifyHostname("n1"); (err == nil) != (role == RoleNode) {
					t.Errorf("%s certificate VerifyHostname(n1) = %v", role, err)
				}
			}
			if _, _, err := Issue(dir, RoleAdmin, "n1", Options{}); !errors.Is(err, ErrExists) {
				t.Errorf("re-issue without Force: got %v, want ErrExists", err)
			}
		})
	}
}

func TestIssueRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Issue(dir, RoleNode, "n1", Options{}); !errors.Is(err, ErrNoCA) {
		t.Errorf("Issue without CA: got %v, want ErrNoCA", err)
	}
	if err := InitCA(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "a/b", "../x", "a b"} {
		if _, _, err := Issue(dir, RoleNode, name, Options{}); !errors.Is(err, ErrBadName) {
			t.Errorf("Issue(%q): got %v, want ErrBadName", name, err)
		}
	}
	if _, _, err := Issue(dir, Role("root"), "x", Options{}); err == nil {
		t.Error("Issue with unknown role succeeded")
	}
}

// TestMutualTLS checks the configurations end to end over a real TLS 1.3
// handshake: a node serves, an admin connects.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	if err := InitCA(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []struct {
		role Role
		name string
	}{{RoleNode, "n1"}, {RoleAdmin, "root"}} {
		if _, _, err := Issue(dir, id.role, id.name, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	serverCfg, err := ServerTLS(FilesFor(dir, RoleNode, "n1"))
	if err != nil {
		t.Fatal(err)
	}
	clientCfg, err := ClientTLS(FilesFor(dir, RoleAdmin, "root"), "n1")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			peer <- err
			return
		}
		defer conn.Close()
		tc := conn.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			peer <- err
			return
		}
		certs := tc.ConnectionState().PeerCertificates
		role, name, err := Identity(certs[0])
		if err == nil && (role != RoleAdmin || name != "root") {
			err = errors.New("wrong identity " + string(role) + " " + name)
		}
		peer <- err
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	if v := conn.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("TLS version %x, want TLS 1.3", v)
	}
	conn.Close()
	if err := <-peer; err != nil {
		t.Fatalf("server side: %v", err)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != want {
		t.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), want)
	}
}
