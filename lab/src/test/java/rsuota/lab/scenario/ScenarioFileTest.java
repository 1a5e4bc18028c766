package rsuota.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.api.Test;

class ScenarioFileTest {
    static final java.util.List<String> BUNDLED = ScenarioFile.BUNDLED;

    /** The smallest runnable scenario; each bad-input case below changes one thing in it. */
    static final String MINIMAL = """
            {"fleet": [{"id": "rsu-1", "variant": "rsu-a1"}],
             "releases": [{"version": "2.0", "compatible": ["rsu-a1"]}],
             "cohorts": [{"release": "2.0", "name": "c", "kind": "canary", "members": ["rsu-1"]}],
             "rollouts": [{"release": "2.0"}],
             "timeline": [{"at": "0s", "do": "start", "release": "2.0"}],
             "expect": {"rollouts": {"2.0": "completed"}}}
            """;

    static Scenario parse(String json) throws ScenarioException {
        return ScenarioFile.parse("test.json", json.getBytes(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @FieldSource("BUNDLED")
    void everyBundledScenarioLoads(String name) throws Exception {
        Scenario s = ScenarioFile.load(name);
        assertThat(s.name()).isEqualTo(name);
        assertThat(s.title()).isNotBlank();
        assertThat(s.description()).as("says what it proves").isNotBlank();
        assertThat(s.timeline()).isNotEmpty();
    }

    @Test
    void defaultsAreTheLabsCompressedTimings() throws Exception {
        Scenario s = parse(MINIMAL);
        assertThat(s.name()).isEqualTo("test");
        assertThat(s.agent().heartbeat()).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.factory().version()).isEqualTo("1.0.0");
        assertThat(s.releases().get(0).chunkSize()).isEqualTo(64 * 1024);
        assertThat(s.releases().get(0).profile()).isEqualTo(FaultProfile.NOMINAL);
        assertThat(s.timeline().get(0).trigger()).isEqualTo(new Step.At(Duration.ZERO));
        assertThat(s.expect().holdFor()).isEqualTo(Duration.ofSeconds(1));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "misspelt field     | \"timeline\": [                  | \"timelin\": [                                           | unknown field(s) [timelin]",
            "bad duration       | \"at\": \"0s\"                    | \"at\": \"5 sec\"                                        | timeline[0].at '5 sec' is not a duration",
            "unknown action     | \"do\": \"start\"                 | \"do\": \"launch\"                                       | timeline[0].do 'launch' is not an action",
            "unknown release    | \"do\": \"start\", \"release\": \"2.0\" | \"do\": \"start\", \"release\": \"9.9\"              | '9.9' has no rollout",
            "unknown device     | \"do\": \"start\", \"release\": \"2.0\" | \"do\": \"cut\", \"devices\": [\"rsu-9\"]          | 'rsu-9' is not in the fleet",
            "no devices         | \"do\": \"start\", \"release\": \"2.0\" | \"do\": \"power-cut\"                                | timeline[0].devices is required",
            "technician command | \"do\": \"start\", \"release\": \"2.0\" | \"do\": \"technician\", \"devices\": \"all\", \"command\": \"reboot\" | timeline[0].command 'reboot' is not one of [activate, cancel, install, lock, rollback, unlock]",
            "lock without reason | \"do\": \"start\", \"release\": \"2.0\" | \"do\": \"technician\", \"devices\": \"all\", \"command\": \"lock\" | timeline[0].reason is required for rsu-agent lock",
            "small chunks       | \"compatible\": [\"rsu-a1\"]      | \"compatible\": [\"rsu-a1\"], \"chunkSize\": \"16KiB\"     | chunkSize must be within 64KiB..64MiB",
            "bad profile        | \"compatible\": [\"rsu-a1\"]      | \"compatible\": [\"rsu-a1\"], \"profile\": {\"bootHangs\": true} | releases[0].profile has unknown field(s) [bootHangs]",
            "base without format 2 | \"compatible\": [\"rsu-a1\"]   | \"compatible\": [\"rsu-a1\"], \"base\": \"1.0.0\"     | releases[0].base needs \"format\": 2",
            "unknown base       | \"compatible\": [\"rsu-a1\"]      | \"compatible\": [\"rsu-a1\"], \"format\": 2, \"base\": \"0.9\" | releases[0].base names 0.9, which is neither the factory release nor a release listed before this one",
            "base of other size | \"compatible\": [\"rsu-a1\"]      | \"compatible\": [\"rsu-a1\"], \"format\": 2, \"base\": \"1.0.0\", \"imageSize\": \"384KiB\" | releases[0].imageSize is 393216 but the image of base 1.0.0 is 262144 bytes",
            "change without base | \"compatible\": [\"rsu-a1\"]     | \"compatible\": [\"rsu-a1\"], \"format\": 2, \"change\": 0.1 | releases[0].change needs a base release",
            "change too large   | \"compatible\": [\"rsu-a1\"]      | \"compatible\": [\"rsu-a1\"], \"format\": 2, \"base\": \"1.0.0\", \"change\": 2 | releases[0].change",
            "format 3           | \"compatible\": [\"rsu-a1\"]      | \"compatible\": [\"rsu-a1\"], \"format\": 3     | releases[0].format",
    })
    void badInputIsRefusedNamingTheField(String why, String from, String to, String message) {
        String json = MINIMAL.replace(from.trim(), to.trim());
        assertThat(json).as("test case edits the scenario").isNotEqualTo(MINIMAL);
        assertThatThrownBy(() -> parse(json)).isInstanceOf(ScenarioException.class).hasMessageStartingWith("test.json: ").hasMessageContaining(message);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "controller without release | {\"devices\": [{\"devices\": \"all\", \"controller\": \"healthy\"}]} | expect.devices[0].release is required with 'controller'",
            "notBefore after by         | {\"rollouts\": {\"2.0\": {\"state\": \"completed\", \"notBefore\": \"9s\", \"by\": \"5s\"}}} | expect.rollouts.2.0.notBefore is later than 'by'",
            "never and pauses           | {\"never\": {\"pauses\": true}, \"pauses\": [{\"release\": \"2.0\"}]} | expect.never.pauses contradicts",
            "empty never.devices item   | {\"never\": {\"devices\": [{\"devices\": \"all\"}]}} | expect.never.devices[0].state or 'running' is required",
            "misspelt never field       | {\"never\": {\"pause\": true}} | expect.never has unknown field(s) [pause]",
            "field not a pointer        | {\"pauses\": [{\"release\": \"2.0\", \"fields\": {\"findings\": \"x\"}}]} | expect.pauses[0].fields.findings is not a JSON pointer",
            "share above one            | {\"maxFetchedShare\": 1.5} | expect.maxFetchedShare",
            "alert for a stranger       | {\"alerts\": [{\"release\": \"2.0\", \"kind\": \"rollback_overdue\", \"device\": \"rsu-9\"}]} | expect.alerts[0].device 'rsu-9' is not in the fleet",
    })
    void badExpectationsAreRefusedNamingTheField(String why, String expect, String message) {
        String json = MINIMAL.replace("\"expect\": {\"rollouts\": {\"2.0\": \"completed\"}}", "\"expect\": " + expect.trim());
        assertThat(json).as("test case edits the scenario").isNotEqualTo(MINIMAL);
        assertThatThrownBy(() -> parse(json)).isInstanceOf(ScenarioException.class).hasMessageStartingWith("test.json: ").hasMessageContaining(message);
    }

