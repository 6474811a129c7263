package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Files names the PEM files of one identity and the CA that verifies its
// peers.
type Files struct {
	CA, Cert, Key string
}

// FilesFor returns the files of an identity issued in a PKI directory.
func FilesFor(dir string, role Role, name string) Files {
	ca, _ := CAPaths(dir)
	cert, key := CertPaths(dir, role, name)
	return Files{CA: ca, Cert: cert, Key: key}
}

func (f Files) load() (tls.Certificate, *x509.CertPool, error) {
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("pki: load %s and %s: %w", f.Cert, f.Key, err)
	}
	caPEM, err := os.ReadFile(f.CA)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("pki: read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return tls.Certificate{}, nil, fmt.Errorf("pki: %s holds no PEM certificate", f.CA)
	}
	return pair, pool, nil
}

// ServerTLS returns the configuration of a Vigil server: TLS 1.3 only, and
// every client must present a certificate signed by the cluster CA.
func ServerTLS(f Files) (*tls.Config, error) {
	pair, pool, err := f.load()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		// Small first records help a browser render sooner; Vigil's
		// streams idle between bursts and would restart at 1 KiB records
		// (a write syscall each) after every pause.
		DynamicRecordSizingDisabled: true,
	}, nil
}

// ClientTLS returns the configuration of a client of the Vigil server whose
// node name is serverName: TLS 1.3 only, the server's certificate must be
// signed by the cluster CA and name serverName.
func ClientTLS(f Files, serverName string) (*tls.Config, error) {
	pair, pool, err := f.load()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pair},
		RootCAs:      pool,
		ServerName:   serverName,
		// See ServerTLS.
		DynamicRecordSizingDisabled: true,
	}, nil
}
