package rsuota.fleet.api;

/** What an endpoint answers: a JSON body, or text in a named content type (metrics, JSON lines). */
public sealed interface Reply permits Reply.Json, Reply.Text {
    int status();

    record Json(int status, Object body) implements Reply {}

    record Text(int status, String contentType, String body) implements Reply {}

    static Reply ok(Object body) {
        return new Json(200, body);
    }

    static Reply created(Object body) {
        return new Json(201, body);
    }
}
