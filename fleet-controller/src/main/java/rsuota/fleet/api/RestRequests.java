package rsuota.fleet.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** Request bodies of the REST API. Unknown fields are refused except on the incident webhook. */
public final class RestRequests {
    private RestRequests() {}

    public record TokenCreate(String role, String label, String reason) {}

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
}
