// Package cibclient is the Go client of the live CIB that vigil-crmd
// serves: read it, replace it or patch it, optionally conditional on the
// version read, and watch it change. It speaks plain Go types (cib.CIB,
// cib.Version, cibsvc.Patch) and hides the generated protobuf code.
//
// A change returns once the crmd that was asked applied it in the crm
// group's agreed order and saved it, so every member of its view has it
// too. A conditional change (expected version set) fails with an error
// for which IsVersionMismatch is true when someone changed the CIB since
// it was read: read again, redo the edit, and commit again — or tell the
// user, as `vigil configure commit` should.
package cibclient

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
	crmv1 "github.com/vigil-ha/vigil/proto/vigil/crm/v1"
)

// MaxMessage bounds the CIB a client receives in one answer.
const MaxMessage = 256 << 20

// Client talks to one vigil-crmd.
type Client struct {
	cib     crmv1.CibServiceClient
	cluster crmv1.ClusterServiceClient
}

// New returns a client on conn (a connection to a vigil-crmd, e.g. from
// localcluster's Node.Dial or rpcclient.Dial).
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{cib: crmv1.NewCibServiceClient(conn), cluster: crmv1.NewClusterServiceClient(conn)}
}

var recvOpt = grpc.MaxCallRecvMsgSize(MaxMessage)

func versionPB(v *cib.Version) *crmv1.Version {
	if v == nil {
		return nil
	}
	return &crmv1.Version{AdminEpoch: uint64(v.AdminEpoch), Epoch: uint64(v.Epoch), NumUpdates: uint64(v.NumUpdates)}
}

// VersionOf converts the API's version.
func VersionOf(v *crmv1.Version) cib.Version {
	return cib.Version{AdminEpoch: int64(v.GetAdminEpoch()), Epoch: int64(v.GetEpoch()), NumUpdates: int64(v.GetNumUpdates())}
}

// IsVersionMismatch reports whether err is a conditional change refused
// because the CIB was not at the expected version.
func IsVersionMismatch(err error) bool { return status.Code(err) == codes.Aborted }

// QueryXML returns the whole CIB as XML with its version.
func (c *Client) QueryXML(ctx context.Context) ([]byte, cib.Version, error) {
	resp, err := c.cib.Query(ctx, &crmv1.QueryRequest{}, recvOpt)
	if err != nil {
		return nil, cib.Version{}, err
	}
	return resp.GetXml(), VersionOf(resp.GetVersion()), nil
}

// Query returns the whole CIB, decoded. Its Version is the one to pass as
// expected to a change made from it.
func (c *Client) Query(ctx context.Context) (*cib.CIB, error) {
	b, _, err := c.QueryXML(ctx)
	if err != nil {
		return nil, err
	}
	return cib.Unmarshal(b)
}

// QueryID returns the element with the id as XML.
func (c *Client) QueryID(ctx context.Context, id string) ([]byte, cib.Version, error) {
	resp, err := c.cib.Query(ctx, &crmv1.QueryRequest{Id: id}, recvOpt)
	if err != nil {
		return nil, cib.Version{}, err
	}
	return resp.GetXml(), VersionOf(resp.GetVersion()), nil
}

// QueryPath returns the elements a path names (see cibsvc.Select) as XML.
func (c *Client) QueryPath(ctx context.Context, path string) ([][]byte, cib.Version, error) {
	resp, err := c.cib.Query(ctx, &crmv1.QueryRequest{Path: path}, recvOpt)
	if err != nil {
		return nil, cib.Version{}, err
	}
	return resp.GetMatches(), VersionOf(resp.GetVersion()), nil
}

// Replace replaces the whole CIB with xml. With expected set the change
// is refused unless the CIB is still at that version. An xml whose
// version is newer than the cluster's keeps its version; otherwise the
// cluster's epoch is bumped. force accepts an xml older than the
// cluster's CIB.
func (c *Client) Replace(ctx context.Context, xml []byte, expected *cib.Version, force bool) (cib.Version, error) {
	resp, err := c.cib.Replace(ctx, &crmv1.ReplaceRequest{Xml: xml, ExpectedVersion: versionPB(expected), Force: force})
	if err != nil {
		return cib.Version{}, err
	}
	return VersionOf(resp.GetVersion()), nil
}

// Commit replaces the CIB with next, conditional on the version it was
// read at: the live mode of an editor (vigil configure) that queried the
// CIB, changed it and commits. The epoch is bumped unless next already
// carries a newer version.
func (c *Client) Commit(ctx context.Context, read cib.Version, next *cib.CIB) (cib.Version, error) {
	return c.Replace(ctx, cib.Marshal(next), &read, false)
}

