// Package rpcclient dials Vigil daemons: mutual TLS with the caller's
// certificate, the server verified as the node it claims to be, and
// OpenTelemetry context propagated so a request is one trace across daemons.
package rpcclient

import (
	"fmt"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/vigil-ha/vigil/internal/pki"
)

// StreamBufferSize is the write and read buffer of every Vigil gRPC
// connection, client and server side.
const StreamBufferSize = 256 << 10

// Dial returns a client connection to the daemon at address (host:port)
// run by node serverName, authenticated with the identity in files. The
// connection is made lazily; errors of the handshake surface on the first
// call.
func Dial(address, serverName string, files pki.Files, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	tlsCfg, err := pki.ClientTLS(files, serverName)
	if err != nil {
		return nil, err
	}
	all := append([]grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}),
		// Streams of group messages move tens of MB/s; gRPC's 32 KiB
		// buffers cost a write syscall and a TLS record each.
		grpc.WithWriteBufferSize(StreamBufferSize),
		grpc.WithReadBufferSize(StreamBufferSize),
	}, opts...)
	conn, err := grpc.NewClient("passthrough:///"+address, all...)
	if err != nil {
		return nil, fmt.Errorf("rpcclient: dial %s (%s): %w", address, serverName, err)
	}
	return conn, nil
}
