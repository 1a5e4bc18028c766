package rsuota.fleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "incident", mixinStandardHelpOptions = true, description = "Incidents (as an incident tool's webhook would report them).")
final class IncidentCommands {
    @ParentCommand
    Fleetctl root;

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List incidents, newest first (GET /api/v1/incidents?state=&release=, every page).")
    int list(@Option(names = "--state", paramLabel = "STATE", description = "open or resolved") String state,
             @Option(names = "--release", paramLabel = "VERSION", description = "only those linked to this release") String release,
             @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().getAll(new Fleetctl.Query("api/v1/incidents").add("state", state).add("release", release).toString(), "incidents");
        if (json.on) {
            root.printJson(n);
            return ExitCodes.OK;
        }
        Table t = new Table("ID", "SEVERITY", "STATE", "RELEASE", "OPENED", "RESOLVED", "TITLE");
        for (JsonNode i : n.get("incidents")) {
            t.row(Fleetctl.text(i, "id"), Fleetctl.text(i, "severity"), Fleetctl.text(i, "state"), Fleetctl.text(i, "release"),
                    Fleetctl.text(i, "openedAt"), Fleetctl.text(i, "resolvedAt"), Fleetctl.text(i, "title"));
        }
        t.print(root.out());
        return ExitCodes.OK;
    }

    @Command(name = "open", mixinStandardHelpOptions = true, description = "Open (or update) an incident.")
    int open(@Option(names = "--id", paramLabel = "ID", required = true) String id,
             @Option(names = "--severity", paramLabel = "SEVERITY", required = true, description = "sev1..sev4") String severity,
             @Option(names = "--release", paramLabel = "VERSION", description = "the release it is attributed to") String release,
             @Option(names = "--title", paramLabel = "TEXT") String title,
             @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the audit log") String reason,
             @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        body.put("severity", severity);
        body.put("state", "open");
        if (release != null) body.put("release", release);
        if (title != null) body.put("title", title);
        if (reason != null) body.put("reason", reason);
        return report(body, json);
    }

    @Command(name = "close", mixinStandardHelpOptions = true, description = "Resolve an incident.")
    int close(@Parameters(paramLabel = "ID") String id,
              @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the audit log") String reason,
              @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        body.put("state", "resolved");
        if (reason != null) body.put("reason", reason);
        return report(body, json);
    }

    private int report(Map<String, Object> body, Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().postJson("api/v1/incidents", body).json();
        if (json.on) {
            root.printJson(n);
        } else {
            JsonNode i = n.get("incident");
            root.out().println("incident " + i.get("id").asText() + " " + n.get("change").asText() + ": " + i.get("severity").asText()
                    + ", " + i.get("state").asText() + (i.hasNonNull("release") ? ", release " + i.get("release").asText() : ""));
        }
        return ExitCodes.OK;
    }
}
