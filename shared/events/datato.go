package events

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/genproto/googleapis/type/latlng"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// DataTo copies the document's fields into v, which must be a non-nil pointer
// to a struct (or to a map with string keys, or to an empty interface). It
// follows the rules of the Firestore client's DocumentSnapshot.DataTo, so a
// model type reads the same from an event as from the store:
//
//   - struct fields are named by their `firestore` tag, else their `json`
//     tag, else the Go field name; "-" skips a field; an exact name match wins
//     over a case-insensitive one; embedded structs without a name are
//     flattened; document fields without a struct field are ignored;
//   - timestamps go into time.Time (UTC) or *timestamppb.Timestamp; integers
//     into any integer or float kind (overflow is an error), doubles into float
//     kinds or, when integral, integer kinds; bytes into []byte; geo points
//     into *latlng.LatLng; references into string (the relative document
//     path); arrays into slices and arrays; maps into structs and string-keyed
//     maps; pointers are allocated as needed;
//   - null sets pointers, maps, slices and interfaces to nil and leaves other
//     kinds unchanged.
//
// Errors: a fault.InvalidArgument error, prefixed "document data", naming the
// field path and the types involved (never the value), when a value does not
// fit its destination or v is not a usable pointer; fields set before the
// error keep their values.
func (d *Document) DataTo(v any) error {
	const op = "document data"
	if d == nil {
		return invalid(op, nil, "no document")
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return invalid(op, nil, "destination is not a non-nil pointer")
	}
	mv := &firestorepb.Value{ValueType: &firestorepb.Value_MapValue{
		MapValue: &firestorepb.MapValue{Fields: d.pb.GetFields()},
	}}
	if err := setValue(rv.Elem(), mv, ""); err != nil {
		return invalid(op, nil, "%v", err)
	}
	return nil
}

var (
	typeOfTime      = reflect.TypeFor[time.Time]()
	typeOfTimestamp = reflect.TypeFor[*timestamppb.Timestamp]()
	typeOfLatLng    = reflect.TypeFor[*latlng.LatLng]()
	typeOfBytes     = reflect.TypeFor[[]byte]()
)

// valueKind names a Firestore value's type for error messages.
func valueKind(v *firestorepb.Value) string {
	switch v.GetValueType().(type) {
	case nil, *firestorepb.Value_NullValue:
		return "null"
	case *firestorepb.Value_BooleanValue:
		return "boolean"
	case *firestorepb.Value_IntegerValue:
		return "integer"
	case *firestorepb.Value_DoubleValue:
		return "double"
	case *firestorepb.Value_TimestampValue:
		return "timestamp"
	case *firestorepb.Value_StringValue:
		return "string"
	case *firestorepb.Value_BytesValue:
		return "bytes"
	case *firestorepb.Value_ReferenceValue:
		return "reference"
	case *firestorepb.Value_GeoPointValue:
		return "geo point"
	case *firestorepb.Value_ArrayValue:
		return "array"
	case *firestorepb.Value_MapValue:
		return "map"
	}
	return "unsupported value"
}

func fieldName(path string) string {
	if path == "" {
		return "document"
	}
	return "field " + path
}

