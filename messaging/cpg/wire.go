package cpg

import (
	"errors"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of GroupEnvelope and GroupData (protocol.proto). Data
// messages are most of the traffic, so they are encoded and decoded here
// by hand: the payload is copied once when encoded and aliased, not
// copied, when decoded, and nothing is allocated for the envelope. Every
// other kind goes through proto.Unmarshal. TestWireMatchesProto checks
// that both agree.
const (
	envelopeData     = 3
	dataGroup        = 1
	dataHandle       = 2
	dataData         = 3
	dataFragment     = 4
	dataFragments    = 5
	maxVarintLen     = 10
	envelopeOverhead = 1 + maxVarintLen // tag and length of GroupData
)

// groupData is a decoded GroupData whose Data aliases the envelope.
type groupData struct {
	group               []byte
	handle              uint64
	data                []byte
	fragment, fragments uint32
}

var errNotData = errors.New("not a data envelope")

// decodeData decodes b when it is a GroupEnvelope holding GroupData; it
// returns errNotData for the other kinds.
func decodeData(b []byte) (groupData, error) {
	var g groupData
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return g, protowire.ParseError(n)
	}
	if num != envelopeData || typ != protowire.BytesType {
		return g, errNotData
	}
	inner, m := protowire.ConsumeBytes(b[n:])
	if m < 0 {
		return g, protowire.ParseError(m)
	}
	if n+m != len(b) {
		// Something after the data (a repeated oneof field, unknown
		// fields): leave it to the generic decoder.
		return g, errNotData
	}
	for len(inner) > 0 {
		num, typ, n := protowire.ConsumeTag(inner)
		if n < 0 {
			return g, protowire.ParseError(n)
		}
		inner = inner[n:]
		switch {
		case num == dataGroup && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(inner)
			if n < 0 {
				return g, protowire.ParseError(n)
			}
			if !utf8.Valid(v) {
				// proto3 strings are UTF-8; proto.Unmarshal refuses others.
				return g, errors.New("group name is not valid UTF-8")
			}
			g.group, inner = v, inner[n:]
		case num == dataData && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(inner)
			if n < 0 {
				return g, protowire.ParseError(n)
			}
			g.data, inner = v, inner[n:]
		case (num == dataHandle || num == dataFragment || num == dataFragments) && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(inner)
			if n < 0 {
				return g, protowire.ParseError(n)
			}
			inner = inner[n:]
			switch num {
			case dataHandle:
				g.handle = v
			case dataFragment:
				g.fragment = uint32(v)
			default:
				g.fragments = uint32(v)
			}
		default:
			// Unknown fields: the generic decoder judges them.
			return g, errNotData
		}
	}
	return g, nil
}

// appendData appends the GroupEnvelope of one data message or fragment
// to b, byte for byte what proto.Marshal writes.
func appendData(b []byte, group string, handle uint64, data []byte, fragment, fragments uint32) []byte {
	// Sizes of the fields written below; proto3 leaves out zero values.
	size := 0
	if group != "" {
		size += protowire.SizeTag(dataGroup) + protowire.SizeBytes(len(group))
	}
	if handle != 0 {
		size += protowire.SizeTag(dataHandle) + protowire.SizeVarint(handle)
	}
	if len(data) > 0 {
		size += protowire.SizeTag(dataData) + protowire.SizeBytes(len(data))
	}
	if fragment != 0 {
		size += protowire.SizeTag(dataFragment) + protowire.SizeVarint(uint64(fragment))
	}
	if fragments != 0 {
		size += protowire.SizeTag(dataFragments) + protowire.SizeVarint(uint64(fragments))
	}
	b = protowire.AppendTag(b, envelopeData, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	if group != "" {
		b = protowire.AppendTag(b, dataGroup, protowire.BytesType)
		b = protowire.AppendString(b, group)
	}
	if handle != 0 {
		b = protowire.AppendTag(b, dataHandle, protowire.VarintType)
		b = protowire.AppendVarint(b, handle)
	}
	if len(data) > 0 {
		b = protowire.AppendTag(b, dataData, protowire.BytesType)
		b = protowire.AppendBytes(b, data)
	}
	if fragment != 0 {
		b = protowire.AppendTag(b, dataFragment, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(fragment))
	}
	if fragments != 0 {
		b = protowire.AppendTag(b, dataFragments, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(fragments))
	}
	return b
}

// encodeData is appendData into a buffer of the right size.
func encodeData(group string, handle uint64, data []byte, fragment, fragments uint32) []byte {
	return appendData(make([]byte, 0, envelopeOverhead+len(group)+len(data)+4*maxVarintLen), group, handle, data, fragment, fragments)
}
