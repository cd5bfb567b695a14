package events

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/genproto/googleapis/type/latlng"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Document is one Firestore document snapshot carried by an event.
type Document struct {
	// Name is the full resource name,
	// projects/{project}/databases/{database}/documents/{path}.
	Name string
	// Path is the document path relative to the database, e.g. "users/abc".
	Path string
	// Fields holds the document's fields as Go values: nil, bool, int64,
	// float64, string, []byte, time.Time (UTC), *latlng.LatLng, a reference as
	// its relative document path (string), []any and map[string]any.
	Fields map[string]any
	// CreateTime and UpdateTime are the document's server timestamps (UTC);
	// zero when the event did not carry them.
	CreateTime, UpdateTime time.Time

	pb *firestorepb.Document
}

// Proto returns the document as decoded from the event. Callers must not
// modify it.
func (d *Document) Proto() *firestorepb.Document {
	if d == nil {
		return nil
	}
	return d.pb
}

// Get returns the value at a dotted field path such as "log.text" (segments
// may be quoted with backticks, e.g. "`a.b`.c"). ok is false when d is nil,
// the path is malformed, or a segment is missing or not a map.
func (d *Document) Get(fieldPath string) (any, bool) {
	if d == nil {
		return nil, false
	}
	segs, err := splitFieldPath(fieldPath)
	if err != nil {
		return nil, false
	}
	var cur any = d.Fields
	for _, s := range segs {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[s]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// protoAt returns the protobuf value at the field path, or nil.
func (d *Document) protoAt(segs []string) *firestorepb.Value {
	if d == nil || d.pb == nil {
		return nil
	}
	fields := d.pb.GetFields()
	var v *firestorepb.Value
	for i, s := range segs {
		if i > 0 {
			mv := v.GetMapValue()
			if mv == nil {
				return nil
			}
			fields = mv.GetFields()
		}
		var ok bool
		if v, ok = fields[s]; !ok {
			return nil
		}
	}
	return v
}

// splitFieldPath splits a Firestore field path into its segments: segments are
// separated by '.', and a segment enclosed in backticks may contain any
// character, with '\' escaping '`' and '\'.
func splitFieldPath(p string) ([]string, error) {
	if p == "" {
		return nil, errors.New("empty field path")
	}
	var segs []string
	for i := 0; i <= len(p); {
		if i == len(p) {
			return nil, errors.New("field path ends with '.'")
		}
		var seg strings.Builder
		if p[i] == '`' {
			i++
			closed := false
			for i < len(p) {
				c := p[i]
				if c == '\\' && i+1 < len(p) {
					seg.WriteByte(p[i+1])
					i += 2
					continue
				}
				if c == '`' {
					closed = true
					i++
					break
				}
				seg.WriteByte(c)
				i++
			}
			if !closed {
				return nil, errors.New("unterminated quoted field name")
			}
		} else {
			j := strings.IndexByte(p[i:], '.')
			if j < 0 {
				j = len(p) - i
			}
			seg.WriteString(p[i : i+j])
			i += j
		}
		if seg.Len() == 0 {
			return nil, errors.New("empty field name")
		}
		segs = append(segs, seg.String())
		if i == len(p) {
			return segs, nil
		}
		if p[i] != '.' {
			return nil, errors.New("quoted field name not followed by '.'")
		}
		i++
	}
	return segs, nil
}

// newDocument converts a decoded protobuf document.
func newDocument(pb *firestorepb.Document) (*Document, error) {
	d := &Document{Name: pb.GetName(), pb: pb}
	if d.Name != "" {
		_, _, path, err := parseDocumentName(d.Name)
		if err != nil {
			return nil, err
		}
		d.Path = path
	}
	var err error
	if d.CreateTime, err = tsTime(pb.CreateTime, "createTime"); err != nil {
		return nil, err
	}
	if d.UpdateTime, err = tsTime(pb.UpdateTime, "updateTime"); err != nil {
		return nil, err
	}
	d.Fields, err = fieldsToGo(pb.GetFields(), 0)
	if err != nil {
		return nil, err
	}
	return d, nil
}

func tsTime(ts *timestamppb.Timestamp, what string) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", what, err)
	}
	return ts.AsTime(), nil
}

