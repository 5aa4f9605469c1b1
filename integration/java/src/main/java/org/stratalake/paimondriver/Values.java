package org.stratalake.paimondriver;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.paimon.data.BinaryString;
import org.apache.paimon.data.BinaryVector;
import org.apache.paimon.data.Decimal;
import org.apache.paimon.data.GenericArray;
import org.apache.paimon.data.GenericMap;
import org.apache.paimon.data.GenericRow;
import org.apache.paimon.data.InternalArray;
import org.apache.paimon.data.InternalMap;
import org.apache.paimon.data.InternalRow;
import org.apache.paimon.data.Timestamp;
import org.apache.paimon.types.ArrayType;
import org.apache.paimon.types.DataField;
import org.apache.paimon.types.DataType;
import org.apache.paimon.types.DataTypeChecks;
import org.apache.paimon.types.MapType;
import org.apache.paimon.types.MultisetType;
import org.apache.paimon.types.RowType;
import org.apache.paimon.types.VectorType;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts values between Paimon's internal data structures and Strata's JSON Lines value format
 * (the forms `strata scan --format jsonl` prints and `strata write` reads; see
 * internal/textrow/doc.go in the Go module). Output follows Strata's encoder: DECIMAL as a string
 * keeping its scale, DATE/TIME/TIMESTAMP as ISO text, TIMESTAMP_LTZ(p) as a UTC instant with p
 * fractional digits and a Z, bytes as base64, MAP and MULTISET as objects keyed by the key's text
 * form, ROW as an object.
 */
final class Values {
    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Values() {}

    // ---------------------------------------------------------------- output

    /** Renders a row of the given type as a JSON object keyed by field name. */
    static ObjectNode rowToJson(InternalRow row, RowType type) {
        ObjectNode obj = NODES.objectNode();
        List<DataField> fields = type.getFields();
        for (int i = 0; i < fields.size(); i++) {
            DataField f = fields.get(i);
            Object v = InternalRow.createFieldGetter(f.type(), i).getFieldOrNull(row);
            obj.set(f.name(), toJson(v, f.type()));
        }
        return obj;
    }

    /** Renders one internal value of type t as JSON. */
    static JsonNode toJson(Object v, DataType t) {
        if (v == null) {
            return NODES.nullNode();
        }
        switch (t.getTypeRoot()) {
            case BOOLEAN:
                return NODES.booleanNode((Boolean) v);
            case TINYINT:
                return NODES.numberNode((Byte) v);
            case SMALLINT:
                return NODES.numberNode((Short) v);
            case INTEGER:
                return NODES.numberNode((Integer) v);
            case BIGINT:
                return NODES.numberNode((Long) v);
            case FLOAT:
                {
                    float f = (Float) v;
                    return Float.isFinite(f) ? NODES.numberNode(f) : NODES.textNode(special(f));
                }
            case DOUBLE:
                {
                    double d = (Double) v;
                    return Double.isFinite(d) ? NODES.numberNode(d) : NODES.textNode(special(d));
                }
            case ARRAY:
                return arrayToJson((InternalArray) v, ((ArrayType) t).getElementType());
            case VECTOR:
                return arrayToJson((InternalArray) v, ((VectorType) t).getElementType());
            case MAP:
                {
                    MapType mt = (MapType) t;
                    return mapToJson((InternalMap) v, mt.getKeyType(), mt.getValueType());
                }
            case MULTISET:
                return mapToJson(
                        (InternalMap) v,
                        ((MultisetType) t).getElementType(),
                        new org.apache.paimon.types.IntType(false));
            case ROW:
                return rowToJson((InternalRow) v, (RowType) t);
            default:
                return NODES.textNode(text(v, t));
        }
    }

    private static ArrayNode arrayToJson(InternalArray a, DataType elem) {
        ArrayNode out = NODES.arrayNode();
        InternalArray.ElementGetter g = InternalArray.createElementGetter(elem);
        for (int i = 0; i < a.size(); i++) {
            out.add(toJson(g.getElementOrNull(a, i), elem));
        }
        return out;
    }

