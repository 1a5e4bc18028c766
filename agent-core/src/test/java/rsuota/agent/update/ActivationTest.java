package rsuota.agent.update;

import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.plugin.mock.platform.MockPlatform;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInputProvider;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalOutputProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import rsuota.agent.AgentException;
import rsuota.agent.activation.GpioInhibitor;
import rsuota.agent.activation.Inhibitors;
import rsuota.agent.activation.MaintenanceWindow;
import rsuota.agent.activation.WindowSchedule;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.hal.boot.Slot;
import rsuota.hal.gpio.Gpio;
import rsuota.hal.gpio.Pi4jGpio;

/**
 * Activation, commit and rollback over simulated reboots: each "reboot" runs the simulated
 * bootloader and starts a fresh engine over the same directory, as on a box.
 */
class ActivationTest {
    static final int CHUNK = 64 * 1024;
    @TempDir Path tmp;
    Path bundle;
    EngineFixture fx;

    @BeforeEach
    void setUp() throws Exception {
        bundle = new BundleBuilder(tmp).signedBy(EngineFixture.PKI, EngineFixture.PKI.signer).securityVersion(7)
                .image("rootfs", 3 * CHUNK + 7).chunkSize(CHUNK).build("act.rsub");
        fx = new EngineFixture(tmp.resolve("dev"), 1024 * 1024);
    }

    /** Installs and activates; returns the engine that asked for the reboot. */
    UpdateEngine installAndActivate() throws Exception {
        UpdateEngine e = fx.engine();
        e.order(fx.order(bundle.toString(), false));
        EngineState s = e.run();
        assertThat(s.state()).as("%s", s.lastError()).isEqualTo(UpdateState.ACTIVATING);
        assertThat(e.rebootRequested()).isTrue();
        assertThat(fx.boot.state().nextBoot()).as("trial set before the reboot").isEqualTo(Slot.B);
        return e;
    }

    /** Power-on, then a fresh agent runs until it settles or waits; health rounds every 10 s of test time. */
    EngineState rebootAndRun(int healthRounds) throws Exception {
        fx.powerOn();
        UpdateEngine e = fx.engine();
        EngineState s = e.run();
        for (int i = 0; i < healthRounds && !e.rebootRequested() && (s.state() == UpdateState.COMMITTING || s.state() == UpdateState.ROLLING_BACK); i++) {
            fx.clock.advance(Duration.ofSeconds(10));
            s = e.run();
        }
        return s;
    }

    @Test
    void healthyTrialIsCommitted() throws Exception {
        installAndActivate();
        EngineState s = rebootAndRun(20);
        assertThat(s.state()).isEqualTo(UpdateState.ACTIVATED);
        assertThat(fx.boot.booted()).isEqualTo(Slot.B);
        assertThat(fx.boot.state().nextBoot()).isEqualTo(Slot.B);
        assertThat(s.slot("B")).isEqualTo(new EngineState.SlotRecord("2.4.0", s.target().manifestDigest(), "good"));
        assertThat(s.slot("A").status()).as("previous release kept for rollback").isEqualTo("good");
        assertThat(s.securityFloor()).isEqualTo(7);
        assertThat(fx.events).extracting(EventSinkDraftState::of)
                .containsSubsequence("pending", "downloading", "verified", "awaiting_window", "activating", "committing", "activated");
        // committed means kept: many later reboots all run B (the agent marks it good at each start)
        for (int i = 0; i < 5; i++) {
            fx.powerOn();
            fx.engine();
            assertThat(fx.boot.booted()).isEqualTo(Slot.B);
        }
    }

    @Test
    void unhealthyTrialRollsBackToThePreviousSlot() throws Exception {
        fx.healthy.put(Slot.B, false);
        installAndActivate();
        EngineState s = rebootAndRun(20);
        assertThat(s.state()).isEqualTo(UpdateState.ROLLING_BACK);
        assertThat(fx.reboots).hasSize(2);
        s = rebootAndRun(20);
        assertThat(s.state()).isEqualTo(UpdateState.ROLLED_BACK);
        assertThat(fx.boot.booted()).isEqualTo(Slot.A);
        assertThat(fx.boot.state().triesLeft().get(Slot.B)).isZero();
        assertThat(s.slot("B").status()).isEqualTo("bad");
        assertThat(s.securityFloor()).as("floor unchanged by a release that was never committed").isZero();
        assertThat(fx.events.stream().filter(d -> "rolled_back".equals(d.state())).findFirst().orElseThrow().reason())
                .isEqualTo("health_failed");
    }

