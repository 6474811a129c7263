package cmap

import (
	"errors"
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

func TestValueTypesAndText(t *testing.T) {
	tests := []struct {
		v    Value
		typ  string
		text string
		wire *messagingv1.Value
	}{
		{I8(-128), "i8", "-128", &messagingv1.Value{Kind: &messagingv1.Value_IntValue{IntValue: -128}}},
		{I16(-2), "i16", "-2", &messagingv1.Value{Kind: &messagingv1.Value_IntValue{IntValue: -2}}},
		{I32(math.MaxInt32), "i32", "2147483647", &messagingv1.Value{Kind: &messagingv1.Value_IntValue{IntValue: math.MaxInt32}}},
		{I64(math.MinInt64), "i64", "-9223372036854775808", &messagingv1.Value{Kind: &messagingv1.Value_IntValue{IntValue: math.MinInt64}}},
		{U8(255), "u8", "255", &messagingv1.Value{Kind: &messagingv1.Value_UintValue{UintValue: 255}}},
		{U16(5405), "u16", "5405", &messagingv1.Value{Kind: &messagingv1.Value_UintValue{UintValue: 5405}}},
		{U32(3000), "u32", "3000", &messagingv1.Value{Kind: &messagingv1.Value_UintValue{UintValue: 3000}}},
		{U64(math.MaxUint64), "u64", "18446744073709551615", &messagingv1.Value{Kind: &messagingv1.Value_UintValue{UintValue: math.MaxUint64}}},
		{Flt(1.5), "flt", "1.500000", &messagingv1.Value{Kind: &messagingv1.Value_FloatValue{FloatValue: 1.5}}},
		{Dbl(-0.25), "dbl", "-0.250000", &messagingv1.Value{Kind: &messagingv1.Value_FloatValue{FloatValue: -0.25}}},
		{Str("r(0) ip(10.99.0.1) "), "str", "r(0) ip(10.99.0.1) ", &messagingv1.Value{Kind: &messagingv1.Value_StringValue{StringValue: "r(0) ip(10.99.0.1) "}}},
		{Bin([]byte("a\\b\x00\xff~")), "bin", `a\\b\x00\xFF~`, &messagingv1.Value{Kind: &messagingv1.Value_BytesValue{BytesValue: []byte("a\\b\x00\xff~")}}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			if got := tt.v.Type().String(); got != tt.typ {
				t.Errorf("Type() = %s, want %s", got, tt.typ)
			}
			if got := tt.v.String(); got != tt.text {
				t.Errorf("String() = %q, want %q", got, tt.text)
			}
			if got := ToProto(tt.v); !proto.Equal(got, tt.wire) {
				t.Errorf("ToProto() = %v, want %v", got, tt.wire)
			}
			// Through the wire and back to the declared type.
			wide, err := FromProto(tt.wire)
			if err != nil {
				t.Fatalf("FromProto: %v", err)
			}
			back, err := wide.Convert(tt.v.Type())
			if err != nil || back != tt.v {
				t.Errorf("FromProto+Convert = %v, %v; want %v", back, err, tt.v)
			}
			pt, err := ParseType(tt.typ)
			if err != nil || pt != tt.v.Type() {
				t.Errorf("ParseType(%q) = %v, %v", tt.typ, pt, err)
			}
		})
	}
}

