package rsuota.fleet.diag;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.api.ApiJson;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.testing.RecordingTransport;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.MqttCommand;
import rsuota.wire.WireCodec;

/**
 * Ranged diagnostics uploads over HTTP: chunks continue where the received bytes end, HEAD tells
 * how far that is, a re-sent chunk is harmless, a gap is refused with 416, and the archive comes
 * back byte for byte. The request goes out as a collect-diagnostics command with id and expiry.
 */
class DiagnosticsUploadTest {
    @TempDir
    Path dir;
    RunningController rc;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        rc = new RunningController(new TestPki(), dir);
        rc.controller.devices().registerFromState("rsu-7", "rsu-a1", null, null, null, null, rc.clock.instant());
    }

    @AfterEach
    void stop() {
        rc.close();
    }

    HttpResponse<String> put(URI url, String range, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).PUT(HttpRequest.BodyPublishers.ofByteArray(body));
        if (range != null) b.header("Content-Range", range);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aRangedUploadResumesAndTheArchiveComesBackWhole() throws Exception {
        RecordingTransport sent = new RecordingTransport();
        rc.controller.transport(sent);
        DiagnosticsRequest d = rc.controller.diagnostics().request(new Principal("op", Role.OPERATOR), "rsu-7", "field report");
        rc.controller.publisher().publishOnce();
        assertThat(sent.sent).singleElement().satisfies(s -> assertThat(s.topic()).isEqualTo("rsu/v1/dev/rsu-7/cmd"));
        MqttCommand cmd = WireCodec.decode(sent.sent.get(0).payload().getBytes(), MqttCommand.class);
        assertThat(cmd.type()).isEqualTo("collect-diagnostics");
        assertThat(cmd.id()).isEqualTo(d.commandId());
        assertThat(cmd.expiresAt()).isAfter(rc.clock.instant());
        URI url = URI.create(cmd.args().get("uploadUrl"));

        byte[] archive = new byte[300_000];
        new Random(7).nextBytes(archive);
        HttpResponse<String> head = http.send(HttpRequest.newBuilder(url).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("X-Received-Length")).hasValue("0");

        assertThat(put(url, "bytes 0-99999/300000", Arrays.copyOfRange(archive, 0, 100_000)).statusCode()).isEqualTo(200);
        HttpResponse<String> gap = put(url, "bytes 200000-299999/300000", Arrays.copyOfRange(archive, 200_000, 300_000));
        assertThat(gap.statusCode()).isEqualTo(416);
        assertThat(ApiJson.MAPPER.readTree(gap.body()).get("received").asLong()).isEqualTo(100_000);
        // The cut came mid-chunk: the device re-sends from an earlier offset; the overlap is skipped.
        assertThat(put(url, "bytes 50000-199999/300000", Arrays.copyOfRange(archive, 50_000, 200_000)).statusCode()).isEqualTo(200);
        head = http.send(HttpRequest.newBuilder(url).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.headers().firstValue("X-Received-Length")).hasValue("200000");
        assertThat(head.headers().firstValue("X-Total-Length")).hasValue("300000");
        assertThat(put(url, "bytes 0-9/999", new byte[10]).statusCode()).as("another total").isEqualTo(400);
        HttpResponse<String> last = put(url, "bytes 200000-299999/300000", Arrays.copyOfRange(archive, 200_000, 300_000));
        assertThat(ApiJson.MAPPER.readTree(last.body()).get("complete").asBoolean()).isTrue();

        assertThat(rc.controller.diagnostics().get(d.id()).complete()).isTrue();
        HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(rc.uri().resolve("/api/v1/diagnostics/" + d.id() + "/archive"))
                .header("Authorization", "Bearer " + rc.tokens.get(Role.OPERATOR)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(got.body()).isEqualTo(archive);
        assertThat(put(URI.create(url + "x"), null, new byte[1]).statusCode()).as("unknown capability").isEqualTo(404);
    }
}
