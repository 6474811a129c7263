package cmap

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// Type is the type of a cmap value, as corosync's cmap has them: signed and
// unsigned integers of 8 to 64 bits, single and double floats, strings and
// binary blobs. There is no boolean type; corosync stores flags as u8 0/1 or
// as the strings "yes"/"no", and so does Vigil.
type Type uint8

// The cmap types. Their String names are the ones corosync-cmapctl prints
// and accepts ("u32", "str", ...).
const (
	TypeInvalid Type = iota
	TypeI8
	TypeU8
	TypeI16
	TypeU16
	TypeI32
	TypeU32
	TypeI64
	TypeU64
	TypeFloat  // "flt", a 32-bit float
	TypeDouble // "dbl", a 64-bit float
	TypeString // "str"
	TypeBinary // "bin"
)

var typeNames = [...]string{
	TypeInvalid: "invalid",
	TypeI8:      "i8",
	TypeU8:      "u8",
	TypeI16:     "i16",
	TypeU16:     "u16",
	TypeI32:     "i32",
	TypeU32:     "u32",
	TypeI64:     "i64",
	TypeU64:     "u64",
	TypeFloat:   "flt",
	TypeDouble:  "dbl",
	TypeString:  "str",
	TypeBinary:  "bin",
}

// String returns corosync-cmapctl's name of the type: i8..i64, u8..u64,
// flt, dbl, str or bin.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", t)
}

// ParseType reads a type name as corosync-cmapctl -s takes it.
func ParseType(s string) (Type, error) {
	for t, name := range typeNames {
		if name == s && Type(t) != TypeInvalid {
			return Type(t), nil
		}
	}
	return TypeInvalid, fmt.Errorf("%w: unknown type %q: use one of i8, i16, i32, i64, u8, u16, u32, u64, flt, dbl, str or bin", ErrType, s)
}

// Signed reports whether t is one of i8..i64.
func (t Type) Signed() bool { return t == TypeI8 || t == TypeI16 || t == TypeI32 || t == TypeI64 }

// Unsigned reports whether t is one of u8..u64.
func (t Type) Unsigned() bool { return t == TypeU8 || t == TypeU16 || t == TypeU32 || t == TypeU64 }

// bits returns the width of an integer type.
func (t Type) bits() int {
	switch t {
	case TypeI8, TypeU8:
		return 8
	case TypeI16, TypeU16:
		return 16
	case TypeI32, TypeU32:
		return 32
	}
	return 64
}

// Value is one typed cmap value. It is immutable and comparable with ==;
// the zero Value is invalid and is never stored.
type Value struct {
	typ  Type
	bits uint64 // integers (signed ones in two's complement) and float64 bits
	str  string // str and bin
}

// I8 returns an i8 value.
func I8(v int8) Value { return Value{typ: TypeI8, bits: uint64(int64(v))} }

// I16 returns an i16 value.
func I16(v int16) Value { return Value{typ: TypeI16, bits: uint64(int64(v))} }

// I32 returns an i32 value.
func I32(v int32) Value { return Value{typ: TypeI32, bits: uint64(int64(v))} }

// I64 returns an i64 value.
func I64(v int64) Value { return Value{typ: TypeI64, bits: uint64(v)} }

// U8 returns a u8 value.
func U8(v uint8) Value { return Value{typ: TypeU8, bits: uint64(v)} }

// U16 returns a u16 value.
func U16(v uint16) Value { return Value{typ: TypeU16, bits: uint64(v)} }

// U32 returns a u32 value.
func U32(v uint32) Value { return Value{typ: TypeU32, bits: uint64(v)} }

// U64 returns a u64 value.
func U64(v uint64) Value { return Value{typ: TypeU64, bits: v} }

// Flt returns a flt (32-bit float) value.
func Flt(v float32) Value { return Value{typ: TypeFloat, bits: math.Float64bits(float64(v))} }

// Dbl returns a dbl (64-bit float) value.
func Dbl(v float64) Value { return Value{typ: TypeDouble, bits: math.Float64bits(v)} }

// Str returns a str value.
func Str(v string) Value { return Value{typ: TypeString, str: v} }

// Bin returns a bin value holding a copy of v.
func Bin(v []byte) Value { return Value{typ: TypeBinary, str: string(v)} }

// Type returns the value's type; TypeInvalid for the zero Value.
func (v Value) Type() Type { return v.typ }

// IsValid reports whether v is a value of some type (not the zero Value).
func (v Value) IsValid() bool { return v.typ != TypeInvalid }

