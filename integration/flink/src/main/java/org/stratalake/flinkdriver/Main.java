package org.stratalake.flinkdriver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The Flink driver's entry point: `serve` reads one JSON request per stdin line, {"args": [...],
 * "stdin": "..."}, runs it, and answers one line {"ok": true, "stdout": "..."} or {"ok": false,
 * "error": "..."} (the protocol of the Java driver in integration/java). Any other command line
 * runs one command with stdin as its input.
 */
public final class Main {
    private Main() {}

    static final ObjectMapper MAPPER = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        // stdout is the protocol: anything a library prints goes to stderr.
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        Commands commands = new Commands();
        if (args.length == 1 && args[0].equals("serve")) {
            serve(commands, out);
            commands.close();
            System.exit(0);
        }
        String stdin = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        int status = 0;
        try {
            out.print(commands.run(List.of(args), stdin));
        } catch (Throwable e) {
            e.printStackTrace();
            System.err.println("error: " + describe(e));
            status = 1;
        }
        out.flush();
        commands.close();
        // Flink leaves non-daemon threads behind.
        System.exit(status);
    }

    private static void serve(Commands commands, PrintStream out) throws Exception {
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            ObjectNode resp = MAPPER.createObjectNode();
            try {
                JsonNode req = MAPPER.readTree(line);
                List<String> args = new ArrayList<>();
                for (JsonNode a : req.path("args")) {
                    args.add(a.asText());
                }
                resp.put("stdout", commands.run(args, req.path("stdin").asText("")));
                resp.put("ok", true);
            } catch (Throwable e) {
                ByteArrayOutputStream trace = new ByteArrayOutputStream();
                e.printStackTrace(new PrintStream(trace, true, StandardCharsets.UTF_8));
                System.err.print(trace.toString(StandardCharsets.UTF_8));
                resp.put("ok", false);
                resp.put("error", describe(e));
            }
            out.println(MAPPER.writeValueAsString(resp));
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
}
