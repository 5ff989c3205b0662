package cri

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// codec is gRPC's protobuf codec with one difference: a request whose
// string fields hold invalid UTF-8 is not refused while decoding, which
// gRPC would report as Internal, before any validation could name the
// field. Such a request is decoded with the invalid bytes replaced and
// marked, and the interceptor answers InvalidArgument naming the field.
type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("codec: %T is not a protobuf message", v)
	}
	return proto.Marshal(m)
}

func (codec) Unmarshal(data []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("codec: %T is not a protobuf message", v)
	}
	err := proto.Unmarshal(data, m)
	if err == nil {
		return nil
	}
	var fields []string
	fixed, serr := sanitizeUTF8(data, m.ProtoReflect().Descriptor(), "", &fields)
	if serr != nil || len(fields) == 0 {
		return err
	}
	if err := proto.Unmarshal(fixed, m); err != nil {
		return err
	}
	r := m.ProtoReflect()
	r.SetUnknown(protowire.AppendBytes(protowire.AppendTag(r.GetUnknown(), invalidUTF8Field, protowire.BytesType), []byte(strings.Join(fields, ", "))))
	return nil
}

// invalidUTF8Field is the unknown field that marks a request decoded by
// codec with invalid UTF-8 replaced; it holds the field names.
const invalidUTF8Field protowire.Number = protowire.MaxValidNumber

// invalidUTF8 returns the fields of req that held invalid UTF-8, as
// codec marked them; "" when there are none.
func invalidUTF8(req any) string {
	m, ok := req.(proto.Message)
	if !ok {
		return ""
	}
	b := m.ProtoReflect().GetUnknown()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if num == invalidUTF8Field && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			return string(v)
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return ""
		}
		b = b[n:]
	}
	return ""
}

// sanitizeUTF8 re-encodes a message with every invalid UTF-8 string
// replaced, appending the names of those fields (dotted proto names
// under prefix) to fields.
func sanitizeUTF8(b []byte, md protoreflect.MessageDescriptor, prefix string, fields *[]string) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		fd := md.Fields().ByNumber(num)
		if typ != protowire.BytesType || fd == nil {
			m := protowire.ConsumeFieldValue(num, typ, b[n:])
			if m < 0 {
				return nil, protowire.ParseError(m)
			}
			out = append(out, b[:n+m]...)
			b = b[n+m:]
			continue
		}
		v, m := protowire.ConsumeBytes(b[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		name := string(fd.Name())
		if prefix != "" {
			name = prefix + "." + name
		}
		switch {
		case fd.Kind() == protoreflect.StringKind && !utf8.Valid(v):
			*fields = append(*fields, name)
			v = []byte(strings.ToValidUTF8(string(v), "\uFFFD"))
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			// Map entries come out as "config.labels.key" / ".value".
			var err error
			if v, err = sanitizeUTF8(v, fd.Message(), name, fields); err != nil {
				return nil, err
			}
		}
		out = protowire.AppendTag(out, num, typ)
		out = protowire.AppendBytes(out, v)
		b = b[n+m:]
	}
	return out, nil
}