    private static ObjectNode mapToJson(InternalMap m, DataType kt, DataType vt) {
        ObjectNode out = NODES.objectNode();
        InternalArray keys = m.keyArray();
        InternalArray values = m.valueArray();
        InternalArray.ElementGetter kg = InternalArray.createElementGetter(kt);
        InternalArray.ElementGetter vg = InternalArray.createElementGetter(vt);
        for (int i = 0; i < m.size(); i++) {
            Object k = kg.getElementOrNull(keys, i);
            out.set(k == null ? "null" : text(k, kt), toJson(vg.getElementOrNull(values, i), vt));
        }
        return out;
    }

    private static String special(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        return d > 0 ? "Infinity" : "-Infinity";
    }

    /** The text form of a non-null value: a CSV cell or a map key; nested values are JSON. */
    static String text(Object v, DataType t) {
        switch (t.getTypeRoot()) {
            case CHAR:
            case VARCHAR:
                return v.toString();
            case BOOLEAN:
            case TINYINT:
            case SMALLINT:
            case INTEGER:
            case BIGINT:
                return v.toString();
            case FLOAT:
                {
                    float f = (Float) v;
                    return Float.isFinite(f) ? Float.toString(f) : special(f);
                }
            case DOUBLE:
                {
                    double d = (Double) v;
                    return Double.isFinite(d) ? Double.toString(d) : special(d);
                }
            case DECIMAL:
                return ((Decimal) v).toBigDecimal().toPlainString();
            case BINARY:
            case VARBINARY:
                return Base64.getEncoder().encodeToString((byte[]) v);
            case DATE:
                return LocalDate.ofEpochDay((Integer) v).toString();
            case TIME_WITHOUT_TIME_ZONE:
                return time((Integer) v);
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return timestamp(((Timestamp) v).toLocalDateTime());
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return instant((Timestamp) v, DataTypeChecks.getPrecision(t));
            default:
                return toJson(v, t).toString();
        }
    }

    private static String time(int millisOfDay) {
        StringBuilder sb = new StringBuilder();
        clock(sb, millisOfDay / 1000);
        if (millisOfDay % 1000 != 0) {
            sb.append(String.format(".%03d", millisOfDay % 1000));
        }
        return sb.toString();
    }

    private static void clock(StringBuilder sb, int secondOfDay) {
        sb.append(
                String.format(
                        "%02d:%02d:%02d",
                        secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60));
    }

    /** YYYY-MM-DDTHH:MM:SS with the fraction's trailing zeros trimmed. */
    private static String timestamp(LocalDateTime ldt) {
        StringBuilder sb = new StringBuilder(ldt.toLocalDate().toString()).append('T');
        clock(sb, ldt.toLocalTime().toSecondOfDay());
        int nano = ldt.getNano();
        if (nano != 0) {
            String frac = String.format("%09d", nano).replaceAll("0+$", "");
            sb.append('.').append(frac);
        }
        return sb.toString();
    }

    /** A UTC instant with exactly precision fractional digits (more if finer ones are set), Z. */
    private static String instant(Timestamp ts, int precision) {
        LocalDateTime ldt = ts.toLocalDateTime(); // epoch-based, i.e. UTC
        StringBuilder sb = new StringBuilder(ldt.toLocalDate().toString()).append('T');
        clock(sb, ldt.toLocalTime().toSecondOfDay());
        int nano = ldt.getNano();
        int digits = Math.max(0, Math.min(precision, 9));
        while (digits < 9 && nano % (int) Math.pow(10, 9 - digits) != 0) {
            digits++;
        }
        if (digits > 0) {
            sb.append('.').append(String.format("%09d", nano), 0, digits);
        }
        return sb.append('Z').toString();
    }

    // ---------------------------------------------------------------- input

