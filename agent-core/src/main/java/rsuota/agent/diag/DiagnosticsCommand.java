package rsuota.agent.diag;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.link.CommandHandler;
import rsuota.wire.MqttCommand;

/**
 * The {@value #TYPE} command: collect a bundle into the work directory, upload it to the command's
 * {@code uploadUrl} (resumable PUT), delete it. The ack reports size, SHA-256 and how often the
 * upload resumed; failures carry the {@link AgentError} as reason.
 */
public final class DiagnosticsCommand implements CommandHandler {

    public static final String TYPE = "collect-diagnostics";
    public static final String UPLOAD_URL = "uploadUrl";

    private final DiagnosticsCollector collector;
    private final DiagnosticsUploader uploader;
    private final Path workDir;

    public DiagnosticsCommand(DiagnosticsCollector collector, DiagnosticsUploader uploader, Path workDir) {
        this.collector = collector;
        this.uploader = uploader;
        this.workDir = workDir;
    }

    @Override
    public Map<String, String> handle(MqttCommand command) throws AgentException {
        String url = command.args().get(UPLOAD_URL);
        URI uri;
        try {
            if (url == null || url.isBlank()) throw new URISyntaxException(String.valueOf(url), "missing");
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new AgentException(AgentError.BAD_URL, "argument " + UPLOAD_URL + " is not a URL: " + e.getMessage());
        }
        Path out = workDir.resolve("diag-" + command.id().replaceAll("[^A-Za-z0-9._-]", "_") + ".tar.gz");
        try {
            DiagnosticsCollector.Archive a = collector.collect(out);
            DiagnosticsUploader.Result r = uploader.upload(uri, a.file());
            return Map.of("bytes", Long.toString(r.bytes()), "sha256", r.sha256(), "requests", Integer.toString(r.requests()),
                    "resumes", Integer.toString(r.resumes()), "truncated", Boolean.toString(a.truncated()));
        } catch (AgentException e) {
            // The ack's message has always carried the code too ("UPLOAD_REJECTED: ..."); the controller shows it as is.
            throw new AgentException(e.code(), e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(out);
            } catch (IOException e) {
                // A leftover bundle in the work dir is overwritten by the next one of that id.
            }
        }
    }
}
