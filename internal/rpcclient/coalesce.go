package rpcclient

import (
	"context"
	"net"
	"sync"

	"google.golang.org/grpc/credentials"
)

// CoalescingCredentials wraps TLS transport credentials so that one write
// of gRPC's buffer becomes one write to the socket.
//
// crypto/tls writes each record (at most 16 KiB of plaintext) to the socket
// as soon as it is sealed, so gRPC's 256 KiB buffer left as sixteen write
// syscalls, each waking the receiver. Streams of group messages carry
// 100 MB/s per link; half of vigil-messagingd's CPU time went to those
// syscalls. The wrapper sits on both sides of the TLS connection: during a
// write from above it collects the sealed records below and hands them to
// the socket in one write when the TLS write returns. Outside such a write
// (handshake, alerts, key updates) records go to the socket at once, as
// before.
func CoalescingCredentials(inner credentials.TransportCredentials) credentials.TransportCredentials {
	return coalescingCreds{inner}
}

type coalescingCreds struct {
	credentials.TransportCredentials
}

func (c coalescingCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	low := &recordCollector{Conn: raw}
	conn, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, low)
	if err != nil {
		return nil, nil, err
	}
	return &coalescingConn{Conn: conn, low: low}, info, nil
}

func (c coalescingCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	low := &recordCollector{Conn: raw}
	conn, info, err := c.TransportCredentials.ServerHandshake(low)
	if err != nil {
		return nil, nil, err
	}
	return &coalescingConn{Conn: conn, low: low}, info, nil
}

func (c coalescingCreds) Clone() credentials.TransportCredentials {
	return coalescingCreds{c.TransportCredentials.Clone()}
}

// maxCollected bounds what a collector holds before it writes anyway.
const maxCollected = 1 << 20

// recordCollector is the socket as TLS sees it: while collecting, writes
// are appended to a buffer instead of going to the socket.
type recordCollector struct {
	net.Conn
	mu         sync.Mutex
	collecting bool
	buf        []byte
	err        error // a failed write, reported to every later one
}

func (r *recordCollector) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	if !r.collecting {
		return r.Conn.Write(b)
	}
	// TLS reuses its record buffer: keep a copy.
	r.buf = append(r.buf, b...)
	if len(r.buf) >= maxCollected {
		if err := r.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

func (r *recordCollector) flushLocked() error {
	if len(r.buf) == 0 {
		return nil
	}
	_, err := r.Conn.Write(r.buf)
	r.buf = r.buf[:0]
	if err != nil {
		r.err = err
	}
	return err
}

func (r *recordCollector) begin() {
	r.mu.Lock()
	r.collecting = true
	r.mu.Unlock()
}

func (r *recordCollector) end() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collecting = false
	err := r.flushLocked()
	if cap(r.buf) > maxCollected {
		r.buf = nil // do not keep a buffer grown by one huge write
	}
	return err
}

// coalescingConn is the TLS connection as gRPC sees it. gRPC writes from
// one goroutine per connection; writes are serialised here anyway so that
// the collector's begin and end pair up.
type coalescingConn struct {
	net.Conn // the TLS connection
	low      *recordCollector
	wmu      sync.Mutex
}

func (c *coalescingConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.low.begin()
	n, err := c.Conn.Write(b)
	if ferr := c.low.end(); ferr != nil && err == nil {
		return 0, ferr
	}
	return n, err
}
