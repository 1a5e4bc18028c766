package rsuota.agent.health;

/**
 * One probe's outcome.
 *
 * @param name   the probe's name, e.g. "systemd:rsu-app.service"
 * @param pass   whether it passed
 * @param detail what was seen, e.g. "HTTP 200" or "exited 1: config missing"
 */
public record ProbeResult(String name, boolean pass, String detail) {

    public static ProbeResult pass(String name, String detail) {
        return new ProbeResult(name, true, detail);
    }

    public static ProbeResult fail(String name, String detail) {
        return new ProbeResult(name, false, detail);
    }
}
