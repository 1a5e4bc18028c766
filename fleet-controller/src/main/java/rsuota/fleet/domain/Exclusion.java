package rsuota.fleet.domain;

/**
 * Why a device a cohort filter matched did not become a member. Reported beside the members so
 * that nothing is skipped silently.
 */
public sealed interface Exclusion permits Exclusion.IncompatibleVariant, Exclusion.InOtherCohort, Exclusion.OverSizeCap {
    String deviceId();

    /** Stable code for the API and CLI. */
    String code();

    /** The release does not support the device's variant. */
    record IncompatibleVariant(String deviceId, String variant) implements Exclusion {
        public String code() {
            return "INCOMPATIBLE_VARIANT";
        }
    }

    /** The device already belongs to another cohort of the same release. */
    record InOtherCohort(String deviceId, long cohortId, String cohortName) implements Exclusion {
        public String code() {
            return "IN_OTHER_COHORT";
        }
    }

    /** The filter matched more devices than the size cap allows; these were left out (highest ids first). */
    record OverSizeCap(String deviceId) implements Exclusion {
        public String code() {
            return "OVER_SIZE_CAP";
        }
    }
}