    @Test
    void bootThatNeverReachesTheAgentIsRolledBackAsBootFailed() throws Exception {
        installAndActivate();
        for (int i = 0; i < 3; i++) fx.boot.simulateHang(); // the watchdog resets a hung boot three times
        EngineState s = rebootAndRun(0);
        assertThat(fx.boot.booted()).isEqualTo(Slot.A);
        assertThat(s.state()).isEqualTo(UpdateState.ROLLED_BACK);
        assertThat(s.lastError().code()).isEqualTo("boot_failed");
        assertThat(fx.events.get(fx.events.size() - 1).reason()).isEqualTo("boot_failed");
        assertThat(fx.reboots).as("no further reboot").hasSize(1);
    }

    @Test
    void unhealthyPreviousSlotEndsInNeedsInvestigationWithoutLooping() throws Exception {
        fx.healthy.put(Slot.B, false);
        fx.healthy.put(Slot.A, false);
        installAndActivate();
        rebootAndRun(20);
        EngineState s = rebootAndRun(20);
        assertThat(s.state()).isEqualTo(UpdateState.NEEDS_INVESTIGATION);
        assertThat(s.lastError().code()).isEqualTo("previous_unhealthy");
        assertThat(fx.reboots).as("one activation reboot and one rollback reboot, never more").hasSize(2);
        UpdateEngine again = fx.engine();
        assertThat(again.run().state()).isEqualTo(UpdateState.NEEDS_INVESTIGATION);
        assertThat(fx.reboots).hasSize(2);
    }

    @Test
    void rollbackPastItsBudgetRaisesAnAlertAndKeepsTrying() throws Exception {
        fx.healthy.put(Slot.B, false);
        fx.rollbackBudget = Duration.ofMinutes(15);
        fx.requiredPassing = Duration.ofMinutes(30); // the old slot needs long to prove itself
        fx.commitWindow = Duration.ofHours(1);
        installAndActivate();
        rebootAndRun(5);
        EngineState s = rebootAndRun(100); // 1000 s of checks: past the 15 min budget
        assertThat(s.state()).isEqualTo(UpdateState.ROLLING_BACK);
        assertThat(fx.events).filteredOn(d -> "alert".equals(d.type())).singleElement()
                .satisfies(d -> assertThat(d.reason()).isEqualTo("ROLLBACK_BUDGET_EXCEEDED"));
        s = rebootAndRun(200);
        assertThat(s.state()).isEqualTo(UpdateState.ROLLED_BACK);
        assertThat(fx.events).filteredOn(d -> "alert".equals(d.type())).hasSize(1);
    }

    @Test
    void anAgentThatKeepsCrashingDuringTheCommitWindowRollsBack() throws Exception {
        fx.requiredPassing = Duration.ofMinutes(5);
        installAndActivate();
        fx.powerOn();
        assertThat(fx.engine().run().state()).isEqualTo(UpdateState.COMMITTING);
        // systemd restarts a crashing agent: each start re-enters COMMITTING
        for (int i = 0; i < UpdateEngine.MAX_COMMIT_RESTARTS; i++) fx.engine();
        UpdateEngine e = fx.engine();
        EngineState s = e.run();
        assertThat(s.state()).isEqualTo(UpdateState.ROLLING_BACK);
        assertThat(s.lastError().message()).contains("restarted");
        assertThat(e.rebootRequested()).isTrue();
        assertThat(rebootAndRun(40).state()).as("old slot passes its 5 min check").isEqualTo(UpdateState.ROLLED_BACK);
        assertThat(fx.boot.booted()).isEqualTo(Slot.A);
    }

    @Test
    void aPauseHoldsActivationOfADownloadInFlight() throws Exception {
        UpdateEngine[] e = new UpdateEngine[1];
        boolean[] held = {false};
        fx.hook = new CrashHook() {
            @Override
            public void at(String point) {
                if (point.startsWith("chunk-journaled") && !held[0]) {
                    try {
                        held[0] = e[0].holdActivation("rollout paused");
                    } catch (java.io.IOException ex) {
                        throw new AssertionError(ex);
                    }
                }
            }
        };
        e[0] = fx.engine();
        e[0].order(fx.order(bundle.toString(), false));
        EngineState s = e[0].run();
        assertThat(held[0]).isTrue();
        assertThat(s.state()).as("stops at verified: no activation while paused").isEqualTo(UpdateState.VERIFIED);
        assertThat(e[0].rebootRequested()).isFalse();
        assertThat(new StateStore(fx.stateDir).load(Instant.now()).order().downloadOnly()).as("persisted").isTrue();
    }

