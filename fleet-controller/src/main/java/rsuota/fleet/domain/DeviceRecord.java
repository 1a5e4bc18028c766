package rsuota.fleet.domain;

import java.util.List;
import java.util.TreeSet;

/**
 * What the controller knows about where a device is and what it is: the part an inventory file
 * or a state report supplies. Tags are kept sorted and unique so that equal records compare equal.
 *
 * @param id       device id (also its MQTT topic level)
 * @param variant  hardware/software variant id, matched against a release's compatible list
 * @param region   optional region name, used by cohort filters
 * @param corridor optional corridor name, used by cohort filters and the per-corridor trial cap
 * @param site     optional site description (cabinet, intersection), free one-line text
 * @param tags     free labels a cohort filter can require
 */
public record DeviceRecord(String id, String variant, String region, String corridor, String site, List<String> tags) {
    public DeviceRecord {
        tags = tags == null ? List.of() : List.copyOf(new TreeSet<>(tags));
    }

    /** Checks every field; the message names the first bad one. */
    public DeviceRecord validated() throws FleetException {
        Names.requireDeviceId(id, "id");
        Names.requireName(variant, "variant");
        Names.optionalName(region, "region");
        Names.optionalName(corridor, "corridor");
        // A site is descriptive ("Main St & 5th, cabinet 2"): free one-line text, unlike the names filters match on.
        Names.optionalText(site, "site");
        if (site != null && site.length() > 200) throw FleetException.invalid("site", "longer than 200 characters");
        for (String t : tags) Names.requireName(t, "tags");
        return new DeviceRecord(id, variant, blankToNull(region), blankToNull(corridor), blankToNull(site), tags);
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