// setValue stores src into dst; path is the dotted field path for messages.
func setValue(dst reflect.Value, src *firestorepb.Value, path string) error {
	mismatch := func() error {
		return fmt.Errorf("%s: cannot store %s in %s", fieldName(path), valueKind(src), dst.Type())
	}
	switch src.GetValueType().(type) {
	case nil, *firestorepb.Value_NullValue:
		switch dst.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			dst.SetZero()
		}
		return nil
	}

	switch dst.Type() {
	case typeOfTime:
		ts := src.GetTimestampValue()
		if _, ok := src.GetValueType().(*firestorepb.Value_TimestampValue); !ok {
			return mismatch()
		}
		t, err := tsTime(ts, fieldName(path))
		if err != nil {
			return err
		}
		if ts == nil {
			t = time.Unix(0, 0).UTC()
		}
		dst.Set(reflect.ValueOf(t))
		return nil
	case typeOfTimestamp:
		if _, ok := src.GetValueType().(*firestorepb.Value_TimestampValue); !ok {
			return mismatch()
		}
		dst.Set(reflect.ValueOf(proto.Clone(src.GetTimestampValue()).(*timestamppb.Timestamp)))
		return nil
	case typeOfLatLng:
		if _, ok := src.GetValueType().(*firestorepb.Value_GeoPointValue); !ok {
			return mismatch()
		}
		g := src.GetGeoPointValue()
		if g == nil {
			g = &latlng.LatLng{}
		}
		dst.Set(reflect.ValueOf(proto.Clone(g).(*latlng.LatLng)))
		return nil
	case typeOfBytes:
		x, ok := src.GetValueType().(*firestorepb.Value_BytesValue)
		if !ok {
			return mismatch()
		}
		dst.SetBytes(append([]byte{}, x.BytesValue...))
		return nil
	}

	switch dst.Kind() {
	case reflect.Bool:
		x, ok := src.GetValueType().(*firestorepb.Value_BooleanValue)
		if !ok {
			return mismatch()
		}
		dst.SetBool(x.BooleanValue)

	case reflect.String:
		switch x := src.GetValueType().(type) {
		case *firestorepb.Value_StringValue:
			dst.SetString(x.StringValue)
		case *firestorepb.Value_ReferenceValue:
			dst.SetString(referencePath(x.ReferenceValue))
		default:
			return mismatch()
		}

	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		switch x := src.GetValueType().(type) {
		case *firestorepb.Value_IntegerValue:
			i = x.IntegerValue
		case *firestorepb.Value_DoubleValue:
			f := x.DoubleValue
			if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
				return fmt.Errorf("%s: double does not fit %s", fieldName(path), dst.Type())
			}
			i = int64(f)
		default:
			return mismatch()
		}
		if dst.OverflowInt(i) {
			return fmt.Errorf("%s: integer overflows %s", fieldName(path), dst.Type())
		}
		dst.SetInt(i)

	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		var u uint64
		switch x := src.GetValueType().(type) {
		case *firestorepb.Value_IntegerValue:
			if x.IntegerValue < 0 {
				return fmt.Errorf("%s: negative integer does not fit %s", fieldName(path), dst.Type())
			}
			u = uint64(x.IntegerValue)
		case *firestorepb.Value_DoubleValue:
			f := x.DoubleValue
			if f != math.Trunc(f) || f < 0 || f >= math.MaxUint64 {
				return fmt.Errorf("%s: double does not fit %s", fieldName(path), dst.Type())
			}
			u = uint64(f)
		default:
			return mismatch()
		}
		if dst.OverflowUint(u) {
			return fmt.Errorf("%s: integer overflows %s", fieldName(path), dst.Type())
		}
		dst.SetUint(u)

	case reflect.Float32, reflect.Float64:
		var f float64
		switch x := src.GetValueType().(type) {
		case *firestorepb.Value_DoubleValue:
			f = x.DoubleValue
		case *firestorepb.Value_IntegerValue:
			f = float64(x.IntegerValue)
		default:
			return mismatch()
		}
		if dst.Kind() == reflect.Float32 && !math.IsInf(f, 0) && !math.IsNaN(f) && dst.OverflowFloat(f) {
			return fmt.Errorf("%s: double overflows %s", fieldName(path), dst.Type())
		}
		dst.SetFloat(f)

	case reflect.Slice:
		x, ok := src.GetValueType().(*firestorepb.Value_ArrayValue)
		if !ok {
			return mismatch()
		}
		vals := x.ArrayValue.GetValues()
		s := reflect.MakeSlice(dst.Type(), len(vals), len(vals))
		for i, e := range vals {
			if err := setValue(s.Index(i), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(s)

	case reflect.Array:
		x, ok := src.GetValueType().(*firestorepb.Value_ArrayValue)
		if !ok {
			return mismatch()
		}
		vals := x.ArrayValue.GetValues()
		for i := range dst.Len() {
			if i >= len(vals) {
				dst.Index(i).SetZero()
				continue
			}
			if err := setValue(dst.Index(i), vals[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}

	case reflect.Map:
		x, ok := src.GetValueType().(*firestorepb.Value_MapValue)
		if !ok {
			return mismatch()
		}
		if dst.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("%s: map key type %s is not a string", fieldName(path), dst.Type().Key())
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(dst.Type()))
		}
		et := dst.Type().Elem()
		for k, e := range x.MapValue.GetFields() {
			el := reflect.New(et).Elem()
			if err := setValue(el, e, joinPath(path, k)); err != nil {
				return err
			}
			dst.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), el)
		}

	case reflect.Pointer:
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return setValue(dst.Elem(), src, path)

	case reflect.Struct:
		x, ok := src.GetValueType().(*firestorepb.Value_MapValue)
		if !ok {
			return mismatch()
		}
		return setStruct(dst, x.MapValue.GetFields(), path)

	case reflect.Interface:
		if dst.NumMethod() != 0 {
			return mismatch()
		}
		g, err := valueToGo(src, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", fieldName(path), err)
		}
		if g == nil {
			dst.SetZero()
		} else {
			dst.Set(reflect.ValueOf(g))
		}

	default:
		return mismatch()
	}
	return nil
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// structField is one settable field of a struct, reached through index (which
// crosses embedded structs).
type structField struct {
	name  string
	index []int
}