    /** A desired state of the same bundle with a newer rev, as the daemon maps it. */
    static EngineState.Order rev(String source, long rev, boolean downloadOnly) {
        return new EngineState.Order(source, null, null, rev, downloadOnly, null);
    }

    static long headerFetches(rsuota.fixtures.net.RangeFileServer server) {
        return server.rangeHeaders().stream().filter(r -> r != null && r.startsWith("bytes=0-")).count();
    }

    @Test
    void aPauseAndAResumeDuringTheDownloadAreAdoptedWithoutFetchingTheHeaderAgain() throws Exception {
        Path www = Files.createDirectories(tmp.resolve("www"));
        Files.copy(bundle, www.resolve("b.rsub"));
        try (var server = rsuota.fixtures.net.RangeFileServer.start(www)) {
            String url = server.uri("/b.rsub").toString();
            UpdateEngine[] e = new UpdateEngine[1];
            boolean[] done = {false};
            fx.hook = new CrashHook() {
                @Override
                public void at(String point) {
                    if (point.startsWith("chunk-journaled") && !done[0]) {
                        done[0] = true;
                        try {
                            e[0].adopt(rev(url, 2, true)); // the rollout paused
                            e[0].adopt(rev(url, 3, false)); // and resumed
                            e[0].adopt(rev(url, 2, true)); // a stale rev re-delivered: ignored
                        } catch (java.io.IOException | AgentException ex) {
                            throw new AssertionError(ex);
                        }
                    }
                }
            };
            e[0] = fx.engine();
            e[0].order(rev(url, 1, false));
            EngineState s = e[0].run();
            assertThat(done[0]).isTrue();
            assertThat(s.order().rev()).as("reports carry the newest rev").isEqualTo(3);
            assertThat(s.order().downloadOnly()).isFalse();
            assertThat(e[0].rebootRequested()).as("the resumed activation went ahead").isTrue();
            assertThat(headerFetches(server)).as("one header for one target").isEqualTo(1);
        }
    }

    @Test
    void aNewerRevBeforeTheHeaderArrivedDoesNotRestartTheDownloadAndAResumeAtVerifiedActivates() throws Exception {
        Path www = Files.createDirectories(tmp.resolve("www"));
        Files.copy(bundle, www.resolve("b.rsub"));
        try (var server = rsuota.fixtures.net.RangeFileServer.start(www)) {
            String url = server.uri("/b.rsub").toString();
            UpdateEngine e = fx.engine();
            e.order(rev(url, 1, false));
            assertThat(e.state().state()).isEqualTo(UpdateState.PENDING);
            assertThat(e.adopt(rev(url, 2, true))).contains("adopted while pending");
            EngineState s = e.run();
            assertThat(s.state()).as("held: download only").isEqualTo(UpdateState.VERIFIED);
            assertThat(new StateStore(fx.stateDir).load(Instant.now()).order().rev()).as("persisted").isEqualTo(2);
            assertThat(e.adopt(rev(url, 3, false))).contains("activates the verified release");
            e.run();
            assertThat(e.rebootRequested()).isTrue();
            assertThat(headerFetches(server)).isEqualTo(1);
        }
    }

    @Test
    void aPauseCallsOffAnActivationWaitingForItsWindow() throws Exception {
        fx.schedule = WindowSchedule.of(List.of(MaintenanceWindow.parse("Mon-Fri 01:00-04:00 Europe/Berlin")));
        UpdateEngine e = fx.engine();
        e.order(fx.order(bundle.toString(), false));
        assertThat(e.run().state()).isEqualTo(UpdateState.AWAITING_WINDOW);
        assertThat(e.holdActivation("rollout paused")).isTrue();
        fx.clock.set(Instant.parse("2026-11-30T00:30:00Z")); // inside the window now
        assertThat(e.run().state()).isEqualTo(UpdateState.VERIFIED);
        assertThat(e.rebootRequested()).isFalse();
    }

    @Test
    void rollbackOfAReleaseThatNeverActivatedIsDoneAtOnce() throws Exception {
        UpdateEngine e = fx.engine();
        e.order(fx.order(bundle.toString(), true));
        assertThat(e.run().state()).isEqualTo(UpdateState.VERIFIED);
        e.rollback("controller rollback");
        EngineState s = e.run();
        assertThat(s.state()).isEqualTo(UpdateState.ROLLED_BACK);
        assertThat(fx.events.get(fx.events.size() - 1).reason()).isEqualTo("never_activated");
        assertThat(fx.boot.state().nextBoot()).isEqualTo(Slot.A);
        assertThat(fx.reboots).isEmpty();
    }

