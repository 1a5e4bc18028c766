package rsuota.fleet.testing;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.LevelResolver;
import com.atlassian.oai.validator.report.ValidationReport;
import com.fasterxml.jackson.databind.JsonNode;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import rsuota.fleet.api.ApiJson;
import rsuota.fleet.api.OpenApiSpec;

/**
 * Holds the REST tests to the contract: every exchange that goes through {@link RunningController#send}
 * is checked against {@code openapi.yaml} with Atlassian's swagger-request-validator.
 *
 * <ul>
 *   <li>Every response must be documented for its operation (status, content type, body schema, whose
 *       objects refuse undocumented fields with {@code additionalProperties: false}).</li>
 *   <li>A request the controller accepted (2xx) must match its operation: path, parameters (an
 *       undocumented query parameter is an error too), content type, body.</li>
 *   <li>A request it refused may break the contract (that is what error tests send), but the refusal
 *       itself must be documented.</li>
 *   <li>A request to a route the document does not have must be refused as 404 NOT_FOUND or 405
 *       METHOD_NOT_ALLOWED; a route that answers anything else is undocumented.</li>
 * </ul>
 * A mismatch is an {@link AssertionError} naming the operation and the validator's messages.
 */
public final class ContractCheck {
    private ContractCheck() {}

    /** The parsed document, shared by every test of the JVM (parsing takes a moment). */
    public static final OpenAPI SPEC = parse();

    private static final OpenApiInteractionValidator VALIDATOR = OpenApiInteractionValidator.createFor(SPEC)
            .withLevelResolver(LevelResolver.create()
                    // Off by default in the library: a query parameter the document does not name is an undocumented field.
                    .withLevel("validation.request.parameter.query.unexpected", ValidationReport.Level.ERROR)
                    .build())
            .build();

    private static OpenAPI parse() {
        ParseOptions o = new ParseOptions();
        o.setResolve(true);
        var result = new OpenAPIV3Parser().readContents(OpenApiSpec.text(), null, o);
        if (result.getOpenAPI() == null || (result.getMessages() != null && !result.getMessages().isEmpty())) {
            throw new IllegalStateException("openapi.yaml does not parse: " + result.getMessages());
        }
        return result.getOpenAPI();
    }

    /** An operation of the document: its id and path template. */
    public record Op(String method, String template, Operation operation) {
        public String name() {
            return operation.getOperationId() + " (" + method + " " + template + ")";
        }
    }

    /** The documented operation for a method and a concrete path, if there is one. */
    public static Optional<Op> operation(String method, String path) {
        for (Map.Entry<String, PathItem> e : SPEC.getPaths().entrySet()) {
            if (!matches(e.getKey(), path)) continue;
            Operation op = e.getValue().readOperationsMap().get(PathItem.HttpMethod.valueOf(method.toUpperCase(Locale.ROOT)));
            if (op != null) return Optional.of(new Op(method.toUpperCase(Locale.ROOT), e.getKey(), op));
        }
        return Optional.empty();
    }

    static boolean matches(String template, String path) {
        String[] want = template.split("/", -1);
        String[] got = path.split("/", -1);
        if (want.length != got.length) return false;
        for (int i = 0; i < want.length; i++) {
            boolean param = want[i].startsWith("{") && want[i].endsWith("}");
            if (param ? got[i].isEmpty() : !want[i].equals(got[i])) return false;
        }
        return true;
    }

    /**
     * Checks one exchange; throws AssertionError on a mismatch.
     *
     * @param requestBody the request body text (null: none)
     */
    public static void check(String method, URI uri, Map<String, List<String>> requestHeaders, String requestBody,
                             int status, Map<String, List<String>> responseHeaders, String responseBody) {
        String path = uri.getRawPath();
        Optional<Op> op = operation(method, path);
        if (op.isEmpty()) {
            if ((status == 404 || status == 405) && isError(responseBody, status == 404 ? "NOT_FOUND" : "METHOD_NOT_ALLOWED")) return;
            throw new AssertionError("contract: " + method + " " + path + " is not in openapi.yaml, yet it answered " + status
                    + " (add the operation, see fleet-controller/README.md, 'Adding a part')");
        }
        SimpleResponse.Builder resp = new SimpleResponse.Builder(status);
        responseHeaders.forEach((k, v) -> {
            if (!k.equals(":status")) resp.withHeader(k, v);
        });
        if (responseBody != null && !responseBody.isEmpty()) resp.withBody(responseBody);
        ValidationReport report = VALIDATOR.validateResponse(path, Request.Method.valueOf(op.get().method()), resp.build());
        if (status / 100 == 2) {
            SimpleRequest.Builder req = new SimpleRequest.Builder(op.get().method(), path);
            requestHeaders.forEach(req::withHeader);
            if (requestBody != null && !requestBody.isEmpty()) req.withBody(requestBody);
            String query = uri.getRawQuery();
            if (query != null && !query.isEmpty()) {
                for (String pair : query.split("&")) {
                    int eq = pair.indexOf('=');
                    String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                    String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                    req.withQueryParam(name, value);
                }
            }
            report = report.merge(VALIDATOR.validateRequest(req.build()));
        }
        if (report.hasErrors()) {
            String messages = report.getMessages().stream().filter(m -> m.getLevel() == ValidationReport.Level.ERROR)
                    .map(m -> "  " + m.getKey() + ": " + m.getMessage()).collect(Collectors.joining("\n"));
            throw new AssertionError("contract: " + op.get().name() + " answered " + status + " in a way openapi.yaml does not document:\n"
                    + messages + "\n  response: " + abbreviate(responseBody));
        }
    }

    private static boolean isError(String body, String code) {
        try {
            JsonNode n = ApiJson.MAPPER.readTree(body);
            return n != null && code.equals(n.path("error").asText()) && n.path("message").isTextual();
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static String abbreviate(String s) {
        if (s == null) return "(none)";
        return s.length() > 600 ? s.substring(0, 600) + "..." : s;
    }
}
