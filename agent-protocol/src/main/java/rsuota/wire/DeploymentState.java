package rsuota.wire;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The deployment states a device reports ({@code state.deployment.state}, {@code events[].state}):
 * the one vocabulary of the agent, the controller and the lab. {@link WireCodec} refuses any other
 * word on the wire, naming it. The agent's graph over them is drawn in docs/architecture.md.
 */
public enum DeploymentState {
    IDLE, PENDING, DOWNLOADING, VERIFIED, AWAITING_WINDOW, ACTIVATING, COMMITTING, ACTIVATED,
    ROLLING_BACK, ROLLED_BACK, FAILED, NEEDS_INVESTIGATION;

    /** The word on the wire: {@code awaiting_window}, {@code rolled_back}, ... */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether {@code wire} names this state (false for null). */
    public boolean is(String wire) {
        return wire().equals(wire);
    }

    public static Optional<DeploymentState> of(String wire) {
        return Arrays.stream(values()).filter(s -> s.is(wire)).findFirst();
    }

    /** Every wire name, comma-separated, for error messages. */
    public static String names() {
        return Arrays.stream(values()).map(DeploymentState::wire).collect(Collectors.joining(", "));
    }
}