// Uint returns the value of an unsigned integer; 0 for other types.
func (v Value) Uint() uint64 {
	if v.typ.Unsigned() {
		return v.bits
	}
	return 0
}

// Int returns the value of a signed integer; 0 for other types.
func (v Value) Int() int64 {
	if v.typ.Signed() {
		return int64(v.bits)
	}
	return 0
}

// Float returns the value of a flt or dbl; 0 for other types.
func (v Value) Float() float64 {
	if v.typ == TypeFloat || v.typ == TypeDouble {
		return math.Float64frombits(v.bits)
	}
	return 0
}

// Str returns the value of a str or bin; "" for other types.
func (v Value) Str() string { return v.str }

// Bytes returns a copy of the value of a bin or str; nil for other types.
func (v Value) Bytes() []byte {
	if v.typ != TypeBinary && v.typ != TypeString {
		return nil
	}
	return []byte(v.str)
}

// String returns the value as corosync-cmapctl prints it after "= ":
// integers in decimal, flt and dbl with six decimals (C's %f), str
// verbatim, and bin with printable ASCII as is, a backslash doubled and
// any other byte as \xHH.
func (v Value) String() string {
	switch {
	case v.typ.Unsigned():
		return strconv.FormatUint(v.bits, 10)
	case v.typ.Signed():
		return strconv.FormatInt(int64(v.bits), 10)
	case v.typ == TypeFloat || v.typ == TypeDouble:
		return strconv.FormatFloat(v.Float(), 'f', 6, 64)
	case v.typ == TypeString:
		return v.str
	case v.typ == TypeBinary:
		var b strings.Builder
		for i := 0; i < len(v.str); i++ {
			switch c := v.str[i]; {
			case c == '\\':
				b.WriteString(`\\`)
			case c >= ' ' && c < 0x7f:
				b.WriteByte(c)
			default:
				fmt.Fprintf(&b, `\x%02X`, c)
			}
		}
		return b.String()
	}
	return "<invalid>"
}

// Convert returns v as a value of type t, or an error wrapping ErrType if
// v's kind does not fit t or ErrInvalidValue if the number is out of t's
// range. Integers convert between widths and signedness when the number
// fits; flt and dbl convert between each other; str, bin and numbers do not
// convert into one another.
func (v Value) Convert(t Type) (Value, error) {
	if v.typ == t {
		return v, nil
	}
	switch {
	case (v.typ.Signed() || v.typ.Unsigned()) && (t.Signed() || t.Unsigned()):
		return convertInt(v, t)
	case (v.typ == TypeFloat || v.typ == TypeDouble) && t == TypeDouble:
		return Dbl(v.Float()), nil
	case v.typ == TypeDouble && t == TypeFloat:
		f := v.Float()
		if math.Abs(f) > math.MaxFloat32 && !math.IsInf(f, 0) {
			return Value{}, fmt.Errorf("%w: %s does not fit in flt", ErrInvalidValue, v)
		}
		return Flt(float32(f)), nil
	}
	return Value{}, fmt.Errorf("%w: a %s value cannot be stored as %s", ErrType, v.typ.kind(), t)
}

func convertInt(v Value, t Type) (Value, error) {
	negative := v.typ.Signed() && int64(v.bits) < 0
	switch {
	case t.Unsigned():
		if negative || (t.bits() < 64 && v.bits >= 1<<t.bits()) {
			return Value{}, fmt.Errorf("%w: %s is out of range for %s (0..%d)", ErrInvalidValue, v, t, maxUint(t))
		}
	case negative:
		if int64(v.bits) < -1<<(t.bits()-1) {
			return Value{}, fmt.Errorf("%w: %s is out of range for %s (%d..%d)", ErrInvalidValue, v, t, -1<<(t.bits()-1), maxInt(t))
		}
	default:
		if v.bits > uint64(maxInt(t)) {
			return Value{}, fmt.Errorf("%w: %s is out of range for %s (%d..%d)", ErrInvalidValue, v, t, -1<<(t.bits()-1), maxInt(t))
		}
	}
	return Value{typ: t, bits: v.bits}, nil
}

func maxUint(t Type) uint64 { return math.MaxUint64 >> (64 - t.bits()) }
func maxInt(t Type) int64   { return math.MaxInt64 >> (64 - t.bits()) }

