package org.stratalake.paimondriver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.paimon.data.BinaryRow;
import org.apache.paimon.data.GenericRow;
import org.apache.paimon.data.InternalRow;
import org.apache.paimon.disk.IOManager;
import org.apache.paimon.reader.RecordReader;
import org.apache.paimon.table.FileStoreTable;
import org.apache.paimon.table.query.LocalTableQuery;
import org.apache.paimon.table.sink.RowPartitionKeyExtractor;
import org.apache.paimon.table.source.DataSplit;
import org.apache.paimon.table.source.EndOfScanException;
import org.apache.paimon.table.source.ReadBuilder;
import org.apache.paimon.table.source.SnapshotNotExistPlan;
import org.apache.paimon.table.source.StreamTableScan;
import org.apache.paimon.table.source.TableRead;
import org.apache.paimon.table.source.TableScan;
import org.apache.paimon.table.source.snapshot.SnapshotReader;
import org.apache.paimon.types.DataField;
import org.apache.paimon.types.RowType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The streaming read and the point lookups. */
final class Streams {
    private Streams() {}

    /**
     * Reads a table's changes through a StreamTableScan until no further snapshot exists: --from
     * N starts at snapshot N's changes (scan.mode from-snapshot), --from-full N reads snapshot N
     * whole first (from-snapshot-full); without either, the latest snapshot whole. Before each
     * plan's rows a line {"_snapshot": id}; each row carries its row kind as _kind.
     */
    static String stream(Args a) throws Exception {
        String from = a.flag("--from");
        String fromFull = a.flag("--from-full");
        a.done();
        FileStoreTable t = Commands.table(a);
        Map<String, String> opts = new HashMap<>();
        if (from != null) {
            opts.put("scan.mode", "from-snapshot");
            opts.put("scan.snapshot-id", from);
        } else if (fromFull != null) {
            opts.put("scan.mode", "from-snapshot-full");
            opts.put("scan.snapshot-id", fromFull);
        }
        t = t.copy(opts);
        ReadBuilder rb = t.newReadBuilder();
        StreamTableScan scan = rb.newStreamScan();
        TableRead read = rb.newRead();
        RowType type = t.rowType();
        StringBuilder out = new StringBuilder();
        int idle = 0;
        while (true) {
            TableScan.Plan plan;
            try {
                plan = scan.plan();
            } catch (EndOfScanException e) {
                break;
            }
            if (plan instanceof SnapshotNotExistPlan) {
                // Also the first plan of from-snapshot, which only positions the scan: the end
                // is when the next snapshot to read does not exist yet.
                Long next = scan.checkpoint();
                Long latest = t.snapshotManager().latestSnapshotId();
                if (next == null || latest == null || next > latest || ++idle > 3) {
                    break;
                }
                continue;
            }
            idle = 0;
            ObjectNode marker = Values.MAPPER.createObjectNode();
            if (plan instanceof SnapshotReader.Plan
                    && ((SnapshotReader.Plan) plan).snapshotId() != null) {
                marker.put("_snapshot", ((SnapshotReader.Plan) plan).snapshotId());
            } else {
                marker.putNull("_snapshot");
            }
            out.append(marker).append('\n');
            try (RecordReader<InternalRow> r = read.createReader(plan.splits())) {
                r.forEachRemaining(
                        row -> {
                            ObjectNode o = Values.MAPPER.createObjectNode();
                            o.put("_kind", row.getRowKind().shortString());
                            o.setAll(Values.rowToJson(row, type));
                            out.append(o).append('\n');
                        });
            }
        }
        return out.toString();
    }

    /**
     * Looks keys up through LocalTableQuery over the files of a snapshot (the latest, or
     * --snapshot N). Keys are JSONL: an object naming every primary-key column, or a one-column
     * key's bare value. Prints one line per key: the row, or null.
     */
    static String lookup(Args a, String stdin) throws Exception {
        String snapshot = a.flag("--snapshot");
        a.done();
        FileStoreTable t = Commands.table(a);
        List<String> pk = t.primaryKeys();
        if (pk.isEmpty()) {
            throw new IllegalArgumentException("lookups need a primary key");
        }
        SnapshotReader sr = t.newSnapshotReader();
        if (snapshot != null) {
            sr = sr.withSnapshot(Long.parseLong(snapshot));
        }
        RowType type = t.rowType();
        RowPartitionKeyExtractor extractor = new RowPartitionKeyExtractor(t.schema());
        boolean cross = t.schema().crossPartitionUpdate();
        StringBuilder out = new StringBuilder();
        try (IOManager io = Commands.ioManager();
                LocalTableQuery q = t.newLocalTableQuery().withIOManager(io)) {
            Map<BinaryRow, List<Integer>> buckets = new LinkedHashMap<>();
            for (DataSplit s : sr.read().dataSplits()) {
                q.refreshFiles(s.partition(), s.bucket(), Collections.emptyList(), s.dataFiles());
                List<Integer> bs = buckets.computeIfAbsent(s.partition(), k -> new ArrayList<>());
                if (!bs.contains(s.bucket())) {
                    bs.add(s.bucket());
                }
            }
            for (JsonNode key : Values.lines(stdin)) {
                GenericRow row = keyRow(key, type, pk);
                BinaryRow keyPartition = extractor.partition(row);
                InternalRow trimmed = extractor.trimmedPrimaryKey(row);
                InternalRow hit = null;
                for (Map.Entry<BinaryRow, List<Integer>> e : buckets.entrySet()) {
                    if (!cross && !e.getKey().equals(keyPartition)) {
                        continue;
                    }
                    for (int b : e.getValue()) {
                        hit = q.lookup(e.getKey(), b, trimmed);
                        if (hit != null) {
                            break;
                        }
                    }
                    if (hit != null) {
                        break;
                    }
                }
                out.append(hit == null ? "null" : Values.rowToJson(hit, type).toString());
                out.append('\n');
            }
        }
        return out.toString();
    }

    private static GenericRow keyRow(JsonNode key, RowType type, List<String> pk) {
        GenericRow row = new GenericRow(type.getFieldCount());
        if (!key.isObject()) {
            if (pk.size() != 1) {
                throw new IllegalArgumentException("a key of " + pk + " must be an object");
            }
            int i = type.getFieldIndex(pk.get(0));
            row.setField(i, Values.fromJson(key, type.getTypeAt(i)));
            return row;
        }
        for (String name : pk) {
            int i = type.getFieldIndex(name);
            DataField f = type.getFields().get(i);
            if (!key.has(name)) {
                throw new IllegalArgumentException("key " + key + " lacks " + name);
            }
            row.setField(i, Values.fromJson(key.get(name), f.type()));
        }
        return row;
    }
}
