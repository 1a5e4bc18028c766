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
 * @param attributes     variant, region and corridor of each dispatched device (for slices and control groups)
 * @param controlPool    reporting units of the cohort's corridors and regions that this rollout did not dispatch and that
 *                       run the previous release: the candidates of every rule's control group
 */
public record CohortTelemetry(long cohortId, String cohortName, int dispatched, Map<String, DeviceKpis> reporting,
                              List<String> offline, List<String> rolledBack, List<String> commanded, List<String> openSev1,
                              Map<String, Map<String, String>> attributes, List<ControlUnit> controlPool) {
    public CohortTelemetry {
        reporting = new TreeMap<>(reporting);
        offline = List.copyOf(offline);
        rolledBack = List.copyOf(rolledBack);
        commanded = List.copyOf(commanded);
        openSev1 = List.copyOf(openSev1);
        attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
        controlPool = controlPool == null ? List.of() : List.copyOf(controlPool);
    }

    public CohortTelemetry(long cohortId, String cohortName, int dispatched, Map<String, DeviceKpis> reporting, List<String> offline,
                           List<String> rolledBack, List<String> commanded, List<String> openSev1) {
        this(cohortId, cohortName, dispatched, reporting, offline, rolledBack, commanded, openSev1, Map.of(), List.of());
    }

    /** A unit outside the rollout that may serve as control: its placement and its KPIs over the window. */
    public record ControlUnit(String id, Map<String, String> attributes, DeviceKpis kpis) {
        public ControlUnit {
            attributes = Map.copyOf(attributes);
        }
    }
}
