package rsuota.agent.activation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MaintenanceWindowTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @Test
    void parsesDaysTimesAndZone() {
        MaintenanceWindow w = MaintenanceWindow.parse("Mon-Fri 01:00-04:00 Europe/Berlin");
        assertThat(w.days()).containsExactlyInAnyOrder(DayOfWeek.MONDAY, DayOfWeek.TUESDAY, DayOfWeek.WEDNESDAY,
                DayOfWeek.THURSDAY, DayOfWeek.FRIDAY);
        assertThat(w.start()).isEqualTo(LocalTime.of(1, 0));
        assertThat(w.end()).isEqualTo(LocalTime.of(4, 0));
        assertThat(w.zone()).isEqualTo(BERLIN);
        assertThat(w.spansMidnight()).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Mon-Fri 01:00-04:00 Europe/Berlin   | Mon-Fri 01:00-04:00 Europe/Berlin",
            "mon,WED,Sat   22:00-02:00 UTC       | Mon,Wed,Sat 22:00-02:00 UTC",
            "Sat-Sun 03:00-06:00 UTC             | Sat-Sun 03:00-06:00 UTC",
            "daily 01:00-01:00 UTC               | daily 01:00-01:00 UTC",
            "* 23:00-24:00 UTC                   | daily 23:00-24:00 UTC",
            "Fri-Mon 01:00-02:00 UTC             | Mon,Fri-Sun 01:00-02:00 UTC",
            "Monday,Tuesday 00:00-24:00 UTC      | Mon-Tue 00:00-00:00 UTC",
            "Mon-Wed,Fri 01:00-02:00 +02:00      | Mon-Wed,Fri 01:00-02:00 +02:00"})
    void canonicalTextParsesBackToTheSameWindow(String text, String canonical) {
        MaintenanceWindow w = MaintenanceWindow.parse(text);
        assertThat(w.toString()).isEqualTo(canonical);
        assertThat(MaintenanceWindow.parse(w.toString())).isEqualTo(w);
    }

    @Test
    void theDefaultZoneAppliesOnlyWhenTheTextNamesNone() {
        assertThat(MaintenanceWindow.parse("Sat 01:00-02:00", BERLIN).zone()).isEqualTo(BERLIN);
        assertThat(MaintenanceWindow.parse("Sat 01:00-02:00 UTC", BERLIN).zone()).isEqualTo(ZoneId.of("UTC"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Mon-Fri                              | has 1 part(s); expected \"DAYS HH:MM-HH:MM ZONE\"",
            "Mon-Fri 01:00-04:00 UTC extra        | has 4 part(s)",
            "Mon-Fry 01:00-04:00 UTC              | day \"Fry\" is not one of Mon, Tue",
            "Mon,,Fri 01:00-04:00 UTC             | days \"Mon,,Fri\" contain an empty item",
            "Mon-Wed-Fri 01:00-04:00 UTC          | day range \"Mon-Wed-Fri\" has more than one '-'",
            "Mon-Fri 1:00-04:00 UTC               | times \"1:00-04:00\" are not HH:MM-HH:MM",
            "Mon-Fri 01:00 UTC                    | times \"01:00\" are not HH:MM-HH:MM",
            "Mon-Fri 25:00-04:00 UTC              | start time 25:00 does not exist",
            "Mon 24:00-02:00 UTC                  | start time 24:00 does not exist",
            "Mon-Fri 01:00-04:60 UTC              | end time 04:60 does not exist",
            "Mon-Fri 01:00-04:00 Europe/Berln     | time zone \"Europe/Berln\" is unknown",
            "Mon-Fri 01:00-04:00                  | names no time zone; add one, e.g. \"Mon-Fri 01:00-04:00 Europe/Berlin\"",
            "01:00-04:00 Europe/Berlin            | day \"01:00\" is not one of"})
    void badTextsNameTheBadPart(String text, String message) {
        assertThatThrownBy(() -> MaintenanceWindow.parse(text))
                .isInstanceOf(InvalidWindowException.class)
                .hasMessageStartingWith("maintenance window \"" + text.strip() + "\": ")
                .hasMessageContaining(message);
    }

    @Test
    void anEmptyTextSaysWhatIsExpected() {
        assertThatThrownBy(() -> MaintenanceWindow.parse("  "))
                .isInstanceOf(InvalidWindowException.class)
                .hasMessageContaining("empty").hasMessageContaining("Mon-Fri 01:00-04:00 Europe/Berlin");
    }

    @Test
    void occurrencesCoverTheRangeAndIncludeOneThatOpenedBeforeIt() {
        MaintenanceWindow w = MaintenanceWindow.parse("Fri 23:00-02:00 UTC");
        // Saturday 2026-12-05 01:00: the Friday opening is still running.
        assertThat(w.occurrences(Instant.parse("2026-12-05T01:00:00Z"), Instant.parse("2026-12-13T00:00:00Z")))
                .containsExactly(
                        new Interval(Instant.parse("2026-12-04T23:00:00Z"), Instant.parse("2026-12-05T02:00:00Z")),
                        new Interval(Instant.parse("2026-12-11T23:00:00Z"), Instant.parse("2026-12-12T02:00:00Z")));
    }

    @Test
    void aDayRangeWrapsOverTheWeekend() {
        assertThat(MaintenanceWindow.parse("Fri-Mon 01:00-02:00 UTC").days())
                .isEqualTo(EnumSet.of(DayOfWeek.FRIDAY, DayOfWeek.SATURDAY, DayOfWeek.SUNDAY, DayOfWeek.MONDAY));
    }
}
