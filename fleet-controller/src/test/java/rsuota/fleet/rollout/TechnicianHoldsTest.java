package rsuota.fleet.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.Controller;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.link.TelemetryIngest;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RecordingTransport;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * The controller's side of the technician policy (docs/operations.md, "A technician on the unit"):
 * a unit's local_action events land in its history (REST) and the audit log with the technician as
 * the actor; a lock shows the unit locked_by_technician (who, since, why) and a local install
 * locally_managed, in every rollout that targets it, even one created later; such a unit is not
 * dispatched and counts neither silent nor failed; an unlock hands it back.
 */
class TechnicianHoldsTest {
    static final Principal RM = new Principal("rm", Role.RELEASE_MANAGER);
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;
    RunningController rc;
    Controller c;
    final AtomicInteger seq = new AtomicInteger();

    @BeforeEach
    void fleet() throws Exception {
        rc = new RunningController(new TestPki(), dir);
        c = rc.controller;
        c.transport(new RecordingTransport());
        rc.releases("2.3.0", "2.4.0", dir.resolve("w"));
        for (String d : List.of("p1", "p2", "p3")) {
            assertThat(c.ingest().accept(List.of(DeviceMessages.state(d, "rsu-a1", "i-5", null, null, 0, DeviceMessages.GOOD)))).isEqualTo(1);
        }
    }

    @AfterEach
    void stop() {
        rc.close();
    }

    int local(String device, String action, String actor, String reason, Map<String, String> more) {
        Map<String, String> detail = new java.util.HashMap<>(more);
        detail.put("action", action);
        detail.put("actor", actor);
        if (reason != null) detail.put("reason", reason);
        return c.ingest().accept(List.of(DeviceMessages.event(device, seq.incrementAndGet(), "local_action", "idle", null, null, detail)));
    }

