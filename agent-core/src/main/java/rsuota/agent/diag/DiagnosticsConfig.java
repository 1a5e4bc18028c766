package rsuota.agent.diag;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What goes into a diagnostics bundle.
 *
 * @param logDir       the agent's log files (null: none)
 * @param stateDir     the agent's state and journal files (null: none)
 * @param configFile   the agent's configuration, included with secrets redacted (null: none)
 * @param units        systemd units whose journal is excerpted (agent and application)
 * @param journalLines {@code journalctl -n}: lines per unit
 * @param maxBytes     cap on the uncompressed tar stream, so on the archive too
 * @param journalctl   the journalctl program
 * @param toolTimeout  per journalctl run
 */
public record DiagnosticsConfig(Path logDir, Path stateDir, Path configFile, List<String> units, int journalLines,
                                long maxBytes, String journalctl, Duration toolTimeout) {

    public DiagnosticsConfig {
        units = List.copyOf(units);
        if (journalLines < 1) throw new IllegalArgumentException("journalLines must be >= 1");
        if (maxBytes < 64 * 1024) throw new IllegalArgumentException("maxBytes must be >= 64 KiB");
    }

    /**
     * 2000 journal lines per unit; 8 MiB uncompressed at most (text compresses ~10x, so a bundle
     * is well under a megabyte on a metered cellular link); journalctl from PATH, 20 s each.
     */
    public static DiagnosticsConfig of(Path logDir, Path stateDir, Path configFile, List<String> units) {
        return new DiagnosticsConfig(logDir, stateDir, configFile, units, 2000, 8L * 1024 * 1024, "journalctl", Duration.ofSeconds(20));
    }

    public DiagnosticsConfig withMaxBytes(long bytes) {
        return new DiagnosticsConfig(logDir, stateDir, configFile, units, journalLines, bytes, journalctl, toolTimeout);
    }

    public DiagnosticsConfig withJournalctl(String program) {
        return new DiagnosticsConfig(logDir, stateDir, configFile, units, journalLines, maxBytes, program, toolTimeout);
    }
}
