package rsuota.fleet.api;

import java.nio.file.Path;
import java.util.Map;

/**
 * What an endpoint answers: a JSON body, text in a named content type (metrics, JSON lines),
 * headers only (HEAD), or a file streamed from disk (a diagnostics archive).
 */
public sealed interface Reply permits Reply.Json, Reply.Text, Reply.Head, Reply.File {
    int status();

    /** A JSON body; {@code headers} adds response headers (an ETag). */
    record Json(int status, Object body, Map<String, String> headers) implements Reply {
        public Json {
            headers = Map.copyOf(headers);
        }

        public Json(int status, Object body) {
            this(status, body, Map.of());
        }
    }

    record Text(int status, String contentType, String body) implements Reply {}

    record Head(int status, Map<String, String> headers) implements Reply {}

    record File(int status, String contentType, Path file, String filename) implements Reply {}

    static Reply ok(Object body) {
        return new Json(200, body);
    }

    static Reply created(Object body) {
        return new Json(201, body);
    }
}
