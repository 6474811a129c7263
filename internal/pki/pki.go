// Package pki is Vigil's certificate authority: the analogue of
// corosync-keygen. It creates a cluster CA and issues certificates that carry
// a role (node, admin, reader), and builds the TLS 1.3 configurations every
// Vigil server and client uses.
//
// A PKI directory holds:
//
//	ca.crt, ca.key                 the cluster CA
//	ROLE-NAME.crt, ROLE-NAME.key   one certificate per identity, e.g. node-n1.crt
//
// Key files are written with mode 0600; every file is written atomically.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Role is what a certificate allows its holder to do; it is written into
// the certificate's subject as the organizational unit "vigil-ROLE".
type Role string

// The roles a certificate can carry.
const (
	RoleNode   Role = "node"
	RoleAdmin  Role = "admin"
	RoleReader Role = "reader"
)

// Roles lists every role, in the order of decreasing privilege.
var Roles = []Role{RoleNode, RoleAdmin, RoleReader}

const rolePrefix = "vigil-"

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("pki: unknown role %q (want node, admin or reader)", s)
	}
	return r, nil
}

// KeyType selects the algorithm of generated keys.
type KeyType string

// The supported key algorithms.
const (
	KeyECDSAP256 KeyType = "ecdsa-p256"
	KeyEd25519   KeyType = "ed25519"
)

// Errors callers branch on.
var (
	ErrExists   = errors.New("already exists")
	ErrNoCA     = errors.New("no cluster CA")
	ErrBadName  = errors.New("invalid name")
	ErrNoRole   = errors.New("certificate carries no Vigil role")
	ErrNotFound = errors.New("not found")
)

// Options tune key generation and validity; the zero value gives the
// defaults documented in docs/security.md.
type Options struct {
	KeyType  KeyType
	Validity time.Duration
	// Force allows overwriting an existing CA or certificate.
	Force bool
	// ClusterName is written into the CA's subject (InitCA only).
	ClusterName string
	// IPs and DNSNames are extra subject alternative names of node
	// certificates; the node name itself is always one.
	IPs      []net.IP
	DNSNames []string
	// Now is the issue time; zero means time.Now().
	Now time.Time
}

const (
	defaultCAValidity   = 10 * 365 * 24 * time.Hour
	defaultLeafValidity = 5 * 365 * 24 * time.Hour
	// backdate tolerates clocks of cluster nodes that lag a little.
	backdate = 5 * time.Minute
)

// CAPaths returns the paths of the CA certificate and key in dir.
func CAPaths(dir string) (cert, key string) {
	return filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
}

// CertPaths returns where Issue writes the certificate and key of an
// identity in dir.
func CertPaths(dir string, role Role, name string) (cert, key string) {
	base := string(role) + "-" + name
	return filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key")
}

// ValidateName reports whether name can name a node or a user: the node
// names of a nodelist are host names, so the same rule applies to all.
func ValidateName(name string) error {
	if name == "" || len(name) > 253 {
		return fmt.Errorf("pki: %w %q: must be 1 to 253 characters", ErrBadName, name)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
		if !ok {
			return fmt.Errorf("pki: %w %q: only letters, digits, '-', '_' and '.' are allowed", ErrBadName, name)
		}
	}
	return nil
}

