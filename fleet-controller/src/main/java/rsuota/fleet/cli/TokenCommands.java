package rsuota.fleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "token", mixinStandardHelpOptions = true, description = "API tokens: create, list, rotate, revoke (admin; any holder may rotate its own with --self).")
final class TokenCommands {
    @ParentCommand
    Fleetctl root;

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a token; its secret is printed once.")
    int create(@Option(names = "--role", paramLabel = "ROLE", required = true, description = "viewer, operator, release-manager or admin") String role,
               @Option(names = "--label", paramLabel = "LABEL", required = true, description = "names the holder in the audit log (unique)") String label,
               @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the audit log") String reason,
               @Option(names = "--ttl", paramLabel = "DURATION", description = "how long it lives, e.g. 30d (default: the controller's --token-ttl, 90d)") String ttl,
               @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("role", role);
        body.put("label", label);
        if (reason != null) body.put("reason", reason);
        if (ttl != null) body.put("ttl", ttl);
        return secret(root.client().postJson("api/v1/tokens", body).json(), json);
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every token: role, state (active, expired, revoked), expiry, last use; never a secret.")
    int list(@Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().getAll("api/v1/tokens", "tokens");
        if (json.on) {
            root.printJson(n);
            return ExitCodes.OK;
        }
        Table t = new Table("ID", "LABEL", "ROLE", "STATE", "EXPIRES", "LAST-USED", "CREATED-BY");
        for (JsonNode k : n.get("tokens")) {
            t.row(Fleetctl.text(k, "id"), Fleetctl.text(k, "label"), Fleetctl.text(k, "role"), Fleetctl.text(k, "state"),
                    Fleetctl.text(k, "expiresAt"), Fleetctl.text(k, "lastUsedAt"), Fleetctl.text(k, "createdBy"));
        }
        t.print(root.out());
        return ExitCodes.OK;
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a token: its next request gets 401.")
    int revoke(@Parameters(paramLabel = "ID") long id, @Option(names = "--reason", paramLabel = "TEXT", required = true, description = "why, for the audit log") String reason,
               @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().postJson("api/v1/tokens/" + id + "/revoke", Map.of("reason", reason)).json();
        if (json.on) root.printJson(n);
        else root.out().println("token " + n.get("id").asText() + " '" + n.get("label").asText() + "' revoked at " + n.get("revokedAt").asText());
        return ExitCodes.OK;
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true, description = "A new secret for token ID (admin), or for the calling token (--self); the old secret stops working at once.")
    int rotate(@Parameters(paramLabel = "ID", arity = "0..1") Long id, @Option(names = "--self", description = "rotate the token fleetctl runs with") boolean self,
               @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the audit log") String reason,
               @Option(names = "--ttl", paramLabel = "DURATION", description = "how long the new secret lives (default: the controller's --token-ttl)") String ttl,
               @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        if (self == (id != null)) throw new CliFailure(ExitCodes.USAGE, "give a token ID or --self, not both and not neither");
        Map<String, Object> body = new LinkedHashMap<>();
        if (reason != null) body.put("reason", reason);
        if (ttl != null) body.put("ttl", ttl);
        return secret(root.client().postJson("api/v1/tokens/" + (self ? "self" : id.toString()) + "/rotate", body).json(), json);
    }

    private int secret(JsonNode n, Fleetctl.JsonFlag json) {
        if (json.on) {
            root.printJson(n);
        } else {
            root.out().println(n.get("token").asText());
            root.out().println("# token " + n.get("id").asText() + " '" + n.get("label").asText() + "' role "
                    + n.get("role").asText() + ", expires " + n.path("expiresAt").asText("never") + ": the secret above is shown only now");
        }
        return ExitCodes.OK;
    }
}
