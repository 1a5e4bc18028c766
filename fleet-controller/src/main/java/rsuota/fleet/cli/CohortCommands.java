package rsuota.fleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "cohort", mixinStandardHelpOptions = true, description = "Cohorts: which devices get a release in which stage.")
final class CohortCommands {
    @ParentCommand
    Fleetctl root;

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a cohort from explicit --device ids or from a filter (--region, --corridor, --variant, --tag, --size-cap).")
    int create(@Option(names = "--release", paramLabel = "VERSION", required = true) String release,
               @Option(names = "--name", paramLabel = "NAME", required = true, description = "e.g. canary, pilot, wave-1") String name,
               @Option(names = "--kind", paramLabel = "KIND", required = true, description = "canary, pilot or wave") String kind,
               @Option(names = "--device", paramLabel = "DEVICE", description = "an explicit member (repeatable)") List<String> devices,
               @Option(names = "--region", paramLabel = "REGION") String region,
               @Option(names = "--corridor", paramLabel = "CORRIDOR") String corridor,
               @Option(names = "--variant", paramLabel = "VARIANT") String variant,
               @Option(names = "--tag", paramLabel = "TAG", description = "a tag every member must carry (repeatable)") List<String> tags,
               @Option(names = "--size-cap", paramLabel = "N", description = "most members") Integer sizeCap,
               @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the audit log") String reason,
               @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("release", release);
        body.put("name", name);
        body.put("kind", kind);
        if (region != null || corridor != null || variant != null || (tags != null && !tags.isEmpty())) {
            Map<String, Object> filter = new LinkedHashMap<>();
            if (region != null) filter.put("region", region);
            if (corridor != null) filter.put("corridor", corridor);
            if (variant != null) filter.put("variant", variant);
            if (tags != null) filter.put("tags", tags);
            body.put("filter", filter);
        }
        if (devices != null) body.put("members", devices);
        if (sizeCap != null) body.put("sizeCap", sizeCap);
        if (reason != null) body.put("reason", reason);
        JsonNode n = root.client().postJson("api/v1/cohorts", body).json();
        if (json.on) {
            root.printJson(n);
            return ExitCodes.OK;
        }
        JsonNode c = n.get("cohort");
        root.out().println("cohort " + c.get("id").asText() + " '" + c.get("name").asText() + "' (" + c.get("kind").asText()
                + ") of release " + c.get("release").asText() + ": " + n.get("members").size() + " member(s) "
                + Fleetctl.text(n, "members"));
        for (JsonNode e : n.get("excluded")) {
            root.out().println("  left out " + e.get("device").asText() + ": " + e.get("code").asText()
                    + (e.hasNonNull("variant") ? " (variant " + e.get("variant").asText() + ")" : "")
                    + (e.hasNonNull("cohortName") ? " (in cohort " + e.get("cohortId").asText() + " '" + e.get("cohortName").asText() + "')" : ""));
        }
        return ExitCodes.OK;
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add devices to a cohort (all or none).")
    int add(@Parameters(index = "0", paramLabel = "COHORT-ID") long cohortId,
            @Parameters(index = "1..*", paramLabel = "DEVICE", arity = "1..*") List<String> devices,
            @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the audit log") String reason,
            @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("devices", devices);
        if (reason != null) body.put("reason", reason);
        JsonNode n = root.client().postJson("api/v1/cohorts/" + cohortId + "/members", body).json();
        if (json.on) root.printJson(n);
        else root.out().println("cohort " + cohortId + ": added " + Fleetctl.text(n, "added") + "; already members "
                + Fleetctl.text(n, "alreadyMembers") + "; now " + n.get("cohort").get("memberCount").asText() + " member(s)");
        return ExitCodes.OK;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List cohorts.")
    int list(@Option(names = "--release", paramLabel = "VERSION", description = "only this release's cohorts") String release,
             @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().getAll(new Fleetctl.Query("api/v1/cohorts").add("release", release).toString(), "cohorts");
        if (json.on) {
            root.printJson(n);
            return ExitCodes.OK;
        }
        Table t = new Table("ID", "RELEASE", "NAME", "KIND", "MEMBERS", "CAP", "FILTER");
        for (JsonNode c : n.get("cohorts")) {
            t.row(Fleetctl.text(c, "id"), Fleetctl.text(c, "release"), Fleetctl.text(c, "name"), Fleetctl.text(c, "kind"),
                    Fleetctl.text(c, "memberCount"), Fleetctl.text(c, "sizeCap"), c.hasNonNull("filter") ? c.get("filter").toString() : "-");
        }
        t.print(root.out());
        return ExitCodes.OK;
    }
}
