package rsuota.agent.diag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.wire.MqttCommand;

/** Resumable upload against a server that cuts the connection in the middle of PUT bodies. */
class DiagnosticsUploadResumesTest {

    static final int CHUNK = 64 * 1024;
    static final DiagnosticsUploader.Options NO_WAIT = new DiagnosticsUploader.Options(CHUNK, 4, Duration.ofSeconds(10), Duration.ZERO);

    @TempDir
    Path tmp;

    private Path randomFile(int size) throws Exception {
        byte[] b = new byte[size];
        new Random(42).nextBytes(b);
        Path f = tmp.resolve("bundle.tar.gz");
        Files.write(f, b);
        return f;
    }

    @Test
    void anUploadCutTwiceMidBodyResumesWhereTheServerIsAndArrivesWhole() throws Exception {
        Path file = randomFile(600_000);
        try (RangedPutServer server = new RangedPutServer()) {
            server.cutAt(100_000, 350_500);
            DiagnosticsUploader.Result r = new DiagnosticsUploader(DiagnosticsUploader.defaultClient(), NO_WAIT)
                    .upload(server.uri("/u/1"), file);
            assertThat(server.cutsDone()).isEqualTo(2);
            assertThat(server.content("/u/1")).isEqualTo(Files.readAllBytes(file));
            assertThat(r.resumes()).isEqualTo(2);
            // Resumed, not restarted: the server received each byte once (it keeps cut bodies).
            assertThat(server.bodyBytesReceived()).isEqualTo(600_000);
        }
    }

    /** The daemon builds its uploader at start; the HTTP client (TLS stack, selector thread) waits for the first upload. */
    @Test
    void theHttpClientIsMadeAtTheFirstUploadAndOnlyOnce() throws Exception {
        Path file = randomFile(100_000);
        java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
        DiagnosticsUploader u = new DiagnosticsUploader(() -> {
            made.incrementAndGet();
            return DiagnosticsUploader.defaultClient();
        }, NO_WAIT);
        assertThat(made).as("no client before an upload").hasValue(0);
        assertThatThrownBy(() -> u.upload(java.net.URI.create("ftp://127.0.0.1/x"), file)).isInstanceOf(AgentException.class);
        assertThat(made).as("a refused URL needs no client").hasValue(0);
        try (RangedPutServer server = new RangedPutServer()) {
            u.upload(server.uri("/u/lazy1"), file);
            u.upload(server.uri("/u/lazy2"), file);
            assertThat(server.content("/u/lazy2")).isEqualTo(Files.readAllBytes(file));
        }
        assertThat(made).as("one client for every upload").hasValue(1);
    }

    @Test
    void resumesAgainstAServerSpeakingTheFleetControllersHeaders() throws Exception {
        Path file = randomFile(300_000);
        try (RangedPutServer server = new RangedPutServer(true)) {
            server.cutAt(150_000);
            new DiagnosticsUploader(DiagnosticsUploader.defaultClient(), NO_WAIT).upload(server.uri("/uploads/diagnostics/cap"), file);
            assertThat(server.content("/uploads/diagnostics/cap")).isEqualTo(Files.readAllBytes(file));
            assertThat(server.bodyBytesReceived()).isEqualTo(300_000);
        }
    }

    @Test
    void anUploadThatGaveUpIsResumedByTheNextAttemptNotRestarted() throws Exception {
        Path file = randomFile(500_000);
        DiagnosticsUploader.Options oneTry = new DiagnosticsUploader.Options(CHUNK, 1, Duration.ofSeconds(10), Duration.ZERO);
        try (RangedPutServer server = new RangedPutServer()) {
            server.cutAt(200_000);
            assertThatThrownBy(() -> new DiagnosticsUploader(DiagnosticsUploader.defaultClient(), oneTry).upload(server.uri("/u/2"), file))
                    .isInstanceOfSatisfying(AgentException.class, e -> {
                        assertThat(e.code()).isEqualTo(AgentError.UPLOAD_FAILED);
                        assertThat(e.code().isTransient()).isTrue();
                    });
            assertThat(server.content("/u/2")).hasSize(200_000);
            DiagnosticsUploader.Result r = new DiagnosticsUploader(DiagnosticsUploader.defaultClient(), oneTry).upload(server.uri("/u/2"), file);
            assertThat(server.content("/u/2")).isEqualTo(Files.readAllBytes(file));
            assertThat(server.bodyBytesReceived()).isEqualTo(500_000);
            assertThat(r.requests()).isLessThanOrEqualTo((int) (300_000 / CHUNK) + 3);
        }
    }

