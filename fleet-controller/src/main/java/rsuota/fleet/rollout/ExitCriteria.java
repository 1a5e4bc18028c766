package rsuota.fleet.rollout;

/**
 * What a phase's devices must show before the phase may pass (besides its window having passed
 * and every rule being clear over its cohort).
 *
 * @param minSuccessRatio share of the phase's devices that reported {@code activated} after their health commit (0..1)
 * @param maxFailed       most devices that failed or rolled back
 * @param maxSilent       most devices silent past the rollout's silence timeout; they neither pass nor hide
 */
public record ExitCriteria(double minSuccessRatio, int maxFailed, int maxSilent) {
    /** Every device succeeded; nothing failed, nothing silent. */
    public static final ExitCriteria STRICT = new ExitCriteria(1.0, 0, 0);

    public ExitCriteria {
        if (!(minSuccessRatio >= 0 && minSuccessRatio <= 1)) throw new IllegalArgumentException("minSuccessRatio must be within 0..1");
        if (maxFailed < 0 || maxSilent < 0) throw new IllegalArgumentException("maxFailed and maxSilent must be >= 0");
    }
}
