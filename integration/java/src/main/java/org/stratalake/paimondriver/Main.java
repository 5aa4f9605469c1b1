package org.stratalake.paimondriver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of the driver. Each command runs once, reading stdin and writing stdout, or
 * `serve` runs commands one after another in one JVM: each stdin line is a request {"args":
 * [...], "stdin": "..."}, each stdout line the answer {"ok": true, "stdout": "..."} or {"ok":
 * false, "error": "..."}. Go tests use serve, so the JVM starts once per test binary.
 */
public final class Main {
    private Main() {}

    static final String USAGE =
            String.join(
                    "\n",
                    "usage: paimon-driver COMMAND WAREHOUSE DB.TABLE [flags]",
                    "  create  WAREHOUSE DB.TABLE          schema file JSON (Paimon's schema-N layout) on stdin",
                    "  alter   WAREHOUSE DB.TABLE          schema changes as a JSON array on stdin (see Commands.alter)",
                    "  read    WAREHOUSE DB.TABLE [--snapshot N]            rows as JSONL, sorted",
                    "  write   WAREHOUSE DB.TABLE [--user U --commit-id N]  JSONL rows on stdin (_kind: +I -U +U -D)",
                    "  compact WAREHOUSE DB.TABLE [--full] [--user U --commit-id N]",
                    "  stream  WAREHOUSE DB.TABLE [--from N]   changes as JSONL with _kind; {\"_snapshot\": N} before each plan",
                    "  lookup  WAREHOUSE DB.TABLE [--snapshot N]   keys as JSONL on stdin; one line per key, the row or null",
                    "  snapshots WAREHOUSE DB.TABLE           snapshot ids and commit kinds",
                    "  serve                                   requests as JSON lines on stdin");

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        // Keep library output (log lines, warnings) off stdout: stdout is the protocol.
        PrintStream realOut = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        if (args.length == 1 && args[0].equals("serve")) {
            serve(realOut);
            return;
        }
        String stdin = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        try {
            realOut.print(Commands.run(List.of(args), stdin));
            realOut.flush();
        } catch (UsageException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
        } catch (Throwable e) {
            e.printStackTrace();
            System.err.println("error: " + describe(e));
            System.exit(1);
        }
    }

    private static void serve(PrintStream out) throws Exception {
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            ObjectNode resp = Values.MAPPER.createObjectNode();
            try {
                JsonNode req = Values.MAPPER.readTree(line);
                List<String> args = new ArrayList<>();
                for (JsonNode a : req.path("args")) {
                    args.add(a.asText());
                }
                String stdin = req.path("stdin").asText("");
                String stdout = Commands.run(args, stdin);
                resp.put("ok", true);
                resp.put("stdout", stdout);
            } catch (Throwable e) {
                ByteArrayOutputStream trace = new ByteArrayOutputStream();
                e.printStackTrace(new PrintStream(trace, true, StandardCharsets.UTF_8));
                System.err.print(trace.toString(StandardCharsets.UTF_8));
                resp.put("ok", false);
                resp.put("error", describe(e));
            }
            out.println(Values.MAPPER.writeValueAsString(resp));
            out.flush();
        }
    }

    /** The messages of an exception and its causes, outermost first. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (sb.length() > 0) {
                sb.append(": ");
            }
            sb.append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                sb.append(" ").append(t.getMessage());
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return sb.toString();
    }

    /** A bad command line. */
    static final class UsageException extends Exception {
        UsageException(String msg) {
            super(msg);
        }
    }
}
