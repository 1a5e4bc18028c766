package rsuota.fleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "token", description = "API tokens (admin).")
final class TokenCommands {
    @ParentCommand
    Fleetctl root;

    @Command(name = "create", description = "Create a token; its secret is printed once.")
    int create(@Option(names = "--role", required = true, description = "viewer, operator, release-manager or admin") String role,
               @Option(names = "--label", required = true, description = "names the holder in the audit log (unique)") String label,
               @Option(names = "--reason", description = "why, for the audit log") String reason,
               @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("role", role);
        body.put("label", label);
        if (reason != null) body.put("reason", reason);
        JsonNode n = root.client().postJson("api/v1/tokens", body).json();
        if (json.on) {
            root.printJson(n);
        } else {
            root.out().println(n.get("token").asText());
            root.out().println("# token " + n.get("id").asText() + " '" + n.get("label").asText() + "' role "
                    + n.get("role").asText() + ": the secret above is shown only now");
        }
        return ExitCodes.OK;
    }
}
