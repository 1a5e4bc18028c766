package rsuota.fleet.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fleetctl --url URL --token T <noun> <verb> ...}: the operator's command line. It talks only
 * to the controller's REST API. Every verb has --json (the controller's answer, verbatim and
 * pretty-printed); failures print one line on stderr and exit with a code from {@link ExitCodes}.
 */
@Command(name = "fleetctl", mixinStandardHelpOptions = true, version = "fleetctl 0.1.0",
        description = "Operate an RSU OTA fleet controller through its REST API.",
        subcommands = {TokenCommands.class, DeviceCommands.class, ReleaseCommands.class, CohortCommands.class,
                IncidentCommands.class, AuditCommands.class, RolloutCommands.class, LoginCommand.class})
public final class Fleetctl {
    @Spec
    CommandSpec spec;

    @Option(names = "--url", paramLabel = "URL", defaultValue = "${env:FLEETCTL_URL:-http://127.0.0.1:8080}",
            description = "controller base URL (env FLEETCTL_URL; default ${DEFAULT-VALUE})")
    String url;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:FLEETCTL_TOKEN}",
            description = "bearer token (env FLEETCTL_TOKEN, which keeps it out of the process list)")
    String token;

    @Option(names = "--token-file", defaultValue = "${env:FLEETCTL_TOKEN_FILE}", paramLabel = "FILE",
            description = "where fleetctl login saves its token and later commands read it when --token and FLEETCTL_TOKEN are unset"
                    + " (env FLEETCTL_TOKEN_FILE; default ~/.config/rsu-ota/fleetctl-token)")
    Path tokenFile;

    @Option(names = "--if-match", paramLabel = "ETAG", description = "a rollout's ETag (rollout show prints it): the decision applies only if the rollout "
            + "has not changed since (else 412, exit 7)")
    String ifMatch;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30", description = "seconds to wait for the controller (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    /** The --json flag every verb carries. */
    static final class JsonFlag {
        @Option(names = "--json", description = "print the controller's JSON answer")
        boolean on;
    }

    public static void main(String[] args) {
        CliRunner.main(new Fleetctl(), ExitCodes.FLEETCTL, "fleetctl", CliFailure.class, e -> ((CliFailure) e).exitCode(), args);
    }

    /** Runs one command line and returns its exit code (tests call this in-process). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return CliRunner.execute(new Fleetctl(), ExitCodes.FLEETCTL, "fleetctl", CliFailure.class, e -> ((CliFailure) e).exitCode(), args, out, err);
    }

    ApiClient client() throws CliFailure {
        URI base;
        try {
            base = new URI(url.endsWith("/") ? url : url + "/");
        } catch (URISyntaxException e) {
            throw new CliFailure(ExitCodes.USAGE, "--url '" + url + "' is not a URL: " + e.getMessage());
        }
        if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme())) {
            throw new CliFailure(ExitCodes.USAGE, "--url '" + url + "' must start with http:// or https://");
        }
        String t = token;
        if (t == null || t.isBlank()) t = savedToken();
        return new ApiClient(base, t, Duration.ofSeconds(timeoutSeconds)).ifMatch(ifMatch);
    }

    Path tokenFile() {
        if (tokenFile != null) return tokenFile;
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path config = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return config.resolve("rsu-ota").resolve("fleetctl-token");
    }

    /** The token fleetctl login saved, or null. */
    private String savedToken() throws CliFailure {
        Path f = tokenFile();
        if (!Files.isRegularFile(f)) return null;
        try {
            return Files.readString(f, StandardCharsets.US_ASCII).strip();
        } catch (java.io.IOException e) {
            throw new CliFailure(ExitCodes.LOCAL_IO, "cannot read the saved token " + f + ": " + e.getMessage());
        }
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Prints an answer as pretty JSON (for --json). */
    void printJson(JsonNode n) {
        try {
            out().println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON tree always serialises", e);
        }
    }

    /** Text of a field, or "-" when absent, for tables. */
    static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return "-";
        if (v.isArray()) {
            StringBuilder b = new StringBuilder();
            for (JsonNode e : v) b.append(b.length() == 0 ? "" : ",").append(e.asText());
            return b.length() == 0 ? "-" : b.toString();
        }
        return v.asText();
    }

    /** A request path with query parameters; null values are left out, the rest URL-encoded. */
    static final class Query {
        private final StringBuilder b;
        private char sep = '?';

        Query(String path) {
            b = new StringBuilder(path);
        }

        Query add(String name, Object value) {
            if (value == null) return this;
            b.append(sep).append(name).append('=').append(java.net.URLEncoder.encode(String.valueOf(value), java.nio.charset.StandardCharsets.UTF_8));
            sep = '&';
            return this;
        }

        @Override
        public String toString() {
            return b.toString();
        }
    }

    /** Percent-encodes one path segment (versions may hold '+', which a path keeps literally). */
    static String segment(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
