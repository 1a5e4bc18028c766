package rsuota.fleet.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** Request bodies of the REST API. Unknown fields are refused except on the incident webhook. */
public final class RestRequests {
    private RestRequests() {}

    public record TokenCreate(String role, String label, String reason, String ttl) {}

    public record TokenRotate(String reason, String ttl) {}

    public record ReleaseCreate(String bundle, String bundleUrl, String previousStable, String notes, String reason) {}

    public record Filter(String region, String corridor, String variant, List<String> tags) {}

    public record CohortCreate(String release, String name, String kind, Filter filter, Integer sizeCap,
                               List<String> members, String reason) {}

    public record MembersAdd(List<String> devices, String reason) {}

    /**
     * The shape an incident tool's webhook sends. Tools add fields of their own (links, assignees),
     * so unknown fields are ignored here rather than refused.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record IncidentWebhook(String id, String severity, String state, String release, String title, String reason) {}

    public record Criteria(Double minSuccessRatio, Integer maxFailed, Integer maxSilent) {}

    public record PhaseSpec(Long cohortId, String cohort, String name, String observation, String approval, Criteria criteria) {}

    public record Settings(Integer corridorCap, String silentAfter, String rollbackDeadline, String window, String activateDelay, String bandwidthCap) {}

    /**
     * One pause rule: threshold is a ratio (0..1) for availability, dropped and rollback rules, a duration ("2s") for lag rules.
     * KPI rules may name {@code slices} (variant, region, corridor) and a {@code control} group; {@code device-outliers}
     * names its {@code kpi} and {@code maxDevices}.
     */
    public record Rule(String rule, com.fasterxml.jackson.databind.JsonNode threshold, String sustained, Integer minDevices, String kpi,
                       Integer maxDevices, List<String> slices, Control control) {}

    /** A rule's control group: {@code by} corridor or region, {@code compare} difference or ratio, {@code limit}, {@code minDevices}. */
    public record Control(String by, String compare, Double limit, Integer minDevices) {}

    public record Rules(Integer version, String window, List<Rule> rules) {}

    public record RolloutCreate(String release, List<PhaseSpec> phases, Settings settings, Rules rules, Double scale, String reason) {}

    public record Reason(String reason) {}

    public record Resume(String reason, List<Long> acknowledge) {}

    public record Extend(String by, String reason) {}

    public record Rollback(String scope, Integer phase, Long cohort, String device, String reason) {}
}