    JsonNode get(String path) throws Exception {
        HttpResponse<String> r = rc.get(path, rc.tokens.get(Role.VIEWER));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    DeviceProgress.Local hold(String device) throws Exception {
        return c.database().read(tx -> new RolloutRepository(tx).hold(device));
    }

    RolloutStatus.DeviceView view(long rollout, String device) throws Exception {
        return c.rollouts().status(rollout).phases().get(0).devices().stream().filter(d -> d.device().equals(device)).findFirst().orElseThrow();
    }

    @Test
    void aLockAndALocalInstallHoldTheUnitOutOfEveryRolloutUntilTheUnlock() throws Exception {
        Instant lockedAt = Instant.parse("2026-11-27T11:20:03Z");
        // the lock comes before the rollout exists: the hold is the unit's, every rollout sees it
        assertThat(c.ingest().accept(List.of(DeviceMessages.event("p1", seq.incrementAndGet(), "local_action", "idle", null, null,
                Map.of("action", "lock", "actor", "technician:jdoe", "reason", "radio swap"))))).isEqualTo(1);
        long cohort = c.cohorts().create(RM, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, List.of("p1", "p2", "p3"), null))
                .cohort().id();
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(new Rollouts.NewPhase(cohort, null, null, Duration.ofHours(1),
                Approval.AUTO, null)), new RolloutSettings(null, Duration.ofMinutes(20), Duration.ofMinutes(30), null, null), null, null, "test")).id();
        Instant start = rc.clock.instant();
        c.rollouts().start(RM, id, "go");
        assertThat(c.engine().tick(start).dispatched()).as("p2 and p3 only").isEqualTo(2);
        java.util.Optional<?> ordered = c.database().read(tx -> tx.desired().find("p1"));
        assertThat(ordered).as("nothing ordered to a locked unit").isEmpty();

        RolloutStatus.DeviceView p1 = view(id, "p1");
        assertThat(p1.bucket()).isEqualTo("locked_by_technician");
        assertThat(p1.localBy()).isEqualTo("technician:jdoe");
        assertThat(p1.localReason()).isEqualTo("radio swap");
        assertThat(p1.localSince()).isEqualTo(DeviceMessages.DEVICE_TIME);

        // a technician installs another release from a stick on p2 while the rollout targets it
        assertThat(local("p2", "install", "technician:amy", null, Map.of("source", "/media/usb/2.5.0-rc1.rsub", "downloadOnly", "true"))).isEqualTo(1);
        assertThat(view(id, "p2").bucket()).isEqualTo("locally_managed");
        assertThat(view(id, "p2").localReason()).isEqualTo("installed /media/usb/2.5.0-rc1.rsub on the unit");
        // a later lock does not hide that the unit runs the technician's release
        local("p2", "lock", "technician:amy", "testing 2.5.0-rc1", Map.of());
        assertThat(view(id, "p2").bucket()).isEqualTo("locally_managed");

        // long after the silence timeout: held units are neither silent nor failed, and the phase judges p3 alone
        rc.clock.set(start.plus(Duration.ofHours(2)));
        c.ingest().accept(List.of(DeviceMessages.event("p3", seq.incrementAndGet(), "transition", "committing", "2.4.0", null, Map.of()),
                DeviceMessages.event("p3", seq.incrementAndGet(), "transition", "activated", "2.4.0", null, Map.of())));
        c.engine().tick(rc.clock.instant());
        RolloutStatus st = c.rollouts().status(id);
        assertThat(st.phases().get(0).buckets()).containsEntry("locked_by_technician", 1).containsEntry("locally_managed", 1)
                .containsEntry("silent", 0).containsEntry("failed", 0).containsEntry("succeeded", 1);
        assertThat(st.phases().get(0).unmet()).as("the held units stand in no criterion")
                .noneSatisfy(u -> assertThat(u).containsAnyOf("silent", "failed", "in progress", "not dispatched", "success"));

        // the REST views: the unit's hold, its history, the audit log
        JsonNode dev = get("/api/v1/devices/p1");
        assertThat(dev.at("/technician/state").asText()).isEqualTo("locked_by_technician");
        assertThat(dev.at("/technician/by").asText()).isEqualTo("technician:jdoe");
        JsonNode history = get("/api/v1/devices/p2/events?limit=1");
        assertThat(history.at("/events/0/type").asText()).isEqualTo("local_action");
        assertThat(history.at("/events/0/detail/actor").asText()).isEqualTo("technician:amy");
        assertThat(history.at("/events/0/detail/source").asText()).isEqualTo("/media/usb/2.5.0-rc1.rsub");
        assertThat(get("/api/v1/devices/p2/events?after=" + history.path("next").asLong()).at("/events/0/detail/action").asText()).isEqualTo("lock");
        JsonNode audit = get("/api/v1/audit?actor=technician:jdoe");
        assertThat(audit.at("/entries/0/action").asText()).isEqualTo("device.local_action.lock");
        assertThat(audit.at("/entries/0/target").asText()).isEqualTo("device:p1");

        // unlock: the unit is the fleet's again
        local("p1", "unlock", "technician:jdoe", "done", Map.of());
        assertThat(get("/api/v1/devices/p1").has("technician")).isFalse();
        assertThat(hold("p1")).isNull();
    }

    /** A local_action as raw bytes: the codec would not write these. */
    static TelemetryIngest.Message raw(String device, long seq, String detailJson) {
        String json = "{\"schema\":\"rsu.event/1\",\"deviceId\":\"" + device + "\",\"seq\":" + seq + ",\"at\":\"2026-01-01T00:00:00Z\","
                + "\"type\":\"local_action\",\"state\":\"idle\",\"release\":null,\"reason\":null,\"detail\":" + detailJson + "}";
        return new TelemetryIngest.Message(rsuota.wire.Topics.events(device), json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void aLocalActionWithoutATechnicianActorOrWithAnUnknownActionIsRefusedAndChangesNothing() throws Exception {
        assertThat(c.ingest().accept(List.of(raw("p1", 1, "{\"action\":\"lock\",\"actor\":\"controller\",\"reason\":\"spoofed\"}")))).isZero();
        assertThat(c.ingest().accept(List.of(raw("p1", 2, "{\"action\":\"format-disk\",\"actor\":\"technician:jdoe\"}")))).isZero();
        assertThat(c.ingest().refusals()).containsEntry(TelemetryIngest.Refusal.MALFORMED, 2L);
        assertThat(hold("p1")).isNull();
        assertThat(get("/api/v1/devices/p1/events").path("events")).isEmpty();
    }
}
