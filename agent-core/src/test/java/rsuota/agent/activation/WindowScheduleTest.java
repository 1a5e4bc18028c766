package rsuota.agent.activation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Every "now" is an explicit instant (an injected fixed Clock where the engine would use one); all
 * local times are Europe/Berlin unless noted: CET = UTC+1, CEST = UTC+2.
 */
class WindowScheduleTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    private static Instant berlin(String localDateTime) {
        return ZonedDateTime.of(java.time.LocalDateTime.parse(localDateTime), BERLIN).toInstant();
    }

    private static Instant utc(String s) {
        return Instant.parse(s);
    }

    private static WindowSchedule schedule(String... windows) {
        return WindowSchedule.of(java.util.Arrays.stream(windows).map(MaintenanceWindow::parse).toList());
    }

    @Nested
    class BeforeInsideAfter {
        // 2026-11-30 is a Monday.
        final WindowSchedule s = schedule("Mon-Fri 01:00-04:00 Europe/Berlin");

        @Test
        void before() {
            Instant now = Clock.fixed(berlin("2026-11-30T00:30"), BERLIN).instant();
            assertThat(s.isOpen(now)).isFalse();
            assertThat(s.current(now)).isEmpty();
            assertThat(s.nextOpening(now)).contains(berlin("2026-11-30T01:00"));
            assertThat(s.describe(now)).isEqualTo("waiting for Mon-Fri 01:00-04:00 Europe/Berlin, next opens 2026-11-30T01:00+01:00");
        }

        @Test
        void inside() {
            Instant now = berlin("2026-11-30T02:00");
            assertThat(s.isOpen(now)).isTrue();
            assertThat(s.current(now)).contains(new Interval(berlin("2026-11-30T01:00"), berlin("2026-11-30T04:00")));
            assertThat(s.nextOpening(now)).contains(now);
            assertThat(s.describe(now)).isEqualTo("open: Mon-Fri 01:00-04:00 Europe/Berlin, closes 2026-11-30T04:00+01:00");
        }

        @Test
        void theOpeningInstantIsInsideAndTheClosingInstantIsNot() {
            assertThat(s.isOpen(berlin("2026-11-30T01:00"))).isTrue();
            assertThat(s.isOpen(berlin("2026-11-30T04:00"))).isFalse();
            assertThat(s.isOpen(berlin("2026-11-30T04:00").minusNanos(1))).isTrue();
        }

        @Test
        void afterGoesToTheNextDayAndFridayToMonday() {
            assertThat(s.nextOpening(berlin("2026-11-30T04:00"))).contains(berlin("2026-12-01T01:00"));
            assertThat(s.nextOpening(berlin("2026-12-04T05:00"))).contains(berlin("2026-12-07T01:00"));
            assertThat(s.nextOpening(berlin("2026-12-05T12:00"))).contains(berlin("2026-12-07T01:00"));
        }

        @Test
        void aWindowMissedWhileOfflineWaitsForTheNextOneWithoutCatchUp() {
            // The box was offline from Monday 00:00 until Wednesday 12:00: Monday's to Wednesday's windows are gone.
            Instant back = berlin("2026-12-02T12:00");
            assertThat(s.isOpen(back)).isFalse();
            assertThat(s.nextOpening(back)).contains(berlin("2026-12-03T01:00"));
            // Three weeks later it is still only "the next one".
            assertThat(s.nextOpening(back.plus(Duration.ofDays(21)))).contains(berlin("2026-12-24T01:00"));
        }
    }

    @Nested
    class Midnight {
        final WindowSchedule s = schedule("Fri 23:00-02:00 Europe/Berlin");

        @Test
        void aFridayNightWindowIsOpenOnSaturdayMorning() {
            Instant sat0100 = berlin("2026-12-05T01:00");
            assertThat(s.isOpen(sat0100)).isTrue();
            assertThat(s.current(sat0100)).contains(new Interval(berlin("2026-12-04T23:00"), berlin("2026-12-05T02:00")));
            assertThat(s.isOpen(berlin("2026-12-04T23:30"))).isTrue();
        }

        @Test
        void itIsClosedAfterItsEndAndOnOtherNights() {
            assertThat(s.isOpen(berlin("2026-12-05T02:00"))).isFalse();
            assertThat(s.isOpen(berlin("2026-12-05T23:30"))).as("Saturday night is not Friday night").isFalse();
            assertThat(s.isOpen(berlin("2026-12-04T01:00"))).as("Friday early morning belongs to Thursday").isFalse();
            assertThat(s.nextOpening(berlin("2026-12-05T02:00"))).contains(berlin("2026-12-11T23:00"));
        }

        @Test
        void anEndOf2400ClosesAtTheNextMidnight() {
            WindowSchedule late = schedule("Sun 22:00-24:00 UTC");
            assertThat(late.current(utc("2026-12-06T23:00:00Z")))
                    .contains(new Interval(utc("2026-12-06T22:00:00Z"), utc("2026-12-07T00:00:00Z")));
        }
    }

    @Nested
    class DaylightSavingForward {
        // 2026-03-29 (Sunday): at 02:00 CET the clocks jump to 03:00 CEST (01:00 UTC).

        @Test
        void aStartInTheSkippedHourOpensWhenTheClocksJump() {
            WindowSchedule s = schedule("daily 02:30-04:00 Europe/Berlin");
            assertThat(s.nextOpening(utc("2026-03-29T00:00:00Z"))).contains(utc("2026-03-29T01:00:00Z"));
            assertThat(s.current(utc("2026-03-29T01:30:00Z")))
                    .contains(new Interval(utc("2026-03-29T01:00:00Z"), utc("2026-03-29T02:00:00Z")));
            assertThat(s.isOpen(utc("2026-03-29T00:59:59Z"))).isFalse();
            // The day before and after keep their nominal 90 minutes.
            assertThat(s.current(berlin("2026-03-28T03:00")).orElseThrow().duration()).isEqualTo(Duration.ofMinutes(90));
            assertThat(s.current(berlin("2026-03-30T03:00")).orElseThrow().duration()).isEqualTo(Duration.ofMinutes(90));
        }

        @Test
        void aWindowAcrossTheJumpIsAnHourShorterInRealTime() {
            WindowSchedule s = schedule("Sun 01:00-04:00 Europe/Berlin");
            Interval i = s.current(utc("2026-03-29T01:00:00Z")).orElseThrow();
            assertThat(i).isEqualTo(new Interval(utc("2026-03-29T00:00:00Z"), utc("2026-03-29T02:00:00Z")));
            assertThat(s.describe(utc("2026-03-29T01:00:00Z")))
                    .isEqualTo("open: Sun 01:00-04:00 Europe/Berlin, closes 2026-03-29T04:00+02:00");
        }

        @Test
        void aWindowWhollyInsideTheSkippedHourDoesNotOpenThatDay() {
            WindowSchedule s = schedule("Sun 02:15-02:45 Europe/Berlin");
            assertThat(s.nextOpening(utc("2026-03-28T12:00:00Z"))).contains(berlin("2026-04-05T02:15"));
        }

        @Test
        void aMidnightSpanningWindowEndingInTheSkippedHourClosesWhenTheClocksJump() {
            WindowSchedule s = schedule("Sat 23:00-02:30 Europe/Berlin");
            assertThat(s.current(utc("2026-03-28T23:00:00Z")))
                    .contains(new Interval(utc("2026-03-28T22:00:00Z"), utc("2026-03-29T01:00:00Z")));
        }
    }

    @Nested
    class DaylightSavingBack {
        // 2026-10-25 (Sunday): at 03:00 CEST the clocks go back to 02:00 CET (01:00 UTC); 02:00-03:00 happens twice.

        @Test
        void aStartInTheRepeatedHourMeansItsFirstOccurrence() {
            WindowSchedule s = schedule("daily 02:30-03:30 Europe/Berlin");
            // 02:30 CEST = 00:30 UTC; 03:30 exists once (CET) = 02:30 UTC: two real hours that day.
            assertThat(s.current(utc("2026-10-25T01:00:00Z")))
                    .contains(new Interval(utc("2026-10-25T00:30:00Z"), utc("2026-10-25T02:30:00Z")));
            assertThat(s.nextOpening(utc("2026-10-25T00:00:00Z"))).contains(utc("2026-10-25T00:30:00Z"));
            assertThat(s.describe(utc("2026-10-25T00:00:00Z")))
                    .isEqualTo("waiting for daily 02:30-03:30 Europe/Berlin, next opens 2026-10-25T02:30+02:00");
        }

        @Test
        void aWindowInsideTheRepeatedHourOpensOnlyOnce() {
            WindowSchedule s = schedule("Sun 02:00-02:30 Europe/Berlin");
            assertThat(s.current(utc("2026-10-25T00:10:00Z")))
                    .contains(new Interval(utc("2026-10-25T00:00:00Z"), utc("2026-10-25T00:30:00Z")));
            // 01:15 UTC is 02:15 CET, the second time the wall clock shows 02:15: closed.
            assertThat(s.isOpen(utc("2026-10-25T01:15:00Z"))).isFalse();
            assertThat(s.nextOpening(utc("2026-10-25T01:15:00Z"))).contains(berlin("2026-11-01T02:00"));
        }

        @Test
        void aWindowAcrossTheChangeIsAnHourLongerInRealTime() {
            WindowSchedule s = schedule("Sun 01:00-04:00 Europe/Berlin");
            assertThat(s.current(utc("2026-10-25T01:30:00Z")).orElseThrow().duration()).isEqualTo(Duration.ofHours(4));
        }
    }

    @Nested
    class SeveralWindows {
        @Test
        void theNextOpeningIsTheEarliestOfAllWindows() {
            WindowSchedule s = schedule("Mon-Fri 01:00-04:00 Europe/Berlin", "Sat-Sun 10:00-12:00 Europe/Berlin");
            assertThat(s.nextOpening(berlin("2026-12-04T05:00"))).contains(berlin("2026-12-05T10:00"));
            assertThat(s.describe(berlin("2026-12-04T05:00")))
                    .isEqualTo("waiting for Sat-Sun 10:00-12:00 Europe/Berlin, next opens 2026-12-05T10:00+01:00");
            assertThat(s.nextOpening(berlin("2026-12-06T12:00"))).contains(berlin("2026-12-07T01:00"));
        }

        @Test
        void touchingWindowsInDifferentZonesMergeIntoOneOpening() {
            // 01:00-03:00 UTC, then 04:00-06:00 Berlin (CET) = 03:00-05:00 UTC.
            WindowSchedule s = schedule("daily 01:00-03:00 UTC", "daily 04:00-06:00 Europe/Berlin");
            assertThat(s.current(utc("2026-12-01T02:00:00Z")))
                    .contains(new Interval(utc("2026-12-01T01:00:00Z"), utc("2026-12-01T05:00:00Z")));
            assertThat(s.describe(utc("2026-12-01T02:00:00Z"))).isEqualTo("open: daily 01:00-03:00 UTC, closes 2026-12-01T05:00Z");
        }
    }

    @Nested
    class NarrowedByAnOrder {
        final WindowSchedule device = schedule("Mon-Fri 01:00-04:00 Europe/Berlin");

        @Test
        void theOrderWindowIntersectsTheDeviceWindows() {
            WindowSchedule s = device.narrowedBy(null, MaintenanceWindow.parse("daily 03:00-06:00 Europe/Berlin"));
            assertThat(s.isOpen(berlin("2026-11-30T02:00"))).isFalse();
            assertThat(s.current(berlin("2026-11-30T03:30")))
                    .contains(new Interval(berlin("2026-11-30T03:00"), berlin("2026-11-30T04:00")));
            assertThat(s.describe(berlin("2026-11-30T02:00"))).isEqualTo("waiting for Mon-Fri 01:00-04:00 Europe/Berlin, "
                    + "next opens 2026-11-30T03:00+01:00 (order: window daily 03:00-06:00 Europe/Berlin)");
        }

        @Test
        void activateAfterCutsTheWindowsBeforeIt() {
            Instant after = berlin("2026-12-01T02:30");
            WindowSchedule s = device.narrowedBy(after, null);
            assertThat(s.isOpen(berlin("2026-11-30T02:00"))).as("Monday's window is before activateAfter").isFalse();
            assertThat(s.nextOpening(berlin("2026-11-30T02:00"))).contains(after);
            assertThat(s.current(after)).contains(new Interval(after, berlin("2026-12-01T04:00")));
            assertThat(s.nextOpening(berlin("2026-12-01T04:00"))).contains(berlin("2026-12-02T01:00"));
        }

        @Test
        void bothTogetherAndAnActivateAfterBeyondTheHorizon() {
            Instant after = berlin("2027-01-20T12:00"); // a Wednesday, 50 days ahead
            WindowSchedule s = device.narrowedBy(after, MaintenanceWindow.parse("daily 03:00-06:00 Europe/Berlin"));
            assertThat(s.nextOpening(berlin("2026-12-01T00:00"))).contains(berlin("2027-01-21T03:00"));
            assertThat(s.describe(berlin("2026-12-01T00:00"))).endsWith("next opens 2027-01-21T03:00+01:00 (order: after "
                    + after + ", window daily 03:00-06:00 Europe/Berlin)");
        }

        @Test
        void anOrderWindowThatNeverMeetsTheDeviceWindowsIsReportedNotSearchedForever() {
            WindowSchedule s = device.narrowedBy(null, MaintenanceWindow.parse("Sat-Sun 01:00-04:00 Europe/Berlin"));
            assertThat(s.nextOpening(berlin("2026-11-30T00:00"))).isEmpty();
            assertThat(s.describe(berlin("2026-11-30T00:00"))).isEqualTo("no maintenance window opens within 15 days of "
                    + "2026-11-30T00:00+01:00 (device: Mon-Fri 01:00-04:00 Europe/Berlin) (order: window Sat-Sun 01:00-04:00 Europe/Berlin)");
        }
    }

    @Nested
    class AnyTime {
        @Test
        void isAlwaysOpenUnlessNarrowed() {
            WindowSchedule s = WindowSchedule.anyTime();
            assertThat(s.isOpen(utc("2026-12-01T12:00:00Z"))).isTrue();
            assertThat(s.describe(utc("2026-12-01T12:00:00Z"))).isEqualTo("open: any time");
            Instant after = utc("2026-12-02T00:00:00Z");
            WindowSchedule n = s.narrowedBy(after, null);
            assertThat(n.isOpen(utc("2026-12-01T12:00:00Z"))).isFalse();
            assertThat(n.nextOpening(utc("2026-12-01T12:00:00Z"))).contains(after);
            assertThat(n.describe(utc("2026-12-01T12:00:00Z")))
                    .isEqualTo("waiting for activateAfter 2026-12-02T00:00:00Z, next opens 2026-12-02T00:00Z (order: after 2026-12-02T00:00:00Z)");
        }

        @Test
        void ofRefusesAnEmptyList() {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> WindowSchedule.of(List.of()))
                    .hasMessageContaining("anyTime()");
        }
    }
}