    @Test
    void recoveringDegradationAndHandoverPowerCutParse() throws Exception {
        Scenario s = parse(MINIMAL.replace("\"compatible\": [\"rsu-a1\"]",
                        "\"compatible\": [\"rsu-a1\"], \"profile\": {\"degrade\": {\"after\": \"5s\", \"ramp\": \"1s\", \"availability\": 0.9, \"recoverAfter\": \"8s\"}}")
                .replace("\"timeline\": [", "\"timeline\": [{\"at\": \"0s\", \"do\": \"power-cut\", \"devices\": [\"rsu-1\"], \"inHandover\": true}, "));
        assertThat(s.releases().get(0).profile().degrade().recoverAfter()).isEqualTo(Duration.ofSeconds(8));
        assertThat(s.timeline().get(0).action()).isEqualTo(new Step.PowerCut(Duration.ofSeconds(1), true));
        assertThatThrownBy(() -> parse(MINIMAL.replace("\"compatible\": [\"rsu-a1\"]",
                "\"compatible\": [\"rsu-a1\"], \"profile\": {\"degrade\": {\"after\": \"5s\", \"ramp\": \"4s\", \"recoverAfter\": \"2s\"}}")))
                .hasMessageContaining("releases[0].profile.degrade.recoverAfter is shorter than ramp");
    }

    @Test
    void aScenarioWithoutExpectationsIsRefused() {
        String without = MINIMAL.replace(",\n \"expect\": {\"rollouts\": {\"2.0\": \"completed\"}}", "");
        assertThat(without).isNotEqualTo(MINIMAL);
        assertThatThrownBy(() -> parse(without)).isInstanceOf(ScenarioException.class).hasMessageContaining("expect is required");
    }

    @Test
    void unknownBundledNameListsTheBundledOnes() {
        assertThatThrownBy(() -> ScenarioFile.load("no-such-scenario")).hasMessageContaining("happy-path").hasMessageContaining("demo");
    }

    @Test
    void sizesAndDurations() {
        assertThat(Units.size("64KiB")).isEqualTo(65536);
        assertThat(Units.size("1MiB")).isEqualTo(1 << 20);
        assertThat(Units.size("300000")).isEqualTo(300000);
        assertThat(Units.duration("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Units.config(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Units.config(Duration.ofSeconds(3))).isEqualTo("3s");
        assertThatThrownBy(() -> Units.size("64 kb")).hasMessageContaining("not a size");
    }
}
