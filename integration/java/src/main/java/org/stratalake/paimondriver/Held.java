package org.stratalake.paimondriver;

import org.apache.paimon.table.sink.BatchTableCommit;
import org.apache.paimon.table.sink.BatchWriteBuilder;
import org.apache.paimon.table.sink.CommitMessage;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Batch commits prepared now and committed later (write and compact with --hold NAME, then
 * commit-held --hold NAME), so a test can make another engine commit in between: what Paimon's
 * commit checks then see is a real concurrent commit. Held messages live in the serving JVM.
 */
final class Held {
    private Held() {}

    private record Prepared(BatchWriteBuilder builder, List<CommitMessage> messages) {}

    private static final Map<String, Prepared> HELD = new HashMap<>();

    static synchronized String hold(String name, BatchWriteBuilder b, List<CommitMessage> msgs) {
        if (HELD.putIfAbsent(name, new Prepared(b, msgs)) != null) {
            throw new IllegalArgumentException("a commit named " + name + " is already held");
        }
        return "{\"held\":" + msgs.size() + "}\n";
    }

    static void commit(String name) throws Exception {
        Prepared p;
        synchronized (Held.class) {
            p = HELD.remove(name);
        }
        if (p == null) {
            throw new IllegalArgumentException("no commit named " + name + " is held");
        }
        try (BatchTableCommit c = p.builder().newCommit()) {
            c.commit(p.messages());
        }
    }
}
