package rpcserver

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"
)

// lingerAfterRefusal bounds how long a refused connection is kept open.
const lingerAfterRefusal = 2 * time.Second

// refusingCreds wraps the server's TLS credentials so that a refused
// handshake is reported clearly on both sides. In TLS 1.3 the client
// considers the handshake done before the server has checked its
// certificate; if the server then closed at once, the client's next write
// would fail with a bare "broken pipe". Keeping the connection open briefly
// (discarding what the client sends) lets the client read the server's
// alert, e.g. "tls: certificate required", and the refusal is logged here
// with the peer's address.
type refusingCreds struct {
	credentials.TransportCredentials
	log *slog.Logger
}

func (c refusingCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	held := &heldConn{Conn: raw, hold: true}
	conn, info, err := c.TransportCredentials.ServerHandshake(held)
	if err == nil {
		held.release()
		return conn, info, nil
	}
	c.log.Warn("refused connection: TLS handshake failed", "peer", raw.RemoteAddr().String(), "err", err)
	raw.SetReadDeadline(time.Now().Add(lingerAfterRefusal))
	io.Copy(io.Discard, raw)
	raw.Close()
	return nil, nil, err
}

// heldConn ignores Close while the handshake runs, so that a refusal can
// linger; after a successful handshake, Close closes.
type heldConn struct {
	net.Conn
	mu   sync.Mutex
	hold bool
}

func (h *heldConn) release() {
	h.mu.Lock()
	h.hold = false
	h.mu.Unlock()
}

func (h *heldConn) Close() error {
	h.mu.Lock()
	hold := h.hold
	h.mu.Unlock()
	if hold {
		return nil
	}
	return h.Conn.Close()
}

func (c refusingCreds) Clone() credentials.TransportCredentials {
	return refusingCreds{TransportCredentials: c.TransportCredentials.Clone(), log: c.log}
}
