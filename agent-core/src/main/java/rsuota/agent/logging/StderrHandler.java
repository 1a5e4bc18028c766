package rsuota.agent.logging;

import java.util.logging.LogRecord;
import java.util.logging.StreamHandler;

/**
 * The agent's default handler: every record to stderr in {@link LineFormatter}'s lines, flushed at once (as
 * {@code java.util.logging.ConsoleHandler}). Not ConsoleHandler itself: its constructor builds a
 * {@code SimpleFormatter} even when another formatter is configured, and that validates its format with
 * {@code String.format}, whose locale lookup loads the names of ~1,000 locales (~1 MiB) in every command
 * (docs/benchmarks.md, Install peak RSS). Its level is {@code rsuota.agent.logging.StderrHandler.level}.
 */
public final class StderrHandler extends StreamHandler {
    public StderrHandler() {
        super(System.err, new LineFormatter());
    }

    @Override
    public synchronized void publish(LogRecord record) {
        super.publish(record);
        flush();
    }

    /** Flushes; never closes stderr (as ConsoleHandler). */
    @Override
    public synchronized void close() {
        flush();
    }
}
