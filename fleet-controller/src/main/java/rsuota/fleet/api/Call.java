package rsuota.fleet.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Collectors;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;

/**
 * An authenticated request as an endpoint sees it.
 *
 * @param principal   the caller (null only on routes open to everyone)
 * @param path        path parameters by name
 * @param query       query parameters (first value of each)
 * @param contentType the request's content type, or null
 * @param body        the request body (empty when none)
 * @param headers     request headers by lower-case name (first value of each)
 */
public record Call(Principal principal, Map<String, String> path, Map<String, String> query, String contentType, byte[] body,
                   Map<String, String> headers) {

    public String header(String name) {
        return headers.get(name.toLowerCase(java.util.Locale.ROOT));
    }

    public String pathParam(String name) {
        return path.get(name);
    }

    public long pathLong(String name) throws FleetException {
        String v = path.get(name);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw FleetException.invalid(name, "'" + v + "' is not a number");
        }
    }

    public String query(String name) {
        return query.get(name);
    }

    public long queryLong(String name, long dflt, long min, long max) throws FleetException {
        String v = query.get(name);
        if (v == null || v.isEmpty()) return dflt;
        try {
            long n = Long.parseLong(v);
            if (n < min || n > max) throw FleetException.invalid(name, n + " is outside " + min + ".." + max);
            return n;
        } catch (NumberFormatException e) {
            throw FleetException.invalid(name, "'" + v + "' is not a number");
        }
    }

    public String text() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** The body as a JSON request record; every problem is INVALID_REQUEST naming the field. */
    public <T> T json(Class<T> type) throws FleetException {
        if (body.length == 0) throw new FleetException(ErrorCode.INVALID_REQUEST, "a JSON request body is required");
        try {
            T v = ApiJson.MAPPER.readValue(body, type);
            if (v == null) throw new FleetException(ErrorCode.INVALID_REQUEST, "the request body is JSON null");
            return v;
        } catch (UnrecognizedPropertyException e) {
            throw FleetException.invalid(e.getPropertyName(), "unknown field (known: "
                    + e.getKnownPropertyIds().stream().map(String::valueOf).sorted().collect(Collectors.joining(", ")) + ")");
        } catch (JsonMappingException e) {
            String field = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."));
            throw FleetException.invalid(field.isEmpty() ? "body" : field, firstLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw FleetException.invalid("body", "not valid JSON: " + firstLine(e.getOriginalMessage()));
        } catch (java.io.IOException e) {
            throw new FleetException(ErrorCode.INVALID_REQUEST, "cannot read the request body: " + e.getMessage());
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