// InitCA creates the cluster CA in dir. It refuses to replace an existing CA
// unless opts.Force is set, because every certificate issued by the old CA
// stops working.
func InitCA(dir string, opts Options) error {
	certPath, keyPath := CAPaths(dir)
	if !opts.Force {
		for _, p := range []string{certPath, keyPath} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("pki: CA %s %w; replacing it invalidates every issued certificate, use --force to do it anyway", p, ErrExists)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	key, err := generateKey(opts.KeyType)
	if err != nil {
		return err
	}
	now := issueTime(opts)
	cluster := opts.ClusterName
	if cluster == "" {
		cluster = "vigil"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Vigil cluster CA " + cluster, Organization: []string{"vigil:" + cluster}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity(opts, defaultCAValidity)),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("pki: create CA: %w", err)
	}
	return writePair(certPath, keyPath, der, key)
}

// Issue creates a certificate for name with role, signed by the CA in dir,
// and returns the paths it wrote. Node certificates can serve and connect
// (the node name is a DNS name of the certificate, which is what clients
// verify); admin and reader certificates can only connect.
func Issue(dir string, role Role, name string, opts Options) (certPath, keyPath string, err error) {
	if _, err := ParseRole(string(role)); err != nil {
		return "", "", err
	}
	if err := ValidateName(name); err != nil {
		return "", "", err
	}
	caCert, caKey, err := LoadCA(dir)
	if err != nil {
		return "", "", err
	}
	certPath, keyPath = CertPaths(dir, role, name)
	if !opts.Force {
		if _, err := os.Stat(certPath); err == nil {
			return "", "", fmt.Errorf("pki: certificate %s %w; use --force to issue it again", certPath, ErrExists)
		}
	}
	key, err := generateKey(opts.KeyType)
	if err != nil {
		return "", "", err
	}
	now := issueTime(opts)
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject: pkix.Name{
			CommonName:         name,
			OrganizationalUnit: []string{rolePrefix + string(role)},
			Organization:       caCert.Subject.Organization,
		},
		NotBefore:   now.Add(-backdate),
		NotAfter:    now.Add(validity(opts, defaultLeafValidity)),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if role == RoleNode {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		tmpl.DNSNames = append([]string{name}, opts.DNSNames...)
		tmpl.IPAddresses = opts.IPs
	}
	if caCert.NotAfter.Before(tmpl.NotAfter) {
		tmpl.NotAfter = caCert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		return "", "", fmt.Errorf("pki: issue %s %s: %w", role, name, err)
	}
	if err := writePair(certPath, keyPath, der, key); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// LoadCA reads the CA certificate and key from dir.
func LoadCA(dir string) (*x509.Certificate, crypto.Signer, error) {
	certPath, keyPath := CAPaths(dir)
	cert, err := ReadCertificate(certPath)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("pki: %w in %s; create one with `vigil pki init`", ErrNoCA, dir)
	}
	if err != nil {
		return nil, nil, err
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// ReadCertificate reads the first certificate of a PEM file.
func ReadCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("pki: certificate %s %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("pki: %s: no PEM CERTIFICATE block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	return cert, nil
}

// Identity returns the role and name a verified certificate carries.
func Identity(cert *x509.Certificate) (Role, string, error) {
	for _, ou := range cert.Subject.OrganizationalUnit {
		if r, ok := strings.CutPrefix(ou, rolePrefix); ok {
			role, err := ParseRole(r)
			if err != nil {
				return "", "", fmt.Errorf("pki: certificate %q: %w", cert.Subject.CommonName, err)
			}
			return role, cert.Subject.CommonName, nil
		}
	}
	return "", "", fmt.Errorf("pki: certificate %q: %w", cert.Subject.CommonName, ErrNoRole)
}

func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("pki: %s: no PEM PRIVATE KEY block", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pki: %s: key of type %T cannot sign", path, key)
	}
	return signer, nil
}

func generateKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case "", KeyECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyEd25519:
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	default:
		return nil, fmt.Errorf("pki: unknown key type %q (want %s or %s)", t, KeyECDSAP256, KeyEd25519)
	}
}

func writePair(certPath, keyPath string, der []byte, key crypto.Signer) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("pki: encode key: %w", err)
	}
	// The key goes first: a certificate without its key is useless, while a
	// key without a certificate is simply issued again.
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n
}

func issueTime(opts Options) time.Time {
	if opts.Now.IsZero() {
		return time.Now()
	}
	return opts.Now
}

func validity(opts Options, def time.Duration) time.Duration {
	if opts.Validity > 0 {
		return opts.Validity
	}
	return def
}
