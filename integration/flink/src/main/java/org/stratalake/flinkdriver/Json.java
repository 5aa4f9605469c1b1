package org.stratalake.flinkdriver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.MultisetType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.Row;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Flink rows as JSON Lines in Strata's value format (internal/textrow/doc.go): numbers as JSON
 * numbers, NaN and infinities as strings, DECIMAL as a plain string, DATE, TIME and TIMESTAMP in
 * ISO form with trailing fractional zeros trimmed, bytes in base64, MAP and MULTISET as objects,
 * ROW as an object keyed by field name.
 */
final class Json {
    private Json() {}

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** One row as a JSON object named by the schema's columns; withKind adds its _kind. */
    static String row(ResolvedSchema schema, Row row, boolean withKind) throws Exception {
        ObjectNode o = F.objectNode();
        if (withKind) {
            o.put("_kind", row.getKind().shortString());
        }
        List<String> names = schema.getColumnNames();
        List<DataType> types = schema.getColumnDataTypes();
        for (int i = 0; i < names.size(); i++) {
            o.set(names.get(i), value(row.getField(i), types.get(i).getLogicalType()));
        }
        return Main.MAPPER.writeValueAsString(o);
    }

    static JsonNode value(Object v) {
        return value(v, null);
    }

    /**
     * One value; type, its type if known, names a ROW's fields (Flink's nested rows may be
     * positional) and types collections' elements.
     */
    static JsonNode value(Object v, LogicalType type) {
        if (v == null) {
            return F.nullNode();
        } else if (v instanceof Boolean b) {
            return F.booleanNode(b);
        } else if (v instanceof Byte || v instanceof Short || v instanceof Integer) {
            return F.numberNode(((Number) v).intValue());
        } else if (v instanceof Long l) {
            return F.numberNode(l);
        } else if (v instanceof Float || v instanceof Double) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return F.textNode(Double.toString(d));
            }
            return v instanceof Float f ? F.numberNode(f) : F.numberNode(d);
        } else if (v instanceof BigDecimal d) {
            return F.textNode(d.toPlainString());
        } else if (v instanceof String s) {
            return F.textNode(s);
        } else if (v instanceof LocalDate d) {
            return F.textNode(d.toString());
        } else if (v instanceof LocalTime t) {
            return F.textNode(time(t));
        } else if (v instanceof LocalDateTime t) {
            return F.textNode(t.toLocalDate() + "T" + time(t.toLocalTime()));
        } else if (v instanceof Instant t) {
            LocalDateTime u = LocalDateTime.ofInstant(t, ZoneOffset.UTC);
            return F.textNode(u.toLocalDate() + "T" + time(u.toLocalTime()) + "Z");
        } else if (v instanceof byte[] b) {
            return F.textNode(Base64.getEncoder().encodeToString(b));
        } else if (v instanceof Object[] a) {
            LogicalType et = type instanceof ArrayType at ? at.getElementType() : null;
            ArrayNode n = F.arrayNode();
            for (Object e : a) {
                n.add(value(e, et));
            }
            return n;
        } else if (v instanceof Map<?, ?> m) {
            LogicalType kt = null, vt = null;
            if (type instanceof MapType mt) {
                kt = mt.getKeyType();
                vt = mt.getValueType();
            } else if (type instanceof MultisetType st) {
                kt = st.getElementType();
            }
            ObjectNode n = F.objectNode();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                n.set(
                        e.getKey() == null ? "null" : value(e.getKey(), kt).asText(),
                        value(e.getValue(), vt));
            }
            return n;
        } else if (v instanceof Row r) {
            ObjectNode n = F.objectNode();
            if (type instanceof RowType rt) {
                List<RowType.RowField> fs = rt.getFields();
                for (int i = 0; i < fs.size(); i++) {
                    n.set(fs.get(i).getName(), value(r.getField(i), fs.get(i).getType()));
                }
                return n;
            }
            java.util.Set<String> names = r.getFieldNames(true);
            if (names == null) {
                throw new IllegalArgumentException("a positional ROW value without its type");
            }
            for (String name : names) {
                n.set(name, value(r.getField(name)));
            }
            return n;
        }
        throw new IllegalArgumentException(
                "the Flink driver cannot print a " + v.getClass().getName() + " value");
    }

    /** HH:mm:ss with the fraction's trailing zeros trimmed. */
    private static String time(LocalTime t) {
        String s = String.format("%02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond());
        if (t.getNano() == 0) {
            return s;
        }
        String frac = String.format("%09d", t.getNano()).replaceAll("0+$", "");
        return s + "." + frac;
    }
}
