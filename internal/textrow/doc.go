// Package textrow converts rows between spec values and the text formats of
// the command line: JSON Lines and CSV in, JSON Lines, CSV and an aligned
// table out. Scripts depend on these forms, so they are a contract; change
// them only compatibly.
//
// # Input
//
// JSON Lines: one object per line, keyed by column name. Blank lines are
// skipped; a missing key is null. CSV: a header row names the columns (any
// order, any subset), then one record per row (RFC 4180 quoting; quoted cells
// may span lines and keep their bytes exactly, a CRLF inside them included). In both, an optional "_kind" field holds the row kind: +I
// (the default), -U, +U or -D. A column literally named _kind shadows it.
//
// Accepted JSON forms, by type:
//
//	BOOLEAN            true, false
//	TINYINT..BIGINT    integral numbers (1, -7, 1.0, 1e3); range checked
//	FLOAT, DOUBLE      numbers, or the strings "NaN", "Infinity", "-Infinity"
//	DECIMAL(p, s)      numbers or numeric strings, parsed exactly; no more than
//	                   s fractional digits (trailing zeros aside), at most p digits
//	CHAR, VARCHAR      strings, no longer than the declared length in characters
//	BINARY, VARBINARY  standard base64 strings (padding optional)
//	DATE               "2024-01-31"
//	TIME(p)            "12:34:56", "12:34:56.789"
//	TIMESTAMP(p)       "2024-01-31T12:00:00[.fffffffff]", a space instead of the
//	                   T, seconds optional, or a bare date for midnight
//	TIMESTAMP_LTZ(p)   as TIMESTAMP, optionally followed by Z or an offset
//	                   (+01:00, +0100, +01); without one it is UTC
//	ARRAY, VECTOR(n)   arrays (a VECTOR of exactly n elements)
//	MAP                objects; keys are the text form of the key type
//	MULTISET           objects from element (text form) to count, or arrays
//	ROW                objects keyed by field name; missing fields are null
//
// Any non-string type also accepts a JSON string holding its text form (the
// CSV form below), so "42" is a valid INT. Fractional digits beyond a TIME or
// TIMESTAMP precision, or beyond a DECIMAL scale, are an error, never
// silently dropped.
//
// CSV cells hold the text form: integers and decimals as digits (a leading +
// and leading zeros allowed), floats as numbers or NaN/Infinity/-Infinity,
// booleans as anything strconv.ParseBool takes, dates and times as in JSON,
// bytes as base64, and ARRAY, VECTOR, MAP, MULTISET and ROW as JSON text.
// Nulls follow PostgreSQL's CSV convention: an unquoted empty cell is null and
// a quoted one ("") is the empty string, in every column: an unquoted empty
// cell in a NOT NULL column is an error.
//
// Text must be valid UTF-8: invalid bytes in a JSON string or a CSV string
// value are an error, never replaced by U+FFFD (a lone surrogate escape such
// as \ud800 in JSON is valid JSON and becomes U+FFFD, as with encoding/json).
//
// Every input problem (malformed JSON or CSV, invalid UTF-8, an unknown or
// duplicate column, a value of the wrong type or out of range, null in a NOT
// NULL column, a bad _kind) is reported as an *InputError wrapping ErrBadInput, carrying the
// 1-based line number (the CSV header is line 1) and the column, with nested
// fields spelled like addr.zip or tags[2]. A decoder may be called again after
// such an error and continues with the next row.
//
// # Batches
//
// NewJSONBatchDecoder and NewCSVBatchDecoder read the same input into Arrow
// record batches of the table's schema (arrowconv.Schema), with the rows,
// kinds, errors and line numbers of the row decoders: each batch carries
// its rows' lines, and a kind column when a row is not +I. Values of the
// flat types are parsed straight into typed slots and appended to arrow-go
// builders without boxing; nested types go through the value model. A row
// Arrow's types cannot hold (a TIMESTAMP(7..9) outside 1677..2262, a MAP
// with a null key) comes alone, in the value model, in its place in the
// order.
//
// # Keys
//
// Point lookups take primary keys as JSON (KeyParser, KeyDecoder): an object
// naming every primary-key column ({"day": "2024-01-31", "id": 3}), or, for
// a one-column key, that column's plain value (42, "abc"). Values take the
// JSON forms above; null is never a key value. On a command line
// (ParseArg) a one-column key may also be the column's text form, as in a
// CSV cell (42, abc). Problems are *KeyErrors wrapping ErrBadInput, naming
// the key's 1-based position (and line, when keys come from lines) and the
// column.
//
// # Output
//
// The JSON encoder writes one object per row with keys in schema order:
// integers and finite floats as numbers, NaN and infinities as the strings
// "NaN", "Infinity" and "-Infinity", DECIMAL as a plain string keeping its
// scale ("12.30"), DATE as "2024-01-31", TIME as "12:34:56[.fff]", TIMESTAMP
// as "2024-01-31T12:00:00" with as many fractional digits as needed,
// TIMESTAMP_LTZ(p) as an instant in UTC with exactly p fractional digits
// and a Z ("2024-01-31T12:00:00.000Z" for p = 3; finer non-zero digits, if
// a value has them, are kept), bytes as standard base64,
// ARRAY and VECTOR as arrays, MAP and MULTISET as objects with keys in text
// form, ROW as an object keyed by field name, and null as null. Years outside
// 0000..9999 are written as Java does (+10000-01-01, -0001-01-01). Decoding
// that output gives the same rows back, with one exception: a null MAP key or
// MULTISET element is written as the key "null", which a CHAR or VARCHAR key
// type reads back as the string "null".
//
// The CSV encoder writes a header and then the text form above; null is an
// empty cell and the empty string is "". The table encoder aligns columns
// for people, shows null as NULL and escapes control characters; it is not
// meant to be parsed.
package textrow
