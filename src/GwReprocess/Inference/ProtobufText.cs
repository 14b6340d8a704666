using System.Collections;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace GwReprocess.Inference;

/// <summary>Protobuf text format (the language of Triton's <c>config.pbtxt</c>) over any generated message, driven by its descriptor.</summary>
/// <remarks>
/// Follows the protobuf Text Format Language Specification: <c># comments</c>, <c>field: value</c> and
/// <c>field { }</c> / <c>field: { }</c> / <c>field &lt; &gt;</c>, list syntax <c>[a, b]</c> for repeated fields, optional
/// <c>,</c>/<c>;</c> separators, enums by name or number, maps as repeated <c>{ key: … value: … }</c> entries,
/// C string escapes and adjacent-literal concatenation. Unknown field names, a non-repeated field given twice and
/// two members of one oneof are errors, as in protobuf's own parser. Errors are <see cref="BadInputException"/>s
/// naming source, line and column.
/// </remarks>
public static class ProtobufText
{
    /// <summary>Parses <paramref name="text"/> into a new <typeparamref name="T"/>; <paramref name="source"/> names the text in errors.</summary>
    public static T Parse<T>(string text, string source = "<text>") where T : IMessage<T>, new()
    {
        var message = new T();
        Merge(message, text, source);
        return message;
    }

    /// <summary>Parses <paramref name="text"/> into <paramref name="message"/> (fields not yet set).</summary>
    public static void Merge(IMessage message, string text, string source = "<text>")
    {
        var reader = new Reader(new Tokenizer(text, source));
        reader.ParseFields(message, endSymbol: null);
    }

    /// <summary>Prints <paramref name="message"/> in text format: fields in number order, set fields only, two-space indents.</summary>
    public static string Format(IMessage message)
    {
        var sb = new StringBuilder();
        Printer.PrintFields(sb, message, 0);
        return sb.ToString();
    }

    // ---------------------------------------------------------------- printing

    private static class Printer
    {
        public static void PrintFields(StringBuilder sb, IMessage message, int indent)
        {
            foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
            {
                var value = field.Accessor.GetValue(message);
                if (field.IsMap)
                {
                    var map = (IDictionary)value;
                    var keyField = field.MessageType.FindFieldByNumber(1);
                    var valueField = field.MessageType.FindFieldByNumber(2);
                    foreach (DictionaryEntry entry in map)
                    {
                        Indent(sb, indent).Append(field.Name).Append(" {\n");
                        Indent(sb, indent + 2).Append("key: ");
                        AppendScalar(sb, keyField, entry.Key!);
                        sb.Append('\n');
                        if (valueField.FieldType == FieldType.Message)
                        {
                            Indent(sb, indent + 2).Append("value {\n");
                            PrintFields(sb, (IMessage)entry.Value!, indent + 4);
                            Indent(sb, indent + 2).Append("}\n");
                        }
                        else
                        {
                            Indent(sb, indent + 2).Append("value: ");
                            AppendScalar(sb, valueField, entry.Value!);
                            sb.Append('\n');
                        }
                        Indent(sb, indent).Append("}\n");
                    }
                }
                else if (field.IsRepeated)
                {
                    var list = (IList)value;
                    if (list.Count == 0) continue;
                    if (field.FieldType == FieldType.Message)
                    {
                        foreach (IMessage item in list) PrintMessage(sb, field.Name, item, indent);
                    }
                    else
                    {
                        Indent(sb, indent).Append(field.Name).Append(": [ ");
                        for (int i = 0; i < list.Count; i++)
                        {
                            if (i > 0) sb.Append(", ");
                            AppendScalar(sb, field, list[i]!);
                        }
                        sb.Append(" ]\n");
                    }
                }
                else if (field.FieldType == FieldType.Message)
                {
                    if (value is IMessage m) PrintMessage(sb, field.Name, m, indent);
                }
                else if (IsSet(field, message, value))
                {
                    Indent(sb, indent).Append(field.Name).Append(": ");
                    AppendScalar(sb, field, value);
                    sb.Append('\n');
                }
            }
        }

