package rsuota.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.Schema;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.Role;
import rsuota.fleet.testing.ContractCheck;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * openapi.yaml against the route table and the error mapping, and the contract check itself: it
 * must catch an undocumented route, field, status and query parameter (else it proves nothing).
 */
class OpenApiContractTest {
    @TempDir
    static Path dir;
    static RunningController rc;

    @BeforeAll
    static void start() throws Exception {
        rc = new RunningController(new TestPki(), dir);
    }

    @AfterAll
    static void stop() {
        rc.close();
    }

    /** method + " " + path template -> operation, for every operation the route table serves. */
    static Map<String, Operation> documented() {
        Map<String, Operation> out = new TreeMap<>();
        ContractCheck.SPEC.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((m, op) -> {
            boolean outside = op.getExtensions() != null && Boolean.TRUE.equals(op.getExtensions().get("x-rsuota-outside-route-table"));
            if (!outside) out.put(m.name() + " " + path, op);
        }));
        return out;
    }

    @Test
    void everyRouteIsInTheSpecAndEveryOperationIsARoute() {
        Set<String> routes = rc.controller.routes().routes().stream().map(r -> r.method() + " " + r.pattern())
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(documented().keySet()).as("operations of openapi.yaml vs the route table").isEqualTo(routes);
    }

    @Test
    void eachOperationNamesItsRoutesLeastRoleAndOpenRoutesNeedNoToken() {
        Map<String, Operation> ops = documented();
        for (Route r : rc.controller.routes().routes()) {
            String key = r.method() + " " + r.pattern();
            Operation op = ops.get(key);
            assertThat(op).as(key).isNotNull();
            Object role = op.getExtensions() == null ? null : op.getExtensions().get("x-rsuota-role");
            boolean open = op.getSecurity() != null && op.getSecurity().isEmpty();
            if (r.role() == null) {
                assertThat(open).as(key + " takes no token: security: []").isTrue();
                assertThat(role).as(key + " x-rsuota-role").isNull();
            } else {
                assertThat(open).as(key + " needs a token").isFalse();
                assertThat(role).as(key + " x-rsuota-role").isEqualTo(r.role().wire());
                assertThat(op.getResponses()).as(key + " documents 401 and 403").containsKeys("401", "403");
            }
            assertThat(op.getOperationId()).as(key + " operationId").isNotBlank();
        }
        assertThat(ContractCheck.SPEC.getComponents().getSchemas().get("Role").getEnum())
                .containsExactlyElementsOf(Arrays.stream(Role.values()).map(Role::wire).toList());
    }

    @Test
    @SuppressWarnings("unchecked")
    void eachStatusErrorSchemaListsExactlyTheCodesErrorStatusMapsToIt() {
        Map<String, Schema> schemas = ContractCheck.SPEC.getComponents().getSchemas();
        assertThat(schemas.get("ErrorCode").getEnum()).as("ErrorCode enum")
                .containsExactlyElementsOf(Arrays.stream(ErrorCode.values()).map(Enum::name).toList());
        Map<Integer, Set<String>> byStatus = new HashMap<>();
        for (ErrorCode c : ErrorCode.values()) byStatus.computeIfAbsent(ErrorStatus.of(c), s -> new TreeSet<>()).add(c.name());
        byStatus.forEach((status, codes) -> {
            Schema<?> s = schemas.get("Error" + status);
            assertThat(s).as("schema Error" + status).isNotNull();
            Schema<?> error = (Schema<?>) s.getProperties().get("error");
            assertThat(new TreeSet<>((List<String>) error.getEnum())).as("Error" + status + ".error").isEqualTo(codes);
        });
        Set<String> errorSchemas = schemas.keySet().stream().filter(k -> k.matches("Error\\d{3}")).collect(Collectors.toSet());
        assertThat(errorSchemas).isEqualTo(byStatus.keySet().stream().map(s -> "Error" + s).collect(Collectors.toSet()));
    }

    @Test
    void theSpecIsServedToViewersAsYaml() throws Exception {
        HttpResponse<String> ok = rc.get("/api/v1/openapi.yaml", rc.tokens.get(Role.VIEWER));
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/yaml"));
        assertThat(ok.body()).isEqualTo(OpenApiSpec.text()).startsWith("openapi: 3.0.3");
        assertThat(rc.get("/api/v1/openapi.yaml", null).statusCode()).isEqualTo(401);
    }

    // The check must be able to fail: each of these exchanges breaks the contract in one way.

    static final String DEVICE = "{\"id\":\"d1\",\"variant\":\"rsu-a1\",\"tags\":[],\"createdAt\":\"2026-12-04T10:00:00Z\",\"updatedAt\":\"2026-12-04T10:00:00Z\"";
    static final Map<String, List<String>> JSON = Map.of("Content-Type", List.of("application/json"));

    @Test
    void theCheckAcceptsADocumentedExchange() {
        ContractCheck.check("GET", URI.create("/api/v1/devices/d1"), Map.of(), null, 200, JSON, DEVICE + "}");
    }

    @Test
    void theCheckRefusesAnUndocumentedResponseField() {
        assertThatThrownBy(() -> ContractCheck.check("GET", URI.create("/api/v1/devices/d1"), Map.of(), null, 200, JSON, DEVICE + ",\"colour\":\"red\"}"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("getDevice").hasMessageContaining("colour");
    }

    @Test
    void theCheckRefusesAnUndocumentedStatus() {
        assertThatThrownBy(() -> ContractCheck.check("GET", URI.create("/api/v1/devices/d1"), Map.of(), null, 409, JSON,
                "{\"error\":\"ALREADY_EXISTS\",\"message\":\"x\"}"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("getDevice").hasMessageContaining("409");
    }

    @Test
    void theCheckRefusesAnErrorCodeUnderTheWrongStatus() {
        assertThatThrownBy(() -> ContractCheck.check("GET", URI.create("/api/v1/devices/d1"), Map.of(), null, 404, JSON,
                "{\"error\":\"INVALID_REQUEST\",\"message\":\"x\"}"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("getDevice").hasMessageContaining("INVALID_REQUEST");
    }

    @Test
    void theCheckRefusesAnUndocumentedRouteThatAnswers() {
        assertThatThrownBy(() -> ContractCheck.check("GET", URI.create("/api/v1/gadgets"), Map.of(), null, 200, JSON, "{}"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("GET /api/v1/gadgets is not in openapi.yaml");
        // ...while the controller's refusal of an unknown route is fine.
        ContractCheck.check("GET", URI.create("/api/v1/gadgets"), Map.of(), null, 404, JSON, "{\"error\":\"NOT_FOUND\",\"message\":\"no such endpoint\"}");
    }

    @Test
    void theCheckRefusesAnAcceptedRequestWithAnUndocumentedParameterOrField() {
        assertThatThrownBy(() -> ContractCheck.check("GET", URI.create("/api/v1/devices?colour=red"), Map.of(), null, 200, JSON, "{\"devices\":[]}"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("listDevices").hasMessageContaining("colour");
        String issued = "{\"id\":3,\"label\":\"ci\",\"role\":\"viewer\",\"token\":\"rsuota_x\",\"createdAt\":\"2026-12-04T10:00:00Z\"}";
        assertThatThrownBy(() -> ContractCheck.check("POST", URI.create("/api/v1/tokens"), JSON, "{\"role\":\"viewer\",\"label\":\"ci\",\"colour\":\"red\"}",
                201, JSON, issued)).isInstanceOf(AssertionError.class).hasMessageContaining("createToken").hasMessageContaining("colour");
        // A request the controller refused may break the contract (error tests send such requests on purpose).
        assertThatCode(() -> ContractCheck.check("POST", URI.create("/api/v1/tokens"), JSON, "{\"role\":\"viewer\",\"label\":\"ci\",\"colour\":\"red\"}",
                400, JSON, "{\"error\":\"INVALID_REQUEST\",\"message\":\"colour: unknown field\",\"field\":\"colour\"}")).doesNotThrowAnyException();
    }

    @Test
    void aBadListParameterIsRefusedNamingIt() throws Exception {
        HttpResponse<String> r = rc.get("/api/v1/devices?limit=0", rc.tokens.get(Role.VIEWER));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("\"field\":\"limit\"");
    }
}
