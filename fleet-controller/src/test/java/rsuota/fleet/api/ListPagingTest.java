package rsuota.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.domain.Role;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * The one pagination style of the list endpoints (limit, after, next) with their filters, walked
 * page by page over the REST API (every exchange also held to openapi.yaml by RunningController).
 * Devices d-01..d-12: odd ones rsu-a1, even ones rsu-b2; d-01..d-06 north, d-07..d-12 south.
 */
class ListPagingTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static java.nio.file.Path dir;
    static RunningController rc;
    static String viewer;

    @BeforeAll
    static void start() throws Exception {
        rc = new RunningController(new TestPki(), dir);
        viewer = rc.tokens.get(Role.VIEWER);
        StringBuilder csv = new StringBuilder("id,variant,region,corridor\n");
        for (int i = 1; i <= 12; i++) {
            csv.append(id(i)).append(',').append(i % 2 == 1 ? "rsu-a1" : "rsu-b2").append(',').append(i <= 6 ? "north" : "south").append(",i-5\n");
        }
        HttpResponse<String> r = rc.send("POST", "/api/v1/devices/import", rc.tokens.get(Role.RELEASE_MANAGER), "text/csv", csv.toString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        rc.close();
    }

    static boolean released;

    /** Releases 2.3.0 and 2.4.0, once for the class (the tests run in any order). */
    static synchronized void releases() throws Exception {
        if (!released) rc.releases("2.3.0", "2.4.0", dir.resolve("bundles"));
        released = true;
    }

    static String id(int i) {
        return String.format("d-%02d", i);
    }

    /** Every page of {@code path} (which carries the filters) at {@code limit} per page: the page sizes and all ids. */
    record Walk(List<Integer> pages, List<String> ids) {}

    static Walk walk(String path, String list, int limit, Function<JsonNode, String> key) throws Exception {
        List<Integer> pages = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        String after = null;
        for (int guard = 0; guard < 100; guard++) {
            String sep = path.contains("?") ? "&" : "?";
            HttpResponse<String> r = rc.get(path + sep + "limit=" + limit + (after == null ? "" : "&after=" + URLEncoder.encode(after, StandardCharsets.UTF_8)), viewer);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode n = JSON.readTree(r.body());
            pages.add(n.get(list).size());
            n.get(list).forEach(e -> ids.add(key.apply(e)));
            if (!n.hasNonNull("next")) return new Walk(pages, ids);
            assertThat(n.get(list).size()).as("a page with a next is full").isEqualTo(limit);
            after = n.get("next").asText();
            assertThat(after).as("next is the last item's key").isEqualTo(ids.get(ids.size() - 1));
        }
        throw new AssertionError("more than 100 pages: next never ends");
    }

    @Test
    void devicesWalkInIdOrderAndTheLastPageHasNoNext() throws Exception {
        Walk w = walk("/api/v1/devices", "devices", 5, d -> d.get("id").asText());
        assertThat(w.pages()).containsExactly(5, 5, 2);
        assertThat(w.ids()).containsExactlyElementsOf(IntStream.rangeClosed(1, 12).mapToObj(ListPagingTest::id).toList());
        // An exact multiple of the limit: the last full page says nothing follows.
        assertThat(walk("/api/v1/devices", "devices", 6, d -> d.get("id").asText()).pages()).containsExactly(6, 6);
    }

    @Test
    void deviceFiltersCombineWithEachOtherAndWithTheCursor() throws Exception {
        Walk w = walk("/api/v1/devices?variant=rsu-b2&region=south", "devices", 2, d -> d.get("id").asText());
        assertThat(w.ids()).containsExactly("d-08", "d-10", "d-12");
        assertThat(w.pages()).containsExactly(2, 1);
        assertThat(walk("/api/v1/devices?region=nowhere", "devices", 5, d -> d.get("id").asText()).ids()).isEmpty();
    }

    @Test
    void aCohortFilterListsItsMembersAndAnUnknownCohortIsRefusedNotEmpty() throws Exception {
        releases();
        HttpResponse<String> created = rc.postJson("/api/v1/cohorts", rc.tokens.get(Role.RELEASE_MANAGER),
                "{\"release\":\"2.4.0\",\"name\":\"paging\",\"kind\":\"canary\",\"members\":[\"d-11\",\"d-03\",\"d-07\"]}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        long cohort = JSON.readTree(created.body()).get("cohort").get("id").asLong();
        assertThat(walk("/api/v1/devices?cohort=" + cohort, "devices", 2, d -> d.get("id").asText()).ids()).containsExactly("d-03", "d-07", "d-11");

        HttpResponse<String> unknown = rc.get("/api/v1/devices?cohort=99999", viewer);
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(unknown.body()).get("field").asText()).isEqualTo("cohort");
    }

    @Test
    void aStateFilterPagesOverTheDevicesThatReportIt() throws Exception {
        for (int i : new int[] {2, 4, 9}) {
            String variant = i % 2 == 1 ? "rsu-a1" : "rsu-b2";
            assertThat(rc.controller.ingest().accept(List.of(DeviceMessages.state(id(i), variant, "i-5", "activated", "2.4.0", 1, DeviceMessages.GOOD))))
                    .isEqualTo(1);
        }
        Walk w = walk("/api/v1/devices?state=activated", "devices", 2, d -> d.get("id").asText());
        assertThat(w.ids()).containsExactly("d-02", "d-04", "d-09");
        assertThat(w.pages()).containsExactly(2, 1);
        assertThat(walk("/api/v1/devices?state=activated&variant=rsu-a1", "devices", 2, d -> d.get("id").asText()).ids()).containsExactly("d-09");
    }

    @Test
    void badPagingAndFilterValuesAreRefusedNamingTheParameter() throws Exception {
        record Bad(String path, String field) {}
        for (Bad b : List.of(new Bad("/api/v1/devices?limit=1001", "limit"), new Bad("/api/v1/devices?limit=0", "limit"),
                new Bad("/api/v1/devices?variant=%20x", "variant"), new Bad("/api/v1/audit?after=minus", "after"),
                new Bad("/api/v1/audit?from=yesterday", "from"),
                new Bad("/api/v1/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
                new Bad("/api/v1/incidents?after=INC-NOPE", "after"))) {
            HttpResponse<String> r = rc.get(b.path(), viewer);
            assertThat(r.statusCode()).as(b.path() + ": " + r.body()).isEqualTo(400);
            JsonNode n = JSON.readTree(r.body());
            assertThat(n.get("error").asText()).isEqualTo("INVALID_REQUEST");
            assertThat(n.get("field").asText()).as(b.path()).isEqualTo(b.field());
        }
    }

    @Test
    void auditFiltersByActorAndTimeAndPagesBySequence() throws Exception {
        String operator = rc.tokens.get(Role.OPERATOR);
        java.time.Instant before = rc.clock.instant();
        rc.clock.advance(Duration.ofMinutes(5));
        java.time.Instant mid = rc.clock.instant();
        for (int i = 1; i <= 3; i++) {
            HttpResponse<String> r = rc.postJson("/api/v1/incidents", operator,
                    "{\"id\":\"PG-" + i + "\",\"severity\":\"sev3\",\"state\":\"triggered\",\"release\":\"2.4.0\"}");
            assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
        }
        rc.clock.advance(Duration.ofMinutes(5));

        Walk byActor = walk("/api/v1/audit?actor=test-operator", "entries", 2, e -> e.get("seq").asText());
        assertThat(byActor.ids()).hasSize(3);
        assertThat(byActor.pages()).containsExactly(2, 1);
        HttpResponse<String> all = rc.get("/api/v1/audit?actor=test-operator&limit=10", viewer);
        JSON.readTree(all.body()).get("entries").forEach(e -> assertThat(e.get("actor").asText()).isEqualTo("test-operator"));

        Walk window = walk("/api/v1/audit?from=" + mid + "&to=" + rc.clock.instant(), "entries", 10, e -> e.get("seq").asText());
        assertThat(window.ids()).isEqualTo(byActor.ids());
        assertThat(walk("/api/v1/audit?to=" + before.plusMillis(1), "entries", 1000, e -> e.get("seq").asText()).ids())
                .doesNotContainAnyElementsOf(byActor.ids());

        releases();
        Walk releases = walk("/api/v1/releases", "releases", 1, r -> r.get("version").asText());
        assertThat(releases.ids()).containsExactly("2.3.0", "2.4.0");
        assertThat(releases.pages()).containsExactly(1, 1);
        for (String name : new String[] {"p-1", "p-2", "p-3"}) {
            HttpResponse<String> made = rc.postJson("/api/v1/cohorts", rc.tokens.get(Role.RELEASE_MANAGER),
                    "{\"release\":\"2.4.0\",\"name\":\"" + name + "\",\"kind\":\"wave\",\"members\":[]}");
            assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
        }
        Walk cohorts = walk("/api/v1/cohorts?release=2.4.0", "cohorts", 2, k -> k.get("id").asText());
        assertThat(cohorts.ids()).hasSizeGreaterThanOrEqualTo(3).doesNotHaveDuplicates();

        Walk incidents = walk("/api/v1/incidents?release=2.4.0", "incidents", 2, i -> i.get("id").asText());
        assertThat(incidents.ids()).contains("PG-1", "PG-2", "PG-3").doesNotHaveDuplicates();
    }
}