        private static bool IsSet(FieldDescriptor field, IMessage message, object value)
        {
            if (field.RealContainingOneof is { } oneof) return oneof.Accessor.GetCaseFieldDescriptor(message) == field;
            if (field.HasPresence) return field.Accessor.HasValue(message);
            return value switch
            {
                string s => s.Length > 0,
                ByteString b => b.Length > 0,
                bool b => b,
                float f => f != 0 || float.IsNegative(f),
                double d => d != 0 || double.IsNegative(d),
                Enum e => Convert.ToInt32(e, CultureInfo.InvariantCulture) != 0,
                IConvertible c => c.ToDecimal(CultureInfo.InvariantCulture) != 0,
                _ => true,
            };
        }

        private static void PrintMessage(StringBuilder sb, string name, IMessage m, int indent)
        {
            Indent(sb, indent).Append(name).Append(" {\n");
            PrintFields(sb, m, indent + 2);
            Indent(sb, indent).Append("}\n");
        }

        private static StringBuilder Indent(StringBuilder sb, int n) => sb.Append(' ', n);

        private static void AppendScalar(StringBuilder sb, FieldDescriptor field, object value)
        {
            switch (field.FieldType)
            {
                case FieldType.String: AppendQuoted(sb, Encoding.UTF8.GetBytes((string)value)); break;
                case FieldType.Bytes: AppendQuoted(sb, ((ByteString)value).ToByteArray()); break;
                case FieldType.Bool: sb.Append((bool)value ? "true" : "false"); break;
                case FieldType.Float: sb.Append(FormatFloating((float)value)); break;
                case FieldType.Double: sb.Append(FormatFloating((double)value)); break;
                case FieldType.Enum:
                    int number = Convert.ToInt32(value, CultureInfo.InvariantCulture);
                    var named = field.EnumType.FindValueByNumber(number);
                    sb.Append(named is null ? number.ToString(CultureInfo.InvariantCulture) : named.Name);
                    break;
                default: sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
            }
        }

        private static string FormatFloating(double v) =>
            double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf"
            : v.ToString("R", CultureInfo.InvariantCulture);

        private static string FormatFloating(float v) =>
            float.IsNaN(v) ? "nan" : float.IsPositiveInfinity(v) ? "inf" : float.IsNegativeInfinity(v) ? "-inf"
            : v.ToString("R", CultureInfo.InvariantCulture);

