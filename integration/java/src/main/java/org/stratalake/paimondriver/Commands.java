package org.stratalake.paimondriver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.paimon.CoreOptions;
import org.apache.paimon.Snapshot;
import org.apache.paimon.catalog.Catalog;
import org.apache.paimon.catalog.CatalogContext;
import org.apache.paimon.catalog.CatalogFactory;
import org.apache.paimon.catalog.Identifier;
import org.apache.paimon.data.BinaryRow;
import org.apache.paimon.data.GenericRow;
import org.apache.paimon.data.InternalRow;
import org.apache.paimon.disk.IOManager;
import org.apache.paimon.index.HashBucketAssigner;
import org.apache.paimon.manifest.BucketEntry;
import org.apache.paimon.options.Options;
import org.apache.paimon.reader.RecordReader;
import org.apache.paimon.schema.Schema;
import org.apache.paimon.schema.SchemaChange;
import org.apache.paimon.schema.TableSchema;
import org.apache.paimon.table.BucketMode;
import org.apache.paimon.table.FileStoreTable;
import org.apache.paimon.table.Table;
import org.apache.paimon.table.sink.BatchTableCommit;
import org.apache.paimon.table.sink.BatchTableWrite;
import org.apache.paimon.table.sink.BatchWriteBuilder;
import org.apache.paimon.table.sink.CommitMessage;
import org.apache.paimon.table.sink.RowPartitionKeyExtractor;
import org.apache.paimon.table.sink.StreamTableCommit;
import org.apache.paimon.table.sink.StreamTableWrite;
import org.apache.paimon.table.sink.StreamWriteBuilder;
import org.apache.paimon.table.sink.TableWrite;
import org.apache.paimon.table.source.ReadBuilder;
import org.apache.paimon.table.source.Split;
import org.apache.paimon.tag.Tag;
import org.apache.paimon.types.DataType;
import org.apache.paimon.types.DataTypeJsonParser;
import org.apache.paimon.types.RowKind;
import org.apache.paimon.types.RowType;
import org.apache.paimon.utils.Pair;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** The driver's commands. Each returns what it prints on stdout. */
final class Commands {
    private Commands() {}

    /** Runs one command line; stdin is the command's input. */
    static String run(List<String> argv, String stdin) throws Exception {
        Args a = new Args(argv);
        String cmd = a.positional(0, "COMMAND");
        switch (cmd) {
            case "create":
                return create(a, stdin);
            case "alter":
                return alter(a, stdin);
            case "read":
                return read(a);
            case "write":
                return write(a, stdin);
            case "compact":
                return compact(a);
            case "stream":
                return Streams.stream(a);
            case "lookup":
                return Streams.lookup(a, stdin);
            case "snapshots":
                return snapshots(a);
            case "tags":
                return tags(a);
            case "tag-create":
                return tagCreate(a);
            case "commit-held":
                {
                    String name = a.flag("--hold");
                    a.done();
                    FileStoreTable t = table(a);
                    Held.commit(name);
                    return result(t, 1);
                }
            case "bench-write":
                return Bench.write(a);
            case "bench-lookup":
                return Bench.lookup(a);
            default:
                throw new Main.UsageException("unknown command " + cmd);
        }
    }

    /** A filesystem catalog over the warehouse, without caching: other processes change it. */
    static Catalog catalog(String warehouse) throws Exception {
        Options o = new Options();
        o.set("warehouse", warehouse);
        o.set("cache-enabled", "false");
        // A plain Hadoop Configuration: the default would load HDFS's, which needs hadoop-hdfs.
        return CatalogFactory.createCatalog(
                CatalogContext.create(o, new org.apache.hadoop.conf.Configuration()));
    }

    static FileStoreTable table(Args a) throws Exception {
        String warehouse = a.positional(1, "WAREHOUSE");
        Identifier id = Identifier.fromString(a.positional(2, "DB.TABLE"));
        try (Catalog c = catalog(warehouse)) {
            return (FileStoreTable) c.getTable(id);
        }
    }

