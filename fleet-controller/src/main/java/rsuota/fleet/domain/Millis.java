package rsuota.fleet.domain;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** The store keeps times in epoch milliseconds; values made now are truncated alike so that they equal what is read back. */
public final class Millis {
    private Millis() {}

    public static Instant now(Clock clock) {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }
}