        private static void AppendQuoted(StringBuilder sb, byte[] utf8)
        {
            sb.Append('"');
            // Printable ASCII as is, the usual escapes, other control bytes as octal; non-ASCII stays UTF-8 text.
            var text = Encoding.UTF8.GetString(utf8);
            foreach (char c in text)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20 || c == 0x7f) sb.Append('\\').Append(Convert.ToString(c, 8).PadLeft(3, '0'));
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }
    }

    // ---------------------------------------------------------------- parsing

    private enum TokenKind { End, Identifier, Number, String, Symbol }

    private readonly record struct Token(TokenKind Kind, string Text, int Line, int Column, byte[]? Bytes = null);

    private sealed class Tokenizer
    {
        private readonly string _text;
        private readonly string _source;
        private int _pos, _line = 1, _lineStart;

        public Tokenizer(string text, string source) { _text = text; _source = source; Current = Next(); }

        public Token Current { get; private set; }

        public void Advance() => Current = Next();

        public BadInputException Error(Token at, string reason) =>
            new($"{_source}:{at.Line}:{at.Column}: {reason}");

        private Token Next()
        {
            SkipSpaceAndComments();
            if (_pos >= _text.Length) return new Token(TokenKind.End, "", _line, _pos - _lineStart + 1);
            int line = _line, column = _pos - _lineStart + 1;
            char c = _text[_pos];
            if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = _pos;
                while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
                return new Token(TokenKind.Identifier, _text[start.._pos], line, column);
            }
            if (char.IsAsciiDigit(c) || (c == '.' && _pos + 1 < _text.Length && char.IsAsciiDigit(_text[_pos + 1])))
            {
                int start = _pos;
                while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '.' || _text[_pos] == '_' ||
                       ((_text[_pos] == '-' || _text[_pos] == '+') && (_text[_pos - 1] is 'e' or 'E') && !_text[start.._pos].StartsWith("0x", StringComparison.OrdinalIgnoreCase))))
                    _pos++;
                return new Token(TokenKind.Number, _text[start.._pos], line, column);
            }
            if (c is '"' or '\'')
            {
                var bytes = new List<byte>();
                while (_pos < _text.Length && _text[_pos] is '"' or '\'')
                {
                    ReadString(bytes, line, column);
                    SkipSpaceAndComments();
                }
                return new Token(TokenKind.String, "string", line, column, bytes.ToArray());
            }
            if ("{}<>[]:,;-".Contains(c))
            {
                _pos++;
                return new Token(TokenKind.Symbol, c.ToString(), line, column);
            }
            throw new BadInputException($"{_source}:{line}:{column}: unexpected character '{c}'");
        }

        private void SkipSpaceAndComments()
        {
            while (_pos < _text.Length)
            {
                char c = _text[_pos];
                if (c == '\n') { _pos++; _line++; _lineStart = _pos; }
                else if (c is ' ' or '\t' or '\r' or '\v' or '\f') _pos++;
                else if (c == '#') { while (_pos < _text.Length && _text[_pos] != '\n') _pos++; }
                else break;
            }
        }

        private void ReadString(List<byte> bytes, int line, int column)
        {
            char quote = _text[_pos++];
            Span<byte> utf8 = stackalloc byte[4];
            while (true)
            {
                if (_pos >= _text.Length || _text[_pos] == '\n')
                    throw new BadInputException($"{_source}:{line}:{column}: unterminated string literal");
                char c = _text[_pos++];
                if (c == quote) return;
                if (c != '\\')
                {
                    if (char.IsHighSurrogate(c) && _pos < _text.Length)
                    {
                        int n = Encoding.UTF8.GetBytes([c, _text[_pos++]], utf8);
                        for (int i = 0; i < n; i++) bytes.Add(utf8[i]);
                    }
                    else AppendUtf8(bytes, c);
                    continue;
                }
                if (_pos >= _text.Length) throw new BadInputException($"{_source}:{line}:{column}: unterminated string literal");
                char e = _text[_pos++];
                switch (e)
                {
                    case 'n': bytes.Add((byte)'\n'); break;
                    case 't': bytes.Add((byte)'\t'); break;
                    case 'r': bytes.Add((byte)'\r'); break;
                    case 'a': bytes.Add(7); break;
                    case 'b': bytes.Add(8); break;
                    case 'f': bytes.Add(12); break;
                    case 'v': bytes.Add(11); break;
                    case '\\' or '\'' or '"' or '?': bytes.Add((byte)e); break;
                    case >= '0' and <= '7':
                        {
                            int v = e - '0';
                            for (int i = 0; i < 2 && _pos < _text.Length && _text[_pos] is >= '0' and <= '7'; i++) v = v * 8 + (_text[_pos++] - '0');
                            if (v > 255) throw new BadInputException($"{_source}:{line}:{column}: octal escape out of range");
                            bytes.Add((byte)v);
                            break;
                        }
                    case 'x' or 'X':
                        {
                            int v = 0, digits = 0;
                            while (digits < 2 && _pos < _text.Length && char.IsAsciiHexDigit(_text[_pos])) { v = v * 16 + Convert.ToInt32(_text[_pos++].ToString(), 16); digits++; }
                            if (digits == 0) throw new BadInputException($"{_source}:{line}:{column}: \\x escape without hex digits");
                            bytes.Add((byte)v);
                            break;
                        }
                    case 'u' or 'U':
                        {
                            int want = e == 'u' ? 4 : 8;
                            if (_pos + want > _text.Length || !int.TryParse(_text.AsSpan(_pos, want), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int cp)
                                || cp > 0x10FFFF)
                                throw new BadInputException($"{_source}:{line}:{column}: bad \\{e} escape");
                            _pos += want;
                            int n = Encoding.UTF8.GetBytes(char.ConvertFromUtf32(cp), utf8);
                            for (int i = 0; i < n; i++) bytes.Add(utf8[i]);
                            break;
                        }
                    default: throw new BadInputException($"{_source}:{line}:{column}: unknown escape '\\{e}'");
                }
            }
        }

        private static void AppendUtf8(List<byte> bytes, char c)
        {
            if (c < 0x80) { bytes.Add((byte)c); return; }
            Span<byte> b = stackalloc byte[4];
            int n = Encoding.UTF8.GetBytes([c], b);
            for (int i = 0; i < n; i++) bytes.Add(b[i]);
        }
    }

    private sealed class Reader(Tokenizer t)
    {
        private bool IsSymbol(string s) => t.Current.Kind == TokenKind.Symbol && t.Current.Text == s;

        private bool TryConsume(string s)
        {
            if (!IsSymbol(s)) return false;
            t.Advance();
            return true;
        }

        private void Expect(string s)
        {
            if (!TryConsume(s)) throw t.Error(t.Current, $"expected '{s}' but found {Describe(t.Current)}");
        }

        private static string Describe(Token tok) => tok.Kind switch
        {
            TokenKind.End => "end of input",
            TokenKind.String => "a string",
            _ => $"'{tok.Text}'",
        };

        public void ParseFields(IMessage message, string? endSymbol)
        {
            var seen = new HashSet<int>();
            var oneofs = new Dictionary<OneofDescriptor, string>();
            while (true)
            {
                if (endSymbol is null ? t.Current.Kind == TokenKind.End : IsSymbol(endSymbol))
                {
                    if (endSymbol is not null) t.Advance();
                    return;
                }
                if (t.Current.Kind == TokenKind.End) throw t.Error(t.Current, $"expected '{endSymbol}' but found end of input");
                var nameToken = t.Current;
                if (nameToken.Kind != TokenKind.Identifier) throw t.Error(nameToken, $"expected a field name but found {Describe(nameToken)}");
                var field = message.Descriptor.FindFieldByName(nameToken.Text)
                    ?? throw t.Error(nameToken, $"message {message.Descriptor.FullName} has no field named '{nameToken.Text}'");
                t.Advance();
                if (!field.IsRepeated && !seen.Add(field.FieldNumber))
                    throw t.Error(nameToken, $"non-repeated field '{field.Name}' is given more than once");
                if (field.RealContainingOneof is { } oneof)
                {
                    if (oneofs.TryGetValue(oneof, out var other) && other != field.Name)
                        throw t.Error(nameToken, $"field '{field.Name}' and field '{other}' are members of the same oneof '{oneof.Name}'; give only one");
                    oneofs[oneof] = field.Name;
                }
                ParseFieldValue(message, field, nameToken);
                if (!TryConsume(",")) TryConsume(";");
            }
        }

        private void ParseFieldValue(IMessage message, FieldDescriptor field, Token nameToken)
        {
            bool isMessage = field.FieldType == FieldType.Message;
            bool colon = TryConsume(":");
            if (!isMessage && !colon) throw t.Error(t.Current, $"expected ':' after scalar field '{field.Name}'");
            if (IsSymbol("["))
            {
                if (!field.IsRepeated) throw t.Error(t.Current, $"field '{field.Name}' is not repeated; list syntax [ ] is not allowed");
                t.Advance();
                if (TryConsume("]")) return;
                while (true)
                {
                    ParseOneValue(message, field);
                    if (TryConsume("]")) return;
                    Expect(",");
                }
            }
            ParseOneValue(message, field);
        }

        private void ParseOneValue(IMessage message, FieldDescriptor field)
        {
            if (field.IsMap)
            {
                var (key, value) = ParseMapEntry(field);
                ((IDictionary)field.Accessor.GetValue(message))[key] = value; // duplicate key: last wins
                return;
            }
            if (field.FieldType == FieldType.Message)
            {
                var child = ParseMessageBlock(field.MessageType);
                if (field.IsRepeated) ((IList)field.Accessor.GetValue(message)).Add(child);
                else field.Accessor.SetValue(message, child);
                return;
            }
            var scalar = ParseScalar(field);
            if (field.IsRepeated) ((IList)field.Accessor.GetValue(message)).Add(scalar);
            else field.Accessor.SetValue(message, scalar);
        }

        private IMessage ParseMessageBlock(MessageDescriptor type)
        {
            var child = type.Parser.ParseFrom(ByteString.Empty);
            string end = IsSymbol("<") ? ">" : "}";
            if (!TryConsume("{") && !TryConsume("<")) throw t.Error(t.Current, $"expected '{{' to open a {type.Name} but found {Describe(t.Current)}");
            ParseFields(child, end);
            return child;
        }

        private (object Key, object Value) ParseMapEntry(FieldDescriptor field)
        {
            var keyField = field.MessageType.FindFieldByNumber(1);
            var valueField = field.MessageType.FindFieldByNumber(2);
            var open = t.Current;
            string end = IsSymbol("<") ? ">" : "}";
            if (!TryConsume("{") && !TryConsume("<")) throw t.Error(open, $"expected '{{' to open a '{field.Name}' entry but found {Describe(open)}");
            object? key = null, value = null;
            while (!TryConsume(end))
            {
                var name = t.Current;
                if (name.Kind != TokenKind.Identifier || (name.Text != "key" && name.Text != "value"))
                    throw t.Error(name, $"expected 'key' or 'value' in a '{field.Name}' entry but found {Describe(name)}");
                t.Advance();
                if (name.Text == "key")
                {
                    if (key is not null) throw t.Error(name, $"'key' given twice in a '{field.Name}' entry");
                    Expect(":");
                    key = ParseScalar(keyField);
                }
                else
                {
                    if (value is not null) throw t.Error(name, $"'value' given twice in a '{field.Name}' entry");
                    if (valueField.FieldType == FieldType.Message)
                    {
                        TryConsume(":");
                        value = ParseMessageBlock(valueField.MessageType);
                    }
                    else
                    {
                        Expect(":");
                        value = ParseScalar(valueField);
                    }
                }
                if (!TryConsume(",")) TryConsume(";");
            }
            key ??= DefaultScalar(keyField);
            value ??= valueField.FieldType == FieldType.Message ? valueField.MessageType.Parser.ParseFrom(ByteString.Empty) : DefaultScalar(valueField);
            return (key, value);
        }

        private static object DefaultScalar(FieldDescriptor f) => f.FieldType switch
        {
            FieldType.String => "",
            FieldType.Bytes => ByteString.Empty,
            FieldType.Bool => false,
            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => 0L,
            FieldType.UInt64 or FieldType.Fixed64 => 0UL,
            FieldType.UInt32 or FieldType.Fixed32 => 0U,
            FieldType.Float => 0f,
            FieldType.Double => 0d,
            FieldType.Enum => Enum.ToObject(f.EnumType.ClrType, 0),
            _ => 0,
        };

        private object ParseScalar(FieldDescriptor field)
        {
            var tok = t.Current;
            switch (field.FieldType)
            {
                case FieldType.String:
                case FieldType.Bytes:
                    if (tok.Kind != TokenKind.String) throw t.Error(tok, $"field '{field.Name}' takes a string but found {Describe(tok)}");
                    t.Advance();
                    if (field.FieldType == FieldType.Bytes) return ByteString.CopyFrom(tok.Bytes!);
                    try { return new UTF8Encoding(false, true).GetString(tok.Bytes!); }
                    catch (DecoderFallbackException) { throw t.Error(tok, $"field '{field.Name}' is not valid UTF-8"); }
                case FieldType.Bool:
                    {
                        t.Advance();
                        return tok.Text switch
                        {
                            "true" or "True" or "t" or "1" when tok.Kind is TokenKind.Identifier or TokenKind.Number => true,
                            "false" or "False" or "f" or "0" when tok.Kind is TokenKind.Identifier or TokenKind.Number => false,
                            _ => throw t.Error(tok, $"field '{field.Name}' takes true or false but found {Describe(tok)}"),
                        };
                    }
                case FieldType.Enum:
                    {
                        if (tok.Kind == TokenKind.Identifier)
                        {
                            t.Advance();
                            var v = field.EnumType.FindValueByName(tok.Text)
                                ?? throw t.Error(tok, $"'{tok.Text}' is not a value of enum {field.EnumType.Name} (field '{field.Name}')");
                            return Enum.ToObject(field.EnumType.ClrType, v.Number);
                        }
                        var (neg, num) = ReadNumberToken(field);
                        if (!TryInteger(num.Text, neg, out var n, out _) || n < int.MinValue || n > int.MaxValue)
                            throw t.Error(num, $"field '{field.Name}' takes an enum name or integer but found '{num.Text}'");
                        return Enum.ToObject(field.EnumType.ClrType, (int)n);
                    }
                case FieldType.Float:
                case FieldType.Double:
                    {
                        var (neg, num) = ReadNumberToken(field);
                        double d = ParseFloating(num, neg, field);
                        return field.FieldType == FieldType.Float ? (object)(float)d : d;
                    }
                default:
                    {
                        var (neg, num) = ReadNumberToken(field);
                        if (!TryInteger(num.Text, neg, out var n, out var u))
                            throw t.Error(num, $"field '{field.Name}' takes an integer but found '{(neg ? "-" : "")}{num.Text}'");
                        return field.FieldType switch
                        {
                            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => n is >= int.MinValue and <= int.MaxValue && !u.HasValue
                                ? (object)(int)n : throw OutOfRange(num, field),
                            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => !u.HasValue ? n : throw OutOfRange(num, field),
                            FieldType.UInt32 or FieldType.Fixed32 => !neg && (u ?? (ulong)n) <= uint.MaxValue ? (object)(uint)(u ?? (ulong)n) : throw OutOfRange(num, field),
                            FieldType.UInt64 or FieldType.Fixed64 => !neg ? (object)(u ?? (ulong)n) : throw OutOfRange(num, field),
                            _ => throw t.Error(num, $"field '{field.Name}' has an unsupported type {field.FieldType}"),
                        };
                    }
            }
        }

        private BadInputException OutOfRange(Token num, FieldDescriptor field) =>
            t.Error(num, $"value '{num.Text}' is out of range for field '{field.Name}' ({field.FieldType})");

        private (bool Negative, Token Number) ReadNumberToken(FieldDescriptor field)
        {
            bool neg = TryConsume("-");
            var tok = t.Current;
            if (tok.Kind == TokenKind.Number || (tok.Kind == TokenKind.Identifier && field.FieldType is FieldType.Float or FieldType.Double))
            {
                t.Advance();
                return (neg, tok);
            }
            throw t.Error(tok, $"field '{field.Name}' takes a number but found {Describe(tok)}");
        }

        /// <summary>Decimal, 0x hex or 0-prefixed octal; <paramref name="big"/> holds values above long.MaxValue.</summary>
        private static bool TryInteger(string text, bool negative, out long value, out ulong? big)
        {
            value = 0; big = null;
            ulong magnitude;
            if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                if (!ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out magnitude)) return false;
            }
            else if (text.Length > 1 && text[0] == '0')
            {
                magnitude = 0;
                foreach (char c in text.AsSpan(1))
                {
                    if (c is < '0' or > '7') return false;
                    if (magnitude > (ulong.MaxValue >> 3)) return false;
                    magnitude = magnitude * 8 + (ulong)(c - '0');
                }
            }
            else if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out magnitude)) return false;

            if (negative)
            {
                if (magnitude > (ulong)long.MaxValue + 1) return false;
                value = magnitude == (ulong)long.MaxValue + 1 ? long.MinValue : -(long)magnitude;
                return true;
            }
            if (magnitude > long.MaxValue) { big = magnitude; value = long.MaxValue; return true; }
            value = (long)magnitude;
            return true;
        }

        private double ParseFloating(Token num, bool negative, FieldDescriptor field)
        {
            string s = num.Text;
            double v;
            string lower = s.ToLowerInvariant();
            if (num.Kind == TokenKind.Identifier)
            {
                v = lower switch
                {
                    "inf" or "infinity" or "inff" or "infinityf" => double.PositiveInfinity,
                    "nan" or "nanf" => double.NaN,
                    _ => throw t.Error(num, $"field '{field.Name}' takes a number but found '{s}'"),
                };
            }
            else
            {
                if (lower.EndsWith('f') && !lower.StartsWith("0x")) lower = lower[..^1];
                if (TryInteger(lower, false, out var n, out var u) && !lower.Contains('.') && !lower.Contains('e')) v = u ?? (double)n;
                else if (!double.TryParse(lower, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out v))
                    throw t.Error(num, $"field '{field.Name}' takes a number but found '{s}'");
            }
            return negative ? -v : v;
        }
    }
}
