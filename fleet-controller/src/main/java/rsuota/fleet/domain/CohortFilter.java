package rsuota.fleet.domain;

import java.util.List;
import java.util.TreeSet;

/**
 * Which devices a cohort draws from. Every non-null field must match; {@code tags} must all be
 * present on the device. An empty filter matches every device.
 */
public record CohortFilter(String region, String corridor, String variant, List<String> tags) {
    public CohortFilter {
        tags = tags == null ? List.of() : List.copyOf(new TreeSet<>(tags));
    }

    public CohortFilter validated() throws FleetException {
        Names.optionalName(region, "filter.region");
        Names.optionalName(corridor, "filter.corridor");
        Names.optionalName(variant, "filter.variant");
        for (String t : tags) Names.requireName(t, "filter.tags");
        return this;
    }

    public boolean matches(DeviceRecord d) {
        return (region == null || region.equals(d.region()))
                && (corridor == null || corridor.equals(d.corridor()))
                && (variant == null || variant.equals(d.variant()))
                && d.tags().containsAll(tags);
    }
}
