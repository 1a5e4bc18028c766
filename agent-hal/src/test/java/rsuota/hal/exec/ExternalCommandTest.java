package rsuota.hal.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExternalCommandTest {

    @Test
    void capturesExitCodeStdoutAndStderrSeparately() throws IOException {
        ExternalCommand.Result r = ExternalCommand.run(
                List.of("sh", "-c", "echo out; echo err >&2; exit 7"), Duration.ofSeconds(10));

        assertThat(r.exitCode()).isEqualTo(7);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        assertThat(r.stderrForMessage()).isEqualTo("err");
    }

    @Test
    void emptyStderrIsSaidSoInMessages() throws IOException {
        assertThat(ExternalCommand.run(List.of("true"), Duration.ofSeconds(10)).stderrForMessage()).isEqualTo("(no output)");
    }

    @Test
    void stdinIsClosedSoAToolWaitingForInputEndsAtOnce() throws IOException {
        // cat copies stdin to stdout; with stdin left open it would wait until the timeout.
        ExternalCommand.Result r = ExternalCommand.run(List.of("cat"), Duration.ofSeconds(10));
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void aToolThatHangsIsKilledAtTheTimeout() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> ExternalCommand.run(List.of("sleep", "60"), Duration.ofMillis(300)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("sleep did not finish within 300 ms and was killed");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void aMissingProgramIsAnIOExceptionNamingIt() {
        assertThatThrownBy(() -> ExternalCommand.run(List.of("/nonexistent/rsu-tool"), Duration.ofSeconds(5)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("/nonexistent/rsu-tool");
    }
}
