package rsuota.fleet.api;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import rsuota.fleet.domain.Role;

/**
 * One row of the route table.
 *
 * @param method   HTTP method
 * @param pattern  path with {name} segments, e.g. /api/v1/cohorts/{id}/members
 * @param role     the least role that may call it; null means open to callers without a token
 * @param mutates  whether it changes state (and so writes exactly one audit entry)
 * @param maxBody  largest request body accepted, in bytes
 * @param endpoint the operation
 */
public record Route(String method, String pattern, Role role, boolean mutates, int maxBody, Endpoint endpoint) {
    /** Path parameters when {@code path} matches this route's pattern. */
    public Optional<Map<String, String>> match(String path) {
        String[] want = pattern.split("/", -1);
        String[] got = path.split("/", -1);
        if (want.length != got.length) return Optional.empty();
        Map<String, String> params = new HashMap<>();
        for (int i = 0; i < want.length; i++) {
            String w = want[i];
            if (w.startsWith("{") && w.endsWith("}")) {
                if (got[i].isEmpty()) return Optional.empty();
                // Jetty hands over the decoded, canonical path: decoding again would turn '+' into ' '.
                params.put(w.substring(1, w.length() - 1), got[i]);
            } else if (!w.equals(got[i])) {
                return Optional.empty();
            }
        }
        return Optional.of(params);
    }
}