// ReplaceConfiguration replaces the <configuration> section only, keeping
// the status.
func (c *Client) ReplaceConfiguration(ctx context.Context, xml []byte, expected *cib.Version) (cib.Version, error) {
	resp, err := c.cib.Replace(ctx, &crmv1.ReplaceRequest{Section: crmv1.Section_SECTION_CONFIGURATION, Xml: xml, ExpectedVersion: versionPB(expected)})
	if err != nil {
		return cib.Version{}, err
	}
	return VersionOf(resp.GetVersion()), nil
}

// opKinds maps patch operation kinds to the API's.
var opKinds = map[cibsvc.OpKind]crmv1.PatchOpKind{
	cibsvc.OpCreate:        crmv1.PatchOpKind_PATCH_OP_KIND_CREATE,
	cibsvc.OpReplace:       crmv1.PatchOpKind_PATCH_OP_KIND_REPLACE,
	cibsvc.OpSetAttributes: crmv1.PatchOpKind_PATCH_OP_KIND_SET_ATTRIBUTES,
	cibsvc.OpDelete:        crmv1.PatchOpKind_PATCH_OP_KIND_DELETE,
	cibsvc.OpSetNVPair:     crmv1.PatchOpKind_PATCH_OP_KIND_SET_NVPAIR,
	cibsvc.OpDeleteNVPair:  crmv1.PatchOpKind_PATCH_OP_KIND_DELETE_NVPAIR,
}

// Patch applies p, all operations or none, optionally conditional.
func (c *Client) Patch(ctx context.Context, p cibsvc.Patch, expected *cib.Version) (cib.Version, error) {
	req := &crmv1.PatchRequest{ExpectedVersion: versionPB(expected)}
	for _, op := range p.Ops {
		k, ok := opKinds[op.Kind]
		if !ok {
			return cib.Version{}, fmt.Errorf("%w: unknown operation %q", cibsvc.ErrBadPatch, op.Kind)
		}
		o := &crmv1.PatchOp{Kind: k, Target: op.Target, Xml: op.XML, Unset: op.Unset, IfMissing: op.IfMissing,
			IfExists: op.IfExists, Parent: op.Parent, SetElement: op.SetElement, Name: op.Name, Value: op.Value}
		for _, a := range op.Attrs {
			o.Attrs = append(o.Attrs, &crmv1.Attribute{Name: a.Name, Value: a.Value})
		}
		req.Ops = append(req.Ops, o)
	}
	resp, err := c.cib.Patch(ctx, req)
	if err != nil {
		return cib.Version{}, err
	}
	return VersionOf(resp.GetVersion()), nil
}

// Event is one version a crmd applied.
type Event struct {
	Version cib.Version
	// Origin is the node whose change (or, in a sync, whose CIB) it is.
	Origin uint32
	What   string
	// XML is the CIB at Version when asked for and still current.
	XML []byte
}

// Watch calls f with the current version, then every version the crmd
// applies, until ctx ends (nil) or f or the stream fails.
func (c *Client) Watch(ctx context.Context, withXML bool, f func(Event) error) error {
	stream, err := c.cib.Watch(ctx, &crmv1.WatchRequest{IncludeXml: withXML}, recvOpt)
	if err != nil {
		return err
	}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) || (err != nil && ctx.Err() != nil) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(Event{Version: VersionOf(ev.GetVersion()), Origin: ev.GetOriginNode(), What: ev.GetWhat(), XML: ev.GetXml()}); err != nil {
			return err
		}
	}
}

// Status is the crmd's view of the cluster.
type Status struct {
	// DC is the DC's node name and DCNodeID its id; empty and 0 while there
	// is none.
	DC       string
	DCNodeID uint32
	// Members are the node ids whose crmd is in the crm group.
	Members []uint32
	Version cib.Version
	// Synced is false while the members of a new view synchronise.
	Synced  bool
	Quorate bool
	// Local is the node that answered.
	Local uint32
}

// Status returns the DC, the crm group's members and the CIB version.
func (c *Client) Status(ctx context.Context) (Status, error) {
	resp, err := c.cluster.GetStatus(ctx, &crmv1.GetStatusRequest{})
	if err != nil {
		return Status{}, err
	}
	return Status{DC: resp.GetDc(), DCNodeID: resp.GetDcNodeId(), Members: resp.GetCrmMembers(), Version: VersionOf(resp.GetCibVersion()),
		Synced: resp.GetCibSynced(), Quorate: resp.GetQuorate(), Local: resp.GetLocalNodeId()}, nil
}