    @Test
    void commandedRollbackReturnsToThePreviousRelease() throws Exception {
        installAndActivate();
        assertThat(rebootAndRun(20).state()).isEqualTo(UpdateState.ACTIVATED);
        UpdateEngine e = fx.engine();
        e.rollback("operator: KPI regression in corridor 7");
        assertThat(e.run().state()).isEqualTo(UpdateState.ROLLING_BACK);
        assertThat(fx.boot.state().nextBoot()).isEqualTo(Slot.A);
        EngineState s = rebootAndRun(20);
        assertThat(s.state()).isEqualTo(UpdateState.ROLLED_BACK);
        assertThat(fx.boot.booted()).isEqualTo(Slot.A);
        assertThat(fx.boot.state().triesLeft().get(Slot.B)).isZero();
    }

    @Test
    void aSecondReleaseActivatesAfterTheFirstWasCommitted() throws Exception {
        installAndActivate();
        assertThat(rebootAndRun(20).state()).isEqualTo(UpdateState.ACTIVATED);
        Path next = new BundleBuilder(tmp).signedBy(EngineFixture.PKI, EngineFixture.PKI.signer).release("2.5.0").securityVersion(8)
                .image("rootfs", 2 * CHUNK).chunkSize(CHUNK).seed(7).build("next.rsub");
        UpdateEngine e = fx.engine();
        e.order(fx.order(next.toString(), false));
        EngineState s = e.run();
        assertThat(s.state()).as("the first activation's record must not stop the second").isEqualTo(UpdateState.ACTIVATING);
        assertThat(fx.boot.state().nextBoot()).isEqualTo(Slot.A);
        s = rebootAndRun(20);
        assertThat(s.state()).isEqualTo(UpdateState.ACTIVATED);
        assertThat(s.slot("A").release()).isEqualTo("2.5.0");
    }