    @Test
    void aServerHoldingAnotherArchiveAtThatUrlIsNotOverwritten() throws Exception {
        Path file = randomFile(200_000);
        try (RangedPutServer server = new RangedPutServer()) {
            server.cutAt(70_000);
            DiagnosticsUploader.Options oneTry = new DiagnosticsUploader.Options(CHUNK, 1, Duration.ofSeconds(10), Duration.ZERO);
            assertThatThrownBy(() -> new DiagnosticsUploader(DiagnosticsUploader.defaultClient(), oneTry).upload(server.uri("/u/3"), file))
                    .isInstanceOf(AgentException.class);
            Files.write(file, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND); // a different archive now
            assertThatThrownBy(() -> new DiagnosticsUploader(DiagnosticsUploader.defaultClient(), NO_WAIT).upload(server.uri("/u/3"), file))
                    .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo(AgentError.UPLOAD_REJECTED));
            assertThat(server.content("/u/3")).hasSize(70_000);
        }
    }

    @Test
    void onlyHttpUrlsAreAccepted() {
        DiagnosticsUploader u = new DiagnosticsUploader(DiagnosticsUploader.defaultClient(), NO_WAIT);
        assertThatThrownBy(() -> u.upload(java.net.URI.create("file:///etc/shadow"), tmp))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo(AgentError.BAD_URL));
    }

    @Test
    void theCollectDiagnosticsCommandCollectsUploadsThroughCutsAndReportsTheResult() throws Exception {
        Path logs = Files.createDirectories(tmp.resolve("logs"));
        Random random = new Random(7);
        StringBuilder sb = new StringBuilder();
        // Incompressible enough that the bundle spans several chunks.
        for (int i = 0; i < 20_000; i++) sb.append(Long.toHexString(random.nextLong())).append(" line ").append(i).append('\n');
        Files.writeString(logs.resolve("agent.log"), sb);
        DiagnosticsConfig config = DiagnosticsConfig.of(logs, null, null, List.of("rsu-agent.service")).withJournalctl("/nonexistent/journalctl");
        try (RangedPutServer server = new RangedPutServer()) {
            server.cutAt(90_000);
            DiagnosticsCommand command = new DiagnosticsCommand(new DiagnosticsCollector(config, Clock.systemUTC()),
                    new DiagnosticsUploader(DiagnosticsUploader.defaultClient(), NO_WAIT), Files.createDirectories(tmp.resolve("work")));
            MqttCommand cmd = new MqttCommand(MqttCommand.SCHEMA, "d-1", DiagnosticsCommand.TYPE, Instant.now().plusSeconds(60),
                    Map.of(DiagnosticsCommand.UPLOAD_URL, server.uri("/diag/d-1").toString()));
            Map<String, String> result = command.handle(cmd);
            byte[] got = server.content("/diag/d-1");
            assertThat(Long.parseLong(result.get("bytes"))).isEqualTo(got.length).isGreaterThan(2L * CHUNK);
            assertThat(result.get("sha256")).isEqualTo(java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(got)));
            assertThat(result).containsEntry("resumes", "1");
            assertThat(tmp.resolve("work")).isEmptyDirectory();

            MqttCommand noUrl = new MqttCommand(MqttCommand.SCHEMA, "d-2", DiagnosticsCommand.TYPE, Instant.now().plusSeconds(60), Map.of());
            assertThatThrownBy(() -> command.handle(noUrl)).isInstanceOfSatisfying(AgentException.class,
                    e -> assertThat(e.wireCode()).isEqualTo("BAD_URL"));
        }
    }
}
