package rsuota.agent.health;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parser for the Prometheus text exposition format (version 0.0.4), which is what applications
 * serve on {@code /metrics}:
 * <pre>
 * # HELP rsu_app_event_lag_seconds Event lag.
 * # TYPE rsu_app_event_lag_seconds summary
 * rsu_app_event_lag_seconds{quantile="0.5"} 0.12
 * rsu_app_event_lag_seconds{quantile="0.95",corridor="A9"} 0.8 1764547200000
 * </pre>
 * Comments and blank lines are skipped ({@code # TYPE} lines are checked); label values may hold
 * escaped {@code \\ \" \n}; values include {@code NaN}, {@code +Inf}, {@code -Inf}; a trailing
 * timestamp is accepted and ignored. Anything else is an error naming the line: a KPI read from a
 * half-understood line would be worse than no KPI.
 */
public final class PrometheusText {

    /** One sample: metric name, labels (in their order), value. */
    public record Sample(String name, Map<String, String> labels, double value) {
        public Sample {
            labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
        }
    }

    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern TIMESTAMP = Pattern.compile("-?\\d+");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");
    /** Enough of a bad line to recognise it, without flooding a log with a megabyte of garbage. */
    private static final int QUOTE_MAX = 200;

    private PrometheusText() {}

    /** Parses a whole exposition; {@code origin} (e.g. the URL) goes into error messages. */
    public static List<Sample> parse(String text, String origin) throws PrometheusFormatException {
        List<Sample> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            int n = i + 1;
            if (line.isBlank()) continue;
            Cursor c = new Cursor(line, n, origin);
            c.skipSpace();
            if (c.peek() == '#') {
                comment(c);
                continue;
            }
            out.add(sample(c));
        }
        return out;
    }

    /**
     * Parses a selector as written in the config: a metric name with optional labels that must
     * match, e.g. {@code rsu_app_event_lag_seconds{quantile="0.5"}}.
     */
    public static MetricSelector parseSelector(String text) throws PrometheusFormatException {
        Cursor c = new Cursor(text.strip(), 0, "selector");
        String name = c.metricName();
        Map<String, String> labels = c.peek() == '{' ? c.labels() : Map.of();
        if (!c.atEnd()) throw c.error("unexpected text after the selector");
        return new MetricSelector(name, labels);
    }

    private static void comment(Cursor c) throws PrometheusFormatException {
        c.expect('#');
        c.skipSpace();
        String word = c.word();
        if (word.equals("TYPE")) {
            c.requireSpace();
            c.metricName();
            c.requireSpace();
            String type = c.word();
            if (!TYPES.contains(type)) throw c.error("TYPE '" + type + "' is not one of " + String.join(", ", TYPES.stream().sorted().toList()));
            c.skipSpace();
            if (!c.atEnd()) throw c.error("unexpected text after the TYPE");
        } else if (word.equals("HELP")) {
            c.requireSpace();
            c.metricName(); // the docstring after it is free text
        }
        // Any other comment is free text.
    }

    private static Sample sample(Cursor c) throws PrometheusFormatException {
        String name = c.metricName();
        Map<String, String> labels = Map.of();
        int afterName = c.pos;
        c.skipSpace(); // like Prometheus' own parser, allow blanks between the name and its labels
        if (c.peek() == '{') {
            labels = c.labels();
            c.requireSpace();
        } else if (c.pos == afterName) {
            throw c.error(c.atEnd() ? "line ends too early" : "expected a space");
        }
        String v = c.word();
        double value = value(c, v);
        c.skipSpace();
        if (!c.atEnd()) {
            String ts = c.word();
            if (!TIMESTAMP.matcher(ts).matches()) throw c.error("timestamp '" + ts + "' is not an integer of milliseconds");
            c.skipSpace();
            if (!c.atEnd()) throw c.error("unexpected text after the timestamp");
        }
        return new Sample(name, labels, value);
    }

    private static double value(Cursor c, String v) throws PrometheusFormatException {
        switch (v.toLowerCase(Locale.ROOT)) {
            case "nan":
                return Double.NaN;
            case "+inf":
            case "inf":
                return Double.POSITIVE_INFINITY;
            case "-inf":
                return Double.NEGATIVE_INFINITY;
            default:
                break;
        }
        // Double.parseDouble alone would also take "1d", "0x1p3" or "Infinity", which Prometheus does not write.
        if (v.isEmpty() || !NUMBER.matcher(v).matches()) throw c.error("value '" + v + "' is not a number");
        return Double.parseDouble(v);
    }

    /** A position in one line; every method moves forward, so each loop is bounded by the line length. */
    private static final class Cursor {
        final String s;
        final int line;
        final String origin;
        int pos;

        Cursor(String s, int line, String origin) {
            this.s = s;
            this.line = line;
            this.origin = origin;
        }

        boolean atEnd() {
            return pos >= s.length();
        }

        char peek() {
            return atEnd() ? '\0' : s.charAt(pos);
        }

        void expect(char ch) throws PrometheusFormatException {
            if (peek() != ch) throw error("expected '" + ch + "'");
            pos++;
        }

        void skipSpace() {
            while (!atEnd() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t')) pos++;
        }

        void requireSpace() throws PrometheusFormatException {
            if (atEnd() || (peek() != ' ' && peek() != '\t')) throw error(atEnd() ? "line ends too early" : "expected a space");
            skipSpace();
        }

        /** Up to the next space, tab or end. */
        String word() {
            int start = pos;
            while (!atEnd() && s.charAt(pos) != ' ' && s.charAt(pos) != '\t') pos++;
            return s.substring(start, pos);
        }

        String metricName() throws PrometheusFormatException {
            int start = pos;
            if (atEnd() || !(Character.isLetter(peek()) && peek() < 128 || peek() == '_' || peek() == ':')) {
                throw error("expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
            }
            while (!atEnd() && isNameChar(peek(), true)) pos++;
            return s.substring(start, pos);
        }

        Map<String, String> labels() throws PrometheusFormatException {
            expect('{');
            Map<String, String> out = new LinkedHashMap<>();
            // Each pass consumes a label or throws, so the loop ends within the line's length.
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    return out;
                }
                String label = labelName();
                skipSpace();
                expect('=');
                skipSpace();
                String value = quoted();
                if (out.put(label, value) != null) throw error("label '" + label + "' appears twice");
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != '}') {
                    throw error(atEnd() ? "labels not closed with '}'" : "expected ',' or '}' after label '" + label + "'");
                }
            }
        }

        String labelName() throws PrometheusFormatException {
            int start = pos;
            if (atEnd() || !(Character.isLetter(peek()) && peek() < 128 || peek() == '_')) {
                throw error("expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
            }
            while (!atEnd() && isNameChar(peek(), false)) pos++;
            return s.substring(start, pos);
        }

        String quoted() throws PrometheusFormatException {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (!atEnd()) {
                char ch = s.charAt(pos++);
                if (ch == '"') return sb.toString();
                if (ch == '\\') {
                    if (atEnd()) break;
                    char e = s.charAt(pos++);
                    switch (e) {
                        case '\\' -> sb.append('\\');
                        case '"' -> sb.append('"');
                        case 'n' -> sb.append('\n');
                        default -> throw error("unknown escape '\\" + e + "' in a label value (allowed: \\\\ \\\" \\n)");
                    }
                } else {
                    sb.append(ch);
                }
            }
            throw error("label value not closed with '\"'");
        }

        static boolean isNameChar(char ch, boolean colon) {
            return ch < 128 && (Character.isLetterOrDigit(ch) || ch == '_' || (colon && ch == ':'));
        }

        PrometheusFormatException error(String what) {
            String quote = s.length() > QUOTE_MAX ? s.substring(0, QUOTE_MAX) + "..." : s;
            String where = line > 0 ? origin + ", line " + line + ", column " + (pos + 1) : origin + " '" + quote + "', column " + (pos + 1);
            return new PrometheusFormatException(line, where + ": " + what + (line > 0 ? ": " + quote : ""));
        }
    }
}
