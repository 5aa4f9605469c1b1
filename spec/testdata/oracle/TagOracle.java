import org.apache.paimon.tag.Tag;
import java.io.*;
import java.nio.charset.StandardCharsets;

/** Reads one tag JSON per line and prints, as a JSON string literal, Tag.fromJson(line).toJson() or "ERR <exception>: <message>". */
public class TagOracle {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            String res;
            try {
                res = Tag.fromJson(line).toJson();
            } catch (Throwable e) {
                Throwable c = e;
                while (c.getCause() != null) c = c.getCause();
                res = "ERR " + c.getClass().getSimpleName() + ": " + String.valueOf(c.getMessage()).split("\n")[0];
            }
            out.println(quote(res));
        }
    }
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
