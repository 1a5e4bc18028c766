package rsuota.agent.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoggingTest {
    @TempDir Path tmp;

    @AfterEach
    void restoreTestLogging() throws IOException {
        LogManager.getLogManager().readConfiguration();
    }

    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
        return p;
    }

    @Test
    void defaultsAreInfoOnStderrWithPahoAtWarning() throws IOException {
        Logging.configure(props(), Map.of());
        assertThat(Logger.getLogger("").getLevel()).isEqualTo(Level.INFO);
        assertThat(Logger.getLogger("org.eclipse.paho").getLevel()).isEqualTo(Level.WARNING);
        assertThat(Logger.getLogger("").getHandlers()).singleElement()
                .satisfies(h -> assertThat(h.getFormatter()).isInstanceOf(LineFormatter.class))
                .satisfies(h -> assertThat(h).isInstanceOf(StderrHandler.class))
                .satisfies(h -> assertThat(h.getLevel()).isEqualTo(Level.ALL));
        assertThat(Logger.getLogger("rsuota.agent.daemon").isLoggable(Level.FINE)).isFalse();
    }

    /** Each record is on stderr as soon as it is published (a unit's journal must not wait for a buffer to fill). */
    @Test
    void theStderrHandlerFlushesEachRecordAtOnce() throws IOException {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        try {
            System.setErr(new java.io.PrintStream(err, false, java.nio.charset.StandardCharsets.UTF_8));
            StderrHandler h = new StderrHandler();
            java.util.logging.LogRecord r = new java.util.logging.LogRecord(Level.WARNING, "slot B refused");
            r.setLoggerName("rsuota.agent.update");
            h.publish(r);
            assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("WARN").contains("slot B refused");
            h.close();
            System.err.print("still open");
            System.err.flush();
            assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8)).as("closing the handler leaves stderr open").endsWith("still open");
        } finally {
            System.setErr(saved);
        }
    }

    @Test
    void theLaunchersLevelTakesSlf4jNamesAndThePropertyBeatsTheEnvironment() throws IOException {
        Logging.configure(props("rsu.log.level", "warn"), Map.of("RSU_LOG_LEVEL", "DEBUG"));
        assertThat(Logger.getLogger("").getLevel()).isEqualTo(Level.WARNING);
        Logging.configure(props(), Map.of("RSU_LOG_LEVEL", "DEBUG"));
        assertThat(Logger.getLogger("").getLevel()).isEqualTo(Level.FINE);
        Logging.configure(props("rsu.log.level", "ERROR"), Map.of());
        assertThat(Logger.getLogger("").getLevel()).isEqualTo(Level.SEVERE);
    }

    @Test
    void theAdministratorsFileWinsOverTheDefaultsAndTheLaunchersLevel() throws IOException {
        Path f = tmp.resolve("logging.properties");
        Files.writeString(f, ".level=FINE\nrsuota.agent.link.level=FINEST\norg.eclipse.paho.level=INFO\n");
        Logging.configure(props("rsu.log.level", "WARN", "rsu.log.config", f.toString()), Map.of());
        assertThat(Logger.getLogger("").getLevel()).isEqualTo(Level.FINE);
        assertThat(Logger.getLogger("rsuota.agent.link").getLevel()).isEqualTo(Level.FINEST);
        assertThat(Logger.getLogger("org.eclipse.paho").getLevel()).isEqualTo(Level.INFO);
    }

    @Test
    void anyLevelTextReachesJulAsOneValueAndAnAdministratorsFileWithoutFinalNewlineStillApplies() throws IOException {
        // The defaults are written as properties text (not Properties.store): odd characters must not split or end the value.
        for (String odd : new String[] {"warn # x=y", "f\u00e9\\n:!", " info"}) {
            Properties back = new Properties();
            back.load(new java.io.StringReader("k=" + Logging.escape(odd)));
            assertThat(back.getProperty("k")).isEqualTo(odd);
        }
        Path f = tmp.resolve("logging.properties");
        Files.writeString(f, "rsuota.agent.link.level=FINER");
        Logging.configure(props("rsu.log.level", "ERROR", "rsu.log.config", f.toString()), Map.of());
        assertThat(Logger.getLogger("rsuota.agent.link").getLevel()).isEqualTo(Level.FINER);
        assertThat(Logger.getLogger("").getLevel()).isEqualTo(Level.SEVERE);
        assertThat(Logger.getLogger("org.eclipse.paho").getLevel()).isEqualTo(Level.WARNING);
    }

    @Test
    void aMissingConfigurationFileIsNamedAndTheDefaultsApply() throws IOException {
        Path missing = tmp.resolve("nope.properties");
        assertThatThrownBy(() -> Logging.configure(props("rsu.log.level", "ERROR", "rsu.log.config", missing.toString()), Map.of()))
                .isInstanceOf(IOException.class).hasMessageContaining(missing.toString()).hasMessageContaining("SEVERE");
        assertThat(Logger.getLogger("").getLevel()).as("the agent still logs, at the launcher's level").isEqualTo(Level.SEVERE);
        assertThat(Logger.getLogger("").getHandlers()).singleElement()
                .satisfies(h -> assertThat(h.getFormatter()).isInstanceOf(LineFormatter.class));
    }

    @Test
    void oneLinePerRecordInSlf4jWordsWithTheJournalPriorityOnlyUnderSystemd() {
        LogRecord r = new LogRecord(Level.WARNING, "slot {0} failed");
        r.setParameters(new Object[] {"B"});
        r.setLoggerName("rsuota.agent.update.UpdateEngine");
        assertThat(new LineFormatter(false).format(r)).isEqualTo("WARN  rsuota.agent.update.UpdateEngine - slot B failed\n");
        assertThat(new LineFormatter(true).format(r)).isEqualTo("<4>WARN  rsuota.agent.update.UpdateEngine - slot B failed\n");
        LogRecord e = new LogRecord(Level.SEVERE, "boom");
        e.setLoggerName("x");
        e.setThrown(new IllegalStateException("why"));
        String out = new LineFormatter(true).format(e);
        assertThat(out).startsWith("<3>ERROR x - boom\n").contains("java.lang.IllegalStateException: why").contains("\tat ");
        assertThat(LineFormatter.priority(Level.INFO.intValue())).isEqualTo(6);
        assertThat(LineFormatter.priority(Level.FINE.intValue())).isEqualTo(7);
    }
}
