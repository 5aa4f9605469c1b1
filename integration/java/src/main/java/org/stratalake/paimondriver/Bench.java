package org.stratalake.paimondriver;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.paimon.catalog.Catalog;
import org.apache.paimon.catalog.Identifier;
import org.apache.paimon.data.BinaryRow;
import org.apache.paimon.data.BinaryString;
import org.apache.paimon.data.GenericRow;
import org.apache.paimon.data.InternalRow;
import org.apache.paimon.disk.IOManager;
import org.apache.paimon.schema.Schema;
import org.apache.paimon.table.FileStoreTable;
import org.apache.paimon.table.query.LocalTableQuery;
import org.apache.paimon.table.sink.CommitMessage;
import org.apache.paimon.table.sink.RowKeyExtractor;
import org.apache.paimon.table.sink.StreamTableCommit;
import org.apache.paimon.table.sink.StreamTableWrite;
import org.apache.paimon.table.sink.StreamWriteBuilder;
import org.apache.paimon.table.source.DataSplit;
import org.apache.paimon.types.DataTypes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * The Java peer figures of Strata's benchmarks (internal/bench/java.go): the write scenario's
 * upsert stream through a streaming TableWrite with its compaction on, and warm point lookups
 * through LocalTableQuery. Inputs are files the Go side writes, read before the clock starts.
 */
final class Bench {
    private Bench() {}

    /** The write scenario's fixed-size rows: id, amount, risk_score, account, merchant, note. */
    static final int RECORD = 8 + 8 + 8 + 12 + 12 + 99;

    private static final BinaryString EUR = BinaryString.fromString("EUR");

    /**
     * bench-write WAREHOUSE DB.TABLE --input FILE --buckets B --commit-every N: creates the
     * table (the write scenario's columns, primary key id, B buckets, Paimon's defaults
     * otherwise), writes FILE's rows as one streaming writer with a commit every N rows, and
     * prints {"rows", "seconds", "first_tenth_seconds", "last_tenth_seconds", "peak_rss_bytes",
     * "start_rss_bytes", "bytes_on_disk"}: the peak is the process's resident high-water mark
     * from the start of the writes, when it was start_rss_bytes, the input file held in memory
     * included (both 0 where /proc does not say).
     */
    static String write(Args a) throws Exception {
        String input = a.flag("--input");
        int buckets = Integer.parseInt(a.flag("--buckets"));
        int every = Integer.parseInt(a.flag("--commit-every"));
        String warehouse = a.positional(1, "WAREHOUSE");
        Identifier id = Identifier.fromString(a.positional(2, "DB.TABLE"));
        a.done();
        Schema schema =
                Schema.newBuilder()
                        .column("id", DataTypes.BIGINT().notNull())
                        .column("account", DataTypes.STRING())
                        .column("amount", DataTypes.DOUBLE())
                        .column("currency", DataTypes.STRING())
                        .column("merchant", DataTypes.STRING())
                        .column("risk_score", DataTypes.DOUBLE())
                        .column("note", DataTypes.STRING())
                        .primaryKey("id")
                        .option("bucket", Integer.toString(buckets))
                        .build();
        FileStoreTable t;
        try (Catalog c = Commands.catalog(warehouse)) {
            c.createDatabase(id.getDatabaseName(), true);
            c.createTable(id, schema, false);
            t = (FileStoreTable) c.getTable(id);
        }
        byte[] data = Files.readAllBytes(Path.of(input));
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int rows = data.length / RECORD;
        StreamWriteBuilder b = t.newStreamWriteBuilder().withCommitUser("bench");
        // Rows [0, rows/10) and [9*rows/10, rows) are timed apart, as Strata's bench does: a
        // commit counts in the tenth of the row it follows, the end (closing the writer) in the
        // last.
        int firstEnd = rows / 10;
        int lastStart = 9 * rows / 10;
        boolean peakReset = resetPeakRss();
        long startRss = peakReset ? statusBytes("VmRSS:") : 0;
        long start = System.nanoTime();
        long tFirst = start;
        long tLast = start;
        try (IOManager io = Commands.ioManager();
                StreamTableWrite w = b.newWrite();
                StreamTableCommit c = b.newCommit()) {
            w.withIOManager(io);
            for (int i = 0; i < rows; i++) {
                int off = i * RECORD;
                w.write(
                        GenericRow.of(
                                buf.getLong(off),
                                BinaryString.fromBytes(data, off + 24, 12),
                                buf.getDouble(off + 8),
                                EUR,
                                BinaryString.fromBytes(data, off + 36, 12),
                                buf.getDouble(off + 16),
                                BinaryString.fromBytes(data, off + 48, 99)));
                if ((i + 1) % every == 0) {
                    commit(w, c, i);
                }
                if (i + 1 == firstEnd) {
                    tFirst = System.nanoTime();
                }
                if (i + 1 == lastStart) {
                    tLast = System.nanoTime();
                }
            }
            commit(w, c, rows);
        }
        long end = System.nanoTime();
        ObjectNode o = Values.MAPPER.createObjectNode();
        o.put("rows", rows);
        o.put("seconds", (end - start) / 1e9);
        o.put("first_tenth_seconds", (tFirst - start) / 1e9);
        o.put("last_tenth_seconds", (end - tLast) / 1e9);
        o.put("peak_rss_bytes", peakReset ? statusBytes("VmHWM:") : 0);
        o.put("start_rss_bytes", startRss);
        o.put("bytes_on_disk", du(Path.of(t.location().toUri().getPath())));
        return o + "\n";
    }

