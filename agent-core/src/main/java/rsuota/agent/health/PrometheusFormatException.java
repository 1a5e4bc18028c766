package rsuota.agent.health;

import java.io.IOException;

/** A Prometheus text exposition that does not parse; the message names the line and what is wrong. */
public final class PrometheusFormatException extends IOException {

    private final int line;

    public PrometheusFormatException(int line, String message) {
        super(message);
        this.line = line;
    }

    /** 1-based line number, or 0 when the error is not about one line (a selector in the config). */
    public int line() {
        return line;
    }
}
