package cmap

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Service is the gRPC CmapService over a Store. Values travel in their
// family's wire kind (see ToProto); clients recover a known key's exact
// type with KeyType.
type Service struct {
	messagingv1.UnimplementedCmapServiceServer
	store *Store
}

// NewService returns the gRPC surface of store.
func NewService(store *Store) *Service { return &Service{store: store} }

// Register registers the CmapService on g.
func (s *Service) Register(g grpc.ServiceRegistrar) {
	messagingv1.RegisterCmapServiceServer(g, s)
}

// Get returns one key; NOT_FOUND when it does not exist.
func (s *Service) Get(_ context.Context, req *messagingv1.GetRequest) (*messagingv1.GetResponse, error) {
	if req.GetKey() == "" {
		return nil, toStatus(ErrInvalidKey, "the key is empty: give a key such as totem.token, or List a prefix")
	}
	v, err := s.store.Get(req.GetKey())
	if err != nil {
		return nil, toStatus(err, "list the keys with List, e.g. `"+strings.TrimSpace("vigil cmap list "+parentPrefix(req.GetKey()))+"`")
	}
	return &messagingv1.GetResponse{Entry: toEntry(Entry{Key: req.GetKey(), Value: v})}, nil
}

// Set changes a key a client may change (Changeable); FAILED_PRECONDITION
// for any other key, INVALID_ARGUMENT for a value of the wrong type or out
// of range.
func (s *Service) Set(_ context.Context, req *messagingv1.SetRequest) (*messagingv1.SetResponse, error) {
	key := req.GetEntry().GetKey()
	if _, err := checkChangeable(key); err != nil {
		return nil, toStatus(err, "")
	}
	v, err := FromProto(req.GetEntry().GetValue())
	if err != nil {
		return nil, toStatus(err, "")
	}
	if err := s.store.Set(key, v); err != nil {
		return nil, toStatus(err, "")
	}
	return &messagingv1.SetResponse{}, nil
}

// List returns every key under a prefix, in key order.
func (s *Service) List(_ context.Context, req *messagingv1.ListRequest) (*messagingv1.ListResponse, error) {
	es := s.store.List(req.GetPrefix())
	out := &messagingv1.ListResponse{Entries: make([]*messagingv1.Entry, len(es))}
	for i, e := range es {
		out.Entries[i] = toEntry(e)
	}
	return out, nil
}

// Watch sends every change of a key under a prefix, from the moment the
// response headers are sent: a client that wants the current values too
// waits for the headers, then calls List, and applies the changes it
// receives in order. A client that falls behind by more than the store's
// watch buffer gets RESOURCE_EXHAUSTED and must Watch and List again; it is
// never silently skipped a change.
func (s *Service) Watch(req *messagingv1.WatchRequest, stream grpc.ServerStreamingServer[messagingv1.WatchResponse]) error {
	w := s.store.Watch(req.GetPrefix())
	defer w.Close()
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	ctx := stream.Context()
	for {
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case ev, ok := <-w.Events():
			if !ok {
				return toStatus(w.Err(), "watch again, then List the prefix to resynchronise; watch a narrower prefix if this repeats")
			}
			if err := stream.Send(&messagingv1.WatchResponse{Event: toWatchEvent(ev.Kind), Entry: toEntry(Entry{Key: ev.Key, Value: ev.Value})}); err != nil {
				return err
			}
		}
	}
}

// codeOf is the one table from the package's errors to gRPC codes.
var codeOf = []struct {
	err  error
	code codes.Code
}{
	{ErrNotFound, codes.NotFound},
	{ErrNotChangeable, codes.FailedPrecondition},
	{ErrInvalidKey, codes.InvalidArgument},
	{ErrType, codes.InvalidArgument},
	{ErrInvalidValue, codes.InvalidArgument},
	{ErrWatchOverflow, codes.ResourceExhausted},
}

// toStatus turns err into a gRPC status whose message is the error's, plus
// hint (what to do) when given.
func toStatus(err error, hint string) error {
	if err == nil {
		// A watcher is only closed without error by Close, which Watch
		// calls on its way out; reaching here is a bug.
		return status.Error(codes.Internal, "cmap: watch ended without a reason")
	}
	code := codes.Internal
	for _, c := range codeOf {
		if errors.Is(err, c.err) {
			code = c.code
			break
		}
	}
	msg := err.Error()
	if hint != "" {
		msg += "; " + hint
	}
	return status.Error(code, msg)
}

func toEntry(e Entry) *messagingv1.Entry {
	return &messagingv1.Entry{Key: e.Key, Value: ToProto(e.Value)}
}

func toWatchEvent(k EventKind) messagingv1.WatchEvent {
	switch k {
	case EventAdded:
		return messagingv1.WatchEvent_WATCH_EVENT_ADDED
	case EventChanged:
		return messagingv1.WatchEvent_WATCH_EVENT_CHANGED
	case EventDeleted:
		return messagingv1.WatchEvent_WATCH_EVENT_DELETED
	}
	return messagingv1.WatchEvent_WATCH_EVENT_UNSPECIFIED
}

// parentPrefix returns key up to and including its last dot, for hints.
func parentPrefix(key string) string {
	return key[:strings.LastIndexByte(key, '.')+1]
}
