package rsuota.agent.update;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.net.Misbehaviour;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.hal.boot.Slot;

/**
 * Hostile and broken servers: each case ends in a clear {@code failed} reason or a successful
 * resume, never a hang, an endless loop or a slot holding unverified bytes.
 */
class HostileServerTest {
    static final int CHUNK = 64 * 1024;
    @TempDir Path tmp;
    RangeFileServer server;
    Path bundle;
    EngineFixture fx;

    @BeforeEach
    void setUp() throws Exception {
        Path www = Files.createDirectories(tmp.resolve("www"));
        bundle = new BundleBuilder(www).signedBy(EngineFixture.PKI, EngineFixture.PKI.signer).image("rootfs", 10 * CHUNK + 99)
                .chunkSize(CHUNK).build("b.rsub");
        server = RangeFileServer.start(www);
        fx = new EngineFixture(tmp.resolve("dev"), 4 * 1024 * 1024);
        fx.stall = Duration.ofMillis(400);
    }

    @AfterEach
    void tearDown() throws Exception {
        server.close();
    }

    EngineState install() throws Exception {
        UpdateEngine e = fx.engine();
        e.order(fx.order(server.uri("/b.rsub").toString(), true));
        return e.run();
    }

    /** Misbehaviours that happen once (on the given request number) and are then survived. */
    static Stream<Arguments> survivable() {
        return Stream.of(
                Arguments.of("wrong Content-Range", Misbehaviour.shiftRange(4096)),
                Arguments.of("missing Content-Range", Misbehaviour.omitContentRange()),
                Arguments.of("Content-Length lies (body cut short)", Misbehaviour.truncateBodyAfter(1000)),
                Arguments.of("garbage bytes", Misbehaviour.garbageBody()),
                Arguments.of("500", Misbehaviour.status(500)),
                Arguments.of("503 without Retry-After", Misbehaviour.status(503)),
                Arguments.of("slow drip", Misbehaviour.slowDrip(10, Duration.ofMillis(300))));
    }

    @ParameterizedTest(name = "{0} on a chunk request is retried and the install completes")
    @MethodSource("survivable")
    void survivableMisbehaviourOnAChunk(String name, Misbehaviour m) throws Exception {
        server.enqueue(Misbehaviour.normal(), 2); // header and first chunk fine
        server.enqueue(m);
        EngineState s = install();
        assertThat(s.state()).as(name + ": " + s.lastError()).isEqualTo(UpdateState.VERIFIED);
        assertThat(fx.sleeps).as("one backoff for the one failure").hasSize(1);
        byte[] img = Files.readAllBytes(bundle.resolveSibling("b.rsub.rootfs.img"));
        assertThat(fx.slotBytes(Slot.B, img.length)).isEqualTo(img);
    }

    @Test
    void retryAfterIsHonoured() throws Exception {
        fx.retry = new rsuota.agent.download.RetryPolicy(Duration.ofMillis(1), Duration.ofSeconds(30), 6);
        server.enqueue(Misbehaviour.status(503).retryAfter(7));
        EngineState s = install();
        assertThat(s.state()).isEqualTo(UpdateState.VERIFIED);
        assertThat(fx.sleeps).containsExactly(Duration.ofSeconds(7));
    }

    @Test
    void persistent503EndsFailedAfterTheCap() throws Exception {
        server.enqueue(Misbehaviour.status(503), 50);
        EngineState s = install();
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo("SERVER_BUSY");
        assertThat(s.lastError().message()).contains("giving up after 6 consecutive failures");
        assertThat(fx.sleeps).hasSize(5);
    }

    @Test
    void notFoundFailsAtOnceWithoutRetries() throws Exception {
        UpdateEngine e = fx.engine();
        e.order(fx.order(server.uri("/nope.rsub").toString(), true));
        EngineState s = e.run();
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo("NOT_FOUND");
        assertThat(fx.sleeps).isEmpty();
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void http200InsteadOf206IsRangeNotSupported() throws Exception {
        server.enqueue(Misbehaviour.ignoreRange());
        EngineState s = install();
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo("RANGE_NOT_SUPPORTED");
    }

    @Test
    void redirectLoopFails() throws Exception {
        server.enqueue(Misbehaviour.redirectToSelf(), 20);
        EngineState s = install();
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo("TOO_MANY_REDIRECTS");
    }

    @Test
    void redirectToTheRealPathIsFollowed() throws Exception {
        // a hard link: the same file under another path, so its ETag is the same
        Files.createLink(bundle.resolveSibling("real.rsub"), bundle);
        server.enqueue(Misbehaviour.redirectTo("/real.rsub"));
        EngineState s = install();
        assertThat(s.state()).as("%s", s.lastError()).isEqualTo(UpdateState.VERIFIED);
    }

    @Test
    void bundleChangedUnderTheSameUrlIsDetectedNotMixed() throws Exception {
        Path other = new BundleBuilder(tmp).signedBy(EngineFixture.PKI, EngineFixture.PKI.signer).seed(99)
                .image("rootfs", 10 * CHUNK + 99).chunkSize(CHUNK).build("other.rsub");
        server.enqueue(Misbehaviour.normal(), 3);
        server.enqueue(Misbehaviour.replaceContent(Files.readAllBytes(other)));
        EngineState s = install();
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo("BUNDLE_CHANGED");
        assertThat(s.slot("B").status()).isNotEqualTo("verified");
    }

    @Test
    void persistentGarbageEndsInChunkHashMismatchNamingTheChunk() throws Exception {
        server.enqueue(Misbehaviour.normal());
        server.enqueue(Misbehaviour.garbageBody(), 50);
        EngineState s = install();
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo("CHUNK_HASH_MISMATCH");
        assertThat(s.lastError().message()).contains("image 'rootfs' chunk 0 of 11");
        // nothing unverified was written: slot B is still all zeros
        assertThat(fx.slotBytes(Slot.B, CHUNK)).containsOnly(0);
    }
}
