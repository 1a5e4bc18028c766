package rsuota.fleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "audit", description = "The hash-chained audit log.")
final class AuditCommands {
    @ParentCommand
    Fleetctl root;

    @Command(name = "list", description = "List entries.")
    int list(@Option(names = "--after", defaultValue = "0", description = "entries after this seq") long after,
             @Option(names = "--limit", defaultValue = "100", description = "at most this many (1..1000)") int limit,
             @Option(names = "--from", description = "entries at or after this time (ISO-8601, e.g. 2026-12-04T10:00:00Z)") String from,
             @Option(names = "--to", description = "entries before this time") String to,
             @Option(names = "--actor", description = "only this actor (a token label, system:rollout-engine, ...)") String actor,
             @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().get(new Fleetctl.Query("api/v1/audit").add("after", after).add("limit", limit).add("from", from)
                .add("to", to).add("actor", actor).toString()).json();
        if (json.on) {
            root.printJson(n);
            return ExitCodes.OK;
        }
        Table t = new Table("SEQ", "AT", "ACTOR", "ROLE", "ACTION", "TARGET", "REASON");
        for (JsonNode e : n.get("entries")) {
            t.row(Fleetctl.text(e, "seq"), Fleetctl.text(e, "at"), Fleetctl.text(e, "actor"), Fleetctl.text(e, "role"),
                    Fleetctl.text(e, "action"), Fleetctl.text(e, "target"), Fleetctl.text(e, "reason"));
        }
        t.print(root.out());
        if (n.hasNonNull("next")) root.out().println("# more: --after " + n.get("next").asText());
        return ExitCodes.OK;
    }

    @Command(name = "verify", description = "Check the hash chain; exits 11 and names the first broken entry when it is broken.")
    int verify(@Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().get("api/v1/audit/verify").json();
        boolean ok = n.path("ok").asBoolean(false);
        if (json.on) root.printJson(n);
        else if (ok) root.out().println("audit chain ok: " + n.get("entries").asText() + " entries, head " + n.get("head").asText());
        if (!ok) {
            throw new CliFailure(ExitCodes.AUDIT_BROKEN, "audit chain broken at entry " + n.path("firstBroken").asText()
                    + ": " + n.path("problem").asText());
        }
        return ExitCodes.OK;
    }

    @Command(name = "export", description = "Write every entry as JSON lines (to stdout or --output).")
    int export(@Option(names = {"-o", "--output"}, description = "file to write") Path output,
               @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        // JSON lines are already JSON; --json is accepted so that every verb takes it.
        String lines = root.client().get("api/v1/audit/export").body();
        if (output == null) {
            root.out().print(lines);
            root.out().flush();
        } else {
            try {
                Files.writeString(output, lines, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new CliFailure(ExitCodes.LOCAL_IO, "cannot write " + output + ": " + e);
            }
        }
        return ExitCodes.OK;
    }
}
