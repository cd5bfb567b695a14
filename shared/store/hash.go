package store

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Hash returns the hex SHA-256 of a canonical encoding of v, used to detect
// whether the inputs of a computation changed (profile.inputHash, Stripe
// idempotency keys, change checks).
//
// Contract: equal values give equal hashes, in every call and every process
// (no pointer addresses, no map iteration order, no time zone of a
// time.Time inside the fallback encoding), and different values give
// different hashes as far as their encodings differ. Hash never returns an
// error: every value hashes, cyclic values included.
//
// Values that encoding/json can marshal are hashed as their JSON (map keys
// sorted), byte for byte as before, so hashes stored by earlier deploys stay
// valid. Only values json.Marshal rejects (NaN or ±Inf floats, channels,
// funcs, complex numbers, failing MarshalJSON methods, unsupported map keys,
// cycles) take the canonical fallback encoding of canonicalEncoding, which is
// marked so that it can never equal the JSON of another value.
func Hash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		b = canonicalEncoding(v)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonicalPrefix starts every fallback encoding; JSON never starts with a
// NUL byte, so a fallback encoding never equals the JSON of any value.
const canonicalPrefix = "\x00store.Hash canonical v1\n"

// canonicalEncoding encodes v deterministically, whatever it holds:
//
//   - nil pointers, interfaces, maps and slices: null (nil and empty
//     slices and maps differ, as in JSON);
//   - pointers and interfaces: the value they point to (a pointer, map or
//     slice of the same type and address as one being encoded: <cycle>);
//   - bool, integers: as in JSON; floats: strconv 'g' form, and the bare
//     tokens NaN, +Inf, -Inf; complex numbers: complex(re,im);
//   - strings: Go-quoted; []byte: b"hex";
//   - time.Time: the instant in UTC, RFC 3339 with nanoseconds;
//   - other values with a MarshalJSON or MarshalText method that succeeds:
//     its output (JSON compacted);
//   - maps: entries sorted by their encoded key;
//   - structs: the type, then the exported fields under their JSON names
//     (json:"-" fields left out, as JSON does);
//   - channels, funcs, unsafe pointers: their type and whether they are nil.
func canonicalEncoding(v any) []byte {
	e := canonicalEncoder{onPath: map[visit]bool{}}
	e.buf.WriteString(canonicalPrefix)
	e.encode(reflect.ValueOf(v))
	return e.buf.Bytes()
}

// visit identifies a pointer, map or slice being encoded, for cycle
// detection (the address is never written to the output).
type visit struct {
	typ reflect.Type
	ptr uintptr
	len int
}

type canonicalEncoder struct {
	buf    bytes.Buffer
	onPath map[visit]bool
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// encodeRef encodes the pointer, map or slice v (of length n, 0 but for
// a slice) with content: null when v is nil, the cycle token when v is
// already being encoded, else content's output, with v marked as being
// encoded meanwhile.
func (e *canonicalEncoder) encodeRef(v reflect.Value, n int, content func()) {
	if v.IsNil() {
		e.buf.WriteString("null")
		return
	}
	k := visit{v.Type(), v.Pointer(), n}
	if e.onPath[k] {
		e.buf.WriteString("<cycle>")
		return
	}
	e.onPath[k] = true
	content()
	delete(e.onPath, k)
}

func (e *canonicalEncoder) encode(v reflect.Value) {
	if !v.IsValid() {
		e.buf.WriteString("null")
		return
	}
	t := v.Type()
	if t == timeType {
		e.buf.WriteString("time:")
		e.buf.WriteString(v.Interface().(time.Time).UTC().Format(time.RFC3339Nano))
		return
	}
	if e.encodeMarshaler(v) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		e.encodeRef(v, 0, func() { e.encode(v.Elem()) })
	case reflect.Interface:
		if v.IsNil() {
			e.buf.WriteString("null")
			return
		}
		e.encode(v.Elem())
	case reflect.Bool:
		e.buf.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		e.writeFloat(v.Float(), t.Bits())
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		bits := t.Bits() / 2
		e.buf.WriteString("complex(")
		e.writeFloat(real(c), bits)
		e.buf.WriteByte(',')
		e.writeFloat(imag(c), bits)
		e.buf.WriteByte(')')
	case reflect.String:
		e.buf.WriteString(strconv.Quote(v.String()))
	case reflect.Slice:
		e.encodeRef(v, v.Len(), func() { e.encodeList(v) })
	case reflect.Array:
		e.encodeList(v)
	case reflect.Map:
		e.encodeRef(v, 0, func() { e.encodeMap(v) })
	case reflect.Struct:
		e.encodeStruct(v)
	default: // Chan, Func, UnsafePointer
		e.buf.WriteString("<" + t.String())
		if v.IsNil() {
			e.buf.WriteString(" nil>")
		} else {
			e.buf.WriteString(" set>")
		}
	}
}

