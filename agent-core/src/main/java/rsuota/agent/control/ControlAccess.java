package rsuota.agent.control;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Who may use the control socket: root, the daemon's own account (the packaged launcher runs
 * state-changing commands started by root as that account), and members of the control group
 * ({@code control.group}, {@code rsu-tech}), whether it is their primary or a supplementary group. The socket file's mode
 * (0660, that group) already keeps others out; this check is the daemon's own, so a socket whose
 * mode someone widened still refuses them. Membership comes from the system's databases through
 * {@code getent} (files, LDAP, whatever NSS is configured with).
 */
public final class ControlAccess {
    /** getent answers from local files in milliseconds; a hung NSS backend must not hang the daemon. */
    private static final long GETENT_TIMEOUT_SECONDS = 5;

    private final String group;

    public ControlAccess(String group) {
        this.group = group;
    }

    public String group() {
        return group;
    }

    /** Empty when {@code peer} may use the socket, else why not (the line the technician reads). */
    public Optional<String> refusal(Peer peer) {
        if ("root".equals(peer.user()) || peer.user().equals(System.getProperty("user.name")) || group.equals(peer.group())) return Optional.empty();
        Optional<List<String>> entry = getent("group", group);
        if (entry.isEmpty()) {
            return Optional.of("user '" + peer.user() + "' is not root, and the group '" + group
                    + "' does not exist on this unit (install the rsu-agent package, or set control.group)");
        }
        List<String> g = entry.get();
        List<String> members = g.size() > 3 && !g.get(3).isBlank() ? Arrays.asList(g.get(3).split(",")) : List.of();
        if (members.contains(peer.user())) return Optional.empty();
        Optional<List<String>> pw = getent("passwd", peer.user());
        if (pw.isPresent() && pw.get().size() > 3 && g.size() > 2 && pw.get().get(3).equals(g.get(2))) return Optional.empty();
        return Optional.of("user '" + peer.user() + "' is not root and not in group '" + group
                + "'; an administrator can add the account with 'usermod -aG " + group + " " + peer.user() + "' (then log in again)");
    }

    /** One entry of a system database as its colon-separated fields, or empty when there is none. */
    private static Optional<List<String>> getent(String db, String key) {
        try {
            Process p = new ProcessBuilder("getent", db, key).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readNBytes(64 * 1024);
            if (!p.waitFor(GETENT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            if (p.exitValue() != 0) return Optional.empty();
            String line = new String(out, StandardCharsets.UTF_8).lines().findFirst().orElse("");
            return line.isEmpty() ? Optional.empty() : Optional.of(Arrays.asList(line.split(":", -1)));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
