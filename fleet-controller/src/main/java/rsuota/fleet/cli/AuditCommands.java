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

@Command(name = "audit", mixinStandardHelpOptions = true, description = "The hash-chained audit log.")
final class AuditCommands {
    @ParentCommand
    Fleetctl root;

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List entries.")
    int list(@Option(names = "--after", paramLabel = "SEQ", defaultValue = "0", description = "entries after this seq") long after,
             @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "at most this many (1..1000)") int limit,
             @Option(names = "--from", paramLabel = "TIME", description = "entries at or after this time (ISO-8601, e.g. 2026-12-04T10:00:00Z)") String from,
             @Option(names = "--to", paramLabel = "TIME", description = "entries before this time") String to,
             @Option(names = "--actor", paramLabel = "ACTOR", description = "only this actor (a token label, system:rollout-engine, ...)") String actor,
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

    @Command(name = "verify", mixinStandardHelpOptions = true, description = "Check the hash chain (exit 11 naming the first broken entry); with --checkpoint, also that"
            + " the chain still holds a signed checkpoint kept elsewhere (a deleted tail or a rewritten chain: exit 11).")
    int verify(@Option(names = "--checkpoint", paramLabel = "FILE|URL",
                       description = "a checkpoint (JSON, or JSON lines: the last one) from the journal, the webhook's store, or a file") String checkpoint,
               @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        if (checkpoint != null) return verifyCheckpoint(checkpoint, json);
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

    private int verifyCheckpoint(String where, Fleetctl.JsonFlag json) throws CliFailure {
        String text;
        try {
            if (where.startsWith("http://") || where.startsWith("https://")) {
                var resp = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(where))
                        .timeout(java.time.Duration.ofSeconds(30)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                if (resp.statusCode() != 200) throw new CliFailure(ExitCodes.LOCAL_IO, "checkpoint " + where + ": HTTP " + resp.statusCode());
                text = resp.body();
            } else {
                text = java.nio.file.Files.readString(Path.of(where));
            }
        } catch (java.io.IOException e) {
            throw new CliFailure(ExitCodes.LOCAL_IO, "cannot read the checkpoint " + where + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(ExitCodes.FAILED, "interrupted");
        }
        String last = text.strip();
        if (last.contains("\n")) last = last.substring(last.lastIndexOf('\n') + 1);
        JsonNode n = root.client().postRaw("api/v1/audit/checkpoint/verify", "application/json",
                last.getBytes(java.nio.charset.StandardCharsets.UTF_8)).json();
        boolean ok = n.path("ok").asBoolean(false);
        if (json.on) root.printJson(n);
        else if (ok) root.out().println("audit chain holds the checkpoint: entry " + n.at("/checkpoint/seq").asText() + " of "
                + n.at("/checkpoint/at").asText() + "; " + n.get("entries").asText() + " entries now");
        if (!ok) throw new CliFailure(ExitCodes.AUDIT_BROKEN, "audit checkpoint not held: " + n.path("problem").asText());
        return ExitCodes.OK;
    }

    @Command(name = "export", mixinStandardHelpOptions = true, description = "Write every entry as JSON lines (to stdout or --output).")
    int export(@Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "file to write") Path output,
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
