package rsuota.fleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "device", mixinStandardHelpOptions = true, description = "Registered devices.")
final class DeviceCommands {
    @ParentCommand
    Fleetctl root;

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List devices in id order (GET /api/v1/devices); every page unless --limit or --after.")
    int list(@Option(names = "--cohort", paramLabel = "COHORT-ID", description = "members of this cohort (id)") Long cohort,
             @Option(names = "--variant", paramLabel = "VARIANT") String variant,
             @Option(names = "--region", paramLabel = "REGION") String region,
             @Option(names = "--corridor", paramLabel = "CORRIDOR") String corridor,
             @Option(names = "--state", paramLabel = "STATE", description = "reported deployment state (activated, rolled_back, ...) or a rollout's flag"
                     + " (needs_investigation, rollback_pending)") String state,
             @Option(names = "--limit", paramLabel = "N", description = "one page of at most this many (1..1000)") Integer limit,
             @Option(names = "--after", paramLabel = "DEVICE", description = "the page after this device id (a previous page's next)") String after,
             @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Fleetctl.Query q = new Fleetctl.Query("api/v1/devices").add("cohort", cohort).add("variant", variant).add("region", region)
                .add("corridor", corridor).add("state", state);
        boolean onePage = limit != null || after != null;
        JsonNode n = onePage ? root.client().get(q.add("limit", limit).add("after", after).toString()).json()
                : root.client().getAll(q.toString(), "devices");
        if (json.on) {
            root.printJson(n);
            return ExitCodes.OK;
        }
        Table t = new Table("ID", "VARIANT", "REGION", "CORRIDOR", "SITE", "TAGS", "LAST-SEEN", "STATE", "FLAGS");
        for (JsonNode d : n.get("devices")) {
            t.row(Fleetctl.text(d, "id"), Fleetctl.text(d, "variant"), Fleetctl.text(d, "region"), Fleetctl.text(d, "corridor"),
                    Fleetctl.text(d, "site"), Fleetctl.text(d, "tags"), Fleetctl.text(d, "lastSeen"), Fleetctl.text(d, "deploymentState"),
                    Fleetctl.text(d, "flags"));
        }
        t.print(root.out());
        if (n.hasNonNull("next")) root.out().println("# more: --after " + n.get("next").asText());
        return ExitCodes.OK;
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one device.")
    int show(@Parameters(paramLabel = "DEVICE") String id, @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode d = root.client().get("api/v1/devices/" + Fleetctl.segment(id)).json();
        if (json.on) {
            root.printJson(d);
            return ExitCodes.OK;
        }
        for (String f : new String[] {"id", "variant", "region", "corridor", "site", "tags", "lastSeen", "createdAt", "updatedAt"}) {
            root.out().println(f + ": " + Fleetctl.text(d, f));
        }
        if (d.hasNonNull("reportedState")) root.out().println("reportedState: " + d.get("reportedState"));
        return ExitCodes.OK;
    }

    @Command(name = "import", mixinStandardHelpOptions = true, description = "Import an inventory file (CSV with a header line, or JSON); all rows or none.")
    int importFile(@Parameters(paramLabel = "FILE") Path file,
                   @Option(names = "--format", paramLabel = "FORMAT", description = "csv or json (default: from the file name)") String format,
                   @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the audit log") String reason,
                   @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        String f = format != null ? format.toLowerCase(Locale.ROOT) : file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json") ? "json" : "csv";
        if (!f.equals("csv") && !f.equals("json")) throw new CliFailure(ExitCodes.USAGE, "--format must be csv or json");
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.LOCAL_IO, "cannot read " + file + ": " + e);
        }
        String path = "api/v1/devices/import?format=" + f + (reason == null ? "" : "&reason=" + java.net.URLEncoder.encode(reason, java.nio.charset.StandardCharsets.UTF_8));
        JsonNode n = root.client().postRaw(path, f.equals("csv") ? "text/csv" : "application/json", content).json();
        if (json.on) root.printJson(n);
        else root.out().println("imported " + n.get("imported").asText() + " devices (" + n.get("created").asText() + " new, "
                + n.get("updated").asText() + " updated)");
        return ExitCodes.OK;
    }

    @Command(name = "diag", mixinStandardHelpOptions = true, description = "Ask a device for a diagnostics bundle and download it when it arrives.")
    int diag(@Parameters(paramLabel = "DEVICE") String id,
             @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "where to write the bundle (default diagnostics-DEVICE-ID.bundle)") Path output,
             @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "600", description = "seconds to wait for the upload (default ${DEFAULT-VALUE}; 0: do not wait)") int wait,
             @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "2", description = "seconds between checks (default ${DEFAULT-VALUE})") int interval,
             @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the audit log") String reason,
             @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
        if (reason != null) body.put("reason", reason);
        JsonNode d = root.client().postJson("api/v1/devices/" + Fleetctl.segment(id) + "/diagnostics", body).json();
        String did = d.get("id").asText();
        if (!json.on) root.out().println("diagnostics " + did + " requested from " + id + " (command " + d.get("command").asText() + ", expires " + d.get("expiresAt").asText() + ")");
        root.out().flush();
        long deadline = System.nanoTime() + wait * 1_000_000_000L;
        while (!d.path("complete").asBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                if (json.on) root.printJson(d);
                if (wait == 0) return ExitCodes.OK;
                throw new CliFailure(ExitCodes.TIMEOUT, "diagnostics " + did + " not complete after " + wait + " s (" + d.path("received").asText()
                        + " bytes received); check later with GET /api/v1/diagnostics/" + did);
            }
            try {
                Thread.sleep(Math.max(1, interval) * 1000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return ExitCodes.FAILED;
            }
            d = root.client().get("api/v1/diagnostics/" + did).json();
        }
        byte[] archive = root.client().getBytes("api/v1/diagnostics/" + did + "/archive");
        Path out = output != null ? output : Path.of("diagnostics-" + id + "-" + did + ".bundle");
        try {
            Files.write(out, archive);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.LOCAL_IO, "cannot write " + out + ": " + e);
        }
        if (json.on) root.printJson(d);
        else root.out().println("diagnostics " + did + ": " + archive.length + " bytes written to " + out);
        return ExitCodes.OK;
    }
}