    static IOManager ioManager() throws Exception {
        Path tmp = Files.createTempDirectory("paimon-driver-io");
        tmp.toFile().deleteOnExit();
        return IOManager.create(tmp.toString());
    }

    private static String create(Args a, String stdin) throws Exception {
        String warehouse = a.positional(1, "WAREHOUSE");
        Identifier id = Identifier.fromString(a.positional(2, "DB.TABLE"));
        a.done();
        Schema schema = TableSchema.fromJson(stdin).toSchema();
        try (Catalog c = catalog(warehouse)) {
            c.createDatabase(id.getDatabaseName(), true);
            c.createTable(id, schema, false);
        }
        return "";
    }

    /**
     * Alters the table: stdin is a JSON array of changes, each {"op": ...}: add (column, type),
     * rename (column, to), drop (column), type (column, type: a widening such as INT to BIGINT),
     * set (key, value), remove (key). Types are Paimon's SQL names of atomic types.
     */
    private static String alter(Args a, String stdin) throws Exception {
        String warehouse = a.positional(1, "WAREHOUSE");
        Identifier id = Identifier.fromString(a.positional(2, "DB.TABLE"));
        a.done();
        List<SchemaChange> changes = new ArrayList<>();
        for (JsonNode c : Values.MAPPER.readTree(stdin)) {
            String op = c.path("op").asText();
            String col = c.path("column").asText();
            switch (op) {
                case "add":
                    changes.add(SchemaChange.addColumn(col, type(c)));
                    break;
                case "rename":
                    changes.add(SchemaChange.renameColumn(col, c.path("to").asText()));
                    break;
                case "drop":
                    changes.add(SchemaChange.dropColumn(col));
                    break;
                case "type":
                    changes.add(SchemaChange.updateColumnType(col, type(c)));
                    break;
                case "set":
                    changes.add(
                            SchemaChange.setOption(
                                    c.path("key").asText(), c.path("value").asText()));
                    break;
                case "remove":
                    changes.add(SchemaChange.removeOption(c.path("key").asText()));
                    break;
                default:
                    throw new IllegalArgumentException("unknown schema change " + c);
            }
        }
        try (Catalog c = catalog(warehouse)) {
            c.alterTable(id, changes, false);
        }
        return "";
    }

    private static DataType type(JsonNode change) {
        return DataTypeJsonParser.parseAtomicTypeSQLString(change.path("type").asText());
    }

    private static String read(Args a) throws Exception {
        String snapshot = a.flag("--snapshot");
        String tag = a.flag("--tag");
        a.done();
        FileStoreTable t = table(a);
        if (snapshot != null && tag != null) {
            throw new Main.UsageException("--snapshot and --tag exclude each other");
        }
        if (snapshot != null) {
            t = t.copy(Collections.singletonMap(CoreOptions.SCAN_SNAPSHOT_ID.key(), snapshot));
        }
        if (tag != null) {
            t = t.copy(Collections.singletonMap(CoreOptions.SCAN_TAG_NAME.key(), tag));
        }
        ReadBuilder rb = t.newReadBuilder();
        List<Split> splits = rb.newScan().plan().splits();
        RowType type = t.rowType();
        List<String> lines = new ArrayList<>();
        try (RecordReader<InternalRow> r = rb.newRead().createReader(splits)) {
            r.forEachRemaining(
                    row -> lines.add(Values.rowToJson(row, type).toString()));
        }
        Collections.sort(lines);
        return joinLines(lines);
    }

