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

@Command(name = "device", description = "Registered devices.")
final class DeviceCommands {
    @ParentCommand
    Fleetctl root;

    @Command(name = "list", description = "List devices.")
    int list(@Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().get("api/v1/devices").json();
        if (json.on) {
            root.printJson(n);
            return ExitCodes.OK;
        }
        Table t = new Table("ID", "VARIANT", "REGION", "CORRIDOR", "SITE", "TAGS", "LAST-SEEN");
        for (JsonNode d : n.get("devices")) {
            t.row(Fleetctl.text(d, "id"), Fleetctl.text(d, "variant"), Fleetctl.text(d, "region"), Fleetctl.text(d, "corridor"),
                    Fleetctl.text(d, "site"), Fleetctl.text(d, "tags"), Fleetctl.text(d, "lastSeen"));
        }
        t.print(root.out());
        return ExitCodes.OK;
    }

    @Command(name = "show", description = "Show one device.")
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

    @Command(name = "import", description = "Import an inventory file (CSV with a header line, or JSON); all rows or none.")
    int importFile(@Parameters(paramLabel = "FILE") Path file,
                   @Option(names = "--format", description = "csv or json (default: from the file name)") String format,
                   @Option(names = "--reason", description = "why, for the audit log") String reason,
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
}