// kind names a type's family for error messages.
func (t Type) kind() string {
	switch {
	case t.Signed(), t.Unsigned():
		return "integer"
	case t == TypeFloat || t == TypeDouble:
		return "floating-point"
	case t == TypeString:
		return "string"
	case t == TypeBinary:
		return "binary"
	}
	return "invalid"
}

// ParseValue reads text as a value of type t, the way corosync-cmapctl -s
// reads its VALUE argument: a decimal integer checked against t's range, a
// decimal float, or the string itself. For bin the text is taken as the
// bytes themselves; reading a file is the caller's business.
func ParseValue(t Type, text string) (Value, error) {
	switch {
	case t.Unsigned():
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil || n > maxUint(t) {
			return Value{}, fmt.Errorf("%w: %q is not a valid %s integer (0..%d)", ErrInvalidValue, text, t, maxUint(t))
		}
		return Value{typ: t, bits: n}, nil
	case t.Signed():
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n > maxInt(t) || n < -1<<(t.bits()-1) {
			return Value{}, fmt.Errorf("%w: %q is not a valid %s integer (%d..%d)", ErrInvalidValue, text, t, -1<<(t.bits()-1), maxInt(t))
		}
		return Value{typ: t, bits: uint64(n)}, nil
	case t == TypeFloat:
		f, err := strconv.ParseFloat(text, 32)
		if err != nil {
			return Value{}, fmt.Errorf("%w: %q is not a valid flt value", ErrInvalidValue, text)
		}
		return Flt(float32(f)), nil
	case t == TypeDouble:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return Value{}, fmt.Errorf("%w: %q is not a valid dbl value", ErrInvalidValue, text)
		}
		return Dbl(f), nil
	case t == TypeString:
		return Str(text), nil
	case t == TypeBinary:
		return Bin([]byte(text)), nil
	}
	return Value{}, fmt.Errorf("%w: %v", ErrType, t)
}

// ToProto returns v in the wire form. The wire has one kind per family, so
// the width is not carried: signed integers travel as int_value, unsigned
// ones as uint_value, flt and dbl as float_value, str as string_value and
// bin as bytes_value. KeyType gives a known key's exact type back.
func ToProto(v Value) *messagingv1.Value {
	switch {
	case v.typ.Unsigned():
		return &messagingv1.Value{Kind: &messagingv1.Value_UintValue{UintValue: v.bits}}
	case v.typ.Signed():
		return &messagingv1.Value{Kind: &messagingv1.Value_IntValue{IntValue: int64(v.bits)}}
	case v.typ == TypeFloat || v.typ == TypeDouble:
		return &messagingv1.Value{Kind: &messagingv1.Value_FloatValue{FloatValue: v.Float()}}
	case v.typ == TypeString:
		return &messagingv1.Value{Kind: &messagingv1.Value_StringValue{StringValue: v.str}}
	case v.typ == TypeBinary:
		return &messagingv1.Value{Kind: &messagingv1.Value_BytesValue{BytesValue: []byte(v.str)}}
	}
	return &messagingv1.Value{}
}

// FromProto returns the value a wire Value carries, in the widest type of
// its family (i64, u64, dbl, str or bin); Convert narrows it to a key's
// type. A missing value and bool_value (cmap has no boolean type) are
// errors wrapping ErrType.
func FromProto(pv *messagingv1.Value) (Value, error) {
	switch k := pv.GetKind().(type) {
	case *messagingv1.Value_UintValue:
		return U64(k.UintValue), nil
	case *messagingv1.Value_IntValue:
		return I64(k.IntValue), nil
	case *messagingv1.Value_FloatValue:
		return Dbl(k.FloatValue), nil
	case *messagingv1.Value_StringValue:
		return Str(k.StringValue), nil
	case *messagingv1.Value_BytesValue:
		return Bin(k.BytesValue), nil
	case *messagingv1.Value_BoolValue:
		return Value{}, fmt.Errorf("%w: cmap has no boolean type: send flags as uint_value 0 or 1, or as the string_value the key takes", ErrType)
	}
	return Value{}, fmt.Errorf("%w: the value is missing: set one of int_value, uint_value, string_value, bytes_value or float_value", ErrType)
}

// FromProtoAs returns the value a wire Value carries for key: converted to
// the key's declared type when KeyType knows the key, else as FromProto
// returns it. It is how a client recovers "u32" from a uint_value.
func FromProtoAs(key string, pv *messagingv1.Value) (Value, error) {
	v, err := FromProto(pv)
	if err != nil {
		return Value{}, err
	}
	if t, ok := KeyType(key); ok {
		return v.Convert(t)
	}
	return v, nil
}