    static String joinLines(List<String> lines) {
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l).append('\n');
        }
        return sb.toString();
    }

    /** Rows from JSONL, each with the row kind its _kind field names (+I by default). */
    static List<GenericRow> parseRows(String stdin, RowType type) throws Exception {
        List<GenericRow> rows = new ArrayList<>();
        int line = 0;
        for (JsonNode n : Values.lines(stdin)) {
            line++;
            try {
                GenericRow row = Values.rowFromJson(n, type);
                JsonNode kind = type.getFieldIndex("_kind") < 0 ? n.get("_kind") : null;
                if (kind != null && !kind.isNull()) {
                    row.setRowKind(RowKind.fromShortString(kind.asText()));
                }
                rows.add(row);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("row " + line + ": " + e.getMessage(), e);
            }
        }
        return rows;
    }

    private static String write(Args a, String stdin) throws Exception {
        String user = a.flag("--user");
        String commitId = a.flag("--commit-id");
        String hold = a.flag("--hold");
        a.done();
        FileStoreTable t = table(a);
        if ((user == null) != (commitId == null)) {
            throw new Main.UsageException("--user and --commit-id go together");
        }
        List<GenericRow> rows = parseRows(stdin, t.rowType());
        BucketMode mode = t.bucketMode();
        if (mode == BucketMode.KEY_DYNAMIC) {
            throw new UnsupportedOperationException(
                    "cross-partition upserts (bucket -1, primary key without the partition keys)"
                            + " need Flink's global index assigner; the Java API has none");
        }
        try (IOManager io = ioManager()) {
            if (user == null) {
                BatchWriteBuilder b = t.newBatchWriteBuilder();
                try (BatchTableWrite w = b.newWrite();
                        BatchTableCommit c = b.newCommit()) {
                    w.withIOManager(io);
                    HashBucketAssigner assigner = assigner(t, "paimon-driver", mode);
                    writeRows(t, w, assigner, rows);
                    if (hold != null) {
                        return Held.hold(hold, b, w.prepareCommit());
                    }
                    c.commit(w.prepareCommit());
                }
                return result(t, 1);
            }
            long id = Long.parseLong(commitId);
            StreamWriteBuilder b = t.newStreamWriteBuilder().withCommitUser(user);
            try (StreamTableWrite w = b.newWrite();
                    StreamTableCommit c = b.newCommit()) {
                w.withIOManager(io);
                HashBucketAssigner assigner = assigner(t, user, mode);
                writeRows(t, w, assigner, rows);
                if (assigner != null) {
                    assigner.prepareCommit(id);
                }
                List<CommitMessage> msgs = w.prepareCommit(true, id);
                Map<Long, List<CommitMessage>> byId = new HashMap<>();
                byId.put(id, msgs);
                return result(t, c.filterAndCommit(byId));
            }
        }
    }

    private static HashBucketAssigner assigner(FileStoreTable t, String user, BucketMode mode) {
        if (mode != BucketMode.HASH_DYNAMIC) {
            return null;
        }
        CoreOptions o = t.coreOptions();
        return new HashBucketAssigner(
                t.snapshotManager(),
                user,
                t.store().newIndexFileHandler(),
                1,
                1,
                0,
                o.dynamicBucketTargetRowNum(),
                o.dynamicBucketMaxBuckets());
    }

    private static void writeRows(
            FileStoreTable t, TableWrite w, HashBucketAssigner assigner, List<GenericRow> rows)
            throws Exception {
        RowPartitionKeyExtractor extractor =
                assigner == null ? null : new RowPartitionKeyExtractor(t.schema());
        for (GenericRow row : rows) {
            if (assigner == null) {
                w.write(row);
                continue;
            }
            BinaryRow partition = extractor.partition(row);
            int hash = extractor.trimmedPrimaryKey(row).hashCode();
            w.write(row, assigner.assign(partition, hash));
        }
    }

    /** {"committed": n, "snapshot": latest id or null}. */
    private static String result(FileStoreTable t, int committed) {
        ObjectNode o = Values.MAPPER.createObjectNode();
        o.put("committed", committed);
        Long latest = t.snapshotManager().latestSnapshotId();
        if (latest == null) {
            o.putNull("snapshot");
        } else {
            o.put("snapshot", latest);
        }
        return o.toString() + "\n";
    }

    private static String compact(Args a) throws Exception {
        boolean full = a.bool("--full");
        String user = a.flag("--user");
        String commitId = a.flag("--commit-id");
        String hold = a.flag("--hold");
        a.done();
        FileStoreTable t = table(a);
        if ((user == null) != (commitId == null)) {
            throw new Main.UsageException("--user and --commit-id go together");
        }
        List<BucketEntry> buckets = t.newSnapshotReader().bucketEntries();
        try (IOManager io = ioManager()) {
            if (user == null) {
                BatchWriteBuilder b = t.newBatchWriteBuilder();
                try (BatchTableWrite w = b.newWrite();
                        BatchTableCommit c = b.newCommit()) {
                    w.withIOManager(io);
                    for (BucketEntry e : buckets) {
                        w.compact(e.partition(), e.bucket(), full);
                    }
                    if (hold != null) {
                        return Held.hold(hold, b, w.prepareCommit());
                    }
                    c.commit(w.prepareCommit());
                }
                return result(t, 1);
            }
            long id = Long.parseLong(commitId);
            StreamWriteBuilder b = t.newStreamWriteBuilder().withCommitUser(user);
            try (StreamTableWrite w = b.newWrite();
                    StreamTableCommit c = b.newCommit()) {
                w.withIOManager(io);
                for (BucketEntry e : buckets) {
                    w.compact(e.partition(), e.bucket(), full);
                }
                Map<Long, List<CommitMessage>> byId = new HashMap<>();
                byId.put(id, w.prepareCommit(true, id));
                return result(t, c.filterAndCommit(byId));
            }
        }
    }

    private static String snapshots(Args a) throws Exception {
        a.done();
        FileStoreTable t = table(a);
        List<String> lines = new ArrayList<>();
        for (Iterator<Snapshot> it = t.snapshotManager().snapshots(); it.hasNext(); ) {
            Snapshot s = it.next();
            ObjectNode o = Values.MAPPER.createObjectNode();
            o.put("id", s.id());
            o.put("kind", s.commitKind().name());
            o.put("user", s.commitUser());
            o.put("identifier", s.commitIdentifier());
            o.put("schema", s.schemaId());
            lines.add(o.toString());
        }
        return joinLines(lines);
    }

    /** One JSON line per tag, as TagManager reads the tag files, sorted by name. */
    private static String tags(Args a) throws Exception {
        a.done();
        FileStoreTable t = table(a);
        List<String> lines = new ArrayList<>();
        for (Pair<Tag, String> p : t.tagManager().tagObjects()) {
            Tag tag = p.getLeft();
            ObjectNode o = Values.MAPPER.createObjectNode();
            o.put("name", p.getRight());
            o.put("snapshot", tag.id());
            o.put("timeMillis", tag.timeMillis());
            if (tag.getTagCreateTime() != null) {
                o.put("createTime", tag.getTagCreateTime().toString());
            }
            if (tag.getTagTimeRetained() != null) {
                o.put("retainedMillis", tag.getTagTimeRetained().toMillis());
            }
            lines.add(o.toString());
        }
        Collections.sort(lines);
        return joinLines(lines);
    }

    /** Creates a tag through Table.createTag: of the latest or --snapshot N, kept --retain-ms long. */
    private static String tagCreate(Args a) throws Exception {
        String snapshot = a.flag("--snapshot");
        String retain = a.flag("--retain-ms");
        String name = a.positional(3, "TAG");
        a.done();
        FileStoreTable t = table(a);
        Duration d = retain == null ? null : Duration.ofMillis(Long.parseLong(retain));
        if (snapshot == null && d == null) {
            t.createTag(name);
        } else if (snapshot == null) {
            t.createTag(name, d);
        } else if (d == null) {
            t.createTag(name, Long.parseLong(snapshot));
        } else {
            t.createTag(name, Long.parseLong(snapshot), d);
        }
        return "";
    }
}
