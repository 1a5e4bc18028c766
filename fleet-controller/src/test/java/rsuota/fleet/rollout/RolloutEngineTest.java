package rsuota.fleet.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.Controller;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.incident.Incidents;
import rsuota.fleet.policy.PauseEvent;
import rsuota.fleet.policy.PauseRule;
import rsuota.fleet.policy.RuleSet;
import rsuota.fleet.store.Table;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RecordingTransport;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.Action;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.MqttState;
import rsuota.wire.WireCodec;

/**
 * The rollout engine against a real store, with time driven by explicit instants: gates, manual
 * approval, pauses (rules, Sev1, operator) and what they hold, resume with acknowledgement,
 * corridor cap, silence, rollback with deadline alerts, and a controller restart mid-phase.
 */
class RolloutEngineTest {
    static final Principal RM = new Principal("rm", Role.RELEASE_MANAGER);
    static final Principal OP = new Principal("op", Role.OPERATOR);
    static final MqttState.Kpis BAD = new MqttState.Kpis(0.90, 300, 2000, 0.0001);

    @TempDir
    Path dir;
    TestPki pki;
    RunningController rc;
    Controller c;
    RecordingTransport sent;
    HttpServer webhook;
    final List<String> alerts = new CopyOnWriteArrayList<>();
    final AtomicInteger seq = new AtomicInteger();

