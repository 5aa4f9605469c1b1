"""Reads Paimon tables with pypaimon (Apache Paimon's Python implementation)
for Strata's integration tests, printing rows as JSON Lines in Strata's value
format (internal/textrow/doc.go).

    python paimon_driver.py read WAREHOUSE DB.TABLE [--snapshot N]
    python paimon_driver.py serve   # requests as JSON lines on stdin

serve answers each request {"args": [...]} with one line, {"ok": true,
"stdout": "..."} or {"ok": false, "error": "..."}, as the Java driver does.
Test tooling only: the product stays one Go binary.
"""

import base64
import datetime
import decimal
import json
import math
import sys
import traceback

import pyarrow as pa
from pypaimon import CatalogFactory


def catalog(warehouse):
    return CatalogFactory.create({"warehouse": warehouse})


def read(args):
    if len(args) < 2:
        raise UsageError("read WAREHOUSE DB.TABLE [--snapshot N]")
    warehouse, name, flags = args[0], args[1], args[2:]
    snapshot = None
    while flags:
        if flags[0] == "--snapshot" and len(flags) > 1:
            snapshot, flags = flags[1], flags[2:]
        else:
            raise UsageError("unknown flags %s" % flags)
    table = catalog(warehouse).get_table(name)
    if snapshot is not None:
        table = table.copy({"scan.snapshot-id": snapshot})
    rb = table.new_read_builder()
    splits = rb.new_scan().plan().splits()
    data = rb.new_read().to_arrow(splits)
    if data is None:
        return ""
    lines = []
    columns = [(f.name, data.column(f.name)) for f in data.schema]
    for i in range(data.num_rows):
        row = {}
        for col, arr in columns:
            row[col] = value(arr.type, arr[i])
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    lines.sort()
    return "".join(l + "\n" for l in lines)


def value(t, scalar):
    """One Arrow scalar of type t as a JSON-ready value in Strata's format."""
    if not scalar.is_valid:
        return None
    if pa.types.is_struct(t):
        return {t.field(i).name: value(t.field(i).type, scalar[t.field(i).name]) for i in range(t.num_fields)}
    if pa.types.is_map(t):
        out = {}
        for k, v in zip(scalar.values.field("key"), scalar.values.field("value")):
            out[text(t.key_type, k)] = value(t.item_type, v)
        return out
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [value(t.value_type, e) for e in scalar.values]
    if pa.types.is_floating(t):
        f = scalar.as_py()
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return f
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return scalar.as_py()
    return text(t, scalar)


def text(t, scalar):
    """The text form of a non-null scalar: what a map key or a string holds."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return scalar.as_py()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return base64.b64encode(scalar.as_py()).decode()
    if pa.types.is_decimal(t):
        return format(scalar.as_py(), "f")
    if pa.types.is_date(t):
        return days_to_date(scalar.cast(pa.int32()).as_py())
    if pa.types.is_time(t):
        ns = scalar.cast(pa.int64()).as_py() * {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[t.unit]
        return clock(ns)
    if pa.types.is_timestamp(t):
        ns = scalar.cast(pa.int64()).as_py() * {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[t.unit]
        days, ns_of_day = divmod(ns, 86400 * 10**9)
        s = days_to_date(days) + "T" + clock(ns_of_day)
        return s + "Z" if t.tz is not None else s
    if pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_floating(t):
        return json.dumps(value(t, scalar))
    return json.dumps(value(t, scalar), ensure_ascii=False, separators=(",", ":"))


def days_to_date(days):
    d = datetime.date(1970, 1, 1) + datetime.timedelta(days=days)
    return "%04d-%02d-%02d" % (d.year, d.month, d.day)


def clock(ns):
    sec, frac = divmod(ns, 10**9)
    s = "%02d:%02d:%02d" % (sec // 3600, sec // 60 % 60, sec % 60)
    if frac:
        s += ("." + "%09d" % frac).rstrip("0")
    return s


class UsageError(Exception):
    pass


COMMANDS = {"read": read}


def run(argv):
    if not argv or argv[0] not in COMMANDS:
        raise UsageError("unknown command %s" % (argv[:1],))
    return COMMANDS[argv[0]](argv[1:])


def describe(e):
    return "%s: %s" % (type(e).__name__, e)


def serve():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            resp = {"ok": True, "stdout": run(req.get("args", []))}
        except Exception as e:  # every failure is an answer, not an exit
            traceback.print_exc(file=sys.stderr)
            resp = {"ok": False, "error": describe(e)}
        sys.stdout.write(json.dumps(resp) + "\n")
        sys.stdout.flush()


def main():
    if sys.argv[1:] == ["serve"]:
        serve()
        return
    try:
        sys.stdout.write(run(sys.argv[1:]))
    except UsageError as e:
        print(e, file=sys.stderr)
        sys.exit(2)
    except Exception as e:
        traceback.print_exc()
        print("error: " + describe(e), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
