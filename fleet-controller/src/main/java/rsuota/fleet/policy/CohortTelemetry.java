package rsuota.fleet.policy;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the rules see of one cohort of one rollout at one evaluation.
 *
 * @param cohortId       the cohort
 * @param cohortName     its name
 * @param dispatched     devices of the cohort that were sent the release
 * @param reporting      dispatched devices with KPI samples inside the window (id order)
 * @param offline        dispatched devices without samples in the window, or announced offline
 * @param rolledBack     dispatched devices that rolled back on their own (boot or health failure)
 * @param commanded      dispatched devices the controller ordered back
 * @param openSev1       ids of open Sev1 incidents linked to the release
 */
public record CohortTelemetry(long cohortId, String cohortName, int dispatched, Map<String, DeviceKpis> reporting,
                              List<String> offline, List<String> rolledBack, List<String> commanded, List<String> openSev1) {
    public CohortTelemetry {
        reporting = new TreeMap<>(reporting);
        offline = List.copyOf(offline);
        rolledBack = List.copyOf(rolledBack);
        commanded = List.copyOf(commanded);
        openSev1 = List.copyOf(openSev1);
    }
}
