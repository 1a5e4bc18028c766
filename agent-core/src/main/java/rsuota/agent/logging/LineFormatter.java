package rsuota.agent.logging;

import java.util.Locale;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * One line per record: {@code LEVEL logger - message}, the level in SLF4J's words (ERROR, WARN,
 * INFO, DEBUG, TRACE), the stack trace of a throwable on the lines after it. When stderr is the
 * journal (systemd sets {@code JOURNAL_STREAM}), each line starts with its syslog priority
 * ({@code <3>} error ... {@code <7>} debug), so `journalctl -p warning -u rsu-agent` filters. No
 * timestamp: the journal adds its own.
 */
public final class LineFormatter extends Formatter {
    private final boolean journal;

    /** As JUL instantiates it: the journal prefix when {@code JOURNAL_STREAM} is set. */
    public LineFormatter() {
        this(System.getenv("JOURNAL_STREAM") != null);
    }

    LineFormatter(boolean journal) {
        this.journal = journal;
    }

    @Override
    public String format(LogRecord r) {
        int v = r.getLevel().intValue();
        StringBuilder b = new StringBuilder(128);
        if (journal) b.append('<').append(priority(v)).append('>');
        String level = v >= Level.SEVERE.intValue() ? "ERROR" : v >= Level.WARNING.intValue() ? "WARN"
                : v >= Level.INFO.intValue() ? "INFO" : v >= Level.FINE.intValue() ? "DEBUG" : "TRACE";
        b.append(String.format(Locale.US, "%-5s", level)).append(' ').append(r.getLoggerName()).append(" - ").append(formatMessage(r)).append('\n');
        if (r.getThrown() != null) {
            StringWriter w = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(w));
            b.append(w);
        }
        return b.toString();
    }

    /** syslog priority: 3 err, 4 warning, 6 info, 7 debug. */
    static int priority(int level) {
        if (level >= Level.SEVERE.intValue()) return 3;
        if (level >= Level.WARNING.intValue()) return 4;
        if (level >= Level.INFO.intValue()) return 6;
        return 7;
    }
}
