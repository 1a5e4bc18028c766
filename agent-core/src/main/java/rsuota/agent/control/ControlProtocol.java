package rsuota.agent.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import rsuota.agent.AgentError;

/**
 * The control socket's protocol (docs/protocol.md, "Control socket"): UTF-8 JSON, one message per
 * line, every message carrying {@code "v": 1}. The daemon speaks first ({@code hello}, or an error
 * reply and close when the peer is not allowed); the client sends one {@code request}; the daemon
 * answers with any number of {@code progress}, {@code event} and {@code data} messages and one
 * final {@code reply}. One request per connection.
 */
public final class ControlProtocol {
    private ControlProtocol() {}

    public static final int VERSION = 1;
    /** Longest line either side reads; a longer one is a protocol error, not an allocation. */
    public static final int MAX_LINE = 1 << 20;

    /** The operations of version 1 (the rsu-agent subcommands that go through the daemon). */
    public static final Set<String> OPS = Set.of("status", "slots", "install", "activate", "rollback", "cancel", "lock", "unlock",
            "health", "diag.collect", "watch");

    static final ObjectMapper JSON = new ObjectMapper();

    /** A client's request: {@code op} and string arguments. */
    public record Request(long id, String op, Map<String, String> args) {
        public String arg(String name) {
            return args.get(name);
        }

        /** A required argument, or BAD_REQUEST naming it. */
        public String required(String name) throws ControlFailure {
            String v = args.get(name);
            if (v == null || v.isBlank()) throw new ControlFailure(AgentError.BAD_REQUEST, op + " needs the argument '" + name + "'");
            return v;
        }

        public boolean flag(String name) {
            return Boolean.parseBoolean(args.get(name));
        }
    }

    static ObjectNode message(String type, Long id) {
        ObjectNode n = JSON.createObjectNode();
        n.put("v", VERSION);
        n.put("type", type);
        if (id != null) n.put("id", id);
        return n;
    }

    static ObjectNode request(long id, String op, Map<String, String> args) {
        ObjectNode n = message("request", id);
        n.put("op", op);
        n.set("args", JSON.valueToTree(args));
        return n;
    }

    static ObjectNode error(Long id, ControlFailure f) {
        ObjectNode n = message("reply", id);
        n.put("ok", false);
        ObjectNode e = n.putObject("error");
        e.put("code", f.code());
        e.put("message", f.getMessage());
        e.put("exit", f.exit());
        return n;
    }

    static ObjectNode ok(long id, List<String> lines, Object result) {
        ObjectNode n = message("reply", id);
        n.put("ok", true);
        n.set("lines", JSON.valueToTree(lines));
        n.set("result", JSON.valueToTree(result));
        return n;
    }

    static String line(JsonNode n) {
        try {
            return JSON.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses a request line: a specific BAD_REQUEST for each way it can be wrong. */
    static Request parseRequest(String line) throws ControlFailure {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new ControlFailure(AgentError.BAD_REQUEST, "the request is not JSON (" + e.getOriginalMessage() + ")");
        }
        if (n == null || !n.isObject()) throw new ControlFailure(AgentError.BAD_REQUEST, "the request is not a JSON object");
        if (n.path("v").asInt(-1) != VERSION) {
            throw new ControlFailure(AgentError.BAD_REQUEST, "protocol version " + n.path("v") + " is not spoken here (this daemon speaks "
                    + VERSION + "); use the rsu-agent of the installed package");
        }
        if (!"request".equals(n.path("type").asText())) throw new ControlFailure(AgentError.BAD_REQUEST, "expected a message of type request");
        String op = n.path("op").asText("");
        if (!OPS.contains(op)) throw new ControlFailure(AgentError.BAD_REQUEST, "unknown op '" + op + "' (known: " + String.join(", ", new java.util.TreeSet<>(OPS)) + ")");
        Map<String, String> args = new LinkedHashMap<>();
        JsonNode a = n.path("args");
        if (!a.isMissingNode() && !a.isNull()) {
            if (!a.isObject()) throw new ControlFailure(AgentError.BAD_REQUEST, "args must be an object of strings");
            var it = a.fields();
            while (it.hasNext()) {
                var f = it.next();
                if (!f.getValue().isTextual()) throw new ControlFailure(AgentError.BAD_REQUEST, "argument '" + f.getKey() + "' must be a string");
                args.put(f.getKey(), f.getValue().asText());
            }
        }
        return new Request(n.path("id").asLong(0), op, Map.copyOf(args));
    }
}
