package org.stratalake.paimondriver;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A command line: positional arguments, --flag value pairs and --switches. */
final class Args {
    private static final Set<String> SWITCHES = Set.of("--full");

    private final List<String> positional = new ArrayList<>();
    private final Map<String, String> flags = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();

    Args(List<String> argv) {
        for (int i = 0; i < argv.size(); i++) {
            String s = argv.get(i);
            if (!s.startsWith("--")) {
                positional.add(s);
            } else if (flags.containsKey(s)) {
                problems.add(s + " given twice");
            } else if (SWITCHES.contains(s)) {
                flags.put(s, "true");
            } else if (i + 1 < argv.size()) {
                flags.put(s, argv.get(++i));
            } else {
                problems.add(s + " needs a value");
            }
        }
    }

    String positional(int i, String name) throws Main.UsageException {
        if (i >= positional.size()) {
            throw new Main.UsageException("missing " + name);
        }
        return positional.get(i);
    }

    /** The value of --name, or null. */
    String flag(String name) {
        return flags.remove(name);
    }

    /** Whether the switch --name is given. */
    boolean bool(String name) {
        return flags.remove(name) != null;
    }

    /** Fails on a malformed line or anything the command did not take. */
    void done() throws Main.UsageException {
        if (!problems.isEmpty()) {
            throw new Main.UsageException(String.join("; ", problems));
        }
        if (!flags.isEmpty()) {
            throw new Main.UsageException("unknown flags " + flags.keySet());
        }
    }
}
