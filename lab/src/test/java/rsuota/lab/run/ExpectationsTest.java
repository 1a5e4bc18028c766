package rsuota.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import rsuota.lab.device.SimulatedDevice;
import rsuota.lab.scenario.Scenario;
import rsuota.lab.scenario.ScenarioFile;

/**
 * The scenario format's checks, fed hand-made observations: timings, "never", the controller's
 * view of a unit, either-release, pause explanations, alerts. Each case parses a real scenario
 * file, so the parser and the checks are tested together.
 */
class ExpectationsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Instant ZERO = Instant.parse("2026-12-04T10:00:00Z");

    static Scenario.Expect expect(String expectJson) throws Exception {
        String file = """
                {"fleet": [{"ids": ["rsu-1", "rsu-2"], "variant": "rsu-a1"}],
                 "releases": [{"version": "2.0", "compatible": ["rsu-a1"]}],
                 "rollouts": [{"release": "2.0"}],
                 "timeline": [{"id": "go", "at": "0s", "do": "start", "release": "2.0"}],
                 "expect": %s}
                """.formatted(expectJson);
        return ScenarioFile.parse("t.json", file.getBytes(StandardCharsets.UTF_8)).expect();
    }

    static SimulatedDevice.Status device(String id, String state, String running) {
        return new SimulatedDevice.Status(id, "rsu-a1", "c1", true, true, state, running, "2.0", null, null, null, 0, ZERO, 1, 0, 0);
    }

    static Expectations.Observed observed(Duration elapsed, String rolloutJson, SimulatedDevice.Status... devices) throws Exception {
        Map<String, SimulatedDevice.Status> ds = new LinkedHashMap<>();
        for (SimulatedDevice.Status d : devices) ds.put(d.id(), d);
        Map<String, JsonNode> rollouts = rolloutJson == null ? Map.of() : Map.of("2.0", JSON.readTree(rolloutJson));
        Map<String, long[]> bytes = new LinkedHashMap<>();
        ds.keySet().forEach(id -> bytes.put(id, new long[] {0, 1, 0, 0}));
        return new Expectations.Observed(ds, rollouts, Map.of(), bytes, Map.of("go", ZERO), ZERO, elapsed);
    }

    @Test
    void maxFetchedShareHoldsPerUnitAgainstTheFullSizeOfItsBundles() throws Exception {
        Scenario.Expect x = expect("{\"maxFetchedShare\": 0.25}");
        Expectations.Observed o = observed(Duration.ZERO, null, device("rsu-1", "activated", "2.0"), device("rsu-2", "activated", "2.0"));
        o.bytes().put("rsu-1", new long[] {20_000, 900_000, 0, 100_000});
        o.bytes().put("rsu-2", new long[] {25_000, 900_000, 0, 100_000});
        assertThat(Expectations.unmet(x, o)).isEmpty();
        o.bytes().put("rsu-2", new long[] {40_000, 900_000, 0, 100_000});
        assertThat(Expectations.unmet(x, o)).containsExactly("rsu-2 fetched 40000 bytes, 40.0% of its bundles' 100000: more than maxFetchedShare 25.0%");
        o.bytes().put("rsu-2", new long[] {0, 0, 0, 0});
        assertThat(Expectations.unmet(x, o)).containsExactly("rsu-2 downloaded no bundle, so it saved nothing");
    }

    @Test
    void eitherReleaseIsAcceptedWhenTheScenarioListsBoth() throws Exception {
        Scenario.Expect x = expect("{\"devices\": [{\"devices\": \"all\", \"running\": [\"1.0.0\", \"2.0\"]}]}");
        assertThat(Expectations.unmet(x, observed(Duration.ZERO, null, device("rsu-1", "activated", "2.0"), device("rsu-2", "rolled_back", "1.0.0"))))
                .isEmpty();
        assertThat(Expectations.unmet(x, observed(Duration.ZERO, null, device("rsu-1", "activated", "2.1"), device("rsu-2", "idle", "1.0.0"))))
                .containsExactly("rsu-1 runs 2.1, expected 1.0.0 or 2.0");
    }

    @Test
    void byFailsTheRunOnceItPassesUnmetAndNotBeforeFailsAnEarlyHold() throws Exception {
        Scenario.Expect x = expect("{\"rollouts\": {\"2.0\": {\"state\": \"completed\", \"notBefore\": \"5s\", \"by\": \"20s\"}}}");
        Expectations.Judge late = new Expectations.Judge(x);
        assertThat(late.observe(observed(Duration.ofSeconds(10), "{\"state\": \"running\"}"))).containsExactly("rollout 2.0 is running, expected completed");
        assertThat(late.failed()).isEmpty();
        late.observe(observed(Duration.ofSeconds(21), "{\"state\": \"running\"}"));
        assertThat(late.failed()).singleElement().asString().contains("rollout 2.0 did not hold by lab 20 s");
        assertThat(late.observe(observed(Duration.ofSeconds(22), "{\"state\": \"completed\"}"))).as("final: a late success does not undo it")
                .isNotEmpty();

        Expectations.Judge early = new Expectations.Judge(x);
        early.observe(observed(Duration.ofSeconds(2), "{\"state\": \"completed\"}"));
        assertThat(early.failed()).singleElement().asString().contains("held at lab 2 s, earlier than its notBefore 5 s");

        Expectations.Judge inTime = new Expectations.Judge(x);
        inTime.observe(observed(Duration.ofSeconds(4), "{\"state\": \"running\"}"));
        assertThat(inTime.observe(observed(Duration.ofSeconds(8), "{\"state\": \"completed\"}"))).isEmpty();
        assertThat(inTime.observe(observed(Duration.ofSeconds(30), "{\"state\": \"completed\"}"))).isEmpty();
    }

    @Test
    void aPauseIsTimedByItsOwnEventTime() throws Exception {
        Scenario.Expect x = expect("{\"pauses\": [{\"release\": \"2.0\", \"cause\": \"rule\", \"notBefore\": \"10s\"}]}");
        String pausedAt8 = "{\"state\": \"paused\", \"pauses\": [{\"id\": 1, \"cause\": \"RULE\", \"at\": \"" + ZERO.plusSeconds(8) + "\", \"reason\": \"r\"}]}";
        Expectations.Judge j = new Expectations.Judge(x);
        j.observe(observed(Duration.ofSeconds(12), pausedAt8));
        assertThat(j.failed()).singleElement().asString().contains("pauses[0] held at lab 8 s, earlier than its notBefore 10 s");
    }

    @Test
    void neverPausesAndNeverAnAlertFailAtTheFirstSighting() throws Exception {
        Scenario.Expect x = expect("{\"rollouts\": {\"2.0\": \"completed\"}, \"never\": {\"pauses\": true, \"alerts\": [\"rollback_overdue\"],"
                + " \"rollouts\": {\"2.0\": [\"rolling_back\"]}, \"devices\": [{\"devices\": [\"rsu-2\"], \"running\": \"2.1\"}]}}");
        Expectations.Judge clean = new Expectations.Judge(x);
        assertThat(clean.observe(observed(Duration.ofSeconds(1), "{\"state\": \"completed\", \"pauses\": [], \"alerts\": []}",
                device("rsu-2", "activated", "2.0")))).isEmpty();

        Expectations.Judge alerted = new Expectations.Judge(x);
        alerted.observe(observed(Duration.ofSeconds(1), "{\"state\": \"rolling_back\", \"alerts\": [{\"kind\": \"rollback_overdue\", \"deviceId\": \"rsu-1\"}]}"));
        assertThat(alerted.failed()).hasSize(2).anySatisfy(f -> assertThat(f).contains("rollback_overdue alert was raised").contains("rsu-1"))
                .anySatisfy(f -> assertThat(f).contains("rollout 2.0 was rolling_back"));
        assertThat(alerted.observe(observed(Duration.ofSeconds(2), "{\"state\": \"completed\", \"alerts\": []}"))).as("stays failed").hasSize(2);

        Expectations.Judge ran = new Expectations.Judge(x);
        ran.observe(observed(Duration.ofSeconds(1), "{\"state\": \"completed\"}", device("rsu-2", "activated", "2.1")));
        assertThat(ran.failed()).containsExactly("rsu-2 ran 2.1, which it must never do");
    }

    @Test
    void theControllersViewOfAUnitMatchesItsBucketStateResultOrFlag() throws Exception {
        Scenario.Expect x = expect("{\"devices\": [{\"devices\": [\"rsu-1\"], \"release\": \"2.0\", \"controller\": \"needs_investigation\"}]}");
        String flagged = "{\"phases\": [{\"devices\": [{\"device\": \"rsu-1\", \"bucket\": \"rollback_pending\", \"state\": \"rolling_back\","
                + " \"rollbackResult\": \"needs_investigation\"}]}]}";
        String pending = "{\"phases\": [{\"devices\": [{\"device\": \"rsu-1\", \"bucket\": \"rollback_pending\", \"state\": \"rolling_back\"}]}]}";
        assertThat(Expectations.unmet(x, observed(Duration.ZERO, flagged, device("rsu-1", "rolling_back", "2.0")))).isEmpty();
        assertThat(Expectations.unmet(x, observed(Duration.ZERO, pending, device("rsu-1", "rolling_back", "2.0"))))
                .containsExactly("the controller shows rsu-1 as bucket rollback_pending, state rolling_back in the rollout of 2.0, expected needs_investigation");
        assertThat(Expectations.unmet(x, observed(Duration.ZERO, "{\"phases\": []}", device("rsu-1", "idle", "1.0.0"))))
                .containsExactly("rsu-1 is not in the rollout of 2.0");
    }

    @Test
    void pauseExplanationMustMentionTheWordsAndHoldTheFields() throws Exception {
        Scenario.Expect x = expect("{\"pauses\": [{\"release\": \"2.0\", \"mentions\": [\"variant rsu-b1\", \"rsu-p02\"],"
                + " \"fields\": {\"/findings/0/offending/0\": \"rsu-p02\"}}]}");
        String named = "{\"pauses\": [{\"id\": 4, \"cause\": \"RULE\", \"at\": \"" + ZERO + "\", \"reason\": \"rule availability-below on variant rsu-b1\","
                + " \"findings\": [{\"rule\": \"availability-below\", \"offending\": [\"rsu-p02\"]}]}]}";
        String vague = "{\"pauses\": [{\"id\": 4, \"cause\": \"RULE\", \"at\": \"" + ZERO + "\", \"reason\": \"rule availability-below on cohort pilot\","
                + " \"findings\": [{\"rule\": \"availability-below\", \"offending\": []}]}]}";
        assertThat(Expectations.unmet(x, observed(Duration.ZERO, named))).isEmpty();
        List<String> unmet = Expectations.unmet(x, observed(Duration.ZERO, vague));
        assertThat(unmet).anySatisfy(u -> assertThat(u).contains("does not mention 'variant rsu-b1'").contains("does not mention 'rsu-p02'")
                .contains("/findings/0/offending/0 is absent, expected 'rsu-p02'"));
        assertThat(unmet).anySatisfy(u -> assertThat(u).startsWith("unexpected pause of 2.0"));
    }

    @Test
    void anAlertIsFoundByKindAndDevice() throws Exception {
        Scenario.Expect x = expect("{\"alerts\": [{\"release\": \"2.0\", \"kind\": \"rollback_overdue\", \"device\": \"rsu-2\", \"by\": \"30s\"}]}");
        String other = "{\"alerts\": [{\"kind\": \"rollback_overdue\", \"deviceId\": \"rsu-1\", \"at\": \"" + ZERO.plusSeconds(3) + "\"}]}";
        String mine = "{\"alerts\": [{\"kind\": \"rollback_overdue\", \"deviceId\": \"rsu-2\", \"at\": \"" + ZERO.plusSeconds(31) + "\"}]}";
        assertThat(Expectations.unmet(x, observed(Duration.ofSeconds(5), other))).containsExactly("no rollback_overdue alert in the rollout of 2.0 for rsu-2");
        Expectations.Judge j = new Expectations.Judge(x);
        j.observe(observed(Duration.ofSeconds(32), mine));
        assertThat(j.failed()).as("raised at 31 s, its 'by' was 30 s").isNotEmpty();
    }
}
