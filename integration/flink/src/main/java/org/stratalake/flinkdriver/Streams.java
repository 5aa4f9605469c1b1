package org.stratalake.flinkdriver;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Streaming queries running in the background while the Go test writes with Strata. */
final class Streams {
    private Streams() {}

    /** Starts sql as a streaming job whose rows a reader thread collects. */
    static Job start(TableEnvironment env, String sql) {
        TableResult r = env.executeSql(sql);
        Job j = new Job(r);
        j.reader.start();
        return j;
    }

    /** One streaming job and the rows it returned so far. */
    static final class Job {
        private final TableResult result;
        private final Thread reader;
        private final List<String> rows = new ArrayList<>();
        private int taken;
        private Throwable error;
        private boolean ended;
        private volatile boolean stopping;

        Job(TableResult result) {
            this.result = result;
            this.reader = new Thread(this::read, "stream-reader");
            this.reader.setDaemon(true);
        }

        private void read() {
            try (CloseableIterator<Row> it = result.collect()) {
                while (it.hasNext()) {
                    String line = Json.row(result.getResolvedSchema(), it.next(), true);
                    synchronized (this) {
                        rows.add(line);
                        notifyAll();
                    }
                }
            } catch (Throwable e) {
                synchronized (this) {
                    if (!stopping) {
                        error = e;
                    }
                }
            }
            synchronized (this) {
                ended = true;
                notifyAll();
            }
        }

        /** The next count rows, waiting up to timeoutMs for them. */
        synchronized String take(int count, int timeoutMs) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (rows.size() - taken < count) {
                if (error != null) {
                    throw new IllegalStateException(
                            "the stream failed after " + (rows.size() - taken) + " of " + count
                                    + " rows", error);
                }
                long left = deadline - System.nanoTime();
                if (ended || left <= 0) {
                    throw new IllegalStateException(
                            "the stream " + (ended ? "ended" : "timed out") + " with "
                                    + (rows.size() - taken) + " of " + count + " rows: "
                                    + rows.subList(taken, rows.size()));
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            String out = lines(taken, taken + count);
            taken += count;
            return out;
        }

        /** Waits graceMs, cancels the job and returns the rows not taken. */
        String stop(int graceMs) throws Exception {
            if (graceMs > 0) {
                Thread.sleep(graceMs);
            }
            synchronized (this) {
                stopping = true;
            }
            if (result.getJobClient().isPresent()) {
                JobClient c = result.getJobClient().get();
                try {
                    c.cancel().get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // Already finished or failed: what it returned is still reported.
                }
            }
            reader.join(30_000);
            synchronized (this) {
                String out = lines(taken, rows.size());
                taken = rows.size();
                return out;
            }
        }

        private String lines(int from, int to) {
            StringBuilder sb = new StringBuilder();
            for (String l : rows.subList(from, to)) {
                sb.append(l).append('\n');
            }
            return sb.toString();
        }
    }
}
