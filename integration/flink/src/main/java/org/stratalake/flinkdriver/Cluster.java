package org.stratalake.flinkdriver;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;

import java.net.URI;

/**
 * One Flink MiniCluster in this JVM for all of the driver's jobs: a job manager and a task
 * manager with four slots (a streaming job runs beside batch jobs), reached through its REST
 * endpoint on loopback, so jobs are submitted as to a real cluster and the cluster outlives them.
 */
final class Cluster implements AutoCloseable {
    private final MiniCluster cluster;
    private final URI rest;

    Cluster() throws Exception {
        Configuration conf = base();
        conf.setString("rest.bind-address", "127.0.0.1");
        conf.setString("rest.address", "127.0.0.1");
        conf.setString("rest.bind-port", "0");
        conf.setString("jobmanager.bind-host", "127.0.0.1");
        conf.setString("taskmanager.bind-host", "127.0.0.1");
        conf.setString("taskmanager.host", "127.0.0.1");
        conf.setString("taskmanager.memory.managed.size", "128m");
        conf.setString("taskmanager.memory.network.min", "32m");
        conf.setString("taskmanager.memory.network.max", "32m");
        cluster =
                new MiniCluster(
                        new MiniClusterConfiguration.Builder()
                                .setConfiguration(conf)
                                .setNumTaskManagers(1)
                                .setNumSlotsPerTaskManager(4)
                                .build());
        cluster.start();
        rest = cluster.getRestAddress().get();
    }

    /** A batch or streaming table environment whose jobs run on this cluster. */
    TableEnvironment environment(boolean streaming) {
        Configuration conf = base();
        conf.setString("execution.target", "remote");
        conf.setString("rest.address", rest.getHost());
        conf.setString("rest.port", Integer.toString(rest.getPort()));
        conf.setString("execution.attached", "true");
        conf.setString("execution.runtime-mode", streaming ? "STREAMING" : "BATCH");
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
        EnvironmentSettings.Builder b = EnvironmentSettings.newInstance();
        b = streaming ? b.inStreamingMode() : b.inBatchMode();
        return StreamTableEnvironment.create(env, b.withConfiguration(conf).build());
    }

    private static Configuration base() {
        Configuration conf = new Configuration();
        // One slot's worth of work per job: two cores, and each key's changes keep their order.
        conf.setString("parallelism.default", "1");
        conf.setString("table.exec.resource.default-parallelism", "1");
        // Hadoop is on the class path only for Paimon's catalog: no Kerberos, no tokens.
        conf.setString("security.delegation.tokens.enabled", "false");
        return conf;
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