var structFieldsCache sync.Map // reflect.Type → []structField

// structFields lists t's fields by their Firestore names, flattening
// unnamed embedded structs; a field at a shallower depth hides deeper fields
// of the same name, as in encoding/json.
func structFields(t reflect.Type) []structField {
	if fs, ok := structFieldsCache.Load(t); ok {
		return fs.([]structField)
	}
	var out []structField
	seen := map[string]int{} // name → depth
	var walk func(t reflect.Type, index []int, depth int, visited map[reflect.Type]bool)
	walk = func(t reflect.Type, index []int, depth int, visited map[reflect.Type]bool) {
		if visited[t] {
			return
		}
		visited[t] = true
		defer delete(visited, t)
		var embedded []reflect.StructField
		for i := range t.NumField() {
			f := t.Field(i)
			name, skip := tagName(f)
			if skip {
				continue
			}
			ft := f.Type
			if f.Anonymous && name == "" {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct && ft != typeOfTime {
					embedded = append(embedded, f)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if d, ok := seen[name]; ok && d <= depth {
				continue
			}
			seen[name] = depth
			out = append(out, structField{name: name, index: append(append([]int{}, index...), i)})
		}
		for _, f := range embedded {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			walk(ft, append(append([]int{}, index...), f.Index...), depth+1, visited)
		}
	}
	walk(t, nil, 0, map[reflect.Type]bool{})
	structFieldsCache.Store(t, out)
	return out
}

// tagName returns the field's name from its firestore tag, else its json tag;
// skip is true for "-".
func tagName(f reflect.StructField) (name string, skip bool) {
	for _, key := range []string{"firestore", "json"} {
		tag, ok := f.Tag.Lookup(key)
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(tag, ",")
		if name == "-" {
			return "", true
		}
		if name != "" {
			return name, false
		}
	}
	return "", false
}

func setStruct(dst reflect.Value, fields map[string]*firestorepb.Value, path string) error {
	fs := structFields(dst.Type())
	for k, v := range fields {
		f := matchField(fs, k)
		if f == nil {
			continue
		}
		fv, err := fieldByIndexAlloc(dst, f.index)
		if err != nil {
			return fmt.Errorf("%s: %w", fieldName(joinPath(path, k)), err)
		}
		if err := setValue(fv, v, joinPath(path, k)); err != nil {
			return err
		}
	}
	return nil
}

// matchField finds the field named k exactly, else case-insensitively.
func matchField(fs []structField, k string) *structField {
	var fold *structField
	for i := range fs {
		if fs[i].name == k {
			return &fs[i]
		}
		if fold == nil && strings.EqualFold(fs[i].name, k) {
			fold = &fs[i]
		}
	}
	return fold
}

// fieldByIndexAlloc is reflect.Value.FieldByIndex that allocates nil embedded
// struct pointers on the way.
func fieldByIndexAlloc(v reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, errors.New("cannot allocate unexported embedded pointer")
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	if !v.CanSet() {
		return reflect.Value{}, errors.New("struct field cannot be set")
	}
	return v, nil
}
