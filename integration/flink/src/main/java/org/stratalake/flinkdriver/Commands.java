package org.stratalake.flinkdriver;

import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The driver's commands over two Flink table environments (batch and streaming, each job on a
 * local MiniCluster in this JVM) with one Paimon filesystem catalog per warehouse:
 *
 * <ul>
 *   <li>{@code exec WAREHOUSE}: SQL statements on stdin, each ended by a ';' at a line's end,
 *       run in batch mode one after another, each job awaited; prints nothing.
 *   <li>{@code query WAREHOUSE}: one batch query on stdin; its rows as JSON Lines.
 *   <li>{@code stream-start WAREHOUSE}: one streaming query on stdin, started in the background;
 *       prints {"stream": id}.
 *   <li>{@code stream-take ID --count N [--timeout-ms T]}: the stream's next N rows, each with
 *       its _kind, waiting up to T ms (default 60000) for them.
 *   <li>{@code stream-stop ID [--grace-ms G]}: waits G ms (default 0), cancels the job and prints
 *       the rows it returned that were not taken.
 *   <li>{@code version}: {"flink": Flink's version, "paimon": the Paimon connector's jar}.
 * </ul>
 */
final class Commands implements AutoCloseable {
    private static final Pattern STATEMENT_END = Pattern.compile(";[ \\t]*(\\r?\\n|$)");

    private Cluster cluster;
    private TableEnvironment batch;
    private TableEnvironment streaming;
    private final Map<String, String> catalogs = new HashMap<>();
    private final Map<String, Streams.Job> jobs = new HashMap<>();
    private int nextJob = 1;

    String run(List<String> argv, String stdin) throws Exception {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("no command");
        }
        Map<String, String> flags = new LinkedHashMap<>();
        List<String> pos = parse(argv.subList(1, argv.size()), flags);
        String cmd = argv.get(0);
        switch (cmd) {
            case "exec":
                return exec(only(pos, cmd), stdin);
            case "query":
                return query(only(pos, cmd), stdin);
            case "stream-start":
                {
                    TableEnvironment env = env(true, only(pos, cmd));
                    String id = Integer.toString(nextJob++);
                    jobs.put(id, Streams.start(env, stdin.trim()));
                    return "{\"stream\":" + id + "}\n";
                }
            case "stream-take":
                return job(only(pos, cmd))
                        .take(intFlag(flags, "--count", -1), intFlag(flags, "--timeout-ms", 60000));
            case "stream-stop":
                {
                    String id = only(pos, cmd);
                    String out = job(id).stop(intFlag(flags, "--grace-ms", 0));
                    jobs.remove(id);
                    return out;
                }
            case "version":
                return version();
            default:
                throw new IllegalArgumentException("unknown command " + cmd);
        }
    }

    /** {"flink": version, "paimon": the connector's jar}. */
    private static String version() throws Exception {
        String jar =
                new File(
                                org.apache.paimon.flink.FlinkCatalog.class
                                        .getProtectionDomain()
                                        .getCodeSource()
                                        .getLocation()
                                        .toURI())
                        .getName();
        return "{\"flink\":\""
                + org.apache.flink.runtime.util.EnvironmentInformation.getVersion()
                + "\",\"paimon\":\""
                + jar
                + "\"}\n";
    }

    private String exec(String warehouse, String sql) throws Exception {
        TableEnvironment env = env(false, warehouse);
        for (String stmt : STATEMENT_END.split(sql)) {
            if (!stmt.isBlank()) {
                env.executeSql(stmt).await();
            }
        }
        return "";
    }

    private String query(String warehouse, String sql) throws Exception {
        TableEnvironment env = env(false, warehouse);
        TableResult r = env.executeSql(sql.trim());
        StringBuilder out = new StringBuilder();
        try (CloseableIterator<Row> it = r.collect()) {
            while (it.hasNext()) {
                out.append(Json.row(r.getResolvedSchema(), it.next(), false)).append('\n');
            }
        }
        return out.toString();
    }

    private Streams.Job job(String id) {
        Streams.Job j = jobs.get(id);
        if (j == null) {
            throw new IllegalArgumentException("no stream " + id);
        }
        return j;
    }

    /** The batch or streaming environment, its current catalog the one over warehouse. */
    private TableEnvironment env(boolean stream, String warehouse) throws Exception {
        if (cluster == null) {
            cluster = new Cluster();
        }
        if (stream && streaming == null) {
            streaming = cluster.environment(true);
        } else if (!stream && batch == null) {
            batch = cluster.environment(false);
        }
        TableEnvironment env = stream ? streaming : batch;
        String abs = new File(warehouse).getAbsolutePath();
        String name = catalogs.computeIfAbsent(abs, k -> "warehouse" + (catalogs.size() + 1));
        if (!List.of(env.listCatalogs()).contains(name)) {
            // Caching off: Strata commits between the driver's statements.
            env.executeSql(
                    "CREATE CATALOG `" + name + "` WITH ('type' = 'paimon', 'warehouse' = '"
                            + new File(abs).toURI() + "', 'cache-enabled' = 'false')");
        }
        env.useCatalog(name);
        return env;
    }

    private static List<String> parse(List<String> argv, Map<String, String> flags) {
        List<String> pos = new ArrayList<>();
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            if (!a.startsWith("--")) {
                pos.add(a);
            } else if (i + 1 < argv.size()) {
                flags.put(a, argv.get(++i));
            } else {
                throw new IllegalArgumentException(a + " needs a value");
            }
        }
        return pos;
    }

    private static String only(List<String> pos, String cmd) {
        if (pos.size() != 1) {
            throw new IllegalArgumentException(cmd + " takes one argument, not " + pos);
        }
        return pos.get(0);
    }

    private static int intFlag(Map<String, String> flags, String name, int dflt) {
        String v = flags.get(name);
        if (v == null) {
            if (dflt < 0) {
                throw new IllegalArgumentException(name + " is required");
            }
            return dflt;
        }
        return Integer.parseInt(v);
    }

    @Override
    public void close() {
        for (Streams.Job j : jobs.values()) {
            try {
                j.stop(0);
            } catch (Exception e) {
                System.err.println("stopping a stream: " + Main.describe(e));
            }
        }
        jobs.clear();
        if (cluster != null) {
            try {
                cluster.close();
            } catch (Exception e) {
                System.err.println("stopping the cluster: " + Main.describe(e));
            }
        }
    }
}
