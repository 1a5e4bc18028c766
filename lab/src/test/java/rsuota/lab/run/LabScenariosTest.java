package rsuota.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.lab.report.HtmlReport;
import rsuota.lab.report.ReportJson;
import rsuota.lab.scenario.ScenarioFile;

/**
 * The eight lab scenarios end to end, each from its bundled file (the same file {@code scripts/lab
 * run NAME} runs): a real controller with its embedded broker, real agents over simulated
 * hardware, real signed bundles, faults on each unit's own network path. The file's expectations
 * must all hold; each test then checks what its scenario is about in more detail. Reports land in
 * {@code target/lab-reports/NAME/} so a failure leaves its timeline behind.
 */
class LabScenariosTest {
    @TempDir Path tmp;

    RunReport run(String name) throws Exception {
        RunReport r = LabRun.run(ScenarioFile.load(name), new LabRun.Options(tmp.resolve("work"), false, LabView.NONE));
        Path dir = Files.createDirectories(Path.of("target", "lab-reports", name));
        ReportJson.write(r, dir.resolve("report.json"));
        HtmlReport.write(r, dir.resolve("report.html"));
        assertThat(r.failures()).as("expectations of %s (timeline in %s)", name, dir.toAbsolutePath()).isEmpty();
        assertThat(r.auditVerified()).isTrue();
        return r;
    }

    static RunReport.Device device(RunReport r, String id) {
        return r.devices().stream().filter(d -> d.id().equals(id)).findFirst().orElseThrow();
    }

    static JsonNode rollout(RunReport r, String release) {
        return r.rollouts().stream().filter(x -> x.release().equals(release)).findFirst().orElseThrow().status();
    }