    private static void commit(StreamTableWrite w, StreamTableCommit c, long id) throws Exception {
        // A streaming writer: compaction goes on in the background across commits.
        List<CommitMessage> msgs = w.prepareCommit(false, id);
        c.commit(id, msgs);
    }

    /**
     * Resets the kernel's high-water mark of this process's resident memory (Linux: writing 5 to
     * /proc/self/clear_refs) after a garbage collection; false where that is not possible.
     */
    private static boolean resetPeakRss() {
        System.gc();
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** A field in kB of /proc/self/status ("VmHWM:"), in bytes; 0 where there is none. */
    private static long statusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    String kb = line.substring(field.length()).replace("kB", "").trim();
                    return Long.parseLong(kb) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    private static long du(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    /**
     * bench-lookup WAREHOUSE DB.TABLE --hits FILE --misses FILE --seconds S: opens a
     * LocalTableQuery over the latest snapshot's files of a table keyed by one BIGINT, looks
     * every key of both files up once (the warm-up: it builds the local lookup files), then
     * Gets hits for S seconds and misses for S seconds on one thread, each Get finding the
     * key's bucket with the table's bucket function and reading every field of the row it
     * returns. Prints {"warm_seconds", "hits": {...}, "misses": {...}}, each with ops, seconds,
     * p50_us and p99_us.
     */
    static String lookup(Args a) throws Exception {
        long[] hits = keys(a.flag("--hits"));
        long[] misses = keys(a.flag("--misses"));
        double seconds = Double.parseDouble(a.flag("--seconds"));
        a.done();
        FileStoreTable t = Commands.table(a);
        if (!t.primaryKeys().equals(List.of("id")) || !t.partitionKeys().isEmpty()) {
            throw new IllegalArgumentException("bench-lookup reads an unpartitioned table keyed by id");
        }
        ObjectNode o = Values.MAPPER.createObjectNode();
        try (IOManager io = Commands.ioManager();
                LocalTableQuery q = t.newLocalTableQuery().withIOManager(io)) {
            for (DataSplit s : t.newSnapshotReader().read().dataSplits()) {
                q.refreshFiles(s.partition(), s.bucket(), Collections.emptyList(), s.dataFiles());
            }
            Getter g = new Getter(t, q);
            long start = System.nanoTime();
            long found = g.all(hits) + g.all(misses);
            o.put("warm_seconds", (System.nanoTime() - start) / 1e9);
            if (found != hits.length) {
                throw new IllegalStateException(
                        "the warm-up found " + found + " rows for " + hits.length + " hits");
            }
            o.set("hits", g.measure(hits, seconds, true));
            o.set("misses", g.measure(misses, seconds, false));
        }
        return o + "\n";
    }

    private static long[] keys(String file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(Path.of(file))).order(ByteOrder.LITTLE_ENDIAN);
        long[] out = new long[b.capacity() / 8];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getLong(i * 8);
        }
        return out;
    }

    /** One thread's Gets through a LocalTableQuery. */
    private static final class Getter {
        private final LocalTableQuery q;
        private final RowKeyExtractor keys;
        private final int arity;
        long sink;

        Getter(FileStoreTable t, LocalTableQuery q) {
            this.q = q;
            this.keys = t.createRowKeyExtractor();
            this.arity = t.rowType().getFieldCount();
        }

        /** The row of key with every field read, or null. */
        InternalRow get(long key) throws IOException {
            GenericRow r = new GenericRow(arity);
            r.setField(0, key);
            keys.setRecord(r);
            BinaryRow partition = keys.partition();
            InternalRow row = q.lookup(partition, keys.bucket(), keys.trimmedPrimaryKey());
            if (row != null) {
                sink += row.getLong(0) + row.getString(1).toBytes().length;
                sink += (long) row.getDouble(2) + row.getString(3).toBytes().length;
                sink += row.getString(4).toBytes().length + (long) row.getDouble(5);
                sink += row.getString(6).toBytes().length;
            }
            return row;
        }

        long all(long[] keys) throws IOException {
            long n = 0;
            for (long k : keys) {
                if (get(k) != null) {
                    n++;
                }
            }
            return n;
        }

        ObjectNode measure(long[] keys, double seconds, boolean present) throws IOException {
            long[] lat = new long[1 << 20];
            int n = 0;
            long start = System.nanoTime();
            long deadline = start + (long) (seconds * 1e9);
            for (int i = 0; ; i++) {
                long t0 = System.nanoTime();
                if (t0 >= deadline) {
                    break;
                }
                InternalRow row = get(keys[i % keys.length]);
                if ((row != null) != present) {
                    throw new IllegalStateException("key " + keys[i % keys.length] + ": "
                            + (present ? "no row" : "a row"));
                }
                if (n == lat.length) {
                    lat = Arrays.copyOf(lat, n * 2);
                }
                lat[n++] = System.nanoTime() - t0;
            }
            double secs = (System.nanoTime() - start) / 1e9;
            Arrays.sort(lat, 0, n);
            ObjectNode o = Values.MAPPER.createObjectNode();
            o.put("ops", n);
            o.put("seconds", secs);
            o.put("p50_us", n == 0 ? 0 : lat[n / 2] / 1e3);
            o.put("p99_us", n == 0 ? 0 : lat[(int) Math.min(n - 1, (long) n * 99 / 100)] / 1e3);
            return o;
        }
    }
}