// maxDepth bounds nesting of maps and arrays; Firestore itself allows 20
// levels of maps.
const maxDepth = 100

func fieldsToGo(fields map[string]*firestorepb.Value, depth int) (map[string]any, error) {
	m := make(map[string]any, len(fields))
	for k, v := range fields {
		g, err := valueToGo(v, depth)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", k, err)
		}
		m[k] = g
	}
	return m, nil
}

// valueToGo converts one Firestore value to its Go form (see Document.Fields).
func valueToGo(v *firestorepb.Value, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("values nested too deeply")
	}
	switch x := v.GetValueType().(type) {
	case nil, *firestorepb.Value_NullValue:
		return nil, nil
	case *firestorepb.Value_BooleanValue:
		return x.BooleanValue, nil
	case *firestorepb.Value_IntegerValue:
		return x.IntegerValue, nil
	case *firestorepb.Value_DoubleValue:
		return x.DoubleValue, nil
	case *firestorepb.Value_TimestampValue:
		if x.TimestampValue == nil {
			return time.Unix(0, 0).UTC(), nil
		}
		return tsTime(x.TimestampValue, "timestamp value")
	case *firestorepb.Value_StringValue:
		return x.StringValue, nil
	case *firestorepb.Value_BytesValue:
		if x.BytesValue == nil {
			return []byte{}, nil
		}
		return x.BytesValue, nil
	case *firestorepb.Value_ReferenceValue:
		return referencePath(x.ReferenceValue), nil
	case *firestorepb.Value_GeoPointValue:
		if x.GeoPointValue == nil {
			return &latlng.LatLng{}, nil
		}
		return proto.Clone(x.GeoPointValue).(*latlng.LatLng), nil
	case *firestorepb.Value_ArrayValue:
		vals := x.ArrayValue.GetValues()
		out := make([]any, len(vals))
		for i, e := range vals {
			g, err := valueToGo(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = g
		}
		return out, nil
	case *firestorepb.Value_MapValue:
		return fieldsToGo(x.MapValue.GetFields(), depth+1)
	default:
		return nil, fmt.Errorf("unsupported value type %T", x)
	}
}

// referencePath turns a reference value
// ("projects/p/databases/d/documents/users/abc") into its relative document
// path ("users/abc"); other forms are returned unchanged.
func referencePath(ref string) string {
	if _, _, path, err := parseDocumentName(ref); err == nil {
		return path
	}
	return ref
}

// parseDocumentName splits projects/{p}/databases/{d}/documents/{path}.
func parseDocumentName(name string) (project, database, path string, err error) {
	rest, ok := strings.CutPrefix(name, "projects/")
	if !ok {
		return "", "", "", errors.New("document name does not start with projects/")
	}
	project, rest, ok = strings.Cut(rest, "/databases/")
	if !ok || project == "" || strings.Contains(project, "/") {
		return "", "", "", errors.New("document name has no project and database")
	}
	database, path, ok = strings.Cut(rest, "/documents/")
	if !ok || database == "" || strings.Contains(database, "/") {
		return "", "", "", errors.New("document name has no database and documents/")
	}
	if !validDocumentPath(path) {
		return "", "", "", errors.New("document name has an invalid document path")
	}
	return project, database, path, nil
}

// validDocumentPath reports whether p is a document path: an even, non-zero
// number of non-empty segments.
func validDocumentPath(p string) bool {
	if p == "" {
		return false
	}
	segs := strings.Split(p, "/")
	if len(segs)%2 != 0 {
		return false
	}
	for _, s := range segs {
		if s == "" {
			return false
		}
	}
	return true
}
