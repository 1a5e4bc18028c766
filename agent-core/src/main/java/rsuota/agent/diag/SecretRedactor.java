package rsuota.agent.diag;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes secrets from configuration and log text before it leaves the box: the value of every
 * key matching {@code password|secret|token|key\b|private} (any case) in {@code key=value},
 * {@code key: value}, {@code "key": "value"} lines, and in such pairs inside a line (log lines,
 * query strings), becomes {@code ***}; PEM private key blocks and user:password in URLs too. Conservative on purpose: {@code private_key_path} loses its
 * (harmless) path rather than risk a miss.
 */
public final class SecretRedactor {

    private SecretRedactor() {}

    public static final String MASK = "***";

    private static final Pattern SECRET_KEY = Pattern.compile("(?i)(password|secret|token|key\\b|private)");
    /** indent, optional quote, key, optional quote, separator, value. */
    private static final Pattern KEY_VALUE = Pattern.compile("^(\\s*[\"']?)([A-Za-z0-9_.\\-]+)([\"']?\\s*[:=]\\s*)(.*)$");
    private static final Pattern PEM_PRIVATE = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.*?-----END \\1-----", Pattern.DOTALL);
    /** A {@code name=value} or {@code name: value} pair inside free text (log and journal lines, query strings). */
    private static final Pattern INLINE_PAIR = Pattern.compile("([A-Za-z0-9_.\\-]+)(\\s*[=:]\\s*)(\"[^\"]*\"|'[^']*'|[^\\s,;&\"']+)");
    private static final Pattern URL_CREDENTIALS = Pattern.compile("([A-Za-z][A-Za-z0-9+.\\-]*://)[^/@\\s:]+:[^/@\\s]+@");

    /** Redacted text and how many values were masked. */
    public record Result(String text, int masked) {}

    public static Result redact(String text) {
        int[] masked = {0};
        Matcher pem = PEM_PRIVATE.matcher(text);
        StringBuilder noPem = new StringBuilder();
        while (pem.find()) {
            masked[0]++;
            pem.appendReplacement(noPem, Matcher.quoteReplacement("-----BEGIN " + pem.group(1) + "-----\n" + MASK + "\n-----END " + pem.group(1) + "-----"));
        }
        pem.appendTail(noPem);
        StringBuilder out = new StringBuilder(noPem.length());
        String[] lines = noPem.toString().split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) out.append('\n');
            out.append(redactLine(lines[i], masked));
        }
        return new Result(out.toString(), masked[0]);
    }

    /** Masks the values of secret-named pairs anywhere in a line ("... login password=x ok", "?token=y&"). */
    private static String redactInline(String line, int[] masked) {
        Matcher m = INLINE_PAIR.matcher(line);
        StringBuilder out = new StringBuilder(line.length());
        boolean changed = false;
        while (m.find()) {
            if (!SECRET_KEY.matcher(m.group(1)).find()) continue;
            String v = m.group(3);
            String quote = v.startsWith("\"") || v.startsWith("'") ? v.substring(0, 1) : "";
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + m.group(2) + quote + MASK + quote));
            masked[0]++;
            changed = true;
        }
        if (!changed) return line;
        m.appendTail(out);
        return out.toString();
    }

    private static String redactLine(String line, int[] masked) {
        Matcher url = URL_CREDENTIALS.matcher(line);
        if (url.find()) {
            masked[0]++;
            line = url.replaceAll("$1" + MASK + ":" + MASK + "@");
        }
        Matcher kv = KEY_VALUE.matcher(line);
        if (!kv.matches() || !SECRET_KEY.matcher(kv.group(2)).find()) return redactInline(line, masked);
        String value = kv.group(4);
        if (value.isEmpty() || value.startsWith("{") || value.startsWith("[")) {
            // A section opener ("secrets: " then nested lines, or a JSON object): nested keys are checked on their own lines.
            return line;
        }
        masked[0]++;
        String trailing = value.endsWith(",") ? "," : "";
        String v = trailing.isEmpty() ? value : value.substring(0, value.length() - 1);
        String quote = v.length() >= 2 && (v.charAt(0) == '"' || v.charAt(0) == '\'') ? String.valueOf(v.charAt(0)) : "";
        return kv.group(1) + kv.group(2) + kv.group(3) + quote + MASK + quote + trailing;
    }
}
