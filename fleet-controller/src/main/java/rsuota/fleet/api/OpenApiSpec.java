package rsuota.fleet.api;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The REST contract, {@code openapi.yaml} beside the classes: every route of the table with its
 * least role ({@code x-rsuota-role}), parameters, bodies, statuses and error codes. Tests validate
 * every request and response of the REST suite against it and compare it with the route table.
 */
public final class OpenApiSpec {
    private OpenApiSpec() {}

    /** The resource path inside the jar. */
    public static final String RESOURCE = "/openapi.yaml";
    /** The media type registered for YAML (RFC 9512). */
    public static final String CONTENT_TYPE = "application/yaml";

    /** The document's text; a build without it is broken, so that is an error at start, not a 404 later. */
    public static String text() {
        try (InputStream in = OpenApiSpec.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is missing from the fleet-controller jar (a broken build)");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE + " from the fleet-controller jar: " + e.getMessage(), e);
        }
    }
}