    @Test
    void commandedRollbackWithoutAPreviousSlotSaysSo() throws Exception {
        UpdateEngine e = fx.engine();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> e.rollback("why"))
                .isInstanceOf(AgentException.class).hasMessageContaining("not a new one");
    }

    @Test
    void activationWaitsForTheMaintenanceWindow() throws Exception {
        // Mon-Fri 01:00-04:00 Berlin; the test clock starts Friday 2026-11-27 13:00 Berlin
        fx.schedule = WindowSchedule.of(List.of(MaintenanceWindow.parse("Mon-Fri 01:00-04:00 Europe/Berlin")));
        UpdateEngine e = fx.engine();
        e.order(fx.order(bundle.toString(), false));
        EngineState s = e.run();
        assertThat(s.state()).isEqualTo(UpdateState.AWAITING_WINDOW);
        assertThat(e.waitingFor()).contains("Mon-Fri 01:00-04:00 Europe/Berlin").contains("2026-11-30T01:00");
        fx.clock.set(Instant.parse("2026-11-28T00:30:00Z")); // Saturday 01:30 Berlin: not a weekday
        assertThat(e.run().state()).isEqualTo(UpdateState.AWAITING_WINDOW);
        fx.clock.set(Instant.parse("2026-11-30T00:00:01Z")); // Monday 01:00:01 Berlin
        assertThat(e.run().state()).isEqualTo(UpdateState.ACTIVATING);
        assertThat(e.rebootRequested()).isTrue();
    }

    @Test
    void orderWindowNarrowsAndActivateAfterDelays() throws Exception {
        UpdateEngine e = fx.engine();
        e.order(new EngineState.Order(bundle.toString(), null, null, 3, false, "r1", "Sat-Sun 02:00-03:00 UTC",
                Instant.parse("2026-12-01T00:00:00Z")));
        EngineState s = e.run();
        assertThat(s.state()).isEqualTo(UpdateState.AWAITING_WINDOW);
        fx.clock.set(Instant.parse("2026-11-28T02:30:00Z")); // a Saturday window, but before activateAfter
        assertThat(e.run().state()).isEqualTo(UpdateState.AWAITING_WINDOW);
        fx.clock.set(Instant.parse("2026-12-05T02:30:00Z"));
        assertThat(e.run().state()).isEqualTo(UpdateState.ACTIVATING);
    }

    @Test
    void cabinetDoorOpenHoldsActivationThroughThePi4jMock() throws Exception {
        Context ctx = Pi4J.newContextBuilder().add(new MockPlatform())
                .add(MockDigitalInputProvider.newInstance(), MockDigitalOutputProvider.newInstance()).build();
        try (Pi4jGpio gpio = new Pi4jGpio(ctx, MockDigitalInputProvider.ID, MockDigitalOutputProvider.ID)) {
            Gpio.Input door = gpio.input(new Gpio.InputPin("door", 17, Gpio.Pull.UP));
            MockDigitalInput pin = (MockDigitalInput) ctx.registry().get("door", DigitalInput.class);
            pin.mockState(DigitalState.HIGH); // open
            fx.inhibitors = new Inhibitors(List.of(new GpioInhibitor("door", door, true, "cabinet door open")));
            fx.schedule = WindowSchedule.of(List.of(MaintenanceWindow.parse("daily 11:00-14:00 UTC")));
            UpdateEngine e = fx.engine();
            e.order(fx.order(bundle.toString(), false));
            assertThat(e.run().state()).isEqualTo(UpdateState.AWAITING_WINDOW);
            assertThat(e.waitingFor()).contains("cabinet door open");
            assertThat(e.rebootRequested()).isFalse();
            pin.mockState(DigitalState.LOW); // closed, inside the window
            assertThat(e.run().state()).isEqualTo(UpdateState.ACTIVATING);
            assertThat(e.rebootRequested()).isTrue();
        }
    }

    @Test
    void technicianLockHoldsActivation() throws Exception {
        new rsuota.agent.activation.TechnicianLock(fx.stateDir).lock("replacing the radio", "tech", fx.clock.instant());
        fx.inhibitors = new Inhibitors(List.of(new rsuota.agent.activation.TechnicianLock(fx.stateDir)));
        UpdateEngine e = fx.engine();
        e.order(fx.order(bundle.toString(), false));
        assertThat(e.run().state()).isEqualTo(UpdateState.AWAITING_WINDOW);
        assertThat(e.waitingFor()).contains("replacing the radio");
        new rsuota.agent.activation.TechnicianLock(fx.stateDir).unlock();
        assertThat(e.run().state()).isEqualTo(UpdateState.ACTIVATING);
    }

    // ---- power cuts at every persisted step of activation, commit and rollback -----------------

    static Stream<Arguments> powerCuts() {
        return Stream.of(
                Arguments.of("persisted:AWAITING_WINDOW", true), Arguments.of("persisted:ACTIVATING", true),
                Arguments.of("trial-set", true), Arguments.of("persisted:COMMITTING", true), Arguments.of("persisted:ACTIVATED", true),
                Arguments.of("persisted:ACTIVATING", false), Arguments.of("trial-set", false), Arguments.of("persisted:COMMITTING", false),
                Arguments.of("persisted:ROLLING_BACK", false), Arguments.of("rollback-set", false), Arguments.of("persisted:ROLLED_BACK", false));
    }

    @ParameterizedTest(name = "power cut at {0} (new release healthy: {1})")
    @MethodSource("powerCuts")
    void powerCutAtEveryStepEndsWhereItShould(String point, boolean healthyRelease) throws Exception {
        fx.healthy.put(Slot.B, healthyRelease);
        fx.hook = new CrashHook() {
            @Override
            public void at(String p) {
                if (p.equals(point)) throw new SimulatedCrash(p);
            }
        };
        boolean crashed = false;
        // drive the whole story; a crash means power is gone: the box boots again and a new agent starts
        UpdateEngine e = fx.engine();
        e.order(fx.order(bundle.toString(), false));
        EngineState s = null;
        for (int step = 0; step < 60; step++) {
            try {
                s = e.run();
                if (e.rebootRequested()) {
                    fx.powerOn();
                    e = fx.engine();
                } else if (s.state() == UpdateState.COMMITTING || s.state() == UpdateState.ROLLING_BACK) {
                    fx.clock.advance(Duration.ofSeconds(10));
                } else {
                    break;
                }
            } catch (CrashHook.SimulatedCrash c) {
                crashed = true;
                fx.hook = CrashHook.NONE;
                fx.powerOn();
                e = fx.engine();
            }
        }
        assertThat(crashed).as("the power cut happened").isTrue();
        assertThat(s.state()).as("%s", s.lastError()).isEqualTo(healthyRelease ? UpdateState.ACTIVATED : UpdateState.ROLLED_BACK);
        assertThat(fx.boot.booted()).isEqualTo(healthyRelease ? Slot.B : Slot.A);
        // and the box keeps booting the right slot
        fx.powerOn();
        fx.engine();
        assertThat(fx.boot.booted()).isEqualTo(healthyRelease ? Slot.B : Slot.A);
    }

    /** Extracts the reported state of an event draft (for readable assertions). */
    static final class EventSinkDraftState {
        static String of(rsuota.agent.report.EventSink.Draft d) {
            return d.state();
        }
    }
}
