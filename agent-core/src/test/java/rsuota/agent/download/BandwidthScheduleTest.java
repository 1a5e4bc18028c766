package rsuota.agent.download;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import rsuota.wire.Bandwidth;

class BandwidthScheduleTest {

    static BandwidthSchedule nightUnlimited(ZoneId zone) {
        return new BandwidthSchedule(Bandwidth.parse("2Mbit/s"), List.of(BandwidthSchedule.parseRule("22:00-05:00 unlimited", zone)));
    }

    @Test
    void theNightWindowIsUnlimitedAcrossMidnightAndTheDayIsCapped() {
        BandwidthSchedule s = nightUnlimited(ZoneId.of("UTC"));
        var day = s.at(Instant.parse("2026-06-01T12:00:00Z"));
        assertThat(day.cap().bytesPerSecond()).isEqualTo(250_000);
        assertThat(day.until()).isEqualTo(Instant.parse("2026-06-01T22:00:00Z"));
        var night = s.at(Instant.parse("2026-06-02T01:00:00Z"));
        assertThat(night.cap().isUnlimited()).isTrue();
        assertThat(night.until()).isEqualTo(Instant.parse("2026-06-02T05:00:00Z"));
        assertThat(s.at(Instant.parse("2026-06-02T05:00:00Z")).cap().bytesPerSecond()).isEqualTo(250_000);
        assertThat(s).hasToString("daily 22:00-05:00 UTC unlimited, else 250000 B/s (2 Mbit/s)");
    }

    @Test
    void localTimeFollowsDaylightSaving() {
        ZoneId berlin = ZoneId.of("Europe/Berlin");
        BandwidthSchedule s = new BandwidthSchedule(Bandwidth.parse("1Mbit/s"), List.of(BandwidthSchedule.parseRule("daily 01:00-04:00 unlimited", berlin)));
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST; the window is 01:00 CET (00:00Z) .. 04:00 CEST (02:00Z).
        var in = s.at(Instant.parse("2026-03-29T01:59:00Z"));
        assertThat(in.cap().isUnlimited()).isTrue();
        assertThat(in.until()).isEqualTo(Instant.parse("2026-03-29T02:00:00Z"));
        // summer: 01:00 CEST is 23:00Z the day before
        assertThat(s.at(Instant.parse("2026-06-01T23:30:00Z")).cap().isUnlimited()).isTrue();
        assertThat(s.at(Instant.parse("2026-01-15T23:30:00Z")).cap().isUnlimited()).isFalse();
    }

    @Test
    void whereRulesOverlapTheLowestCapApplies() {
        BandwidthSchedule s = new BandwidthSchedule(Bandwidth.unlimited(), List.of(
                BandwidthSchedule.parseRule("Mon-Fri 07:00-19:00 UTC 1MiB/s", null),
                BandwidthSchedule.parseRule("Mon-Fri 07:00-09:00 UTC 64KiB/s", null)));
        var rush = s.at(Instant.parse("2026-06-01T08:00:00Z")); // Monday
        assertThat(rush.cap().bytesPerSecond()).isEqualTo(64 * 1024);
        assertThat(rush.until()).isEqualTo(Instant.parse("2026-06-01T09:00:00Z"));
        assertThat(s.at(Instant.parse("2026-06-01T09:00:00Z")).cap().bytesPerSecond()).isEqualTo(1024 * 1024);
        assertThat(s.at(Instant.parse("2026-06-06T08:00:00Z")).cap().isUnlimited()).isTrue(); // Saturday
    }

    @Test
    void badRulesNameTheBadPart() {
        assertThatThrownBy(() -> BandwidthSchedule.parseRule("unlimited", ZoneOffset.UTC)).hasMessageContaining("needs a window and a cap");
        assertThatThrownBy(() -> BandwidthSchedule.parseRule("22:00-05:00 fast", ZoneOffset.UTC)).hasMessageContaining("cap 'fast' is not a bandwidth");
        assertThatThrownBy(() -> BandwidthSchedule.parseRule("22:00-25:00 unlimited", ZoneOffset.UTC)).hasMessageStartingWith("window ");
        assertThatThrownBy(() -> BandwidthSchedule.parseRule("Someday 22:00-05:00 unlimited", ZoneOffset.UTC)).hasMessageStartingWith("window ");
    }
}
