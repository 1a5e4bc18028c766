package rsuota.agent.activation;

import java.util.Optional;

/**
 * One reason activation may have to wait: the cabinet door, the technician switch, a technician
 * lock, the box running on battery. Implementations must not throw: a source that cannot be read
 * holds activation and says why (activating a box in an unknown state is the riskier mistake).
 */
public interface Inhibitor {

    /** Short name for logs, e.g. "cabinet door". */
    String name();

    /** Why activation must wait now, or empty when this source does not hold it. */
    Optional<String> holdReason();
}