func TestConvertRanges(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		to   Type
		want Value
		err  error
	}{
		{"u64 to u32", U64(5000), TypeU32, U32(5000), nil},
		{"u64 too big for u32", U64(1 << 32), TypeU32, Value{}, ErrInvalidValue},
		{"u64 too big for u8", U64(256), TypeU8, Value{}, ErrInvalidValue},
		{"i64 to u32", I64(5000), TypeU32, U32(5000), nil},
		{"negative to unsigned", I64(-1), TypeU32, Value{}, ErrInvalidValue},
		{"u64 to i8", U64(127), TypeI8, I8(127), nil},
		{"u64 too big for i8", U64(128), TypeI8, Value{}, ErrInvalidValue},
		{"i64 below i16", I64(-32769), TypeI16, Value{}, ErrInvalidValue},
		{"i64 to i16", I64(-32768), TypeI16, I16(-32768), nil},
		{"max u64 to i64", U64(math.MaxUint64), TypeI64, Value{}, ErrInvalidValue},
		{"dbl to flt", Dbl(0.5), TypeFloat, Flt(0.5), nil},
		{"dbl too big for flt", Dbl(1e300), TypeFloat, Value{}, ErrInvalidValue},
		{"flt to dbl", Flt(0.5), TypeDouble, Dbl(0.5), nil},
		{"string to u32", Str("5000"), TypeU32, Value{}, ErrType},
		{"u32 to string", U32(1), TypeString, Value{}, ErrType},
		{"bin to string", Bin([]byte("x")), TypeString, Value{}, ErrType},
		{"int to float", I64(1), TypeDouble, Value{}, ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.v.Convert(tt.to)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Convert(%v to %v) error = %v, want %v", tt.v, tt.to, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Convert(%v to %v) = %v, want %v", tt.v, tt.to, got, tt.want)
			}
		})
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		typ  Type
		text string
		want Value
		err  error
	}{
		{TypeU32, "5000", U32(5000), nil},
		{TypeU32, "4294967296", Value{}, ErrInvalidValue},
		{TypeU8, "256", Value{}, ErrInvalidValue},
		{TypeU8, "-1", Value{}, ErrInvalidValue},
		{TypeU16, "abc", Value{}, ErrInvalidValue},
		{TypeI8, "-128", I8(-128), nil},
		{TypeI8, "128", Value{}, ErrInvalidValue},
		{TypeI64, "-9223372036854775808", I64(math.MinInt64), nil},
		{TypeU64, "18446744073709551615", U64(math.MaxUint64), nil},
		{TypeFloat, "1.25", Flt(1.25), nil},
		{TypeDouble, "x", Value{}, ErrInvalidValue},
		{TypeString, "on", Str("on"), nil},
		{TypeBinary, "raw", Bin([]byte("raw")), nil},
	}
	for _, tt := range tests {
		got, err := ParseValue(tt.typ, tt.text)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("ParseValue(%v, %q) = %v, %v; want %v, %v", tt.typ, tt.text, got, err, tt.want, tt.err)
		}
	}
	if _, err := ParseType("bool"); !errors.Is(err, ErrType) {
		t.Errorf("ParseType(bool) error = %v, want ErrType", err)
	}
}

func TestFromProtoRefusesWhatCmapCannotHold(t *testing.T) {
	for _, pv := range []*messagingv1.Value{
		nil,
		{},
		{Kind: &messagingv1.Value_BoolValue{BoolValue: true}},
	} {
		if _, err := FromProto(pv); !errors.Is(err, ErrType) {
			t.Errorf("FromProto(%v) error = %v, want ErrType", pv, err)
		}
	}
}

func TestFromProtoAsUsesTheDeclaredType(t *testing.T) {
	wire := &messagingv1.Value{Kind: &messagingv1.Value_UintValue{UintValue: 3000}}
	tests := []struct {
		key  string
		want Value
	}{
		{"totem.token", U32(3000)},
		{"totem.interface.0.mcastport", U16(3000)},
		{"runtime.members.7.config_version", U64(3000)},
		{"stats.knet.node2.link0.latency_ave", U32(3000)},
		{"no.such.key", U64(3000)},
	}
	for _, tt := range tests {
		got, err := FromProtoAs(tt.key, wire)
		if err != nil || got != tt.want {
			t.Errorf("FromProtoAs(%s) = %v (%v), %v; want %v (%v)", tt.key, got, got.Type(), err, tt.want, tt.want.Type())
		}
	}
}