    static List<JsonNode> deviceViews(JsonNode rollout) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : rollout.path("phases")) p.path("devices").forEach(out::add);
        return out;
    }

    static RunReport.Bundle bundle(RunReport r, String release) {
        return r.bundles().stream().filter(b -> b.release().equals(release)).findFirst().orElseThrow();
    }

    static Duration iso(JsonNode n) {
        return Duration.parse(n.asText());
    }

    static Instant at(JsonNode n) {
        return Instant.parse(n.asText());
    }

    @Test
    void happyPathCanaryPilotTwoCorridorWavesAllActivated() throws Exception {
        RunReport r = run("happy-path");
        JsonNode st = rollout(r, "2.0");
        assertThat(st.path("phases")).extracting(p -> p.path("name").asText() + ":" + p.path("state").asText())
                .containsExactly("canary:passed", "pilot:passed", "wave-1:passed", "wave-2:passed");
        assertThat(deviceViews(st)).allSatisfy(d -> assertThat(d.path("bucket").asText()).isEqualTo("succeeded"));
        assertThat(r.devices()).allSatisfy(d -> assertThat(d.downloads()).containsExactly("2.0"));
        assertThat(r.pauses()).isEmpty();
        // The manual gates were passed by the release manager, the last phase by the engine.
        assertThat(r.audit()).filteredOn(e -> e.path("action").asText().equals("rollout.advance"))
                .extracting(e -> e.path("actor").asText()).containsExactly("lab-release-manager", "lab-release-manager");
    }

    @Test
    void aTechnicianLocksAndInstallsFromAFileWhileTheRolloutIsPausedAndTheControllerLeavesBothAlone() throws Exception {
        RunReport r = run("technician-while-paused");
        JsonNode st = rollout(r, "2.0");
        String me = "technician:" + System.getProperty("user.name");
        JsonNode p01 = deviceViews(st).stream().filter(d -> d.path("device").asText().equals("rsu-p01")).findFirst().orElseThrow();
        JsonNode p02 = deviceViews(st).stream().filter(d -> d.path("device").asText().equals("rsu-p02")).findFirst().orElseThrow();
        assertThat(p01.path("bucket").asText()).isEqualTo("locally_managed");
        assertThat(p01.path("localBy").asText()).isEqualTo(me);
        assertThat(p01.path("localReason").asText()).isEqualTo("field test of 2.1, ticket 4711");
        assertThat(p01.hasNonNull("localSince")).isTrue();
        assertThat(p02.path("bucket").asText()).isEqualTo("locked_by_technician");
        assertThat(p02.path("localBy").asText()).isEqualTo(me);
        assertThat(p02.path("localReason").asText()).isEqualTo("radio swap");
        // the controller never ordered them anything: a local action is not overwritten
        assertThat(p01.hasNonNull("dispatchedAt")).isFalse();
        assertThat(p02.hasNonNull("dispatchedAt")).isFalse();
        assertThat(st.path("phases").get(1).path("buckets").path("silent").asInt()).isZero();
        assertThat(st.path("phases").get(1).path("buckets").path("failed").asInt()).isZero();
        assertThat(r.audit()).filteredOn(e -> e.path("action").asText().startsWith("device.local_action."))
                .extracting(e -> e.path("action").asText() + " by " + e.path("actor").asText())
                .containsExactly("device.local_action.lock by " + me, "device.local_action.install by " + me);
    }

    @Test
    void aTechniciansLockHoldsTheControllersRollbackUntilTheUnlock() throws Exception {
        RunReport r = run("technician-lock-holds-rollback");
        Instant unlockedAt = r.timeline().stream().filter(e -> e.kind().equals("step") && e.text().startsWith("unlock:"))
                .map(Timeline.Event::at).findFirst().orElseThrow(() -> new AssertionError("the unlock step did not run"));
        Instant c01Back = firstRollingBack(r, "rsu-c01");
        Instant w01Back = firstRollingBack(r, "rsu-w01");
        assertThat(w01Back).as("an unlocked unit rolls back at once").isNotNull().isBefore(unlockedAt);
        assertThat(c01Back).as("the locked unit only after its technician's unlock").isNotNull().isAfter(unlockedAt);
    }

    static Instant firstRollingBack(RunReport r, String device) {
        return r.timeline().stream().filter(e -> e.kind().equals("device") && e.subject().equals(device) && e.text().contains("rolling_back"))
                .map(Timeline.Event::at).findFirst().orElse(null);
    }

    @Test
    void aMinorReleaseOverAThrottledLinkFetchesOnlyTheChunksTheUnitsLack() throws Exception {
        RunReport r = run("minor-release-throttled");
        RunReport.Bundle b = bundle(r, "1.1");
        long fleetFetched = 0;
        for (RunReport.Device d : r.devices()) {
            assertThat(d.downloads()).containsExactly("1.1");
            assertThat(r.fullBytes(d)).isEqualTo(b.bytes());
            // the header and the changed chunks, not the image: well under a third of the bundle
            assertThat(d.bytesFetched()).as("%s fetched of a %d-byte bundle", d.id(), b.bytes()).isPositive().isLessThan(b.bytes() / 3);
            fleetFetched += d.bytesFetched();
        }
        // the controller's view: each cohort's verified downloads with what they fetched and copied, against the manifests
        JsonNode status = rollout(r, "1.1");
        assertThat(status.path("settings").path("bandwidthCap").asLong()).isEqualTo(64 * 1024);
        long reported = 0;
        for (JsonNode p : status.path("phases")) {
            JsonNode bytes = p.path("bytes");
            assertThat(bytes.path("devices").asInt()).as("phase %s", p.path("name").asText()).isEqualTo(p.path("devices").size());
            assertThat(bytes.path("expectedFrom").asText()).isEqualTo("1.0.0");
            long perDevice = bytes.path("expected").asLong() / bytes.path("devices").asLong();
            assertThat(perDevice).isPositive().isLessThan(b.payload() / 4);
            // what the agents count (header included, no HTTP framing) is the manifests' prediction plus the header fetch
            assertThat(bytes.path("fetched").asLong()).isBetween(bytes.path("expected").asLong(),
                    bytes.path("expected").asLong() + bytes.path("devices").asLong() * (b.header() + 64 * 1024));
            assertThat(bytes.path("reused").asLong()).as("image bytes copied from slot A").isGreaterThan(bytes.path("devices").asLong() * 512 * 1024);
            reported += bytes.path("fetched").asLong();
        }
        assertThat(reported).as("the agents' count stays under the proxies' (HTTP framing)").isLessThanOrEqualTo(fleetFetched);
        // the report says what was saved
        java.io.StringWriter text = new java.io.StringWriter();
        rsuota.lab.report.TextReport.print(r, new java.io.PrintWriter(text), false);
        assertThat(text.toString()).contains("full size").contains("saved").contains("fleet: fetched");
        assertThat(HtmlReport.page(r)).contains("of full bundles");
    }

    @Test
    void networkDropsDuringDownloadAndActivationStayWithinTheByteBound() throws Exception {
        RunReport r = run("network-drops");
        RunReport.Bundle b = bundle(r, "2.0");
        for (RunReport.Device d : r.devices()) {
            assertThat(d.cuts()).as("%s cut mid-download", d.id()).isGreaterThanOrEqualTo(3);
            // The design's budget: the bundle + one chunk per cut + the header fetch, plus HTTP response headers (< 1 KiB each).
            long requests = b.chunks() + 2 + 2 * d.cuts();
            assertThat(d.bytesFetched()).as("%s bytes", d.id()).isLessThanOrEqualTo(b.bytes() + d.cuts() * b.chunkSize() + 32 * 1024 + requests * 1024);
            assertThat(d.bytesFetched()).isGreaterThanOrEqualTo(b.payload());
        }
        // The unit that lost both links while committing still committed, and the controller heard it once back.
        assertThat(deviceViews(rollout(r, "2.0"))).filteredOn(d -> d.path("device").asText().equals("rsu-p02"))
                .singleElement().satisfies(d -> assertThat(d.path("state").asText()).isEqualTo("activated"));
        assertThat(r.timeline()).anySatisfy(e -> assertThat(e.text()).contains("p02-drops-off"));
    }

    @Test
    void kpiDegradationInThePilotPausesAfterItsSustainedDurationAndIsRolledBack() throws Exception {
        RunReport r = run("kpi-degradation");
        assertThat(r.pauses()).hasSize(1);
        JsonNode pe = r.pauses().get(0);
        assertThat(pe.path("actor").asText()).isEqualTo("system:rollout-engine");
        JsonNode f = pe.path("findings").path(0);
        assertThat(f.path("rule").asText()).isEqualTo("availability-below");
        assertThat(f.path("cohort").asText()).isEqualTo("pilot");
        assertThat(f.path("observed").asDouble()).isLessThan(f.path("threshold").asDouble());
        assertThat(f.path("threshold").asDouble()).isEqualTo(0.995);
        assertThat(iso(f.path("window"))).isEqualTo(Duration.ofSeconds(3));
        assertThat(iso(f.path("sustained"))).isEqualTo(Duration.ofSeconds(4));
        // Fired only once the breach had held for its sustained duration, and not much later (ticks are 250 ms).
        Duration held = Duration.between(at(f.path("breachSince")), at(f.path("firedAt")));
        assertThat(held).isGreaterThanOrEqualTo(Duration.ofSeconds(4)).isLessThan(Duration.ofSeconds(6));
        assertThat(f.path("offending")).extracting(JsonNode::asText).isNotEmpty().isSubsetOf("rsu-p01", "rsu-p02", "rsu-p03");
        assertThat(pe.path("reason").asText()).contains("availability-below").contains("pilot");
        // The operator's rollback took every dispatched unit back to the previous stable, healthy.
        assertThat(deviceViews(rollout(r, "2.0"))).filteredOn(d -> d.hasNonNull("rollback"))
                .extracting(d -> d.path("device").asText() + ":" + d.path("rollbackResult").asText())
                .containsExactlyInAnyOrder("rsu-c01:healthy", "rsu-p01:healthy", "rsu-p02:healthy", "rsu-p03:healthy");
        assertThat(r.devices()).allSatisfy(d -> assertThat(d.running()).isEqualTo("1.0.0"));
        assertThat(device(r, "rsu-w11").downloads()).as("waves never dispatched").isEmpty();
    }

    @Test
    void bootFailureOnTheCanaryRollsBackLocallyAndPausesTheRollout() throws Exception {
        RunReport r = run("boot-failure");
        RunReport.Device canary = device(r, "rsu-c01");
        assertThat(canary.hangs()).as("every boot try of the new slot hung").isEqualTo(3);
        assertThat(canary.error()).isEqualTo("boot_failed");
        assertThat(canary.slots()).anySatisfy(s -> {
            assertThat(s.release()).isEqualTo("2.0");
            assertThat(s.booted()).isFalse();
        });
        JsonNode f = r.pauses().get(0).path("findings").path(0);
        assertThat(f.path("rule").asText()).isEqualTo("rollback-rate-above");
        assertThat(f.path("observed").asDouble()).as("1 of 1 canary rolled back").isEqualTo(1.0);
        JsonNode st = rollout(r, "2.0");
        assertThat(deviceViews(st)).filteredOn(d -> d.path("device").asText().equals("rsu-c01")).singleElement()
                .satisfies(d -> {
                    assertThat(d.path("bucket").asText()).isEqualTo("rolled_back");
                    assertThat(d.path("rollback").asText()).isEqualTo("local");
                });
        assertThat(st.path("phases").path(1).path("state").asText()).as("pilot never opened").isEqualTo("pending");
        assertThat(device(r, "rsu-p01").downloads()).isEmpty();
    }

    @Test
    void healthFailureOnOneVariantRollsBackLocallyAndPausesThePilot() throws Exception {
        RunReport r = run("health-failure");
        for (String id : new String[] {"rsu-p02", "rsu-p03"}) {
            RunReport.Device d = device(r, id);
            assertThat(d.errorMessage()).as("%s says which probe failed", id).contains("kpi");
            assertThat(d.hangs()).isZero();
            assertThat(d.slots()).anySatisfy(s -> {
                assertThat(s.release()).isEqualTo("2.0");
                assertThat(s.booted()).isFalse();
            });
        }
        JsonNode f = r.pauses().get(0).path("findings").path(0);
        assertThat(f.path("rule").asText()).isEqualTo("rollback-rate-above");
        assertThat(f.path("offending")).extracting(JsonNode::asText).isSubsetOf("rsu-p02", "rsu-p03").isNotEmpty();
    }

    @Test
    void sev1IncidentMidPilotPausesTheReleaseAtOnce() throws Exception {
        RunReport r = run("sev1-incident");
        JsonNode f = r.pauses().get(0).path("findings").path(0);
        assertThat(f.path("rule").asText()).isEqualTo("open-sev1");
        assertThat(f.path("incidents")).extracting(JsonNode::asText).containsExactly("INC-4711");
        JsonNode pilot = rollout(r, "2.0").path("phases").path(1);
        assertThat(at(pilot.path("windowEndsAt"))).as("the pilot's window passed while paused").isBefore(at(rollout(r, "2.0").path("asOf")));
        assertThat(pilot.path("state").asText()).isEqualTo("active");
        assertThat(device(r, "rsu-w11").downloads()).as("the wave was never dispatched").isEmpty();
    }

    @Test
    void powerCutsDuringActivationAndRollbackEndHealthy() throws Exception {
        RunReport r = run("power-cuts");
        assertThat(device(r, "rsu-p01").powerCuts()).isEqualTo(1);
        assertThat(device(r, "rsu-p02").powerCuts()).isEqualTo(1);
        assertThat(device(r, "rsu-c01").powerCuts()).isEqualTo(1);
        assertThat(r.timeline()).filteredOn(e -> e.kind().equals("power-cut")).extracting(Timeline.Event::text)
                .anySatisfy(t -> assertThat(t).contains("while committing"))
                .anySatisfy(t -> assertThat(t).contains("while rolling_back"));
        assertThat(deviceViews(rollout(r, "2.0"))).allSatisfy(d -> assertThat(d.path("rollbackResult").asText()).isEqualTo("healthy"));
        assertThat(r.devices()).allSatisfy(d -> assertThat(d.error()).isNotEqualTo("previous_unhealthy").isNotEqualTo("previous_unbootable"));
    }

    @Test
    void powerCutInsideTheRebootHandoverLeavesBothUnitsOnAGoodSlot() throws Exception {
        RunReport r = run("handover-power-cut");
        assertThat(device(r, "rsu-a01").powerCuts()).isEqualTo(1);
        assertThat(device(r, "rsu-b01").powerCuts()).isEqualTo(1);
        assertThat(r.timeline()).filteredOn(e -> e.kind().equals("power-cut") && e.text().startsWith("power cut in the reboot handover"))
                .extracting(Timeline.Event::subject).containsExactlyInAnyOrder("rsu-a01", "rsu-b01");
        // rsu-b01's cut came on its way back from the failed trial: the reboot it asked for was the rollback's.
        assertThat(r.timeline()).filteredOn(e -> e.subject().equals("rsu-b01") && e.text().startsWith("power cut in the reboot handover"))
                .singleElement().satisfies(e -> assertThat(e.text()).contains("roll back to slot"));
        assertThat(r.timeline()).filteredOn(e -> e.subject().equals("rsu-a01") && e.text().startsWith("power cut in the reboot handover"))
                .singleElement().satisfies(e -> assertThat(e.text()).contains("activate release 2.0"));
        assertThat(device(r, "rsu-a01").state()).isIn("activated", "rolled_back");
    }

    static JsonNode kpi(JsonNode rollout, String phase, String rule) {
        for (JsonNode p : rollout.path("phases")) {
            if (!p.path("name").asText().equals(phase)) continue;
            for (JsonNode k : p.path("kpis")) if (k.path("rule").asText().equals(rule) && k.path("slice").isEmpty()) return k;
        }
        throw new AssertionError("no kpi " + rule + " in phase " + phase);
    }

    static List<String> auditActions(RunReport r) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : r.audit()) out.add(e.path("action").asText());
        return out;
    }

    @Test
    void aCompletedRolloutIsRolledBackAndEndsRolledBack() throws Exception {
        RunReport r = run("rollback-after-completion");
        JsonNode st = rollout(r, "2.0");
        assertThat(deviceViews(st)).allSatisfy(d -> {
            assertThat(d.path("bucket").asText()).isEqualTo("rolled_back");
            assertThat(d.path("rollbackResult").asText()).isEqualTo("healthy");
        });
        assertThat(st.path("alerts")).isEmpty();
        assertThat(kpi(st, "wave-1", "rollback-rate-above").path("observed").asDouble()).as("obeying an order is not a rollback rate").isZero();
        assertThat(auditActions(r)).containsSubsequence("rollout.complete", "rollout.rollback", "rollout.rollback.done");
    }

    @Test
    void aUnitPastItsRollbackDeadlineIsFlaggedAndClearedWhenItConfirms() throws Exception {
        RunReport r = run("rollback-needs-investigation");
        JsonNode st = rollout(r, "2.0");
        assertThat(auditActions(r)).containsSubsequence("rollout.rollback", "rollout.device.flag", "rollout.rollback.done", "rollout.device.flag.clear");
        assertThat(r.audit()).filteredOn(e -> e.path("action").asText().equals("rollout.device.flag")).singleElement()
                .satisfies(e -> assertThat(e.path("target").asText()).endsWith("device:rsu-p03"));
        assertThat(r.audit()).filteredOn(e -> e.path("action").asText().equals("rollout.device.flag.clear")).singleElement()
                .satisfies(e -> assertThat(e.path("actor").asText()).isEqualTo("system:telemetry"));
        assertThat(deviceViews(st)).filteredOn(d -> d.path("device").asText().equals("rsu-p03")).singleElement()
                .satisfies(d -> assertThat(d.path("overdue").asBoolean()).isTrue());
        assertThat(kpi(st, "pilot", "rollback-rate-above").path("observed").asDouble()).isZero();
        assertThat(r.kpis()).filteredOn(s -> s.rule().startsWith("rollback-rate")).allSatisfy(s ->
                assertThat(s.points()).allSatisfy(p -> assertThat(p[1]).as("never a red 100 %% rollback rate").isZero()));
    }

    @Test
    void anInconclusiveHoldIsApprovedByAHumanWithTheJudgedValuesInTheAudit() throws Exception {
        RunReport r = run("inconclusive-hold");
        JsonNode advance = r.audit().stream().filter(e -> e.path("action").asText().equals("rollout.advance")).findFirst().orElseThrow();
        assertThat(advance.path("reason").asText()).contains("utility outage");
        String judged = advance.path("detail").toString();
        assertThat(judged).contains("judged").contains("availability-below").contains("inconclusive").contains("silent");
        assertThat(rollout(r, "2.0").path("hold").path("kind").asText()).isEqualTo("done");
    }

    @Test
    void anOutlierUnitHiddenByTheCohortMeanIsNamedWithItsValue() throws Exception {
        RunReport r = run("outlier-device");
        JsonNode f = rollout(r, "2.0").path("pauses").path(0).path("findings").path(0);
        assertThat(f.path("values").path("rsu-p05").asDouble()).isLessThan(0.95);
        assertThat(f.path("values").size()).isEqualTo(1);
        assertThat(kpi(rollout(r, "2.0"), "pilot", "availability-below").path("verdict").asText()).as("the mean hid it").isEqualTo("clear");
    }

    @Test
    void aVariantSliceBreachPausesWhileTheCohortMeanHolds() throws Exception {
        RunReport r = run("variant-slice");
        JsonNode pe = rollout(r, "2.0").path("pauses").path(0);
        assertThat(pe.path("findings").path(0).path("offending").toString()).contains("rsu-p09").contains("rsu-p10").doesNotContain("rsu-p01");
        assertThat(r.kpis()).anySatisfy(s -> assertThat(s.rule()).isEqualTo("availability-below [variant=rsu-b2]"));
        Path html = Path.of("target", "lab-reports", "variant-slice", "report.html");
        assertThat(Files.readString(html)).as("a chart per slice and the explanation naming it").contains("availability [variant=rsu-b2]")
                .contains("availability [variant=rsu-a1]").contains("slice: variant rsu-b2");
    }

    @Test
    void rushHourPausesNothingAndAReleaseWorseThanItsControlGroupPauses() throws Exception {
        RunReport r = run("control-group");
        JsonNode f = rollout(r, "2.0").path("pauses").path(0).path("findings").path(0);
        JsonNode c = f.path("control");
        assertThat(c.path("controlSize").asInt()).isEqualTo(3);
        assertThat(c.path("judgedValue").asDouble()).as("well under the absolute 2 s").isBetween(450.0, 1900.0);
        assertThat(c.path("controlValue").asDouble()).isLessThan(300.0);
        assertThat(r.timeline()).anySatisfy(e -> assertThat(e.text()).contains("rush"));
        assertThat(r.kpis()).anySatisfy(s -> assertThat(s.rule()).contains("control group"));
    }

    @Test
    void aControllerRestartedMidWindowFiresTheRuleAsIfItHadNotStopped() throws Exception {
        RunReport r = run("restart-mid-window");
        JsonNode pe = rollout(r, "2.0").path("pauses").path(0);
        Instant restart = r.timeline().stream().filter(e -> e.kind().equals("step") && e.text().startsWith("restart:")).findFirst().orElseThrow().at();
        Instant breachSince = at(pe.path("findings").path(0).path("breachSince"));
        assertThat(breachSince).as("the breach began before the restart and was carried over").isBefore(restart);
        assertThat(Duration.between(breachSince, at(pe.path("at")))).as("fired at its sustained 20 s, not later")
                .isBetween(Duration.ofSeconds(20), Duration.ofSeconds(24));
    }

    @Test
    void unitsActOnTheLatestDesiredStateAcrossPauseResumeAndACorridorComingBackAtOnce() throws Exception {
        RunReport r = run("offline-corridor");
        for (String d : List.of("rsu-p01", "rsu-p02", "rsu-p03", "rsu-w01", "rsu-w02", "rsu-w03", "rsu-w04")) {
            assertThat(device(r, d).downloads()).as(d + " downloaded one bundle").containsExactly("2.0");
        }
        assertThat(r.timeline()).anySatisfy(e -> assertThat(e.text()).contains("resumes"));
    }

    @Test
    void incompatibleVariantInAWaveIsBlockedWithAReasonAndTheRestProceeds() throws Exception {
        RunReport r = run("incompatible-variant");
        RunReport.Cohort wave = r.cohorts().stream().filter(c -> c.name().equals("wave-1")).findFirst().orElseThrow();
        assertThat(wave.members()).containsExactly("rsu-w11", "rsu-w12");
        assertThat(wave.excluded()).singleElement().satisfies(e -> {
            assertThat(e.path("device").asText()).isEqualTo("rsu-x13");
            assertThat(e.path("code").asText()).isEqualTo("INCOMPATIBLE_VARIANT");
            assertThat(e.path("variant").asText()).isEqualTo("rsu-x9");
        });
        RunReport.Device x = device(r, "rsu-x13");
        assertThat(x.downloads()).isEmpty();
        assertThat(x.bytesFetched()).as("never sent an order").isZero();
        assertThat(r.audit()).filteredOn(e -> e.path("action").asText().equals("cohort.create") && e.path("detail").has("excluded"))
                .singleElement().satisfies(e -> assertThat(e.path("detail").path("excluded").toString()).contains("rsu-x13:INCOMPATIBLE_VARIANT"));
    }

    @Test
    void deviceOfflineForThePilotComesBackDuringTheWavesAndConverges() throws Exception {
        RunReport r = run("offline-device");
        long pilotPassed = r.timeline().stream().filter(e -> e.kind().equals("phase") && e.text().equals("phase pilot: passed"))
                .mapToLong(Timeline.Event::t).findFirst().orElseThrow();
        long poweredOn = r.timeline().stream().filter(e -> e.subject().equals("rsu-p03") && e.text().equals("power on"))
                .mapToLong(Timeline.Event::t).findFirst().orElseThrow();
        assertThat(poweredOn).as("offline for the whole pilot").isGreaterThanOrEqualTo(pilotPassed);
        RunReport.Device p03 = device(r, "rsu-p03");
        assertThat(p03.downloads()).containsExactly("2.0");
        assertThat(p03.state()).isEqualTo("activated");
    }
}
