package rsuota.agent.logging;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.logging.LogManager;

/**
 * The agent logs through SLF4J onto {@code java.util.logging} (slf4j-jdk14), the logging the JDK
 * and Paho already use: one configuration for all three, and ~600 fewer classes than logback
 * with its XML configuration (~3.5 MiB of RSS and ~0.3 s of start; docs/benchmarks.md, Footprint).
 *
 * <p>Everything goes to stderr, one line per record ({@link StderrHandler}, {@link LineFormatter}); under systemd that is
 * the journal, with the record's priority. The root level is {@code rsu.log.level} (system
 * property), else the {@code RSU_LOG_LEVEL} environment variable, else INFO; SLF4J names (ERROR,
 * WARN, DEBUG, TRACE) and JUL names both work. {@code rsu.log.config} names a properties file in
 * {@code java.util.logging} syntax (the package's {@code /etc/rsu-agent/logging.properties}) whose
 * entries are laid over these defaults: an administrator's {@code .level} or per-logger level wins.
 */
public final class Logging {
    private Logging() {}

    /** Configures JUL for this process from the system properties and environment. */
    public static void configure() {
        try {
            configure(System.getProperties(), System.getenv());
        } catch (IOException e) {
            // Logging must not stop the agent: it logs with the defaults, the reason goes to stderr.
            System.err.println("rsu-agent: logging configuration not applied: " + e.getMessage());
        }
    }

    static void configure(Properties system, Map<String, String> env) throws IOException {
        Properties p = defaults(system.getProperty("rsu.log.level", env.getOrDefault("RSU_LOG_LEVEL", "INFO")));
        // The defaults as properties lines, then the administrator's file as it is: a later key wins
        // when JUL loads them, as Properties.putAll would. Not Properties.store: its date comment
        // (Date.toString) loads the CLDR time zone names of ~1,000 locales, ~1 MiB of heap and
        // metaspace in every command (docs/benchmarks.md, Install peak RSS).
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String key : p.stringPropertyNames()) {
            out.writeBytes((escape(key) + "=" + escape(p.getProperty(key)) + "\n").getBytes(StandardCharsets.ISO_8859_1));
        }
        String file = system.getProperty("rsu.log.config");
        IOException problem = null;
        if (file != null && !file.isBlank()) {
            try (InputStream in = Files.newInputStream(Path.of(file))) {
                in.transferTo(out);
            } catch (NoSuchFileException e) {
                // The agent still logs, with the defaults; the missing file is named once.
                problem = new IOException("rsu.log.config: no file " + file + "; logging to stderr at level "
                        + p.getProperty(".level") + " (reinstall the package or create the file)", e);
            }
        }
        LogManager.getLogManager().readConfiguration(new ByteArrayInputStream(out.toByteArray()));
        if (problem != null) throw problem;
    }

    /** A key or value as properties text: letters, digits, '.' and '_' as they are, anything else as a \\u escape of four hex digits. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_') {
                b.append(c);
            } else {
                String hex = Integer.toHexString(c);
                b.append("\\u").append("0".repeat(4 - hex.length())).append(hex);
            }
        }
        return b.toString();
    }

    static Properties defaults(String rootLevel) {
        Properties p = new Properties();
        p.setProperty("handlers", StderrHandler.class.getName());
        p.setProperty(StderrHandler.class.getName() + ".level", "ALL");
        p.setProperty(".level", julLevel(rootLevel));
        // Paho logs every reconnect attempt; the agent's own supervisor reports what matters.
        p.setProperty("org.eclipse.paho.level", "WARNING");
        return p;
    }

    /** A JUL level name for an SLF4J or JUL one; unknown names are kept (JUL then says what it cannot parse). */
    static String julLevel(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        return switch (n) {
            case "ERROR" -> "SEVERE";
            case "WARN" -> "WARNING";
            case "DEBUG" -> "FINE";
            case "TRACE" -> "FINEST";
            default -> n;
        };
    }
}