// encodeMarshaler writes the output of v's MarshalJSON or MarshalText method
// and reports whether it did (false when v has none, is a nil pointer, or
// the method fails, so that v is encoded by its content).
func (e *canonicalEncoder) encodeMarshaler(v reflect.Value) bool {
	t := v.Type()
	isJSON, isText := t.Implements(jsonMarshalerType), t.Implements(textMarshalerType)
	if !isJSON && !isText {
		return false
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return false
	}
	if isJSON {
		out, err := v.Interface().(json.Marshaler).MarshalJSON()
		var compact bytes.Buffer
		if err != nil || json.Compact(&compact, out) != nil {
			return false
		}
		e.buf.WriteString("json:")
		e.buf.Write(compact.Bytes())
		return true
	}
	out, err := v.Interface().(encoding.TextMarshaler).MarshalText()
	if err != nil {
		return false
	}
	e.buf.WriteString("text:")
	e.buf.WriteString(strconv.Quote(string(out)))
	return true
}

func (e *canonicalEncoder) writeFloat(f float64, bits int) {
	switch {
	case math.IsNaN(f):
		e.buf.WriteString("NaN")
	case math.IsInf(f, 1):
		e.buf.WriteString("+Inf")
	case math.IsInf(f, -1):
		e.buf.WriteString("-Inf")
	default:
		e.buf.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
	}
}

func (e *canonicalEncoder) encodeList(v reflect.Value) {
	if v.Type().Elem().Kind() == reflect.Uint8 && v.Type().Elem().Name() == "uint8" {
		e.buf.WriteString(`b"`)
		for i := 0; i < v.Len(); i++ {
			e.buf.WriteString(strconv.FormatUint(v.Index(i).Uint()|0x100, 16)[1:])
		}
		e.buf.WriteByte('"')
		return
	}
	e.buf.WriteByte('[')
	for i := 0; i < v.Len(); i++ {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		e.encode(v.Index(i))
	}
	e.buf.WriteByte(']')
}

func (e *canonicalEncoder) encodeMap(v reflect.Value) {
	type entry struct {
		key string
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		sub := canonicalEncoder{onPath: e.onPath}
		sub.encode(it.Key())
		entries = append(entries, entry{sub.buf.String(), it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	e.buf.WriteByte('{')
	for i, en := range entries {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		e.buf.WriteString(en.key)
		e.buf.WriteByte(':')
		e.encode(en.val)
	}
	e.buf.WriteByte('}')
}

func (e *canonicalEncoder) encodeStruct(v reflect.Value) {
	t := v.Type()
	e.buf.WriteString(strconv.Quote(t.String()))
	e.buf.WriteByte('{')
	first := true
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" && tag == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		if !first {
			e.buf.WriteByte(',')
		}
		first = false
		e.buf.WriteString(strconv.Quote(name))
		e.buf.WriteByte(':')
		e.encode(v.Field(i))
	}
	e.buf.WriteByte('}')
}