    @BeforeEach
    void fleet() throws Exception {
        pki = new TestPki();
        webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        webhook.createContext("/alerts", x -> {
            alerts.add(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        webhook.start();
        URI hook = URI.create("http://127.0.0.1:" + webhook.getAddress().getPort() + "/alerts");
        rc = new RunningController(pki, dir, cfg -> new Controller.Config(cfg.dir(), cfg.keyring(), cfg.host(), cfg.port(), cfg.broker(),
                cfg.publicUrl(), cfg.tick(), cfg.links().withRollout("dashboard", "https://grafana.example/d/rsu?cohort={cohort}&from={from}&to={to}"),
                hook, cfg.sharedGroup()));
        c = rc.controller;
        sent = new RecordingTransport();
        c.transport(sent);
        rc.releases("2.3.0", "2.4.0", dir.resolve("w"));
    }

    @AfterEach
    void stop() {
        if (c != rc.controller) c.close();
        rc.close();
        webhook.stop(0);
    }

    Instant now() {
        return rc.clock.instant();
    }

    void at(Duration sinceStart, Instant start) {
        rc.clock.set(start.plus(sinceStart));
    }

    long cohort(String name, CohortKind kind, String corridor, String... devices) throws Exception {
        for (String d : devices) report(d, corridor, null, null, 0, DeviceMessages.GOOD);
        return c.cohorts().create(RM, new Cohorts.NewCohort("2.4.0", name, kind, null, null, List.of(devices), null)).cohort().id();
    }

    void report(String device, String corridor, String state, String release, long rev, MqttState.Kpis kpis) {
        assertThat(c.ingest().accept(List.of(DeviceMessages.state(device, "rsu-a1", corridor, state, release, rev, kpis)))).isEqualTo(1);
    }

    /** The device did what its desired state says: activated after its health commit, KPIs as given. */
    void activated(String device, String corridor, MqttState.Kpis kpis) throws Exception {
        long rev = desired(device).rev();
        c.ingest().accept(List.of(DeviceMessages.event(device, seq.incrementAndGet(), "transition", "committing", "2.4.0", null, Map.of()),
                DeviceMessages.event(device, seq.incrementAndGet(), "transition", "activated", "2.4.0", null, Map.of())));
        report(device, corridor, "activated", "2.4.0", rev, kpis);
    }

    MqttDesiredState desired(String device) throws Exception {
        String json = c.database().read(tx -> tx.desired().find(device)).orElseThrow().payload();
        return WireCodec.decode(json.getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
    }

    java.util.Optional<rsuota.fleet.store.DesiredStateRepository.Desired> desiredRow(String device) throws FleetException {
        return c.database().read(tx -> tx.desired().find(device));
    }

    List<rsuota.fleet.domain.AuditEntry> auditAll() throws FleetException {
        return c.database().read(tx -> tx.audit().page(0, 1000));
    }

    long rowsOf(Table t) throws FleetException {
        return c.database().read(tx -> tx.count(t));
    }

    RolloutStatus status(long id) throws FleetException {
        return c.rollouts().status(id);
    }

    RolloutEngine.TickReport tick() throws FleetException {
        return c.engine().tick(now());
    }

    static Rollouts.NewPhase phase(long cohort, Duration observe, Approval approval) {
        return new Rollouts.NewPhase(cohort, null, null, observe, approval, null);
    }

    @Test
    void aPhaseAdvancesOnlyWhenItsWindowPassedWithEveryCriterionMetAndManualApprovalWaits() throws Exception {
        long canary = cohort("canary", CohortKind.CANARY, "i-5", "c1");
        long pilot = cohort("pilot", CohortKind.PILOT, "i-5", "p1", "p2", "p3");
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(canary, Duration.ofHours(48), Approval.MANUAL),
                phase(pilot, Duration.ofDays(7), Approval.AUTO)), null, null, null, "test")).id();
        Instant start = now();
        c.rollouts().start(RM, id, "go");
        assertThat(tick().dispatched()).isEqualTo(1);
        MqttDesiredState d = desired("c1");
        assertThat(d.action()).isEqualTo(Action.ACTIVATE);
        assertThat(d.rolloutId()).isEqualTo(Long.toString(id));
        assertThat(d.bundleUrl()).startsWith("http://127.0.0.1:").contains("/artifacts/");
        assertThat(desiredRow("p1")).isEmpty();

        // A verified download is not a success: only "activated" after the health commit is.
        c.ingest().accept(List.of(DeviceMessages.event("c1", seq.incrementAndGet(), "transition", "verified", "2.4.0", null, Map.of())));
        report("c1", "i-5", "verified", "2.4.0", d.rev(), DeviceMessages.GOOD);
        tick();
        assertThat(status(id).phases().get(0).buckets()).containsEntry("in_progress", 1).containsEntry("succeeded", 0);

        activated("c1", "i-5", DeviceMessages.GOOD);
        at(Duration.ofHours(48).minusMinutes(1), start);
        report("c1", "i-5", "activated", "2.4.0", d.rev(), DeviceMessages.GOOD);
        tick();
        RolloutStatus st = status(id);
        assertThat(st.phases().get(0).state()).isEqualTo("active");
        assertThat(st.phases().get(0).unmet()).singleElement().asString().contains("observation window");

        at(Duration.ofHours(48), start);
        report("c1", "i-5", "activated", "2.4.0", d.rev(), DeviceMessages.GOOD);
        tick();
        assertThat(status(id).phases().get(0).state()).isEqualTo("awaiting_approval");
        assertThat(status(id).attention()).anySatisfy(a -> assertThat(a).contains("waits for a release manager"));
        at(Duration.ofHours(200), start);
        report("c1", "i-5", "activated", "2.4.0", d.rev(), DeviceMessages.GOOD);
        tick();
        assertThat(status(id).phases().get(0).state()).as("manual approval waits, however long").isEqualTo("awaiting_approval");
        assertThat(desiredRow("p1")).isEmpty();

        Instant approved = now();
        RolloutStatus after = c.rollouts().advance(RM, id, "canary looks good");
        assertThat(after.phases().get(0).state()).isEqualTo("passed");
        assertThat(after.phases().get(0).approvedBy()).isEqualTo("rm");
        assertThat(after.phases().get(1).state()).isEqualTo("active");
        assertThat(tick().dispatched()).isEqualTo(3);
        for (String p : List.of("p1", "p2", "p3")) activated(p, "i-5", DeviceMessages.GOOD);
        at(Duration.ofDays(7).minusSeconds(1), approved);
        for (String p : List.of("c1", "p1", "p2", "p3")) report(p, "i-5", "activated", "2.4.0", desired(p).rev(), DeviceMessages.GOOD);
        tick();
        assertThat(status(id).state()).isEqualTo("running");
        at(Duration.ofDays(7), approved);
        for (String p : List.of("c1", "p1", "p2", "p3")) report(p, "i-5", "activated", "2.4.0", desired(p).rev(), DeviceMessages.GOOD);
        assertThat(tick().phasesPassed()).as("an auto phase passes by itself").isEqualTo(1);
        assertThat(status(id).state()).isEqualTo("completed");

        FleetException e = catchThrowableOfType(FleetException.class, () -> c.rollouts().advance(RM, id, null));
        assertThat(e.code()).isEqualTo(ErrorCode.ILLEGAL_TRANSITION);
    }

    @Test
    void aGateIsHeldByAnInconclusiveRuleAndBySilentDevicesBeyondTheirLimit() throws Exception {
        long pilot = cohort("pilot", CohortKind.PILOT, "i-5", "p1", "p2");
        RuleSet rules = new RuleSet(1, Duration.ofMinutes(5), List.of(new PauseRule.AvailabilityBelow(0.995, Duration.ofMinutes(10), 2)));
        RolloutSettings settings = new RolloutSettings(null, Duration.ofMinutes(20), Duration.ofMinutes(30), null, null);
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(pilot, Duration.ofHours(1), Approval.AUTO)),
                settings, rules, null, null)).id();
        Instant start = now();
        c.rollouts().start(RM, id, null);
        tick();
        activated("p1", "i-5", DeviceMessages.GOOD);
        // p2 never says anything after dispatch.
        at(Duration.ofHours(1), start);
        report("p1", "i-5", "activated", "2.4.0", desired("p1").rev(), DeviceMessages.GOOD);
        tick();
        RolloutStatus st = status(id);
        assertThat(st.state()).isEqualTo("running");
        assertThat(st.phases().get(0).buckets()).containsEntry("silent", 1).containsEntry("succeeded", 1);
        assertThat(st.phases().get(0).devices()).filteredOn(dv -> dv.device().equals("p2")).singleElement()
                .satisfies(dv -> assertThat(dv.bucket()).isEqualTo("silent"));
        assertThat(st.phases().get(0).unmet()).anySatisfy(u -> assertThat(u).contains("1 device(s) silent"))
                .anySatisfy(u -> assertThat(u).contains("inconclusive (1 of 2"));
        assertThat(st.attention()).anySatisfy(a -> assertThat(a).contains("inconclusive").contains("a human must judge"));
        assertThat(st.phases().get(0).state()).isEqualTo("active");
        // The hold is part of the record, once: more ticks (and a restart, which reads the stored attention) add nothing.
        at(Duration.ofHours(2), start);
        report("p1", "i-5", "activated", "2.4.0", desired("p1").rev(), DeviceMessages.GOOD);
        tick();
        tick();
        assertThat(auditAll()).filteredOn(a -> a.action().equals("rollout.hold.inconclusive")).singleElement()
                .satisfies(a -> assertThat(a.actor()).isEqualTo("system:rollout-engine"));
        assertThat(status(id).alerts()).extracting(Alert::kind).containsExactly(Alert.INCONCLUSIVE_HOLD);
        assertThat(status(id).hold().kind()).isEqualTo("inconclusive");
        assertThat(status(id).hold().resolve()).anySatisfy(r -> assertThat(r).startsWith("fleetctl rollout advance " + id + " --reason"))
                .anySatisfy(r -> assertThat(r).startsWith("fleetctl rollout extend " + id + " --by"))
                .anySatisfy(r -> assertThat(r).startsWith("fleetctl rollout rollback " + id));

        // A release manager judges it: advance needs a reason, and the audit entry carries what was judged.
        assertThat(catchThrowableOfType(FleetException.class, () -> c.rollouts().advance(RM, id, null)).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        c.rollouts().advance(RM, id, "p2's cabinet lost power in the storm; p1 healthy for 2 h");
        assertThat(status(id).state()).isEqualTo("completed");
        assertThat(auditAll()).filteredOn(a -> a.action().equals("rollout.advance")).singleElement().satisfies(a -> {
            assertThat(a.reason()).contains("storm");
            assertThat(a.detail()).contains("\"judged\"").contains("availability-below").contains("inconclusive").contains("\"sample\":1")
                    .contains("\"required\":2").contains("\"silent\":1");
        });
    }

    @Test
    void aCorridorSliceWorseThanItsThresholdPausesWhileTheCohortMeanHoldsAndTheEventNamesIt() throws Exception {
        for (String d : List.of("p1", "p2", "p3", "p4", "p5", "p6")) report(d, "i-5", null, null, 0, DeviceMessages.GOOD);
        for (String d : List.of("q1", "q2")) report(d, "i-90", null, null, 0, DeviceMessages.GOOD);
        long pilot = c.cohorts().create(RM, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null,
                List.of("p1", "p2", "p3", "p4", "p5", "p6", "q1", "q2"), null)).cohort().id();
        RuleSet rules = new RuleSet(1, Duration.ofMinutes(5), List.of(new PauseRule.AvailabilityBelow(0.99, Duration.ofMinutes(1), 2,
                List.of("corridor"), null)));
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(pilot, Duration.ofDays(7), Approval.AUTO)),
                null, rules, null, null)).id();
        c.rollouts().start(RM, id, null);
        tick();
        MqttState.Kpis dip = new MqttState.Kpis(0.97, 300, 2000, 0.0001);
        Instant start = now();
        for (int s = 0; s <= 60; s += 30) {
            at(Duration.ofSeconds(s), start);
            for (String d : List.of("p1", "p2", "p3", "p4", "p5", "p6")) report(d, "i-5", null, null, 0, DeviceMessages.GOOD);
            for (String d : List.of("q1", "q2")) report(d, "i-90", null, null, 0, dip);
            RolloutEngine.TickReport t = tick();
            if (s < 60) assertThat(t.pauses()).as("not sustained yet at %d s", s).isEmpty();
        }
        RolloutStatus st = status(id);
        assertThat(st.state()).isEqualTo("paused");
        assertThat(st.phases().get(0).kpis()).filteredOn(k -> k.slice().isEmpty()).singleElement()
                .satisfies(k -> assertThat(k.verdict()).as("cohort mean 0.9918 holds").isEqualTo("clear"));
        PauseEvent p = st.pauses().get(0);
        assertThat(p.findings().get(0).slice()).containsEntry("corridor", "i-90");
        assertThat(p.findings().get(0).values()).containsOnlyKeys("q1", "q2");
        assertThat(p.reason()).contains("on cohort pilot, corridor i-90").contains("q1 0.97").contains("threshold 0.9900");
    }

    @Test
    void aHumanCannotApproveOverABreachAndCanExtendTheWindow() throws Exception {
        long pilot = cohort("pilot", CohortKind.PILOT, "i-5", "p1");
        RuleSet rules = new RuleSet(1, Duration.ofMinutes(5), List.of(new PauseRule.AvailabilityBelow(0.995, Duration.ofHours(10), 1)));
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(pilot, Duration.ofHours(1), Approval.AUTO)),
                null, rules, null, null)).id();
        Instant start = now();
        c.rollouts().start(RM, id, null);
        tick();
        FleetException early = catchThrowableOfType(FleetException.class, () -> c.rollouts().advance(RM, id, "looks fine"));
        assertThat(early.code()).isEqualTo(ErrorCode.GATE_NOT_MET);
        assertThat(early.getMessage()).contains("not held for a human");
        activated("p1", "i-5", BAD);
        at(Duration.ofHours(1), start);
        report("p1", "i-5", "activated", "2.4.0", desired("p1").rev(), BAD);
        tick();
        assertThat(status(id).hold().kind()).isEqualTo("gate");
        FleetException breach = catchThrowableOfType(FleetException.class, () -> c.rollouts().advance(RM, id, "ship it"));
        assertThat(breach.code()).isEqualTo(ErrorCode.GATE_NOT_MET);
        assertThat(breach.getMessage()).contains("breached");
        long auditRows = rowsOf(Table.AUDIT);
        Instant endsBefore = status(id).phases().get(0).windowEndsAt();
        assertThat(catchThrowableOfType(FleetException.class, () -> c.rollouts().extend(RM, id, "-1h", "x")).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(catchThrowableOfType(FleetException.class, () -> c.rollouts().extend(RM, id, "400d", "x")).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(catchThrowableOfType(FleetException.class, () -> c.rollouts().extend(RM, id, "1d", null)).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(rowsOf(Table.AUDIT)).as("refused, nothing changed").isEqualTo(auditRows);
        c.rollouts().extend(RM, id, "24h", "watch one more day");
        assertThat(status(id).phases().get(0).windowEndsAt()).isEqualTo(endsBefore.plus(Duration.ofHours(24)));
        assertThat(status(id).hold().kind()).isEqualTo("observing");
        assertThat(auditAll()).filteredOn(a -> a.action().equals("rollout.extend")).singleElement()
                .satisfies(a -> assertThat(a.detail()).contains("\"by\":\"1d\""));
    }

    @Test
    void aSustainedKpiBreachPausesAtOnceHoldsActivationsAndResumeNeedsAcknowledgement() throws Exception {
        long pilot = cohort("pilot", CohortKind.PILOT, "i-5", "p1", "p2", "p3");
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(pilot, Duration.ofDays(7), Approval.AUTO)),
                null, null, null, null)).id();
        c.rollouts().start(RM, id, null);
        tick();
        activated("p1", "i-5", BAD);
        activated("p2", "i-5", BAD);
        report("p3", "i-5", "downloading", "2.4.0", desired("p3").rev(), BAD);
        Instant breach = now();
        for (int s = 0; s < 600; s += 60) {
            at(Duration.ofSeconds(s), breach);
            for (String p : List.of("p1", "p2", "p3")) report(p, "i-5", null, null, 0, BAD);
            assertThat(tick().pauses()).as("not before 10 min (at %s s)", s).isEmpty();
        }
        at(Duration.ofMinutes(10), breach);
        for (String p : List.of("p1", "p2", "p3")) report(p, "i-5", null, null, 0, BAD);
        RolloutEngine.TickReport t = tick();
        assertThat(t.pauses()).singleElement().satisfies(p -> {
            assertThat(p.cause()).isEqualTo(PauseEvent.Cause.RULE);
            assertThat(p.rule()).isEqualTo(PauseRule.AvailabilityBelow.NAME);
            assertThat(p.ruleVersion()).isEqualTo(RuleSet.DEFAULT_VERSION);
            assertThat(p.findings().get(0).observed()).isEqualTo(0.90, org.assertj.core.data.Offset.offset(1e-9));
            assertThat(p.findings().get(0).threshold()).isEqualTo(0.995);
            assertThat(p.findings().get(0).sample()).isEqualTo(3);
            assertThat(p.findings().get(0).breachSince()).isEqualTo(breach.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
            assertThat(p.findings().get(0).offending()).containsExactly("p1", "p2", "p3");
            assertThat(p.links()).containsKey("dashboard");
            assertThat(p.links().get("dashboard")).contains("cohort=pilot");
            assertThat(p.deviceLinks().get("p1").get("diagnostics")).endsWith("/api/v1/devices/p1/diagnostics");
        });
        assertThat(status(id).state()).isEqualTo("paused");
        // No new activation: the device still downloading was turned into download-only.
        assertThat(desired("p3").action()).isEqualTo(Action.DOWNLOAD);
        assertThat(desired("p1").action()).isEqualTo(Action.ACTIVATE);
        assertThat(auditAll())
                .filteredOn(a -> a.action().equals("rollout.pause")).singleElement().satisfies(a -> assertThat(a.actor()).isEqualTo("system:rollout-engine"));

        long pauseId = status(id).pauses().get(0).id();
        FleetException noAck = catchThrowableOfType(FleetException.class, () -> c.rollouts().resume(RM, id, "fixed upstream", List.of()));
        assertThat(noAck.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(noAck.getMessage()).contains("acknowledge").contains(Long.toString(pauseId));
        FleetException noReason = catchThrowableOfType(FleetException.class, () -> c.rollouts().resume(RM, id, " ", List.of(pauseId)));
        assertThat(noReason.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        RolloutStatus resumed = c.rollouts().resume(RM, id, "false alarm: upstream outage", List.of(pauseId));
        assertThat(resumed.state()).isEqualTo("running");
        assertThat(resumed.pauses().get(0).resumedBy()).isEqualTo("rm");
        assertThat(desired("p3").action()).isEqualTo(Action.ACTIVATE);
        // Timers start afresh after a resume: the same breach must hold another 10 minutes.
        for (String p : List.of("p1", "p2", "p3")) report(p, "i-5", null, null, 0, BAD);
        assertThat(tick().pauses()).isEmpty();
    }

    @Test
    void anOpenSev1PausesEveryRolloutOfTheReleaseWithinOneEvaluationAndBlocksStarts() throws Exception {
        long a = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(cohort("east", CohortKind.WAVE, "i-5", "e1"), Duration.ofDays(1), Approval.AUTO)),
                null, null, null, null)).id();
        long b = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(cohort("west", CohortKind.WAVE, "i-90", "w1"), Duration.ofDays(1), Approval.AUTO)),
                null, null, null, null)).id();
        long later = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(cohort("south", CohortKind.WAVE, "i-95", "s1"), Duration.ofDays(1), Approval.AUTO)),
                null, null, null, null)).id();
        c.rollouts().start(RM, a, null);
        c.rollouts().start(RM, b, null);
        tick();
        c.incidents().report(OP, new Incidents.Report("INC-1", "sev1", "open", "2.4.0", "signal timing lost", null));
        RolloutEngine.TickReport t = tick();
        assertThat(t.pauses()).hasSize(2).allSatisfy(p -> {
            assertThat(p.rule()).isEqualTo(PauseRule.OpenSev1.NAME);
            assertThat(p.findings().get(0).incidents()).containsExactly("INC-1");
        });
        assertThat(status(a).state()).isEqualTo("paused");
        assertThat(status(b).state()).isEqualTo("paused");
        FleetException blocked = catchThrowableOfType(FleetException.class, () -> c.rollouts().start(RM, later, null));
        assertThat(blocked.code()).isEqualTo(ErrorCode.RELEASE_BLOCKED);
        assertThat(blocked.details()).containsEntry("incidents", List.of("INC-1"));
        long pa = status(a).pauses().get(0).id();
        assertThat(catchThrowableOfType(FleetException.class, () -> c.rollouts().resume(RM, a, "x", List.of(pa))).code())
                .isEqualTo(ErrorCode.RELEASE_BLOCKED);
        c.incidents().report(OP, new Incidents.Report("INC-1", null, "resolved", null, null, null));
        assertThat(c.rollouts().resume(RM, a, "incident resolved, not the release", List.of(pa)).state()).isEqualTo("running");
    }

    @Test
    void theCorridorCapLimitsUnitsInTrialAtOnce() throws Exception {
        long wave = cohort("wave-1", CohortKind.WAVE, "i-5", "a1", "a2", "a3", "a4", "a5");
        RolloutSettings cap2 = new RolloutSettings(2, Duration.ofHours(1), Duration.ofMinutes(30), "Mon-Fri 01:00-04:00 Europe/Berlin", null);
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(wave, Duration.ofHours(1), Approval.AUTO)), cap2, null, null, null)).id();
        c.rollouts().start(RM, id, null);
        assertThat(tick().dispatched()).isEqualTo(2);
        assertThat(tick().dispatched()).as("both still in trial").isZero();
        assertThat(desired("a1").window()).isEqualTo("Mon-Fri 01:00-04:00 Europe/Berlin");
        activated("a1", "i-5", DeviceMessages.GOOD);
        assertThat(tick().dispatched()).isEqualTo(1);
        assertThat(status(id).phases().get(0).buckets()).containsEntry("queued", 2).containsEntry("succeeded", 1).containsEntry("in_progress", 2);
    }

    @Test
    void rollbackOrdersDevicesBackWithADeadlineAndAlertsForOverdueOnes() throws Exception {
        long pilot = cohort("pilot", CohortKind.PILOT, "i-5", "p1", "p2", "p3");
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(pilot, Duration.ofDays(7), Approval.AUTO)), null, null, null, null)).id();
        c.rollouts().start(RM, id, null);
        tick();
        activated("p1", "i-5", DeviceMessages.GOOD);
        activated("p2", "i-5", DeviceMessages.GOOD);
        Instant ordered = now();
        FleetException noReason = catchThrowableOfType(FleetException.class,
                () -> c.rollouts().rollback(OP, id, new Rollouts.RollbackRequest(Rollouts.RollbackScope.ROLLOUT, null, null, null, null)));
        assertThat(noReason.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        RolloutStatus st = c.rollouts().rollback(OP, id, new Rollouts.RollbackRequest(Rollouts.RollbackScope.ROLLOUT, null, null, null, "lag regression"));
        assertThat(st.state()).isEqualTo("rolling_back");
        for (String p : List.of("p1", "p2", "p3")) {
            MqttDesiredState d = desired(p);
            assertThat(d.action()).isEqualTo(Action.ROLLBACK);
            assertThat(d.release()).isEqualTo("2.3.0");
            assertThat(d.manifestDigest()).hasSize(64);
        }
        c.ingest().accept(List.of(DeviceMessages.event("p1", seq.incrementAndGet(), "transition", "rolled_back", "2.4.0", null, Map.of())));
        c.ingest().accept(List.of(DeviceMessages.event("p2", seq.incrementAndGet(), "transition", "needs_investigation", "2.4.0", "SLOT_CORRUPT", Map.of())));
        at(Duration.ofMinutes(29), ordered);
        assertThat(tick().alerts()).isEmpty();
        at(Duration.ofMinutes(30), ordered);
        RolloutEngine.TickReport t = tick();
        assertThat(t.alerts()).extracting(Alert::kind, Alert::deviceId).containsExactly(
                org.assertj.core.groups.Tuple.tuple(Alert.ROLLBACK_OVERDUE, "p3"), org.assertj.core.groups.Tuple.tuple(Alert.NEEDS_INVESTIGATION, "p3"));
        assertThat(tick().alerts()).as("raised once").isEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() -> alerts.size() == 2);
        assertThat(alerts).anySatisfy(a -> assertThat(a).contains("\"alert\":\"rollback_overdue\"").contains("\"device\":\"p3\""));
        await().atMost(Duration.ofSeconds(10)).until(() -> status(id).alerts().stream().allMatch(a -> a.deliveredAt() != null));
        assertThat(status(id).alerts()).extracting(Alert::delivery).containsOnly("delivered: HTTP 204");
        assertThat(auditAll()).filteredOn(a -> a.action().equals("alert.delivery")).hasSize(2);
        st = status(id);
        assertThat(st.phases().get(0).devices()).extracting(RolloutStatus.DeviceView::device, RolloutStatus.DeviceView::rollbackResult,
                RolloutStatus.DeviceView::overdue, RolloutStatus.DeviceView::bucket).containsExactly(
                org.assertj.core.groups.Tuple.tuple("p1", "healthy", false, "rolled_back"),
                org.assertj.core.groups.Tuple.tuple("p2", "needs_investigation", false, "needs_investigation"),
                org.assertj.core.groups.Tuple.tuple("p3", "needs_investigation", true, "needs_investigation"));
        assertThat(st.attention()).anySatisfy(a -> assertThat(a).contains("p3").contains("needs investigation")
                .contains("fleetctl rollout clear " + id + " p3"));
        assertThat(st.phases().get(0).buckets()).containsEntry("needs_investigation", 2).containsEntry("rolled_back", 1);
        assertThat(st.state()).as("every order confirmed or flagged: the rollback is done, the flags stay").isEqualTo("rolled_back");
        assertThat(c.devices().page(rsuota.fleet.store.DeviceRepository.Query.ALL, "needs_investigation", null, 1000)).extracting(l -> l.device().id()).containsExactly("p2", "p3");
        assertThat(rc.get("/metrics", rc.tokens.get(Role.VIEWER)).body())
                .contains("rsuota_devices_needs_investigation{release=\"2.4.0\",rollout=\"" + id + "\"} 2");
        assertThat(auditAll()).filteredOn(a -> a.action().equals("alert.rollback_overdue")).singleElement()
                .satisfies(a -> assertThat(a.actor()).isEqualTo("system:rollout-engine"));
        assertThat(auditAll()).filteredOn(a -> a.action().equals("rollout.device.flag")).extracting(a -> a.target())
                .containsExactly("rollout:" + id + "/device:p2", "rollout:" + id + "/device:p3");

        // The late unit comes back and confirms a healthy boot on 2.3.0: its flag clears, audited; the rollout was tracked after its end.
        c.ingest().accept(List.of(DeviceMessages.event("p3", seq.incrementAndGet(), "transition", "rolled_back", "2.4.0", null, Map.of())));
        tick();
        assertThat(status(id).phases().get(0).devices()).filteredOn(d -> d.device().equals("p3")).singleElement()
                .satisfies(d -> assertThat(d.bucket()).isEqualTo("rolled_back"));
        assertThat(auditAll()).filteredOn(a -> a.action().equals("rollout.device.flag.clear")).singleElement()
                .satisfies(a -> assertThat(a.actor()).isEqualTo("system:telemetry"));
        // An operator clears p2 after looking at it; a second clear, or one on a healthy unit, is refused and changes nothing.
        FleetException notFlagged = catchThrowableOfType(FleetException.class, () -> c.rollouts().clearFlag(OP, id, "p1", "looked"));
        assertThat(notFlagged.code()).isEqualTo(ErrorCode.ILLEGAL_TRANSITION);
        assertThat(notFlagged.getMessage()).contains("p1 is not flagged");
        assertThat(catchThrowableOfType(FleetException.class, () -> c.rollouts().clearFlag(OP, id, "p2", " ")).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        c.rollouts().clearFlag(OP, id, "p2", "slot re-flashed on site");
        assertThat(c.devices().page(rsuota.fleet.store.DeviceRepository.Query.ALL, "needs_investigation", null, 1000)).isEmpty();
        assertThat(status(id).state()).isEqualTo("rolled_back");
        assertThat(auditAll()).filteredOn(a -> a.action().startsWith("rollout.rollback"))
                .extracting(a -> a.action()).containsExactly("rollout.rollback", "rollout.rollback.done");
    }

    @Test
    void aCompletedRolloutIsRolledBackAndTracksItsUnitsToTheEnd() throws Exception {
        long wave = cohort("wave-1", CohortKind.WAVE, "i-5", "w1", "w2", "w3");
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(new Rollouts.NewPhase(wave, null, null, Duration.ofHours(1),
                Approval.AUTO, new ExitCriteria(0.6, 0, 1))), new RolloutSettings(null, Duration.ofMinutes(20), Duration.ofMinutes(30), null, null),
                null, null, null)).id();
        Instant start = now();
        c.rollouts().start(RM, id, null);
        tick();
        activated("w1", "i-5", DeviceMessages.GOOD);
        activated("w2", "i-5", DeviceMessages.GOOD);
        // w3 stays silent (the criteria tolerate one silent unit), the phase passes, the rollout completes.
        at(Duration.ofMinutes(61), start);
        for (String w : List.of("w1", "w2")) report(w, "i-5", "activated", "2.4.0", desired(w).rev(), DeviceMessages.GOOD);
        tick();
        assertThat(status(id).state()).isEqualTo("completed");
        // After completion w3 reports its activation: tracked, it is a success, never "silent" forever.
        activated("w3", "i-5", DeviceMessages.GOOD);
        at(Duration.ofMinutes(90), start);
        assertThat(status(id).phases().get(0).devices()).extracting(RolloutStatus.DeviceView::bucket).containsOnly("succeeded");

        Instant ordered = now();
        c.rollouts().rollback(OP, id, new Rollouts.RollbackRequest(Rollouts.RollbackScope.ROLLOUT, null, null, null, "found after the last wave"));
        assertThat(status(id).state()).isEqualTo("rolling_back");
        assertThat(status(id).phases().get(0).buckets()).containsEntry("rollback_pending", 3);
        for (String w : List.of("w1", "w2", "w3")) {
            c.ingest().accept(List.of(DeviceMessages.event(w, seq.incrementAndGet(), "transition", "rolling_back", "2.4.0", null, Map.of())));
        }
        assertThat(status(id).phases().get(0).buckets()).as("rolling back is not rolled back yet").containsEntry("rollback_pending", 3);
        for (String w : List.of("w1", "w2", "w3")) {
            c.ingest().accept(List.of(DeviceMessages.event(w, seq.incrementAndGet(), "transition", "rolled_back", "2.4.0", null, Map.of())));
        }
        at(Duration.ofMinutes(10), ordered);
        RolloutEngine.TickReport t = tick();
        assertThat(t.alerts()).isEmpty();
        RolloutStatus st = status(id);
        assertThat(st.state()).isEqualTo("rolled_back");
        assertThat(st.phases().get(0).buckets()).containsEntry("rolled_back", 3);
        assertThat(st.phases().get(0).kpis()).filteredOn(k -> k.rule().equals(PauseRule.RollbackRateAbove.NAME)).singleElement()
                .satisfies(k -> assertThat(k.observed()).as("units that obeyed the order are not a rollback rate").isEqualTo(0.0));
        at(Duration.ofHours(2), ordered);
        assertThat(tick().alerts()).as("no overdue alert after a completed rollback").isEmpty();
        FleetException again = catchThrowableOfType(FleetException.class, () -> c.rollouts().rollback(OP, id,
                new Rollouts.RollbackRequest(Rollouts.RollbackScope.ROLLOUT, null, null, null, "twice")));
        assertThat(again.code()).isEqualTo(ErrorCode.ILLEGAL_TRANSITION);
        assertThat(again.getMessage()).contains("nothing to roll back");
    }

    @Test
    void aCohortOfACompletedRolloutIsRolledBackAndTheRestFollowsLater() throws Exception {
        long a = cohort("wave-a", CohortKind.WAVE, "i-5", "a1");
        long b = cohort("wave-b", CohortKind.WAVE, "i-90", "b1");
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(a, Duration.ofMinutes(1), Approval.AUTO),
                phase(b, Duration.ofMinutes(1), Approval.AUTO)), null, null, null, null)).id();
        Instant start = now();
        c.rollouts().start(RM, id, null);
        tick();
        activated("a1", "i-5", DeviceMessages.GOOD);
        at(Duration.ofMinutes(2), start);
        tick();
        tick();
        activated("b1", "i-90", DeviceMessages.GOOD);
        at(Duration.ofMinutes(4), start);
        tick();
        assertThat(status(id).state()).isEqualTo("completed");
        c.rollouts().rollback(OP, id, new Rollouts.RollbackRequest(Rollouts.RollbackScope.COHORT, null, b, null, "corridor i-90 only"));
        assertThat(desired("b1").action()).isEqualTo(Action.ROLLBACK);
        assertThat(desired("a1").action()).isEqualTo(Action.ACTIVATE);
        c.ingest().accept(List.of(DeviceMessages.event("b1", seq.incrementAndGet(), "transition", "rolled_back", "2.4.0", null, Map.of())));
        tick();
        assertThat(status(id).state()).isEqualTo("rolled_back");
        // The rest is still tracked and can follow.
        c.rollouts().rollback(OP, id, new Rollouts.RollbackRequest(Rollouts.RollbackScope.ROLLOUT, null, null, null, "the rest too"));
        assertThat(desired("a1").action()).isEqualTo(Action.ROLLBACK);
        c.ingest().accept(List.of(DeviceMessages.event("a1", seq.incrementAndGet(), "transition", "rolled_back", "2.4.0", null, Map.of())));
        tick();
        assertThat(status(id).state()).isEqualTo("rolled_back");
        assertThat(status(id).phases()).allSatisfy(p -> assertThat(p.buckets()).containsEntry("rolled_back", 1));
    }

    @Test
    void rollbackRateCountsUnitsThatFellBackByThemselvesNotAnOperatorsOrder() throws Exception {
        String[] ids = new String[20];
        for (int i = 0; i < 20; i++) ids[i] = "w" + i;
        long wave = cohort("wave-9", CohortKind.WAVE, null, ids);
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(wave, Duration.ofDays(1), Approval.AUTO)), null, null, null, null)).id();
        c.rollouts().start(RM, id, null);
        tick();
        c.ingest().accept(List.of(DeviceMessages.event("w1", seq.incrementAndGet(), "transition", "rolled_back", "2.4.0", "boot_failed", Map.of())));
        assertThat(tick().pauses()).as("1 of 20 is 5 %, not above").isEmpty();
        c.rollouts().rollback(OP, id, new Rollouts.RollbackRequest(Rollouts.RollbackScope.DEVICE, null, null, "w2", "technician report"));
        assertThat(desired("w2").action()).isEqualTo(Action.ROLLBACK);
        assertThat(tick().pauses()).as("w2 obeyed an order: still 1 of 20").isEmpty();
        c.ingest().accept(List.of(DeviceMessages.event("w3", seq.incrementAndGet(), "transition", "rolled_back", "2.4.0", "health_failed", Map.of())));
        RolloutEngine.TickReport t = tick();
        assertThat(t.pauses()).singleElement().satisfies(p -> {
            assertThat(p.rule()).isEqualTo(PauseRule.RollbackRateAbove.NAME);
            assertThat(p.findings().get(0).observed()).isEqualTo(0.10);
            assertThat(p.findings().get(0).offending()).containsExactly("w1", "w3");
        });
    }

    @Test
    void aRestartMidPhaseDispatchesNothingTwiceAndTimersResume() throws Exception {
        long pilot = cohort("pilot", CohortKind.PILOT, "i-5", "p1", "p2", "p3", "p4");
        RolloutSettings cap = new RolloutSettings(2, Duration.ofHours(1), Duration.ofMinutes(30), null, null);
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(pilot, Duration.ofHours(6), Approval.AUTO)), cap, null, null, null)).id();
        Instant start = now();
        c.rollouts().start(RM, id, null);
        assertThat(tick().dispatched()).isEqualTo(2);
        c.publisher().publishOnce();
        activated("p1", "i-5", BAD);
        at(Duration.ofMinutes(1), start);
        report("p1", "i-5", "activated", "2.4.0", desired("p1").rev(), BAD);
        report("p2", "i-5", "downloading", "2.4.0", desired("p2").rev(), BAD);
        assertThat(tick().dispatched()).as("p1 settled, so p3 may enter trial").isEqualTo(1);
        report("p3", "i-5", "pending", "2.4.0", desired("p3").rev(), BAD);
        Instant breachSince = now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Map<String, Long> revs = new java.util.TreeMap<>();
        for (String p : List.of("p1", "p2", "p3")) revs.put(p, desired(p).rev());
        long rows = rowsOf(Table.ROLLOUT_DEVICES);

        // Restart: a new controller process on the same data directory.
        c.close();
        c = Controller.open(new Controller.Config(rc.dataDir, null, "127.0.0.1", 0), rc.clock).serve();
        RecordingTransport again = new RecordingTransport();
        c.transport(again);
        c.publisher().republishAll();
        c.publisher().publishOnce();
        assertThat(again.sent).extracting(RecordingTransport.Sent::topic)
                .containsExactlyInAnyOrder("rsu/v1/dev/p1/desired", "rsu/v1/dev/p2/desired", "rsu/v1/dev/p3/desired");
        assertThat(again.sent).allSatisfy(s -> assertThat(s.retained()).isTrue());
        for (RecordingTransport.Sent s : again.sent) {
            MqttDesiredState d = WireCodec.decode(s.payload().getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
            assertThat(d.rev()).as("same rev re-published, which the device ignores").isEqualTo(revs.get(s.topic().split("/")[3]));
        }
        at(Duration.ofMinutes(2), start);
        report("p1", "i-5", "activated", "2.4.0", revs.get("p1"), BAD);
        report("p2", "i-5", "downloading", "2.4.0", revs.get("p2"), BAD);
        report("p3", "i-5", "pending", "2.4.0", revs.get("p3"), BAD);
        assertThat(c.engine().tick(now()).dispatched()).as("p2 and p3 are in trial: the cap holds after the restart, p4 waits").isZero();
        for (String p : List.of("p1", "p2", "p3")) assertThat(desired(p).rev()).isEqualTo(revs.get(p));
        assertThat(desiredRow("p4")).isEmpty();
        assertThat(rowsOf(Table.ROLLOUT_DEVICES)).isEqualTo(rows);

        // The availability breach began before the restart: it fires exactly 10 minutes after it began.
        for (int m = 3; m < 10; m++) {
            at(Duration.ofMinutes(m), breachSince);
            for (String p : List.of("p1", "p2", "p3")) report(p, "i-5", null, null, 0, BAD);
            assertThat(c.engine().tick(now()).pauses()).isEmpty();
        }
        at(Duration.ofMinutes(10).minusMillis(1), breachSince);
        for (String p : List.of("p1", "p2", "p3")) report(p, "i-5", null, null, 0, BAD);
        assertThat(c.engine().tick(now()).pauses()).isEmpty();
        at(Duration.ofMinutes(10), breachSince);
        for (String p : List.of("p1", "p2", "p3")) report(p, "i-5", null, null, 0, BAD);
        assertThat(c.engine().tick(now()).pauses()).singleElement().satisfies(p -> assertThat(p.findings().get(0).breachSince()).isEqualTo(breachSince));
    }

    @Test
    void thePhaseWindowSurvivesARestart() throws Exception {
        long canary = cohort("canary", CohortKind.CANARY, "i-5", "c1");
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(phase(canary, Duration.ofHours(48), Approval.AUTO)), null, null, null, null)).id();
        Instant start = now();
        c.rollouts().start(RM, id, null);
        tick();
        activated("c1", "i-5", DeviceMessages.GOOD);
        c.close();
        at(Duration.ofHours(47), start);
        c = Controller.open(new Controller.Config(rc.dataDir, null, "127.0.0.1", 0), rc.clock).serve();
        report("c1", "i-5", "activated", "2.4.0", desired("c1").rev(), DeviceMessages.GOOD);
        c.engine().tick(now());
        assertThat(c.rollouts().status(id).state()).isEqualTo("running");
        at(Duration.ofHours(48), start);
        report("c1", "i-5", "activated", "2.4.0", desired("c1").rev(), DeviceMessages.GOOD);
        c.engine().tick(now());
        assertThat(c.rollouts().status(id).state()).isEqualTo("completed");
    }
}
