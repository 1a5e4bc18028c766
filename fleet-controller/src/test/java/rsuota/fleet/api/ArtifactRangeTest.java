package rsuota.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/** Bundles under /artifacts/ with HTTP Range, as a device resuming a cut download asks for them. */
class ArtifactRangeTest {
    @TempDir
    static Path dir;
    static RunningController rc;
    static byte[] content;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        rc = new RunningController(new TestPki(), dir);
        content = new byte[300_000];
        new Random(7).nextBytes(content);
        Files.write(rc.artifacts().resolve("rsu-2.4.0.rsub"), content);
    }

    @AfterAll
    static void stop() {
        rc.close();
    }

    static HttpResponse<byte[]> get(String path, String range) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(rc.uri().resolve(path));
        if (range != null) b.header("Range", range);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void wholeFileAdvertisesRanges() throws Exception {
        HttpResponse<byte[]> r = get("/artifacts/rsu-2.4.0.rsub", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Accept-Ranges")).hasValue("bytes");
        assertThat(r.body()).isEqualTo(content);
    }

    @Test
    void aRangeGets206WithExactlyThoseBytes() throws Exception {
        HttpResponse<byte[]> r = get("/artifacts/rsu-2.4.0.rsub", "bytes=65536-131071");
        assertThat(r.statusCode()).isEqualTo(206);
        assertThat(r.headers().firstValue("Content-Range")).hasValue("bytes 65536-131071/300000");
        assertThat(r.body()).isEqualTo(Arrays.copyOfRange(content, 65536, 131072));
    }

    @Test
    void anOpenEndedRangeResumesToTheEnd() throws Exception {
        HttpResponse<byte[]> r = get("/artifacts/rsu-2.4.0.rsub", "bytes=299000-");
        assertThat(r.statusCode()).isEqualTo(206);
        assertThat(r.body()).isEqualTo(Arrays.copyOfRange(content, 299000, 300000));
    }

    @Test
    void aSuffixRangeGetsTheLastBytes() throws Exception {
        HttpResponse<byte[]> r = get("/artifacts/rsu-2.4.0.rsub", "bytes=-500");
        assertThat(r.statusCode()).isEqualTo(206);
        assertThat(r.headers().firstValue("Content-Range")).hasValue("bytes 299500-299999/300000");
        assertThat(r.body()).isEqualTo(Arrays.copyOfRange(content, 299500, 300000));
    }

    @Test
    void anUnsatisfiableRangeGets416() throws Exception {
        HttpResponse<byte[]> r = get("/artifacts/rsu-2.4.0.rsub", "bytes=400000-500000");
        assertThat(r.statusCode()).isEqualTo(416);
        assertThat(r.headers().firstValue("Content-Range")).hasValue("bytes */300000");
    }

    @Test
    void missingFilesAndDirectoriesAreNotServed() throws Exception {
        assertThat(get("/artifacts/nothing.rsub", null).statusCode()).isEqualTo(404);
        assertThat(get("/artifacts/", null).statusCode()).isIn(403, 404);
        assertThat(get("/artifacts/../fleet.db", null).statusCode()).isIn(400, 404);
    }
}
