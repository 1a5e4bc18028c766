package rsuota.agent.update;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.hal.boot.Slot;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.WireCodec;

/**
 * A rollout's bandwidth cap, from the desired state's JSON to the requests on the wire: the order
 * keeps it across a restart, and the engine's download asks the server for pieces no larger than
 * the capped source's piece (one per 100 ms of the cap) instead of whole chunks.
 */
class RolloutBandwidthCapTest {
    static final int CHUNK = 256 * 1024;
    @TempDir Path tmp;
    RangeFileServer server;
    Path bundle;
    EngineFixture fx;

    @BeforeEach
    void setUp() throws Exception {
        Path www = Files.createDirectories(tmp.resolve("www"));
        bundle = new BundleBuilder(www).signedBy(EngineFixture.PKI, EngineFixture.PKI.signer).image("rootfs", 4 * CHUNK + 999)
                .chunkSize(CHUNK).build("r2.rsub");
        server = RangeFileServer.start(www);
        fx = new EngineFixture(tmp.resolve("dev"), 8 * 1024 * 1024);
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    EngineState.Order orderFromWire(Long cap) throws Exception {
        String json = "{\"schema\":\"rsu.desired/1\",\"rev\":7,\"release\":\"2.4.0\",\"bundleUrl\":\"" + server.uri("/r2.rsub")
                + "\",\"manifestDigest\":\"" + "a".repeat(64) + "\",\"action\":\"DOWNLOAD\",\"activateAfter\":null,\"window\":null,"
                + "\"rolloutId\":\"ro-1\",\"issuedAt\":\"2026-11-27T10:00:00Z\"" + (cap == null ? "" : ",\"bandwidthCap\":" + cap) + "}";
        MqttDesiredState d = WireCodec.decode(json.getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
        // as AgentDaemon.onDesired maps it (the digest is the controller's; a technician-style null lets any signed bundle through here)
        return new EngineState.Order(d.bundleUrl(), null, null, d.rev(), true, d.rolloutId(), d.window(), d.activateAfter(), d.bandwidthCap());
    }

    static long largestRange(List<String> ranges) {
        long max = 0;
        for (String r : ranges) {
            String[] ab = r.substring("bytes=".length()).split("-");
            max = Math.max(max, Long.parseLong(ab[1]) - Long.parseLong(ab[0]) + 1);
        }
        return max;
    }

    @Test
    void theRolloutsCapIsKeptWithTheOrderAndShapesTheRequests() throws Exception {
        UpdateEngine e = fx.engine();
        e.order(orderFromWire(256L * 1024));
        assertThat(fx.engine().state().order().bandwidthCap()).as("persisted: a restart keeps the cap").isEqualTo(256L * 1024);
        e.run();
        assertThat(e.state().state()).isEqualTo(UpdateState.VERIFIED);
        byte[] img = Files.readAllBytes(bundle.resolveSibling("r2.rsub.rootfs.img"));
        assertThat(fx.slotBytes(Slot.B, img.length)).isEqualTo(img);
        assertThat(largestRange(server.rangeHeaders())).isLessThanOrEqualTo(64 * 1024);
    }

    @Test
    void withoutACapTheDownloadAsksForWholeChunks() throws Exception {
        UpdateEngine e = fx.engine();
        e.order(orderFromWire(null));
        e.run();
        assertThat(e.state().state()).isEqualTo(UpdateState.VERIFIED);
        assertThat(largestRange(server.rangeHeaders())).isGreaterThanOrEqualTo(CHUNK);
    }
}