    /** Parses a JSON object keyed by field name into a row of the given type; missing is null. */
    static GenericRow rowFromJson(JsonNode obj, RowType type) {
        if (!obj.isObject()) {
            throw new IllegalArgumentException("want a JSON object, got " + obj);
        }
        List<DataField> fields = type.getFields();
        GenericRow row = new GenericRow(fields.size());
        for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (name.equals("_kind") && type.getFieldIndex(name) < 0) {
                continue;
            }
            if (type.getFieldIndex(name) < 0) {
                throw new IllegalArgumentException("unknown column " + name);
            }
        }
        for (int i = 0; i < fields.size(); i++) {
            DataField f = fields.get(i);
            JsonNode n = obj.get(f.name());
            try {
                row.setField(i, fromJson(n, f.type()));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("column " + f.name() + ": " + e.getMessage(), e);
            }
        }
        return row;
    }

    /** Parses one JSON value of type t into Paimon's internal value (null for null/missing). */
    static Object fromJson(JsonNode n, DataType t) {
        if (n == null || n.isNull()) {
            return null;
        }
        switch (t.getTypeRoot()) {
            case ARRAY:
            case VECTOR:
                {
                    DataType elem =
                            t instanceof ArrayType
                                    ? ((ArrayType) t).getElementType()
                                    : ((VectorType) t).getElementType();
                    if (n.isTextual()) {
                        n = parse(n.asText());
                    }
                    Object[] out = new Object[n.size()];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = fromJson(n.get(i), elem);
                    }
                    return t instanceof ArrayType ? new GenericArray(out) : vector(out, elem);
                }
            case MAP:
            case MULTISET:
                {
                    DataType kt, vt;
                    if (t instanceof MapType) {
                        kt = ((MapType) t).getKeyType();
                        vt = ((MapType) t).getValueType();
                    } else {
                        kt = ((MultisetType) t).getElementType();
                        vt = new org.apache.paimon.types.IntType(false);
                    }
                    if (n.isTextual()) {
                        n = parse(n.asText());
                    }
                    Map<Object, Object> m = new LinkedHashMap<>();
                    if (n.isArray()) { // a MULTISET as a list of elements
                        for (JsonNode e : n) {
                            m.merge(fromJson(e, kt), 1, (a, b) -> (Integer) a + (Integer) b);
                        }
                        return new GenericMap(m);
                    }
                    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                        Map.Entry<String, JsonNode> e = it.next();
                        Object k = keyFromText(e.getKey(), kt);
                        m.put(k, fromJson(e.getValue(), vt));
                    }
                    return new GenericMap(m);
                }
            case ROW:
                {
                    if (n.isTextual()) {
                        n = parse(n.asText());
                    }
                    return rowFromJson(n, (RowType) t);
                }
            default:
                return scalar(n, t);
        }
    }

    private static Object keyFromText(String s, DataType kt) {
        switch (kt.getTypeRoot()) {
            case CHAR:
            case VARCHAR:
                return BinaryString.fromString(s);
            default:
                if (s.equals("null")) {
                    return null;
                }
                return fromJson(NODES.textNode(s), kt);
        }
    }

    private static Object vector(Object[] elems, DataType elem) {
        int n = elems.length;
        switch (elem.getTypeRoot()) {
            case FLOAT:
                {
                    float[] a = new float[n];
                    for (int i = 0; i < n; i++) a[i] = (Float) elems[i];
                    return BinaryVector.fromPrimitiveArray(a);
                }
            case DOUBLE:
                {
                    double[] a = new double[n];
                    for (int i = 0; i < n; i++) a[i] = (Double) elems[i];
                    return BinaryVector.fromPrimitiveArray(a);
                }
            case INTEGER:
                {
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) a[i] = (Integer) elems[i];
                    return BinaryVector.fromPrimitiveArray(a);
                }
            case BIGINT:
                {
                    long[] a = new long[n];
                    for (int i = 0; i < n; i++) a[i] = (Long) elems[i];
                    return BinaryVector.fromPrimitiveArray(a);
                }
            default:
                throw new IllegalArgumentException("unsupported VECTOR element type " + elem);
        }
    }

    private static JsonNode parse(String s) {
        try {
            return lines(s).get(0);
        } catch (Exception e) {
            throw new IllegalArgumentException("invalid JSON text " + s, e);
        }
    }

    private static Object scalar(JsonNode n, DataType t) {
        String s = n.asText();
        switch (t.getTypeRoot()) {
            case BOOLEAN:
                return n.isBoolean() ? n.booleanValue() : Boolean.parseBoolean(s);
            case TINYINT:
                return new BigDecimal(s).byteValueExact();
            case SMALLINT:
                return new BigDecimal(s).shortValueExact();
            case INTEGER:
                return new BigDecimal(s).intValueExact();
            case BIGINT:
                return new BigDecimal(s).longValueExact();
            case FLOAT:
                return n.isNumber() ? n.floatValue() : Float.parseFloat(s);
            case DOUBLE:
                return n.isNumber() ? n.doubleValue() : Double.parseDouble(s);
            case DECIMAL:
                {
                    BigDecimal bd = n.isNumber() ? n.decimalValue() : new BigDecimal(s);
                    int p = DataTypeChecks.getPrecision(t), sc = DataTypeChecks.getScale(t);
                    Decimal d = Decimal.fromBigDecimal(bd.setScale(sc), p, sc);
                    if (d == null) {
                        throw new IllegalArgumentException(s + " does not fit " + t);
                    }
                    return d;
                }
            case CHAR:
            case VARCHAR:
                return BinaryString.fromString(s);
            case BINARY:
            case VARBINARY:
                return Base64.getDecoder().decode(s);
            case DATE:
                return (int) LocalDate.parse(s).toEpochDay();
            case TIME_WITHOUT_TIME_ZONE:
                return (int) (LocalTime.parse(s).toNanoOfDay() / 1_000_000);
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return Timestamp.fromLocalDateTime(localDateTime(s));
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return Timestamp.fromInstant(instantOf(s));
            default:
                throw new IllegalArgumentException("unsupported type " + t);
        }
    }

    private static final DateTimeFormatter LOCAL =
            new DateTimeFormatterBuilder()
                    .append(DateTimeFormatter.ISO_LOCAL_DATE)
                    .optionalStart()
                    .appendLiteral('T')
                    .append(DateTimeFormatter.ISO_LOCAL_TIME)
                    .optionalEnd()
                    .parseDefaulting(ChronoField.HOUR_OF_DAY, 0)
                    .toFormatter();

    private static LocalDateTime localDateTime(String s) {
        return LocalDateTime.parse(s.replace(' ', 'T'), LOCAL);
    }

    private static Instant instantOf(String s) {
        String t = s.replace(' ', 'T');
        if (t.endsWith("Z") || t.endsWith("z")) {
            return localDateTime(t.substring(0, t.length() - 1)).toInstant(ZoneOffset.UTC);
        }
        int i = Math.max(t.lastIndexOf('+'), t.lastIndexOf('-'));
        if (i > 10) { // an offset after the date
            return OffsetDateTime.parse(t).toInstant();
        }
        return localDateTime(t).toInstant(ZoneOffset.UTC);
    }

    /**
     * Parses a JSON Lines text into JSON values, skipping blank lines. Numbers are kept as their
     * text (TextNodes): Jackson would read -0 as the integer 0 and lose a negative zero.
     */
    static List<JsonNode> lines(String text) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                try (JsonParser p = MAPPER.getFactory().createParser(line)) {
                    p.nextToken();
                    out.add(tree(p));
                    if (p.nextToken() != null) {
                        throw new IllegalArgumentException("trailing text after the value: " + line);
                    }
                }
            }
        }
        return out;
    }

    private static JsonNode tree(JsonParser p) throws Exception {
        JsonToken t = p.currentToken();
        if (t == null) {
            throw new IllegalArgumentException("unexpected end of the line");
        }
        switch (t) {
            case START_OBJECT:
                {
                    ObjectNode o = NODES.objectNode();
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String name = p.currentName();
                        p.nextToken();
                        o.set(name, tree(p));
                    }
                    return o;
                }
            case START_ARRAY:
                {
                    ArrayNode a = NODES.arrayNode();
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        a.add(tree(p));
                    }
                    return a;
                }
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
            case VALUE_STRING:
                return NODES.textNode(p.getText());
            case VALUE_TRUE:
            case VALUE_FALSE:
                return NODES.booleanNode(t == JsonToken.VALUE_TRUE);
            case VALUE_NULL:
                return NODES.nullNode();
            default:
                throw new IllegalArgumentException("unexpected JSON token " + t);
        }
    }
}
