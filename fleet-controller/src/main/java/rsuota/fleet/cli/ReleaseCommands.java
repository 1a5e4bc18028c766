package rsuota.fleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "release", mixinStandardHelpOptions = true, description = "Releases (verified bundles).")
final class ReleaseCommands {
    @ParentCommand
    Fleetctl root;

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a release from a bundle the controller verifies with the fleet keyring.")
    int create(@Option(names = "--bundle", paramLabel = "BUNDLE", required = true,
                       description = "bundle: a name in the controller's artifact directory, or a path on the controller's host") String bundle,
               @Option(names = "--url", paramLabel = "URL", description = "where devices fetch the bundle (default: the controller's /artifacts/NAME)") String url,
               @Option(names = "--previous-stable", paramLabel = "VERSION", description = "release to roll back to") String previousStable,
               @Option(names = "--notes", paramLabel = "TEXT", description = "release notes") String notes,
               @Option(names = "--notes-file", paramLabel = "FILE", description = "release notes from a file") Path notesFile,
               @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the audit log") String reason,
               @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        // A bundle that exists here is named by its absolute path (the controller usually runs on
        // this host); anything else is passed on as a name in the controller's artifact directory.
        Path local = Path.of(bundle);
        body.put("bundle", Files.isRegularFile(local) && !bundle.equals(local.getFileName().toString())
                ? local.toAbsolutePath().toString() : bundle);
        if (url != null) body.put("bundleUrl", url);
        if (previousStable != null) body.put("previousStable", previousStable);
        if (notesFile != null) {
            try {
                body.put("notes", Files.readString(notesFile));
            } catch (IOException e) {
                throw new CliFailure(ExitCodes.LOCAL_IO, "cannot read " + notesFile + ": " + e);
            }
        } else if (notes != null) {
            body.put("notes", notes);
        }
        if (reason != null) body.put("reason", reason);
        JsonNode r = root.client().postJson("api/v1/releases", body).json();
        if (json.on) root.printJson(r);
        else root.out().println("release " + r.get("version").asText() + " created: compatible " + Fleetctl.text(r, "compatible")
                + ", manifest sha256 " + r.get("manifestDigest").asText() + ", bundle " + r.get("bundleUrl").asText());
        return ExitCodes.OK;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List releases.")
    int list(@Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().getAll("api/v1/releases", "releases");
        if (json.on) {
            root.printJson(n);
            return ExitCodes.OK;
        }
        Table t = new Table("VERSION", "COMPATIBLE", "PREVIOUS", "CREATED", "BY");
        for (JsonNode r : n.get("releases")) {
            t.row(Fleetctl.text(r, "version"), Fleetctl.text(r, "compatible"), Fleetctl.text(r, "previousStable"),
                    Fleetctl.text(r, "createdAt"), Fleetctl.text(r, "createdBy"));
        }
        t.print(root.out());
        return ExitCodes.OK;
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one release with its manifest.")
    int show(@Parameters(paramLabel = "VERSION") String version, @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode r = root.client().get("api/v1/releases/" + Fleetctl.segment(version)).json();
        if (json.on) {
            root.printJson(r);
            return ExitCodes.OK;
        }
        for (String f : new String[] {"version", "compatible", "securityVersion", "previousStable", "bundleUrl", "manifestDigest",
                "signer", "createdAt", "createdBy", "notes"}) {
            root.out().println(f + ": " + Fleetctl.text(r, f));
        }
        if (r.hasNonNull("payloadBytes")) {
            long whole = r.get("payloadBytes").asLong();
            root.out().println("format: " + Fleetctl.text(r, "format") + ", payload " + whole + " bytes, image " + Fleetctl.text(r, "imageBytes") + " bytes");
            for (JsonNode e : r.path("expectedBytes")) {
                long b = e.get("bytes").asLong();
                root.out().printf("expected fetch from %s: %d bytes (%s of the payload)%n", e.get("from").asText(), b,
                        whole == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f%%", 100.0 * b / whole));
            }
        }
        return ExitCodes.OK;
    }

    @Command(name = "withdraw", mixinStandardHelpOptions = true, description = "Take a release back: no rollout of it may start or resume, running ones pause, units that"
            + " verified it but never activated it drop it; units running it stay (roll them back).")
    int withdraw(@picocli.CommandLine.Parameters(paramLabel = "VERSION") String version,
                 @Option(names = "--reason", paramLabel = "TEXT", required = true, description = "why, for the audit log") String reason,
                 @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().postJson("api/v1/releases/" + Fleetctl.segment(version) + "/withdraw", java.util.Map.of("reason", reason)).json();
        if (json.on) root.printJson(n);
        else root.out().println("release " + version + " withdrawn; rollouts paused or held: " + n.get("rollouts"));
        return ExitCodes.OK;
    }

    @Command(name = "notes", mixinStandardHelpOptions = true, description = "Release notes from the stored data: supported and blocked variants, the rollout plan with its rules.")
    int notes(@Parameters(paramLabel = "VERSION") String version,
              @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "md", description = "md or json (default ${DEFAULT-VALUE})") String format) throws CliFailure {
        var answer = root.client().get("api/v1/releases/" + Fleetctl.segment(version) + "/notes?format="
                + java.net.URLEncoder.encode(format, java.nio.charset.StandardCharsets.UTF_8));
        if (format.equals("json")) root.printJson(answer.json());
        else root.out().print(answer.body());
        root.out().flush();
        return ExitCodes.OK;
    }
}
