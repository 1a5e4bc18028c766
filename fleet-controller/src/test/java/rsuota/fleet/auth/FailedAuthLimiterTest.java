package rsuota.fleet.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.domain.Role;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;
import rsuota.fixtures.time.SettableClock;

/** Token spraying from one address is refused after ten failures a minute, good token or not; the log never holds a secret. */
class FailedAuthLimiterTest {
    @TempDir
    Path dir;

    @Test
    void tenFailuresAMinuteBlockTheAddressUntilTheOldestLeavesTheWindow() {
        SettableClock clock = new SettableClock(Instant.parse("2026-12-04T10:00:00Z"));
        FailedAuthLimiter l = new FailedAuthLimiter(clock);
        for (int i = 0; i < 9; i++) {
            l.failed("192.0.2.7");
            clock.advance(Duration.ofSeconds(1));
        }
        assertThat(l.blockedFor("192.0.2.7")).isZero();
        l.failed("192.0.2.7");
        assertThat(l.blockedFor("192.0.2.7")).isEqualTo(Duration.ofSeconds(51));
        assertThat(l.blockedFor("192.0.2.8")).as("another address is not affected").isZero();
        clock.advance(Duration.ofSeconds(51));
        assertThat(l.blockedFor("192.0.2.7")).as("the first failure left the window").isZero();
    }

    @Test
    void overTheApiTheEleventhCallIsRefusedWith429AndRetryAfterEvenWithAGoodToken() throws Exception {
        try (RunningController rc = new RunningController(new TestPki(), dir)) {
            String good = rc.tokens.get(Role.VIEWER);
            for (int i = 0; i < FailedAuthLimiter.MAX_FAILURES; i++) {
                HttpResponse<String> r = rc.get("/api/v1/releases", "rsuota_guess" + i);
                assertThat(r.statusCode()).isEqualTo(401);
                assertThat(r.body()).doesNotContain("rsuota_guess");
            }
            HttpResponse<String> blocked = rc.get("/api/v1/releases", good);
            assertThat(blocked.statusCode()).isEqualTo(429);
            assertThat(blocked.headers().firstValue("Retry-After")).hasValue("60");
            JsonNode body = new ObjectMapper().readTree(blocked.body());
            assertThat(body.get("error").asText()).isEqualTo("TOO_MANY_FAILED_AUTHENTICATIONS");
            assertThat(body.get("message").asText()).contains("127.0.0.1").doesNotContain(good);

            rc.clock.advance(FailedAuthLimiter.WINDOW);
            assertThat(rc.get("/api/v1/releases", good).statusCode()).isEqualTo(200);
        }
    }
}
